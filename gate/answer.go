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
			(x.State == nil) != (y.State == nil) || (x.State != nil && *x.State != *y.State) {
			return false
		}
	}
	return true
}

// answer computes the answer for jobs on date as of now from the index,
// attributing runs to dates under def (nil: each job's own SLO).
func (ix *Index) answer(keys []kant.JobKey, date kant.Date, now time.Time, def *slo.Definition) Answer {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.answerLocked(keys, date, now, def, func(j *job) []kant.Run { return j.runsOn(def, date, ix.cfg.Location) })
}

// answerLocked computes the answer with the runs of each job on date given
// by runsOf; the caller holds ix.mu for reading.
func (ix *Index) answerLocked(keys []kant.JobKey, date kant.Date, now time.Time, def *slo.Definition, runsOf func(*job) []kant.Run) Answer {
	a := Answer{Open: true, Date: date, CheckedAt: now.UTC(), Jobs: make([]JobAnswer, 0, len(keys))}
	for _, k := range keys {
		ja := ix.jobAnswer(k, date, now, def, runsOf)
		if ja.Reason != ReasonSucceeded {
			a.Open = false
		}
		a.Jobs = append(a.Jobs, ja)
	}
	return a
}

// jobAnswer judges one job: stale first (what was seen may be outdated),
// then by the job's latest run for the date, so that a success followed by a
// failed or running re-run is not open: the output is being rewritten or was
// left broken.
func (ix *Index) jobAnswer(key kant.JobKey, date kant.Date, now time.Time, def *slo.Definition, runsOf func(*job) []kant.Run) JobAnswer {
	ja := JobAnswer{Job: key}
	if ix.stale(key.Source(), now) {
		ja.Reason = ReasonStale
		return ja
	}
	j := ix.jobs[key]
	var latest *kant.Run
	if j != nil {
		runs := runsOf(j)
		for i := range runs {
			if latest == nil || runs[i].Later(latest) {
				latest = &runs[i]
			}
		}
	}
	if latest == nil {
		if def == nil && j != nil {
			def = j.def
		}
		if def != nil && len(def.Occurrences(key, date, date)) == 0 {
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

// stale reports whether source has a staleness bound its last good poll
// exceeds. A source that was never heard from is stale.
func (ix *Index) stale(source string, now time.Time) bool {
	src, ok := ix.sources[source]
	if !ok || src.StaleAfter <= 0 {
		return false
	}
	return now.Sub(ix.lastGood[source]) > src.StaleAfter
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
