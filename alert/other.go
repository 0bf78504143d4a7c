package alert

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// openOf returns the open stored alert of kind whose ID starts with prefix.
func (d *decider) openOf(kind, prefix string) (kant.Alert, bool) {
	for _, a := range d.in.Alerts {
		if a.Kind == kind && a.Status == kant.AlertOpen && strings.HasPrefix(a.ID, prefix) {
			return d.stored[a.ID], true
		}
	}
	return kant.Alert{}, false
}

// sources alerts on sources whose last good poll is older than their bound,
// and resolves the alert when a poll succeeds again.
func (d *decider) sources() {
	for _, h := range d.in.Health {
		bound := d.p.StaleAfter[h.Source]
		if bound <= 0 {
			continue
		}
		prefix := "source/" + h.Source + "/"
		open, exists := d.openOf(KindStale, prefix)
		stale := h.LastSuccess.IsZero() || d.now.Sub(h.LastSuccess) > bound
		scope := kant.JobKey(h.Source + "/*")
		if stale {
			since := h.LastSuccess.Add(bound)
			if h.LastSuccess.IsZero() {
				since = h.LastAttempt
			}
			w := want{kind: KindStale, status: kant.AlertOpen, job: scope, since: since}
			w.id = prefix + since.UTC().Format(time.RFC3339)
			if exists {
				w.id, w.since = open.ID, open.Since
			}
			last := "never"
			if !h.LastSuccess.IsZero() {
				last = d.fmtTime(h.LastSuccess, nil) + " (" + fmtDuration(d.now.Sub(h.LastSuccess)) + " ago)"
			}
			w.text = fmt.Sprintf("Source %s is stale: no successful poll for longer than %s", h.Source, fmtDuration(bound))
			if h.ConsecutiveFailures > 0 {
				w.text = fmt.Sprintf("Source %s is unreachable: %d polls failed in a row", h.Source, h.ConsecutiveFailures)
			}
			w.fields = []kant.AlertField{{Label: "Source", Value: h.Source}, {Label: "Last good poll", Value: last},
				{Label: "Since", Value: d.fmtTime(w.since, nil)}}
			if h.LastError != "" {
				w.fields = append(w.fields, kant.AlertField{Label: "Last error", Value: truncate(h.LastError, 500)})
			}
			if exists && open.Text != w.text {
				w.note = w.text
			}
			if exists && open.Text == w.text {
				continue // a growing age alone is not news
			}
			d.apply(Open, w)
			continue
		}
		if exists {
			w := wantFrom(open)
			w.status, w.job = kant.AlertResolved, scope
			w.text = fmt.Sprintf("Source %s is back%s: polled successfully at %s", h.Source, lasted(open.Since, h.LastSuccess),
				d.fmtTime(h.LastSuccess, nil))
			w.note = w.text
			d.apply(Resolve, w)
		}
	}
}

// budgets alerts when the share of an SLO's error budget left falls below
// the threshold, and resolves when it rises above it again.
func (d *decider) budgets() {
	if d.p.BudgetBelow <= 0 {
		return
	}
	for _, a := range d.in.Budgets {
		def := d.defs[a.SLO]
		allowed := float64(a.Days) * (1 - a.Target)
		if def == nil || allowed <= 0 {
			continue
		}
		left := a.ErrorBudgetLeft / allowed
		prefix := "budget/" + a.SLO + "/"
		open, exists := d.openOf(KindBudget, prefix)
		text := fmt.Sprintf("SLO %s has %.0f%% of its error budget left (%.1f of %.1f days)", a.SLO,
			math.Max(left, -9.99)*100, a.ErrorBudgetLeft, allowed)
		fields := []kant.AlertField{
			{Label: "SLO", Value: a.SLO},
			{Label: "Attainment", Value: fmt.Sprintf("%.1f%% over %d days (target %.1f%%)", a.Attainment*100, a.Days, a.Target*100)},
			{Label: "Budget left", Value: fmt.Sprintf("%.1f days", a.ErrorBudgetLeft)},
		}
		if def.Owner != "" {
			fields = append(fields, kant.AlertField{Label: "Owner", Value: def.Owner})
		}
		switch {
		case left < d.p.BudgetBelow:
			w := want{kind: KindBudget, status: kant.AlertOpen, slo: a.SLO, owner: def.Owner, def: def, text: text,
				fields: fields, id: prefix + kant.DateOf(d.now.In(d.loc)).String(), since: d.now}
			if exists {
				w.id, w.since = open.ID, open.Since
				if open.Text != text {
					w.note = text
				}
			}
			d.apply(Open, w)
		case exists:
			w := wantFrom(open)
			w.status, w.def, w.fields = kant.AlertResolved, def, fields
			w.text = fmt.Sprintf("SLO %s is back above the budget threshold: %.0f%% of its error budget left", a.SLO, left*100)
			w.note = w.text
			d.apply(Resolve, w)
		}
	}
}

// digestDue reports whether today's digest is to be written as of now:
// it is configured, its time has come, and stored (whether an alert ID is
// recorded) does not hold it.
func digestDue(p Policy, loc *time.Location, now time.Time, stored func(id string) bool) bool {
	if p.Digest == nil {
		return false
	}
	today := kant.DateOf(now.In(loc))
	return !now.Before(p.Digest.On(today, loc)) && !stored("digest/"+today.String())
}

// digest writes the daily summary once, at or after the configured time.
func (d *decider) digest() {
	if !digestDue(d.p, d.loc, d.now, func(id string) bool { _, ok := d.stored[id]; return ok }) {
		return
	}
	today := kant.DateOf(d.now.In(d.loc))
	id := "digest/" + today.String()
	y := today.AddDays(-1)
	type sum struct{ n, met, late, missed, pending int }
	per := map[string]*sum{}
	var bad []string
	type margin struct {
		job    kant.JobKey
		slo    string
		margin time.Duration
	}
	var margins []margin
	for _, r := range d.in.Results {
		if r.Date != y {
			continue
		}
		s := per[r.SLO]
		if s == nil {
			s = &sum{}
			per[r.SLO] = s
		}
		s.n++
		switch r.Verdict {
		case kant.VerdictMet:
			s.met++
		case kant.VerdictLate:
			s.late++
			bad = append(bad, fmt.Sprintf("%s (%s): late by %s", r.Job, r.SLO, fmtDuration(r.Lateness)))
		case kant.VerdictMissed:
			s.missed++
			bad = append(bad, fmt.Sprintf("%s (%s): missed, %s", r.Job, r.SLO, r.Reason))
		default:
			s.pending++
		}
		if !r.SucceededAt.IsZero() {
			margins = append(margins, margin{r.Job, r.SLO, r.Deadline.Sub(r.SucceededAt)})
		}
	}
	var lines []string
	names := make([]string, 0, len(per))
	for n := range per {
		names = append(names, n)
	}
	slices.Sort(names)
	budget := map[string]kant.Attainment{}
	for _, a := range d.in.Budgets {
		budget[a.SLO] = a
	}
	for _, n := range names {
		s := per[n]
		l := fmt.Sprintf("%s: %d/%d met (%.0f%%)", n, s.met, s.n, 100*float64(s.met)/float64(s.n))
		if s.late+s.missed > 0 {
			l += fmt.Sprintf(", %d late, %d missed", s.late, s.missed)
		}
		if a, ok := budget[n]; ok && a.Days > 0 {
			l += fmt.Sprintf("; %.1f%% over %d days, %.1f budget days left", a.Attainment*100, a.Days, a.ErrorBudgetLeft)
		}
		lines = append(lines, l)
	}
	slices.SortStableFunc(margins, func(a, b margin) int {
		return cmp.Or(cmp.Compare(a.margin, b.margin), strings.Compare(string(a.job), string(b.job)))
	})
	var slow []string
	for _, m := range margins[:min(5, len(margins))] {
		if m.margin < 0 {
			slow = append(slow, fmt.Sprintf("%s (%s): %s after the deadline", m.job, m.slo, fmtDuration(-m.margin)))
		} else {
			slow = append(slow, fmt.Sprintf("%s (%s): %s before the deadline", m.job, m.slo, fmtDuration(m.margin)))
		}
	}
	orNone := func(l []string) string {
		if len(l) == 0 {
			return "none"
		}
		return strings.Join(l, "\n")
	}
	slices.Sort(bad)
	w := want{id: id, kind: KindDigest, status: kant.AlertResolved, date: y, since: d.now,
		text: fmt.Sprintf("Daily digest for %s", y),
		fields: []kant.AlertField{
			{Label: "Attainment", Value: orNone(lines)},
			{Label: "Late and failed", Value: orNone(bad)},
			{Label: "Closest to their deadline", Value: orNone(slow)},
		}}
	if d.p.StatusURL != "" {
		w.links = []kant.AlertLink{{Text: "kant status", URL: strings.TrimRight(d.p.StatusURL, "/") + "/"}}
	}
	d.apply(Open, w)
}
