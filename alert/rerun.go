package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// KindRerun tells an SLO downstream that an upstream job re-ran (or was
// backfilled) for a date after its gate had opened: what the downstream
// read may have changed.
const KindRerun = "rerun"

const labelReruns = "Upstream re-runs"

// reruns tells every SLO that names a job upstream (by SLO or job glob)
// when a newer run of the job's occurrence came after the occurrence had
// answered open (kant.FirstOpen): one line per (upstream job, date, run),
// a reply in the thread of the downstream's open incident for that date,
// else an alert of its own in the downstream SLO's channel.
func (d *decider) reruns() {
	type occKey struct {
		job  kant.JobKey
		date kant.Date
	}
	defOf := map[kant.JobKey]*slo.Definition{} // the first SLO selecting each job
	hasDown := map[kant.JobKey]bool{}          // whether an SLO names the job upstream
	keyOf := make([]occKey, len(d.in.Runs))
	count := map[occKey]int{}
	for i, r := range d.in.Runs {
		if r.At().After(d.now) {
			continue
		}
		def, ok := defOf[r.Job]
		if !ok {
			for i := range d.p.SLOs {
				if d.p.SLOs[i].Selects(r.Job) {
					def = &d.p.SLOs[i]
					break
				}
			}
			defOf[r.Job] = def
			hasDown[r.Job] = slices.ContainsFunc(d.p.SLOs, func(down slo.Definition) bool { return d.downstreamOf(&down, def, r.Job) })
		}
		if !hasDown[r.Job] {
			continue
		}
		keyOf[i] = occKey{r.Job, d.dateOf(def, r)}
		count[keyOf[i]]++
	}
	// A re-run needs two runs: most occurrences have one.
	byOcc := map[occKey][]kant.Run{}
	var keys []occKey
	for i, k := range keyOf {
		if count[k] < 2 || k.job == "" {
			continue
		}
		if _, ok := byOcc[k]; !ok {
			keys = append(keys, k)
		}
		byOcc[k] = append(byOcc[k], d.in.Runs[i])
	}
	slices.SortFunc(keys, func(a, b occKey) int {
		return cmp.Or(strings.Compare(string(a.job), string(b.job)), cmp.Compare(a.date.Year, b.date.Year),
			cmp.Compare(a.date.Month, b.date.Month), cmp.Compare(a.date.Day, b.date.Day))
	})
	for _, k := range keys {
		runs := byOcc[k]
		opener, openedAt := kant.FirstOpen(runs)
		if opener == nil {
			continue
		}
		var later []kant.Run
		for _, r := range runs {
			if r.Later(opener) {
				later = append(later, r)
			}
		}
		if len(later) == 0 {
			continue
		}
		slices.SortFunc(later, func(a, b kant.Run) int { return a.At().Compare(b.At()) })
		up := defOf[k.job]
		for i := range d.p.SLOs {
			down := &d.p.SLOs[i]
			if !d.downstreamOf(down, up, k.job) || !d.evaluatedOn(down.Name, k.date) {
				continue
			}
			for _, r := range later {
				d.rerun(down, k.job, k.date, r, openedAt)
			}
		}
	}
}

// dateOf is the business date of r under def, else its logical date, else
// the date it ran in the policy's zone (as the gate files it).
func (d *decider) dateOf(def *slo.Definition, r kant.Run) kant.Date {
	if def != nil {
		if date, _, ok := def.Attribute(r); ok {
			return date
		}
	}
	if !r.LogicalDate.IsZero() {
		return r.LogicalDate
	}
	return kant.DateOf(r.At().In(d.loc))
}

// downstreamOf reports whether down names job upstream, itself or by the
// SLO up that selects it.
func (d *decider) downstreamOf(down, up *slo.Definition, job kant.JobKey) bool {
	if len(down.Upstream) == 0 || down.Selects(job) {
		return false
	}
	return kant.MatchAny(down.Upstream, job) || (up != nil && slices.Contains(down.Upstream, up.Name))
}

// evaluatedOn reports whether sloName has an occurrence on date among the
// current verdicts: a downstream that expected no run that date read
// nothing of its upstream.
func (d *decider) evaluatedOn(sloName string, date kant.Date) bool {
	return slices.ContainsFunc(d.in.Results, func(r kant.Result) bool { return r.SLO == sloName && r.Date == date }) ||
		slices.ContainsFunc(d.in.Days, func(day kant.Day) bool { return day.SLO == sloName && day.Date == date && day.Occurrences > 0 })
}

// rerun tells down of one re-run r of job for date, once.
func (d *decider) rerun(down *slo.Definition, job kant.JobKey, date kant.Date, r kant.Run, openedAt time.Time) {
	loc := locOf(down)
	line := fmt.Sprintf("%s re-ran for %s at %s (run %s, attempt %d), after its gate opened at %s: %s may have read it before",
		job, date, r.At().In(loc).Format("15:04"), r.RunID, r.Attempt, openedAt.In(loc).Format("15:04"), down.Name)
	id := fmt.Sprintf("rerun/%s/%s/%s/%s/%d", down.Name, job, date, r.RunID, r.Attempt)
	if _, told := d.stored[id]; told {
		return
	}
	// Told already in an incident thread of the downstream, or to be told
	// in the one open now.
	var open *kant.Alert
	for _, a := range d.stored {
		if a.SLO != down.Name || a.Date != date || !strings.HasPrefix(a.ID, "job/") {
			continue
		}
		if slices.ContainsFunc(a.Fields, func(f kant.AlertField) bool {
			return f.Label == labelReruns && slices.Contains(strings.Split(f.Value, "\n"), line)
		}) {
			return
		}
		if a.Status == kant.AlertOpen && (open == nil || a.ID < open.ID) {
			open = &a
		}
	}
	if open != nil {
		w := wantFrom(*open)
		w.def = down
		have := []string{line}
		for _, f := range w.fields {
			if f.Label == labelReruns {
				have = append(strings.Split(f.Value, "\n"), line)
			}
		}
		w.fields = slices.DeleteFunc(w.fields, func(f kant.AlertField) bool { return f.Label == labelReruns })
		w.fields = append(w.fields, kant.AlertField{Label: labelReruns, Value: strings.Join(have, "\n")})
		w.note = line
		d.apply(Update, w)
		return
	}
	w := want{id: id, kind: KindRerun, status: kant.AlertResolved, slo: down.Name, job: job, date: date,
		since: r.At(), owner: down.Owner, def: down, text: line,
		fields: []kant.AlertField{
			{Label: "Downstream SLO", Value: down.Name},
			{Label: "Business date", Value: date.String()},
			{Label: "Upstream", Value: string(job)},
			{Label: "Gate opened", Value: d.fmtTime(openedAt, loc)},
			{Label: "Re-run", Value: fmt.Sprintf("%s (attempt %d, %s) started %s", r.RunID, r.Attempt, r.State, d.fmtTime(r.At(), loc))},
		}}
	if down.Owner != "" {
		w.fields = append(w.fields, kant.AlertField{Label: "Owner", Value: down.Owner})
	}
	w.links = d.jobLink(job)
	d.apply(Open, w)
}

// keepField carries the stored alert's field label over to w, whose fields
// were rebuilt: lines added by others than the incident's own decision.
func keepField(w *want, stored kant.Alert, label string) {
	for _, f := range stored.Fields {
		if f.Label == label && !slices.ContainsFunc(w.fields, func(g kant.AlertField) bool { return g.Label == label }) {
			w.fields = append(w.fields, f)
		}
	}
}
