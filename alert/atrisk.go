package alert

import (
	"fmt"
	"slices"
	"time"

	"github.com/kantproject/kant"
)

// KindAtRisk is the warning, before the deadline, that an occurrence will
// likely miss it (kant.Result.AtRisk). If the occurrence then misses, the
// same alert becomes the missed incident; if it meets its deadline, the
// alert is resolved.
const KindAtRisk = "at_risk"

const labelAtRisk = "At risk"

// quietAtRisk returns the IDs of occurrences at risk that get no warning of
// their own: they have no incident, and an upstream of their SLO has one on
// the same date, which is the likely cause (were they to miss, they would
// be folded into it).
func (d *decider) quietAtRisk(occs []*occ, byID map[string]*occ) map[string]bool {
	quiet := map[string]bool{}
	for _, o := range occs {
		if o.bad || !o.res.AtRisk() || len(o.def.Upstream) == 0 {
			continue
		}
		if _, own := d.stored[o.id]; own {
			continue
		}
		if d.upstreamIncident(o, byID) != "" {
			quiet[o.id] = true
		}
	}
	return quiet
}

// warnsAtRisk reports whether o's alert is (or becomes) an at-risk
// warning: o is at risk with no incident yet, or its open incident is one.
func warnsAtRisk(o *occ, stored kant.Alert, exists bool) bool {
	if exists {
		return stored.Kind == KindAtRisk && stored.Status == kant.AlertOpen && !o.bad && !o.res.Final()
	}
	return !o.bad && o.res.AtRisk()
}

// atRiskText is the headline of o's at-risk warning.
func (d *decider) atRiskText(o *occ, deadline string, loc *time.Location) string {
	r := o.res
	why := "it has not started"
	switch run := o.latest; {
	case run != nil && run.State.Active() && !run.StartedAt.IsZero():
		why = "running since " + d.fmtTime(run.StartedAt, loc)
	case run != nil && run.State.Active():
		why = "it is queued"
	case run != nil:
		why = "its last attempt " + string(run.State)
	}
	return fmt.Sprintf("%s is at risk of missing its deadline %s for %s: %s, and its recent runs take longer than the time left",
		r.Job, deadline, r.Date, why)
}

// atRiskMet is the headline of an at-risk warning resolved by a success in
// time.
func (d *decider) atRiskMet(o *occ, loc *time.Location) string {
	return fmt.Sprintf("%s met its deadline for %s after all: succeeded at %s", o.res.Job, o.res.Date, d.fmtTime(o.res.SucceededAt, loc))
}

// markAtRisk adds, to an open incident of another kind being retried, an
// "At risk" field while o is at risk, and a thread reply the first time. A
// failure with no run active gets none: its incident already says it
// failed, and nothing is running that could still be in time.
func markAtRisk(w *want, o *occ, stored kant.Alert, exists bool, deadline string) {
	if w.kind == KindAtRisk || w.status != kant.AlertOpen || !o.res.AtRisk() || o.latest == nil || !o.latest.State.Active() {
		return
	}
	value := fmt.Sprintf("likely to miss the deadline %s: its recent runs take longer than the time left", deadline)
	w.fields = append(w.fields, kant.AlertField{Label: labelAtRisk, Value: value})
	had := slices.ContainsFunc(stored.Fields, func(f kant.AlertField) bool { return f.Label == labelAtRisk })
	if exists && !had {
		note := "At risk: " + value
		if w.note != "" {
			note = w.note + "\n" + note
		}
		w.note = note
	}
}
