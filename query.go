package kant

import "time"

// The vocabulary of reading what is stored: the filters every store
// backend takes, the evaluation an evaluator writes, and what is known of a
// job. Consumers (the gate, the evaluator, the API, the status page) declare
// the small store interfaces they need in these terms, so none of them
// imports a backend or the store contract.

// RunFilter selects runs. A run matches when its job matches one of Jobs
// (globs, see Match; all jobs when empty) and it falls in the window:
// its logical date is within [DateFrom, DateTo], or it has no logical date
// and Run.At() is within [From, To). Zero bounds are open, so a filter with
// only dates still matches every run without a logical date, and one with
// only times every run with a date. ObservedFrom, when set, keeps only runs
// whose newest observation was observed at or after it (what changed since).
// Limit caps the result (0: no cap).
type RunFilter struct {
	Jobs             []string
	From, To         time.Time
	DateFrom, DateTo Date
	ObservedFrom     time.Time
	Limit            int
}

// JobInfo describes a job seen in the store.
type JobInfo struct {
	Key JobKey
	// FirstAt is the earliest Run.At() of any observation of the job.
	FirstAt time.Time
	// FirstDate is the earliest logical date of any observation (zero if
	// none carried one).
	FirstDate Date
}

// Evaluation is the outcome of evaluating one SLO over [From, To].
type Evaluation struct {
	SLO      string
	From, To Date
	// Jobs, when not empty, limits the replacement to these jobs' results;
	// the days in the range are still replaced (they summarize all jobs).
	Jobs    []JobKey
	Results []Result
	Days    []Day
}

// ResultFilter selects results or days: one SLO (all when empty) over the
// dates [From, To] (open when zero), and for results optionally some jobs
// (globs, see Match).
type ResultFilter struct {
	SLO      string
	Jobs     []string
	From, To Date
	// Unmet keeps only the results whose verdict is not met (Days ignore
	// it): what the alert engine decides on, a tenth of the verdicts or
	// less.
	Unmet bool
}

// AlertFilter selects alerts: only those with Status "open" when OpenOnly,
// and only those updated at or after UpdatedFrom when it is not zero.
type AlertFilter struct {
	OpenOnly    bool
	UpdatedFrom time.Time
}
