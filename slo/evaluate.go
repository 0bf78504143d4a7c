package slo

import (
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// Evaluate judges the occurrences of jobs under def on the dates [from, to]
// as of now, and summarizes each date that has occurrences.
//
// runs are the newest observation of each run; each is first taken as it was
// known at now (kant.Run.AsOf), and runs of jobs not in jobs are ignored. A
// job's occurrences start at its Since date. Each run is attributed to one
// occurrence (see Definition.Attribute) and judges that one only, so a
// backfill run days later judges the date it was for. Per occurrence:
//
//   - the first success (the earliest FinishedAt, else ObservedAt, of an
//     attributed run that succeeded) at or before the deadline is met, after
//     it late, with Lateness the time past the deadline;
//   - with no success it is pending before the deadline and missed from it
//     on, with the reason running (an attributed run is queued or running),
//     failed (runs were attributed but none is active) or not_started, and
//     a zero Lateness.
//
// A day meets the SLO when all its occurrences are met, the SLA when each
// is met or succeeded by its RecoverBy, and is final when each is met or
// past its RecoverBy.
//
// Results are sorted by date, job and expected time; days by date. All times
// in them are UTC. Evaluating one job costs in proportion to that job's runs
// and the number of dates, not to all runs: pass only the runs of the jobs
// being evaluated.
func Evaluate(def Definition, jobs []Job, runs []kant.Run, from, to kant.Date, now time.Time) ([]kant.Result, []kant.Day) {
	if to.Before(from) || len(jobs) == 0 {
		return nil, nil
	}
	now = now.UTC()
	p := newPlan(&def, from, to)
	if len(p.occ) == 0 {
		return nil, nil
	}
	js := sortedJobs(jobs)
	nd := len(p.dates)

	// firstDay[j] is the index of job j's first judged date.
	firstDay := make([]int, len(js))
	active := make([]int, nd+1) // active[i]: number of jobs judged on date i
	index := make(map[kant.JobKey]int, len(js))
	for j, job := range js {
		index[job.Key] = j
		f := 0
		if !job.Since.IsZero() {
			f = max(0, dayNum(job.Since)-p.fromDay)
		}
		firstDay[j] = f
		if f < nd {
			active[f]++
		}
	}
	total := 0
	for i := range nd {
		if i > 0 {
			active[i] += active[i-1]
		}
		total += active[i] * int(p.dates[i].end-p.dates[i].first)
	}
	if total == 0 {
		return nil, nil
	}

	// Lay the results out by date, job and tick, and note where each job's
	// occurrences of each date start.
	results := make([]kant.Result, 0, total)
	slot := make([]int32, len(js)*nd) // slot[j*nd+i]: first result of job j on date i, or -1
	dayStart := make([]int, nd+1)
	for i, pd := range p.dates {
		dayStart[i] = len(results)
		for j := range js {
			if i < firstDay[j] || pd.first == pd.end {
				slot[j*nd+i] = -1
				continue
			}
			slot[j*nd+i] = int32(len(results))
			for _, o := range p.occ[pd.first:pd.end] {
				results = append(results, kant.Result{
					Occurrence: kant.Occurrence{
						SLO:        def.Name,
						Job:        js[j].Key,
						Date:       pd.date,
						ExpectedAt: o.expected,
						Deadline:   o.deadline,
						RecoverBy:  o.recoverBy,
					},
					EvaluatedAt: now,
				})
			}
		}
	}
	dayStart[nd] = len(results)

	// Attribute each run once and fold it into its occurrence. Until the
	// verdicts are set, Reason marks an occurrence with an active run.
	for i := range runs {
		j, ok := index[runs[i].Job]
		if !ok {
			continue
		}
		r, ok := runs[i].AsOf(now)
		if !ok {
			continue
		}
		k := p.attribute(&r)
		if k < 0 {
			continue
		}
		o := p.occ[k]
		base := slot[j*nd+int(o.day)]
		if base < 0 {
			continue // before the job's Since
		}
		res := &results[int(base)+k-int(p.dates[o.day].first)]
		res.Runs++
		switch {
		case r.State == kant.StateSucceeded:
			at := r.FinishedAt
			if at.IsZero() {
				at = r.ObservedAt
			}
			if res.SucceededAt.IsZero() || at.Before(res.SucceededAt) {
				res.SucceededAt = at.UTC()
			}
		case r.State.Active():
			res.Reason = kant.ReasonRunning
		}
	}

	days := make([]kant.Day, 0, nd)
	for i, pd := range p.dates {
		occs := results[dayStart[i]:dayStart[i+1]]
		if len(occs) == 0 {
			continue
		}
		for k := range occs {
			judge(&occs[k], now)
		}
		days = append(days, DayOf(def.Name, pd.date, occs, now))
	}
	return results, days
}

// DayOf summarizes the judged results of one SLO on one date as of now: the
// SLO is met when every occurrence is met, the SLA when every occurrence is
// met or succeeded by its RecoverBy, and the day is final when every
// occurrence is met or past its RecoverBy. Results of other dates or SLOs
// must not be passed.
func DayOf(sloName string, date kant.Date, results []kant.Result, now time.Time) kant.Day {
	day := kant.Day{
		SLO:         sloName,
		Date:        date,
		Occurrences: len(results),
		SLAMet:      true,
		Final:       true,
		EvaluatedAt: now.UTC(),
	}
	for k := range results {
		res := &results[k]
		switch res.Verdict {
		case kant.VerdictMet:
			day.Met++
			continue
		case kant.VerdictLate:
			day.Late++
		case kant.VerdictMissed:
			day.Missed++
		case kant.VerdictPending:
			day.Pending++
		}
		if !res.Recovered() {
			day.SLAMet = false
		}
		if now.Before(res.RecoverBy) {
			day.Final = false
		}
	}
	day.SLOMet = day.Met == day.Occurrences
	return day
}

// judge sets the verdict of res from its folded runs. On entry, Reason is
// ReasonRunning when an attributed run is active.
func judge(res *kant.Result, now time.Time) {
	activeRun := res.Reason == kant.ReasonRunning
	res.Reason = kant.ReasonNone
	switch {
	case !res.SucceededAt.IsZero():
		if res.SucceededAt.After(res.Deadline) {
			res.Verdict = kant.VerdictLate
			res.Lateness = res.SucceededAt.Sub(res.Deadline)
		} else {
			res.Verdict = kant.VerdictMet
		}
	case now.Before(res.Deadline):
		res.Verdict = kant.VerdictPending
	default:
		res.Verdict = kant.VerdictMissed
		switch {
		case activeRun:
			res.Reason = kant.ReasonRunning
		case res.Runs > 0:
			res.Reason = kant.ReasonFailed
		default:
			res.Reason = kant.ReasonNotStarted
		}
	}
}

// sortedJobs returns jobs sorted by key, each key once with its earliest
// Since (a zero Since, no limit, is the earliest).
func sortedJobs(jobs []Job) []Job {
	js := slices.Clone(jobs)
	slices.SortFunc(js, func(a, b Job) int {
		if c := strings.Compare(string(a.Key), string(b.Key)); c != 0 {
			return c
		}
		switch {
		case a.Since.IsZero() && !b.Since.IsZero():
			return -1
		case !a.Since.IsZero() && b.Since.IsZero():
			return 1
		}
		return a.Since.Compare(b.Since)
	})
	return slices.CompactFunc(js, func(a, b Job) bool { return a.Key == b.Key })
}
