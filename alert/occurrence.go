package alert

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// occ is one occurrence as Decide sees it: its verdict and its newest run.
type occ struct {
	def    *slo.Definition
	res    kant.Result
	latest *kant.Run // newest run attributed to it, nil when none
	failed *kant.Run // newest run that failed for good, nil when none
	id     string
	bad    bool // failed for good or missed, with no success
	kind   string
}

// occID is the incident ID of an occurrence: one per SLO, job and tick.
func occID(r kant.Result, loc *time.Location) string {
	return fmt.Sprintf("job/%s/%s/%s", r.SLO, r.Job, r.ExpectedAt.In(loc).Format("2006-01-02T15:04"))
}

// collect pairs every result with the runs attributed to its occurrence.
func (d *decider) collect() []*occ {
	type key struct {
		slo string
		job kant.JobKey
		at  time.Time
	}
	byKey := map[key]*occ{}
	var occs []*occ
	for _, r := range d.in.Results {
		def := d.defs[r.SLO]
		if def == nil {
			continue
		}
		o := &occ{def: def, res: r, id: occID(r, locOf(def))}
		byKey[key{r.SLO, r.Job, r.ExpectedAt.UTC()}] = o
		occs = append(occs, o)
	}
	for i := range d.in.Runs {
		run := &d.in.Runs[i]
		if run.At().After(d.now) {
			continue
		}
		for _, def := range d.p.SLOs {
			if !def.Selects(run.Job) {
				continue
			}
			_, expected, ok := def.Attribute(*run)
			if !ok {
				continue
			}
			o := byKey[key{def.Name, run.Job, expected}]
			if o == nil {
				continue
			}
			if o.latest == nil || run.Later(o.latest) {
				o.latest = run
			}
			if run.State.Failed() && run.State != kant.StateSkipped && !run.RetryPending() &&
				(o.failed == nil || run.Later(o.failed)) {
				o.failed = run
			}
		}
	}
	for _, o := range occs {
		success := o.res.Final() || (o.latest != nil && o.latest.State == kant.StateSucceeded)
		if success {
			continue
		}
		missed := o.res.Verdict == kant.VerdictMissed || (o.res.Verdict == kant.VerdictPending && !d.now.Before(o.res.Deadline))
		switch {
		case missed:
			o.bad, o.kind = true, KindMissed
		case o.failed != nil && o.latest == o.failed:
			o.bad, o.kind = true, KindFailed
		}
	}
	return occs
}

func locOf(def *slo.Definition) *time.Location {
	if def.Location == nil {
		return time.UTC
	}
	return def.Location
}

// occurrences opens, updates and resolves the incidents of occurrences, and
// folds downstream misses into their upstream incident.
func (d *decider) occurrences() {
	occs := d.collect()
	byID := map[string]*occ{}
	for _, o := range occs {
		byID[o.id] = o
	}
	// An occurrence is folded when it is bad, has no incident of its own,
	// and an upstream of its SLO has an incident (stored, or bad now) on the
	// same date.
	folded := map[string][]string{} // upstream incident ID → downstream lines
	foldedInto := map[string]string{}
	for _, o := range occs {
		if !o.bad || len(o.def.Upstream) == 0 {
			continue
		}
		if _, own := d.stored[o.id]; own {
			continue
		}
		if up := d.upstreamIncident(o, byID); up != "" && (byID[up] == nil || !d.foldedIntoFlapping(byID[up])) {
			foldedInto[o.id] = up
		}
	}
	// Follow chains to their root, so one incident holds them all.
	for id, up := range foldedInto {
		for range 16 {
			next, ok := foldedInto[up]
			if !ok {
				break
			}
			up = next
		}
		foldedInto[id] = up
		o := byID[id]
		folded[up] = append(folded[up], fmt.Sprintf("%s (%s, %s)", o.res.Job, o.def.Name, o.kind))
	}
	quiet := d.quietAtRisk(occs, byID)
	for _, o := range occs {
		if _, ok := foldedInto[o.id]; ok || d.foldedIntoFlapping(o) || quiet[o.id] {
			continue
		}
		d.occurrence(o, folded[o.id])
	}
	// Folds into an incident that is stored but not among the current
	// results (older, or of an SLO no longer evaluated) still update it.
	for up, lines := range folded {
		if _, ok := byID[up]; ok {
			continue
		}
		if a, ok := d.stored[up]; ok {
			w := wantFrom(a)
			w.def = d.defs[a.SLO]
			d.addFolded(&w, a, lines)
			d.apply(Update, w)
		}
	}
}

// upstreamIncident returns the ID of an incident of an upstream of o on o's
// date: one stored (open, or resolved late) or one of an occurrence bad now.
func (d *decider) upstreamIncident(o *occ, byID map[string]*occ) string {
	isUp := func(sloName string, job kant.JobKey) bool {
		return job != o.res.Job && (slices.Contains(o.def.Upstream, sloName) || kant.MatchAny(o.def.Upstream, job))
	}
	var found []string
	for _, a := range d.in.Alerts {
		// An upstream incident still open, or one that ended late (and so
		// delayed what depends on it); one that recovered in time did not
		// cause this miss.
		if (a.Status == kant.AlertOpen && (a.Kind == KindFailed || a.Kind == KindMissed) || a.Kind == KindLate) &&
			a.Date == o.res.Date && isUp(a.SLO, a.Job) {
			found = append(found, a.ID)
		}
	}
	for id, u := range byID {
		if u.bad && u.res.Date == o.res.Date && isUp(u.res.SLO, u.res.Job) {
			found = append(found, id)
		}
	}
	if len(found) == 0 {
		return ""
	}
	slices.Sort(found)
	return found[0]
}

// wantFrom returns the content a stored alert has.
func wantFrom(a kant.Alert) want {
	return want{id: a.ID, kind: a.Kind, status: a.Status, text: a.Text, slo: a.SLO, job: a.Job, date: a.Date,
		since: a.Since, owner: a.Owner, fields: slices.Clone(a.Fields), links: a.Links}
}

const labelAffected = "Also affected"

// addFolded merges lines into w's "Also affected" field (keeping what the
// stored alert listed) and sets the note for new ones.
func (d *decider) addFolded(w *want, stored kant.Alert, lines []string) {
	var have []string
	for _, f := range stored.Fields {
		if f.Label == labelAffected {
			have = strings.Split(f.Value, "\n")
		}
	}
	var added []string
	for _, l := range lines {
		if !slices.Contains(have, l) {
			have = append(have, l)
			added = append(added, l)
		}
	}
	if len(have) == 0 {
		return
	}
	slices.Sort(have)
	w.fields = slices.DeleteFunc(w.fields, func(f kant.AlertField) bool { return f.Label == labelAffected })
	w.fields = append(w.fields, kant.AlertField{Label: labelAffected, Value: strings.Join(have, "\n")})
	if len(added) > 0 {
		slices.Sort(added)
		note := "Downstream folded into this incident: " + strings.Join(added, ", ")
		if w.note != "" {
			note = w.note + "\n" + note
		}
		w.note = note
	}
}

// occurrence decides the incident of one occurrence.
func (d *decider) occurrence(o *occ, folded []string) {
	stored, exists := d.stored[o.id]
	atRisk := warnsAtRisk(o, stored, exists)
	if !o.bad && !exists && !atRisk {
		return
	}
	loc := locOf(o.def)
	r := o.res
	w := want{id: o.id, slo: r.SLO, job: r.Job, date: r.Date, owner: o.def.Owner, def: o.def, status: kant.AlertOpen}
	deadline := d.fmtTime(r.Deadline, loc)
	w.fields = []kant.AlertField{
		{Label: "SLO", Value: r.SLO},
		{Label: "Business date", Value: r.Date.String()},
		{Label: "Deadline", Value: deadline},
	}
	run := o.latest
	switch {
	case o.bad:
		w.kind = o.kind
		w.since = r.Deadline
		if o.failed != nil {
			w.since = o.failed.At()
			if !o.failed.FinishedAt.IsZero() {
				w.since = o.failed.FinishedAt
			}
		}
		if exists && !stored.Since.IsZero() {
			w.since = stored.Since
		}
		if o.kind == KindFailed {
			w.text = fmt.Sprintf("%s failed for %s (attempt %d)", r.Job, r.Date, o.failed.Attempt)
		} else {
			why := map[kant.Reason]string{kant.ReasonFailed: "it failed", kant.ReasonNotStarted: "it never started",
				kant.ReasonRunning: "it is still running"}[r.Reason]
			if r.Verdict == kant.VerdictPending { // judged here, at the deadline
				why = "it never started"
				if run != nil {
					why = map[bool]string{true: "it is still running", false: "it failed"}[run.State.Active()]
				}
			}
			w.text = fmt.Sprintf("%s missed its deadline %s for %s: %s", r.Job, deadline, r.Date, why)
		}
	case atRisk:
		w.kind = KindAtRisk
		w.since = d.now
		if exists {
			w.since = stored.Since
		}
		w.text = d.atRiskText(o, deadline, loc)
	case exists && r.Final():
		w.status = kant.AlertResolved
		w.since = stored.Since
		w.kind = KindRecovered
		w.text = fmt.Sprintf("%s recovered for %s%s: succeeded at %s", r.Job, r.Date, lasted(stored.Since, r.SucceededAt),
			d.fmtTime(r.SucceededAt, loc))
		if stored.Kind == KindAtRisk && r.Verdict == kant.VerdictMet {
			w.kind = KindAtRisk
			w.text = d.atRiskMet(o, loc)
		}
		if r.Verdict == kant.VerdictLate {
			w.kind = KindLate
			w.text = fmt.Sprintf("%s succeeded late for %s%s: at %s, %s after the deadline", r.Job, r.Date,
				lasted(stored.Since, r.SucceededAt), d.fmtTime(r.SucceededAt, loc), fmtDuration(r.Lateness))
		}
	case exists && run != nil && run.State.Active() && stored.Status == kant.AlertOpen:
		// A retry after a failure: the incident stays open.
		w.kind = stored.Kind
		w.since = stored.Since
		w.text = fmt.Sprintf("%s is being retried for %s: attempt %d %s", r.Job, r.Date, run.Attempt, run.State)
	default:
		return // nothing new to say (e.g. a success not yet judged)
	}
	if !w.since.IsZero() {
		w.fields = append(w.fields, kant.AlertField{Label: "Since", Value: d.fmtTime(w.since, loc)})
	}
	if run != nil {
		w.fields = append(w.fields, kant.AlertField{Label: "Run", Value: fmt.Sprintf("%s (attempt %d, %s)", run.RunID, run.Attempt, run.State)})
	}
	if o.failed != nil && o.failed.ErrorMessage != "" && w.status == kant.AlertOpen {
		w.fields = append(w.fields, kant.AlertField{Label: "Error", Value: truncate(o.failed.ErrorMessage, 500)})
	}
	if w.owner != "" {
		w.fields = append(w.fields, kant.AlertField{Label: "Owner", Value: w.owner})
	}
	if d.p.ConsoleLink != nil && run != nil {
		if u := d.p.ConsoleLink(*run); u != "" {
			w.links = append(w.links, kant.AlertLink{Text: "Source console", URL: u})
		}
	}
	w.links = append(w.links, d.jobLink(r.Job)...)
	if exists && w.text != stored.Text {
		w.note = w.text
	}
	keepField(&w, stored, labelReruns)
	markAtRisk(&w, o, stored, exists, deadline)
	d.addFolded(&w, stored, folded)
	action := Open
	if w.status == kant.AlertResolved {
		action = Resolve
	}
	d.apply(action, w)
}
