package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/kantproject/kant"
)

// Evaluations returns the recorder the evaluator reports each written
// evaluation to (evaluator.Metrics). From what it is told it keeps
// kant_verdicts: per SLO, the verdicts of the occurrences dated within
// window (the evaluator's Lookback; default 7 days) plus one day before the
// newest date written, which is the range the evaluator's periodic pass
// covers; and it records kant_evaluation_duration_seconds per SLO. Each
// call stands alone: nothing depends on the order of the evaluator's reads
// and writes. With a nil m it returns nil, whose Evaluated does nothing.
func (m *Metrics) Evaluations(window time.Duration) *Evaluations {
	if m == nil {
		return nil
	}
	if window <= 0 {
		window = 7 * 24 * time.Hour
	}
	return &Evaluations{m: m, days: int(window / (24 * time.Hour)), bySLO: map[string]*sloVerdicts{}}
}

// Evaluations keeps the verdict gauges from the evaluations written.
type Evaluations struct {
	m    *Metrics
	days int

	mu    sync.Mutex
	bySLO map[string]*sloVerdicts
}

// sloVerdicts is the latest verdict of each occurrence (job and date) of one
// SLO that the evaluator wrote, within the window ending at newest.
type sloVerdicts struct {
	newest kant.Date
	byOcc  map[occurrence]kant.Verdict
	// restored are the verdict counts of the days a new term settled from
	// the store (Restored), until an evaluation replaces them.
	restored map[kant.Date]map[kant.Verdict]int
}

type occurrence struct {
	job  kant.JobKey
	date kant.Date
}

// Evaluated records one evaluation: its duration by result, and, when it
// was written (err is nil), the verdicts it replaced.
func (r *Evaluations) Evaluated(ctx context.Context, e kant.Evaluation, took time.Duration, err error) {
	if r == nil {
		return
	}
	r.m.EvaluationDone(ctx, e.SLO, took, err)
	if err != nil {
		return
	}
	r.mu.Lock()
	counts := r.applyLocked(e)
	r.mu.Unlock()
	r.m.Verdicts(ctx, e.SLO, counts)
}

// Restored records the days an evaluator settled from the store instead of
// judging them (evaluator.Restorer): their verdicts count in kant_verdicts
// until an evaluation of their dates replaces them.
func (r *Evaluations) Restored(ctx context.Context, slo string, days []kant.Day) {
	if r == nil {
		return
	}
	r.mu.Lock()
	v := r.sloLocked(slo)
	for _, d := range days {
		v.restored[d.Date] = map[kant.Verdict]int{kant.VerdictMet: d.Met, kant.VerdictLate: d.Late,
			kant.VerdictMissed: d.Missed, kant.VerdictPending: d.Pending}
		if d.Date.After(v.newest) {
			v.newest = d.Date
		}
	}
	counts := r.countLocked(v)
	r.mu.Unlock()
	r.m.Verdicts(ctx, slo, counts)
}

func (r *Evaluations) sloLocked(slo string) *sloVerdicts {
	v := r.bySLO[slo]
	if v == nil {
		v = &sloVerdicts{byOcc: map[occurrence]kant.Verdict{}, restored: map[kant.Date]map[kant.Verdict]int{}}
		r.bySLO[slo] = v
	}
	return v
}

// applyLocked replaces what e replaces (its dates, restricted to its jobs
// when it names some) by its results, drops the dates that fell out of the
// window, and returns the counts by verdict.
func (r *Evaluations) applyLocked(e kant.Evaluation) map[kant.Verdict]int {
	v := r.sloLocked(e.SLO)
	for d := range v.restored {
		if inRange(d, e.From, e.To) {
			delete(v.restored, d)
		}
	}
	jobs := map[kant.JobKey]bool{}
	for _, j := range e.Jobs {
		jobs[j] = true
	}
	for o := range v.byOcc {
		if (len(jobs) == 0 || jobs[o.job]) && inRange(o.date, e.From, e.To) {
			delete(v.byOcc, o)
		}
	}
	for _, res := range e.Results {
		if res.Date.After(v.newest) {
			v.newest = res.Date
		}
	}
	if !e.To.IsZero() && e.To.After(v.newest) {
		v.newest = e.To
	}
	// Only the window is kept: a first evaluation of the whole retention
	// (90 days of 10,000 jobs) must not grow the map to 900,000 entries,
	// since a Go map keeps its size after its entries are deleted.
	oldest := v.newest.AddDays(-(r.days + 1))
	for _, res := range e.Results {
		if !res.Date.Before(oldest) {
			v.byOcc[occurrence{res.Job, res.Date}] = res.Verdict
		}
	}
	return r.countLocked(v)
}

// countLocked drops what fell out of v's window and counts the rest by
// verdict.
func (r *Evaluations) countLocked(v *sloVerdicts) map[kant.Verdict]int {
	oldest := v.newest.AddDays(-(r.days + 1))
	counts := map[kant.Verdict]int{}
	for d, c := range v.restored {
		if d.Before(oldest) {
			delete(v.restored, d)
			continue
		}
		for verdict, n := range c {
			counts[verdict] += n
		}
	}
	for o, verdict := range v.byOcc {
		if o.date.Before(oldest) {
			delete(v.byOcc, o)
			continue
		}
		counts[verdict]++
	}
	return counts
}

// inRange reports whether d is in [from, to]; a zero bound is open.
func inRange(d, from, to kant.Date) bool {
	return (from.IsZero() || !d.Before(from)) && (to.IsZero() || !d.After(to))
}
