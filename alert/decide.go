// Package alert decides what to tell people and keeps Slack, PagerDuty and
// webhooks up to date with it. Decide is a pure function over verdicts,
// runs, source health, error budgets, the alerts already recorded,
// silences and now; it yields the alerts to open, update or resolve. Every alert is stored (kant.Alert is
// both the message's desired state and its delivery state), and the Engine
// delivers stored alerts in order through a Notifier, one message per
// incident with thread replies on change, and to the other destinations an
// alert is routed to through their Senders, each with its own delivery
// state. Subpackages alert/slack, alert/pagerduty and alert/webhook are
// the Slack Notifier and those Senders.
//
// It imports kant and slo; never the store contract, a storage backend or
// a Slack SDK.
package alert

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Alert kinds.
const (
	KindFailed    = "failed"    // the latest attempt failed and no retry is pending
	KindMissed    = "missed"    // the deadline passed without success
	KindLate      = "late"      // a failed or missed occurrence succeeded after its deadline
	KindRecovered = "recovered" // a failed occurrence succeeded by its deadline
	KindStale     = "stale"     // a source's last good poll is older than its bound
	KindBudget    = "budget"    // an SLO's error budget is below the threshold
	KindDigest    = "digest"    // the daily summary
)

// Route overrides where alerts of one kind go.
type Route struct {
	Channel string
}

// Policy is what Decide needs besides its input: the SLOs (with their owner,
// channel and upstream), routing, thresholds and links.
type Policy struct {
	SLOs []slo.Definition
	// Channel is the default channel; Routes[kind].Channel overrides both it
	// and an SLO's channel for that kind (digest, stale and budget routes are
	// the usual ones).
	Channel string
	Routes  map[string]Route
	// StaleAfter is each source's staleness bound; sources without one are
	// not watched.
	StaleAfter map[string]time.Duration
	// BudgetBelow alerts when the share of an SLO's error budget left falls
	// below it (0.5: half the budget spent); 0 disables budget alerts.
	BudgetBelow float64
	// Digest is the local time of the daily digest in Location; nil disables.
	Digest   *slo.Clock
	Location *time.Location // default UTC
	// StatusURL is the base URL of kant's status page; jobs link to
	// StatusURL/jobs/{key}. Empty: no link.
	StatusURL string
	// ConsoleLink returns the source console URL of a run (a Glue job run,
	// an Airflow task log), or "" when there is none. Nil: no links.
	ConsoleLink func(kant.Run) string
	// Flapping is when a job's outcome changes too often to post each
	// failure: one flapping notice counts them instead.
	Flapping Flapping
}

// Input is the state Decide judges.
type Input struct {
	// Results are the current verdicts of the recent dates, all SLOs:
	// every one, or (the Engine's reads) every one not met, those of the
	// jobs of Alerts, and yesterday's whole when the digest is due. A met
	// verdict decides nothing else.
	Results []kant.Result
	// Days are the daily summaries of the recent dates, which say whether
	// an SLO had occurrences on a date when Results hold none of them.
	Days     []kant.Day
	Runs     []kant.Run          // newest observation of the recent runs
	Health   []kant.SourceHealth // every polled source
	Budgets  []kant.Attainment   // per SLO, over the budget window
	Alerts   []kant.Alert        // recorded alerts: the open ones and the recent ones
	Silences []kant.Silence      // silences active now or later, maintenance included
}

// Action says what a Change does to an incident.
type Action string

// The actions.
const (
	Open    Action = "open"    // a new incident: post it (or record it, silenced)
	Update  Action = "update"  // the incident changed: update the message, reply in its thread
	Resolve Action = "resolve" // the incident is over: update the message, reply in its thread
)

// Change is an alert to store: a new one, or a stored one with new content
// (its Revision incremented and, for a change worth a thread reply, a Note
// appended).
type Change struct {
	Action Action
	Alert  kant.Alert
}

// Decide returns the changes that bring the recorded alerts in line with in
// at now, ordered by alert creation then ID. It is pure: same input, same
// output. Alerts it leaves alone are not returned.
func Decide(p Policy, in Input, now time.Time) []Change {
	d := newDecider(p, in, now)
	d.flapping()
	d.occurrences()
	d.reruns()
	d.sources()
	d.budgets()
	d.digest()
	slices.SortFunc(d.changes, func(a, b Change) int {
		return cmp.Or(a.Alert.CreatedAt.Compare(b.Alert.CreatedAt), strings.Compare(a.Alert.ID, b.Alert.ID))
	})
	return d.changes
}

type decider struct {
	p       Policy
	in      Input
	now     time.Time
	loc     *time.Location
	stored  map[string]kant.Alert
	defs    map[string]*slo.Definition
	changes []Change
	flaps   map[kant.JobKey][]flap // set by flapping
}

func newDecider(p Policy, in Input, now time.Time) *decider {
	d := &decider{p: p, in: in, now: now, loc: p.Location, stored: map[string]kant.Alert{}, defs: map[string]*slo.Definition{}}
	if d.loc == nil {
		d.loc = time.UTC
	}
	for _, a := range in.Alerts {
		d.stored[a.ID] = a
	}
	for i := range p.SLOs {
		d.defs[p.SLOs[i].Name] = &p.SLOs[i]
	}
	return d
}

func (d *decider) channel(kind string, def *slo.Definition) string {
	if r, ok := d.p.Routes[kind]; ok && r.Channel != "" {
		return r.Channel
	}
	if def != nil && def.Channel != "" {
		return def.Channel
	}
	return d.p.Channel
}

// silence returns the ID of the first silence active now that covers slo or
// job, or "".
func (d *decider) silence(sloName string, job kant.JobKey) string {
	for _, s := range d.in.Silences {
		if s.Active(d.now) && s.Covers(sloName, job) {
			return s.ID
		}
	}
	return ""
}

// want is the content an incident should have now.
type want struct {
	id, kind, status, text, note string
	slo                          string
	job                          kant.JobKey
	date                         kant.Date
	since                        time.Time
	owner                        string
	fields                       []kant.AlertField
	links                        []kant.AlertLink
	def                          *slo.Definition
}

// apply records w as a change: a new alert, or a new revision of the stored
// one when its content differs. note is the thread reply for the change
// ("" for none). A new alert matching an active silence is recorded
// silenced; a silenced one never posted is released when its silence ends.
func (d *decider) apply(action Action, w want) {
	old, exists := d.stored[w.id]
	a := old
	if !exists {
		a = kant.Alert{ID: w.id, Kind: w.kind, SLO: w.slo, Job: w.job, Date: w.date,
			Channel: d.channel(w.kind, w.def), CreatedAt: d.now, Since: w.since}
	}
	a.Kind, a.Status, a.Text, a.Owner = w.kind, w.status, w.text, w.owner
	a.Fields, a.Links = w.fields, w.links
	if !a.Told() {
		// Silence is decided until the alert is posted to any
		// destination: a silence that ends releases an open incident,
		// never a resolved one, and one that begins after the post does
		// not keep its resolution from being sent.
		if s := d.silence(w.slo, w.job); s != "" || a.Status == kant.AlertOpen || !exists {
			a.Silenced = s
		}
	}
	contentChanged := !exists || old.Kind != a.Kind || old.Status != a.Status || old.Text != a.Text ||
		!slices.Equal(old.Fields, a.Fields) || !slices.Equal(old.Links, a.Links) || old.Owner != a.Owner
	if !contentChanged && old.Silenced == a.Silenced {
		return
	}
	if contentChanged {
		a.Revision++
		if exists && w.note != "" {
			a.Notes = append(slices.Clip(a.Notes), w.note)
		}
	}
	if exists && action == Open {
		action = Update
	}
	a.UpdatedAt = d.now
	d.stored[a.ID] = a
	d.changes = append(d.changes, Change{Action: action, Alert: a})
}

// fmtTime formats t in the policy's zone.
func (d *decider) fmtTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = d.loc
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func fmtDuration(x time.Duration) string {
	x = x.Round(time.Minute)
	if x < time.Minute {
		return "<1m"
	}
	h, m := int(x.Hours()), int(x.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

// lasted says how long an incident from since to end lasted, as " after
// 2h15m", or "" when either is unknown.
func lasted(since, end time.Time) string {
	if since.IsZero() || end.IsZero() || end.Before(since) {
		return ""
	}
	return " after " + fmtDuration(end.Sub(since))
}

func (d *decider) jobLink(job kant.JobKey) []kant.AlertLink {
	if d.p.StatusURL == "" {
		return nil
	}
	return []kant.AlertLink{{Text: "kant status", URL: strings.TrimRight(d.p.StatusURL, "/") + "/jobs/" + escapeKey(job)}}
}

// escapeKey escapes each segment of a job key for a URL path.
func escapeKey(k kant.JobKey) string {
	parts := strings.Split(string(k), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return kant.Truncate(s, n) + "…"
}
