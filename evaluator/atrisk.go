package evaluator

import (
	"cmp"
	"slices"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// durations keeps, per job, the durations of its newest successful runs:
// as many as the SLOs' at-risk settings need. Every evaluation adds the
// runs it loaded, so the first evaluation of the retention window fills it
// and later ones, which load only the lookback window, keep it current
// without another read of the store.
type durations struct {
	keep  int
	byJob map[kant.JobKey][]success // oldest first, at most keep
}

// success is one successful run: when it finished (Unix nanoseconds) and
// how long it took. Two of a job that finished at the same instant and took
// as long are taken for the same run, seen twice: at 10,000 jobs and 20
// successes each, keeping the runs' keys would cost ten times the memory.
type success struct {
	finished int64
	took     time.Duration
}

func newDurations(defs []slo.Definition) *durations {
	keep := 0
	for _, d := range defs {
		if !d.AtRisk.Off {
			keep = max(keep, d.AtRisk.WithDefaults().Runs)
		}
	}
	return &durations{keep: keep, byJob: map[kant.JobKey][]success{}}
}

// add records the successful runs among runs as known at now; a run
// already recorded is recorded once, and only the newest keep per job are
// kept.
func (h *durations) add(runs []kant.Run, now time.Time) {
	if h.keep == 0 {
		return
	}
	for i := range runs {
		r := &runs[i] // as known at now: a success that finished by then
		if r.State != kant.StateSucceeded || r.FinishedAt.After(now) || r.Duration() <= 0 {
			continue
		}
		list := h.byJob[r.Job]
		s := success{finished: r.FinishedAt.UnixNano(), took: r.Duration()}
		if len(list) == h.keep && s.finished <= list[0].finished {
			continue // older than every one kept
		}
		if slices.Contains(list, s) {
			continue
		}
		at, _ := slices.BinarySearchFunc(list, s.finished, func(x success, t int64) int { return cmp.Compare(x.finished, t) })
		if len(list) < h.keep {
			if list == nil {
				list = make([]success, 0, h.keep)
			}
			list = slices.Insert(list, at, s)
		} else { // full: the oldest goes (at > 0: s is newer than it)
			copy(list[:at-1], list[1:at])
			list[at-1] = s
		}
		h.byJob[r.Job] = list
	}
}

// expected returns the expected duration of each job of results that has
// one under def's at-risk setting.
func (h *durations) expected(def slo.Definition, results []kant.Result) map[kant.JobKey]time.Duration {
	if def.AtRisk.Off {
		return nil
	}
	out := map[kant.JobKey]time.Duration{}
	for _, r := range results {
		if _, done := out[r.Job]; done {
			continue
		}
		list := h.byJob[r.Job]
		ds := make([]time.Duration, len(list))
		for i, s := range list {
			ds[i] = s.took
		}
		if e, ok := def.AtRisk.Expected(ds); ok {
			out[r.Job] = e
		}
	}
	return out
}

// markAtRisk records the successes among runs and marks def's pending
// results at risk (slo.MarkAtRisk). Called with e.mu held.
func (e *Evaluator) markAtRisk(def slo.Definition, results []kant.Result, runs []kant.Run, now time.Time) {
	e.durations.add(runs, now)
	slo.MarkAtRisk(def, results, runs, e.durations.expected(def, results), now)
}

// nextAtRisk returns the first moment after now at which a kept pending
// result becomes at risk by the clock alone (slo.NextAtRisk).
func (e *Evaluator) nextAtRisk(now time.Time) (next time.Time, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, def := range e.cfg.SLOs {
		c := e.cache[def.Name]
		if c == nil || def.AtRisk.Off {
			continue
		}
		for _, results := range c.byDate {
			if at, found := slo.NextAtRisk(results, e.durations.expected(def, results), now); found && (!ok || at.Before(next)) {
				next, ok = at, true
			}
		}
	}
	return next, ok
}
