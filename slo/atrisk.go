package slo

import (
	"math"
	"slices"
	"time"

	"github.com/kantproject/kant"
)

// The defaults of AtRisk.
const (
	DefaultAtRiskPercentile = 90
	DefaultAtRiskRuns       = 20
	DefaultAtRiskMinRuns    = 5
)

// AtRisk configures the at-risk warning of an SLO. A job's expected
// duration is the Percentile of the durations of its last Runs successful
// runs; a pending occurrence is at risk when that duration says it will not
// succeed by its deadline (see MarkAtRisk). A job with fewer than MinRuns
// successes has no expected duration and is never at risk. The zero value
// is the default: on, the 90th percentile of the last 20, from 5 on.
type AtRisk struct {
	Off        bool    // no at-risk warnings for this SLO
	Percentile float64 // in (0, 100]; 0: DefaultAtRiskPercentile
	Runs       int     // successes considered; 0: DefaultAtRiskRuns
	MinRuns    int     // fewer successes: no estimate; 0: DefaultAtRiskMinRuns, at most Runs
}

// WithDefaults returns a with its zero fields set to the defaults.
func (a AtRisk) WithDefaults() AtRisk {
	if a.Percentile == 0 {
		a.Percentile = DefaultAtRiskPercentile
	}
	if a.Runs == 0 {
		a.Runs = DefaultAtRiskRuns
	}
	if a.MinRuns == 0 {
		a.MinRuns = min(DefaultAtRiskMinRuns, a.Runs)
	}
	return a
}

// Validate reports an EINVALID error unless the percentile is in (0, 100]
// and the run counts are not negative, with MinRuns at most Runs.
func (a AtRisk) Validate() error {
	w := a.WithDefaults()
	switch {
	case a.Percentile < 0 || a.Percentile > 100 || math.IsNaN(a.Percentile):
		return kant.Errorf(kant.EINVALID, "percentile: must be in (0, 100], got %g", a.Percentile)
	case a.Runs < 0:
		return kant.Errorf(kant.EINVALID, "runs: must be positive, got %d", a.Runs)
	case a.MinRuns < 0:
		return kant.Errorf(kant.EINVALID, "min_runs: must be positive, got %d", a.MinRuns)
	case w.MinRuns > w.Runs:
		return kant.Errorf(kant.EINVALID, "min_runs: %d is more than runs (%d)", w.MinRuns, w.Runs)
	}
	return nil
}

// Expected returns the expected duration of a job from the durations of
// its successful runs, oldest first: the Percentile of the last Runs of
// them. ok is false when a is off or fewer than MinRuns are given.
func (a AtRisk) Expected(durations []time.Duration) (d time.Duration, ok bool) {
	if a.Off {
		return 0, false
	}
	a = a.WithDefaults()
	if len(durations) < a.MinRuns || len(durations) == 0 {
		return 0, false
	}
	return Percentile(durations[max(0, len(durations)-a.Runs):], a.Percentile), true
}

// Percentile returns the p-th percentile of ds by the nearest-rank method
// (the smallest value at least p percent of ds are at or below); 0 for
// none. ds is not modified.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// MarkAtRisk marks the pending results of def that are at risk as of now,
// setting their Reason to kant.ReasonAtRisk. expected holds each job's
// expected duration (see AtRisk.Expected); jobs without one are not
// marked. runs are those the results were judged from (as given to
// Evaluate). A pending occurrence is at risk when
//
//   - a run attributed to it is active, and the newest such run's start
//     (now, for one still queued) plus the expected duration is after the
//     deadline; or
//   - no attributed run is active (none started, or the last one failed)
//     and now is at or after RiskAt: the deadline minus the expected
//     duration, but not before the occurrence's expected start.
//
// Results other than pending, and of other SLOs, are left alone.
func MarkAtRisk(def Definition, results []kant.Result, runs []kant.Run, expected map[kant.JobKey]time.Duration, now time.Time) {
	if def.AtRisk.Off || len(expected) == 0 {
		return
	}
	type key struct {
		job kant.JobKey
		at  int64
	}
	pending := map[key]int{}
	for i, r := range results {
		if r.SLO != def.Name || r.Verdict != kant.VerdictPending {
			continue
		}
		if _, ok := expected[r.Job]; ok {
			pending[key{r.Job, r.ExpectedAt.UnixNano()}] = i
		}
	}
	if len(pending) == 0 {
		return
	}
	started := map[int]time.Time{} // result index → start of its newest active run
	for i := range runs {
		if _, ok := expected[runs[i].Job]; !ok {
			continue
		}
		r, ok := runs[i].AsOf(now)
		if !ok || !r.State.Active() {
			continue
		}
		_, at, ok := def.Attribute(r)
		if !ok {
			continue
		}
		k, ok := pending[key{r.Job, at.UnixNano()}]
		if !ok {
			continue
		}
		start := r.StartedAt
		if start.IsZero() {
			start = now
		}
		if s, seen := started[k]; !seen || start.After(s) {
			started[k] = start
		}
	}
	for _, k := range pending {
		res := &results[k]
		e := expected[res.Job]
		if s, active := started[k]; active {
			if s.Add(e).After(res.Deadline) {
				res.Reason = kant.ReasonAtRisk
			}
		} else if !now.Before(RiskAt(*res, e)) {
			res.Reason = kant.ReasonAtRisk
		}
	}
}

// RiskAt is when an occurrence of a job expected to take expected becomes
// at risk if nothing has started: its deadline minus expected, or its
// expected start when that is later (a job slower than its window is at
// risk once due, not before).
func RiskAt(o kant.Result, expected time.Duration) time.Time {
	at := o.Deadline.Add(-expected)
	if at.Before(o.ExpectedAt) {
		return o.ExpectedAt
	}
	return at
}

// NextAtRisk returns the first moment after now at which a pending result
// not yet at risk becomes at risk by the clock alone, if nothing starts
// (RiskAt). ok is false when there is none.
func NextAtRisk(results []kant.Result, expected map[kant.JobKey]time.Duration, now time.Time) (next time.Time, ok bool) {
	for _, r := range results {
		e, has := expected[r.Job]
		if !has || r.Verdict != kant.VerdictPending || r.Reason == kant.ReasonAtRisk {
			continue
		}
		if at := RiskAt(r, e); at.After(now) && (!ok || at.Before(next)) {
			next, ok = at, true
		}
	}
	return next, ok
}
