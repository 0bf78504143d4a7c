package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Alerts configures where alerts go and when they are held back.
type Alerts struct {
	// Slack is where alerts are sent; with neither token nor webhook,
	// alerts are written to the log.
	Slack Slack
	// Digest, when set, is the local time of the daily summary (in the
	// configuration's time zone).
	Digest *slo.Clock
	// DigestLine and SlackLine are the lines of alerts.digest and
	// alerts.slack in the file, for problems found once the rest is known.
	DigestLine, SlackLine int
	// StatusURL is the base URL of kant's status page, for links in
	// messages; default "http://localhost" + the listen port.
	StatusURL string
	// BudgetBelow alerts when an SLO's share of error budget left over the
	// last 30 days falls below it; 0 disables the alert.
	BudgetBelow float64
	// Routes overrides the channel per alert kind.
	Routes map[string]string
	// Maintenance lists windows in which alerts are recorded, not sent.
	Maintenance []Maintenance
	// PagerDuty and Webhooks are destinations besides Slack, by name.
	PagerDuty []PagerDuty
	Webhooks  []Webhook
	// Deliver routes alerts to destinations, the first matching rule
	// winning; alerts no rule matches go to Slack alone.
	Deliver []DeliverRule
	// Flapping, when set, overrides when a job is flapping (more than 4
	// flips in 24h by default): its failures are then one notice.
	Flapping *Flapping
}

// Flapping is when a job counts as flapping: more than Flips changes
// between success and failure within Window. Flips 0 never folds failures.
type Flapping struct {
	Flips  int
	Window time.Duration // 0: the default, 24h
}

// Slack configures the Slack sender: a bot token (posts, updates, threads)
// or an incoming webhook (posts only).
type Slack struct {
	Token      Secret
	WebhookURL Secret
	// APIURL overrides https://slack.com/api/ (GovSlack, a proxy, tests).
	APIURL string
	// Channel is the default channel of alerts whose SLO names none.
	Channel string
}

// Maintenance is a configured silence: a recurring window (Schedule and
// Duration) or a fixed one (From, To), over some SLOs or jobs (all when both
// are empty).
type Maintenance struct {
	Name     string
	Schedule *slo.Schedule // a cron in the configuration's time zone
	Duration time.Duration
	From, To time.Time
	SLOs     []string
	Jobs     []string
	Reason   string
	Line     int
}

// AlertKinds are the kinds an alert route may name.
var AlertKinds = []string{"failed", "missed", "late", "stale", "budget", "digest", "rerun", "flapping", "at_risk"}

// DefaultBudgetBelow is the default budget alert threshold.
const DefaultBudgetBelow = 0.25

var alertKeys = []string{"slack", "digest", "status_url", "budget_below", "routes", "maintenance",
	"pagerduty", "webhooks", "deliver", "flapping"}

func (d *decoder) alerts(n *yaml.Node, path string, c *Config) {
	m := d.mapping(n, path)
	if m == nil {
		return
	}
	m.only(alertKeys...)
	a := &c.Alerts
	if v, p := m.get("slack"); v != nil {
		a.SlackLine = v.Line
		d.slack(v, p, &a.Slack)
	}
	if v, p := m.get("digest"); v != nil {
		if clock, ok := d.clock(v, p); ok {
			if clock.Hour == 24 {
				d.errorf(v, p, "want a time of day before 24:00")
			} else {
				a.Digest, a.DigestLine = &clock, v.Line
			}
		}
	}
	if v, p := m.get("status_url"); v != nil {
		if s, ok := d.str(v, p); ok {
			if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				d.errorf(v, p, "%q is not an http(s) URL", s)
			} else {
				a.StatusURL = strings.TrimRight(s, "/")
			}
		}
	}
	if v, p := m.get("budget_below"); v != nil {
		if f, ok := d.float(v, p); ok {
			if f < 0 || f >= 1 {
				d.errorf(v, p, "%s is out of range: want a share of the error budget in [0, 1), like 0.25", strconv.FormatFloat(f, 'g', -1, 64))
			} else {
				a.BudgetBelow = f
			}
		}
	}
	if v, p := m.get("routes"); v != nil {
		if rm := d.mapping(v, p); rm != nil {
			// "store" is the message that the store stopped taking writes:
			// Slack only, routed to a channel like any kind.
			rm.only(append(slices.Clone(AlertKinds), "store")...)
			a.Routes = map[string]string{}
			for _, kind := range rm.order {
				rv, rp := rm.block(kind)
				if r := d.mapping(rv, rp); r != nil {
					r.only("channel")
					r.require("channel")
					if cv, cp := r.get("channel"); cv != nil {
						if ch, ok := d.str(cv, cp); ok && d.channel(cv, cp, ch) {
							a.Routes[kind] = ch
						}
					}
				}
			}
		}
	}
	if v, p := m.get("maintenance"); v != nil {
		d.maintenance(v, p, c)
	}
	if v, p := m.get("pagerduty"); v != nil {
		d.pagerDuty(v, p, a)
	}
	if v, p := m.get("webhooks"); v != nil {
		d.webhooks(v, p, a)
	}
	if v, p := m.get("deliver"); v != nil {
		d.deliver(v, p, a)
	}
	if v, p := m.get("flapping"); v != nil {
		d.flapping(v, p, a)
	}
}

// flapping reads alerts.flapping: {flips: 4, window: 24h}.
func (d *decoder) flapping(n *yaml.Node, path string, a *Alerts) {
	fm := d.mapping(n, path)
	if fm == nil {
		return
	}
	fm.only("flips", "window")
	f := Flapping{Flips: 4}
	if v, p := fm.get("flips"); v != nil {
		if x, ok := d.float(v, p); ok {
			if x < 0 || x != float64(int(x)) || x > 1000 {
				d.errorf(v, p, "%s: want a whole number of flips from 0 (never fold failures) to 1000, like 4", strconv.FormatFloat(x, 'g', -1, 64))
			} else {
				f.Flips = int(x)
			}
		}
	}
	if v, p := fm.get("window"); v != nil {
		if dur, ok := d.duration(v, p); ok {
			if dur < time.Hour || dur > 7*24*time.Hour {
				d.errorf(v, p, "%s: want a window from 1h to 7d, like 24h", dur)
			} else {
				f.Window = dur
			}
		}
	}
	a.Flapping = &f
}

func (d *decoder) slack(n *yaml.Node, path string, s *Slack) {
	m := d.mapping(n, path)
	if m == nil {
		return
	}
	m.only("token", "webhook_url", "api_url", "channel")
	if m.has("token") && m.has("webhook_url") {
		d.errorf(m.key["webhook_url"], path, "set token or webhook_url, not both")
	}
	if m.has("webhook_url") && m.has("api_url") {
		d.errorf(m.key["api_url"], path, "api_url is for the Web API (token); a webhook posts to its own URL")
	}
	if v, p := m.get("token"); v != nil {
		if tok, ok := d.secret(v, p); ok {
			switch {
			case tok == "":
				d.errorf(v, p, "empty (is the environment variable set?)")
			case !strings.HasPrefix(tok, "xox"):
				d.errorf(v, p, "not a Slack token: want a bot token starting \"xoxb-\" (value not shown)")
			}
			s.Token = Secret(tok)
		}
	}
	if v, p := m.get("webhook_url"); v != nil {
		if hook, ok := d.secret(v, p); ok {
			if u, err := url.Parse(hook); hook == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				d.errorf(v, p, "not an incoming webhook URL, like https://hooks.slack.com/services/... (value not shown)")
			}
			s.WebhookURL = Secret(hook)
		}
	}
	if v, p := m.get("api_url"); v != nil {
		if api, ok := d.str(v, p); ok && api != "" {
			if u, err := url.Parse(api); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				d.errorf(v, p, "%q is not an http(s) URL, like https://slack.com/api/", api)
			}
			s.APIURL = api
		}
	}
	if v, p := m.get("channel"); v != nil {
		if ch, ok := d.str(v, p); ok && d.channel(v, p, ch) {
			s.Channel = ch
		}
	}
}

// channel checks a Slack channel name ("#data-alerts") or id ("C0123ABC").
func (d *decoder) channel(n *yaml.Node, path, ch string) bool {
	if ch == "" || strings.ContainsAny(ch, " \t,") {
		d.errorf(n, path, "bad channel %q: want a name like \"#data-alerts\" or a channel id", ch)
		return false
	}
	return true
}

var maintenanceKeys = []string{"name", "schedule", "duration", "from", "to", "slos", "jobs", "reason"}

func (d *decoder) maintenance(n *yaml.Node, path string, c *Config) {
	items, _ := d.seq(n, path)
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		m := d.mapping(item, p)
		if m == nil {
			continue
		}
		m.only(maintenanceKeys...)
		m.require("name")
		w := Maintenance{Line: item.Line}
		if v, kp := m.get("name"); v != nil {
			w.Name, _ = d.str(v, kp)
		}
		if v, kp := m.get("reason"); v != nil {
			w.Reason, _ = d.str(v, kp)
		}
		recurring, fixed := m.has("schedule") || m.has("duration"), m.has("from") || m.has("to")
		switch {
		case recurring && fixed:
			d.errorf(item, p, "set schedule and duration, or from and to, not both")
		case recurring:
			m.require("schedule", "duration")
			if v, kp := m.get("schedule"); v != nil {
				if s, ok := d.str(v, kp); ok {
					sched, err := slo.ParseSchedule(s)
					if err != nil {
						d.errorf(v, kp, "%s", withValue("bad cron", s, err))
					} else {
						w.Schedule = &sched
					}
				}
			}
			if v, kp := m.get("duration"); v != nil {
				if dur, ok := d.duration(v, kp); ok {
					if dur <= 0 {
						d.errorf(v, kp, "must be positive")
					}
					w.Duration = dur
				}
			}
		case fixed:
			m.require("from", "to")
			fv, fp := m.get("from")
			tv, tp := m.get("to")
			if fv != nil {
				w.From, _ = d.instant(fv, fp, c.Location, false)
			}
			if tv != nil {
				w.To, _ = d.instant(tv, tp, c.Location, true)
			}
			if !w.From.IsZero() && !w.To.IsZero() && !w.To.After(w.From) {
				d.errorf(tv, tp, "ends before it starts")
			}
		default:
			d.errorf(item, p, "set schedule and duration (a recurring window) or from and to (a fixed one)")
		}
		for _, k := range []struct {
			key string
			dst *[]string
		}{{"slos", &w.SLOs}, {"jobs", &w.Jobs}} {
			if v, kp := m.get(k.key); v != nil {
				*k.dst = d.strs(v, kp, "")
			}
		}
		c.Alerts.Maintenance = append(c.Alerts.Maintenance, w)
	}
}

// instant reads an RFC 3339 time or a YYYY-MM-DD date in loc: the start of
// the date, or with end the start of the next one (so "to: 2026-12-31"
// includes that day).
func (d *decoder) instant(n *yaml.Node, path string, loc *time.Location, end bool) (time.Time, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	date, err := kant.ParseDate(s)
	if err != nil {
		d.errorf(n, path, "bad time %q: want RFC 3339 (2026-12-31T22:00:00+09:00) or a date (2026-12-31)", s)
		return time.Time{}, false
	}
	if end {
		date = date.AddDays(1)
	}
	return date.In(loc).UTC(), true
}

// checkAlertRefs checks what alerts refer to once SLOs are known: the SLOs
// of maintenance windows, and that every SLO has a channel when a bot token
// is set.
func (d *decoder) checkAlertRefs(c *Config) {
	d.checkDeliver(c)
	names := make([]string, len(c.SLOs))
	for i, s := range c.SLOs {
		names[i] = s.Name
	}
	for _, w := range c.Alerts.Maintenance {
		for _, s := range w.SLOs {
			if !slices.Contains(names, s) {
				hint := ""
				if near := closest(s, names); near != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", near)
				}
				d.problems = append(d.problems, Problem{File: d.file, Line: w.Line,
					Path: "alerts.maintenance", Message: fmt.Sprintf("window %q: unknown SLO %q%s", w.Name, s, hint)})
			}
		}
	}
	for i, s := range c.SLOs {
		for _, up := range s.Upstream {
			switch {
			case strings.Contains(up, "/"):
				// A job key or glob: any job may be upstream.
			case up == s.Name:
				d.problems = append(d.problems, Problem{File: d.file, Line: c.SLOLines[i], Path: "slos",
					Message: fmt.Sprintf("SLO %q lists itself as upstream", s.Name)})
			case !slices.Contains(names, up):
				hint := ""
				if near := closest(up, names); near != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", near)
				}
				d.problems = append(d.problems, Problem{File: d.file, Line: c.SLOLines[i], Path: "slos",
					Message: fmt.Sprintf("SLO %q: upstream %q is neither an SLO nor a job key like \"hegel/*\"%s", s.Name, up, hint)})
			}
		}
	}
	if c.Alerts.Slack.Token != "" && c.Alerts.Slack.Channel == "" {
		// Alerts that belong to no SLO need a channel of their own.
		if c.Alerts.Routes["stale"] == "" {
			for _, s := range c.Sources {
				if s.StaleAfter > 0 {
					d.problems = append(d.problems, Problem{File: d.file, Line: s.Line, Path: "sources",
						Message: fmt.Sprintf("source %q has stale_after, but stale alerts have no channel: set alerts.slack.channel or alerts.routes.stale", s.Name)})
					break
				}
			}
		}
		if c.Alerts.Digest != nil && c.Alerts.Routes["digest"] == "" {
			d.problems = append(d.problems, Problem{File: d.file, Line: c.Alerts.DigestLine, Path: "alerts.digest",
				Message: "the digest has no channel: set alerts.slack.channel or alerts.routes.digest"})
		}
		for i, s := range c.SLOs {
			if s.Channel == "" {
				line := c.SLOLines[i]
				if line == 0 { // the SLO kant judges by when the file names none
					line = c.Alerts.SlackLine
				}
				d.problems = append(d.problems, Problem{File: d.file, Line: line,
					Path: "slos", Message: fmt.Sprintf("SLO %q has no channel and alerts.slack sets no default channel", s.Name)})
			}
		}
	}
}

// summary reports where alerts go, for kant check. Secrets are not shown.
func (a Alerts) summary() string {
	var to string
	switch {
	case a.Slack.Token != "":
		to = "Slack (bot token)"
	case a.Slack.WebhookURL != "":
		to = "Slack (incoming webhook)"
	default:
		return "alerts: to the log (no Slack token or webhook)\n" + a.destinationsSummary()
	}
	if a.Slack.Channel != "" {
		to += ", default channel " + a.Slack.Channel
	}
	if a.Digest != nil {
		to += ", digest at " + a.Digest.String()
	}
	if n := len(a.Maintenance); n > 0 {
		to += fmt.Sprintf(", %d maintenance window(s)", n)
	}
	return "alerts: " + to + "\n" + a.destinationsSummary()
}
