package gate

import (
	"net/http"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Reasons a job gives in a gate answer.
const (
	ReasonSucceeded    = "succeeded"     // a run succeeded for the date
	ReasonRunning      = "running"       // a run is running
	ReasonQueued       = "queued"        // a run is queued
	ReasonRetryPending = "retry_pending" // the latest attempt failed and a retry is still to come
	ReasonNotStarted   = "not_started"   // no run seen for the date
	ReasonNotScheduled = "not_scheduled" // the job's SLO expects no run that date, and none came
	ReasonStale        = "stale"         // the source has not been heard from within its bound
	ReasonFailed       = "failed"        // the latest attempt failed with no retry to come
)

// JobAnswer is the state of one job for the asked date.
type JobAnswer struct {
	Job        kant.JobKey `json:"job"`
	State      *kant.State `json:"state"` // state of the deciding run; null without one
	Reason     string      `json:"reason"`
	RunID      string      `json:"run_id,omitempty"`
	Attempt    int         `json:"attempt,omitempty"`
	FinishedAt *time.Time  `json:"finished_at"`
	Error      string      `json:"error_message,omitempty"`
	// OpenedAt is when the job first answered open for the date (the
	// finish of the success that opened it), nil if it never did; it stays
	// when a newer run (a re-run, a backfill) changes the answer since.
	OpenedAt *time.Time `json:"opened_at,omitempty"`
	// ChangedSinceOpen says a newer run for the date came after the job
	// answered open; RerunAt is that run's start.
	ChangedSinceOpen bool       `json:"changed_since_open,omitempty"`
	RerunAt          *time.Time `json:"rerun_at,omitempty"`
}

// Answer is the gate's answer: open when every job succeeded for Date.
type Answer struct {
	Open      bool        `json:"open"`
	Date      kant.Date   `json:"date"`
	CheckedAt time.Time   `json:"checked_at"`
	Jobs      []JobAnswer `json:"jobs"`
}

// Status is the HTTP status of a: 200 open, 409 when a job failed for good
// (and its source is not stale), else 404 "not yet".
func (a Answer) Status() int {
	if a.Open {
		return http.StatusOK
	}
	for _, j := range a.Jobs {
		if j.Reason == ReasonFailed {
			return http.StatusConflict
		}
	}
	return http.StatusNotFound
}

// same reports whether a and b say the same thing, ignoring when they were
// checked; a long-poll answers when this changes.
func (a Answer) same(b Answer) bool {
	if a.Open != b.Open || a.Date != b.Date || len(a.Jobs) != len(b.Jobs) {
		return false
	}
	for i := range a.Jobs {
		x, y := a.Jobs[i], b.Jobs[i]
		if x.Job != y.Job || x.Reason != y.Reason || x.RunID != y.RunID || x.Attempt != y.Attempt ||
			x.ChangedSinceOpen != y.ChangedSinceOpen || (x.OpenedAt == nil) != (y.OpenedAt == nil) ||
			(x.State == nil) != (y.State == nil) || (x.State != nil && *x.State != *y.State) {
			return false
		}
	}
	return true
}

// Input is what Decide judges: the jobs asked about, each with its runs
// attributed to Date, and what is known of their sources' health.
type Input struct {
	Date kant.Date
	Jobs []JobInput
	// LastGood is each source's last sign of life: its last successful
	// poll, or for a push source its last new observation.
	LastGood map[string]time.Time
	// StaleAfter is each source's staleness bound; a source without one
	// (or with 0) is never stale.
	StaleAfter map[string]time.Duration
}

// JobInput is one job asked about.
type JobInput struct {
	Job kant.JobKey
	// Runs are the newest observations of the job's runs attributed to
	// the date; the latest of them (kant.Run.Later) decides.
	Runs []kant.Run
	// SLO, when set, is the SLO the runs were attributed under: with no
	// run, a date on which it schedules no occurrence of the job is
	// "not_scheduled" rather than "not_started". Neither opens.
	SLO *slo.Definition
}

// Decide is the gate's answer to in as of now, with no I/O and no state:
// open when every job's latest run for the date succeeded and no source is
// stale. Answer.Status gives its HTTP status: 200 open, 409 when a job
// failed for good (its latest attempt failed with no retry to come, and its
// source is not stale), else 404 "not yet". It never opens on doubt: a
// stale source, a missing run, or a question naming no job is not open.
// (400, a bad question, is decided before: by parsing the request.)
func Decide(in Input, now time.Time) Answer {
	a := Answer{Open: len(in.Jobs) > 0, Date: in.Date, CheckedAt: now.UTC(), Jobs: make([]JobAnswer, 0, len(in.Jobs))}
	for _, j := range in.Jobs {
		ja := decideJob(in, j, now)
		if ja.Reason != ReasonSucceeded {
			a.Open = false
		}
		a.Jobs = append(a.Jobs, ja)
	}
	return a
}

// decideJob judges one job: stale first (what was seen may be outdated),
// then by the job's latest run for the date, so that a success followed by a
// failed or running re-run is not open: the output is being rewritten or was
// left broken.
func decideJob(in Input, j JobInput, now time.Time) JobAnswer {
	ja := JobAnswer{Job: j.Job}
	if stale(in, j.Job.Source(), now) {
		ja.Reason = ReasonStale
		return ja
	}
	var latest *kant.Run
	for i := range j.Runs {
		if latest == nil || j.Runs[i].Later(latest) {
			latest = &j.Runs[i]
		}
	}
	if latest == nil {
		if j.SLO != nil && len(j.SLO.Occurrences(j.Job, in.Date, in.Date)) == 0 {
			ja.Reason = ReasonNotScheduled
		} else {
			ja.Reason = ReasonNotStarted
		}
		return ja
	}
	r := latest
	st := r.State
	ja.State, ja.RunID, ja.Attempt, ja.Error = &st, r.RunID, r.Attempt, r.ErrorMessage
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt.UTC()
		ja.FinishedAt = &t
	}
	setOpened(&ja, j.Runs, r)
	switch {
	case r.State == kant.StateSucceeded:
		ja.Reason = ReasonSucceeded
	case r.State == kant.StateQueued:
		ja.Reason = ReasonQueued
	case r.State.Active():
		ja.Reason = ReasonRunning
	case r.RetryPending():
		ja.Reason = ReasonRetryPending
	default:
		ja.Reason = ReasonFailed
	}
	return ja
}

// stale reports whether source has a staleness bound its last sign of life
// exceeds. A source with a bound that was never heard from is stale.
func stale(in Input, source string, now time.Time) bool {
	bound := in.StaleAfter[source]
	return bound > 0 && now.Sub(in.LastGood[source]) > bound
}

// answer computes the answer for jobs on date as of now from the index,
// attributing runs to dates under def (nil: each job's own SLO).
func (ix *Index) answer(keys []kant.JobKey, date kant.Date, now time.Time, def *slo.Definition) Answer {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.decideLocked(keys, date, now, def, func(j *job) []kant.Run { return j.runsOn(def, date, ix.cfg.Location) })
}

// decideLocked gathers Decide's input from the index, with the runs of each
// job on date given by runsOf, and decides; the caller holds ix.mu for
// reading.
func (ix *Index) decideLocked(keys []kant.JobKey, date kant.Date, now time.Time, def *slo.Definition, runsOf func(*job) []kant.Run) Answer {
	in := Input{Date: date, Jobs: make([]JobInput, len(keys)), LastGood: ix.lastGood, StaleAfter: ix.staleAfter}
	for i, k := range keys {
		in.Jobs[i] = JobInput{Job: k, SLO: def}
		if j := ix.jobs[k]; j != nil {
			in.Jobs[i].Runs = runsOf(j)
			if def == nil {
				in.Jobs[i].SLO = j.def
			}
		}
	}
	return Decide(in, now)
}

// nextStaleness returns the earliest time after now at which one of the
// sources of keys turns stale, or zero.
func (ix *Index) nextStaleness(keys []kant.JobKey, now time.Time) time.Time {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var next time.Time
	seen := map[string]bool{}
	for _, k := range keys {
		s := k.Source()
		if seen[s] {
			continue
		}
		seen[s] = true
		src, ok := ix.sources[s]
		if !ok || src.StaleAfter <= 0 {
			continue
		}
		// Stale once more than StaleAfter has passed: from the instant after.
		at := ix.lastGood[s].Add(src.StaleAfter).Add(time.Nanosecond)
		if at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// currentDate returns the business date of def's latest occurrence at or
// before now: the date a gate asks about when it names none.
func currentDate(def *slo.Definition, now time.Time) kant.Date {
	t := now
	for range 400 {
		tick, ok := def.Schedule.Prev(t, def.Location)
		if !ok {
			break
		}
		d := kant.DateOf(tick.In(def.Location))
		if def.Calendar.Workday(d) {
			return d
		}
		t = tick.Add(-time.Nanosecond)
	}
	return kant.DateOf(now.In(def.Location))
}
