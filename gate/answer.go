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

// answer computes the answer for jobs on date as of now from the index.
func (ix *Index) answer(keys []kant.JobKey, date kant.Date, now time.Time) Answer {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.answerLocked(keys, date, now, func(j *job) []kant.Run { return j.dates[date] })
}

// answerLocked computes the answer with the runs of each job on date given
// by runsOf; the caller holds ix.mu for reading.
func (ix *Index) answerLocked(keys []kant.JobKey, date kant.Date, now time.Time, runsOf func(*job) []kant.Run) Answer {
	a := Answer{Open: true, Date: date, CheckedAt: now.UTC(), Jobs: make([]JobAnswer, 0, len(keys))}
	for _, k := range keys {
		ja := ix.jobAnswer(k, date, now, runsOf)
		if ja.Reason != ReasonSucceeded {
			a.Open = false
		}
		a.Jobs = append(a.Jobs, ja)
	}
	return a
}

// jobAnswer judges one job. The order matters: staleness first (what we saw
// may be outdated), then a success, then activity, then failure.
func (ix *Index) jobAnswer(key kant.JobKey, date kant.Date, now time.Time, runsOf func(*job) []kant.Run) JobAnswer {
	ja := JobAnswer{Job: key}
	if ix.stale(key.Source(), now) {
		ja.Reason = ReasonStale
		return ja
	}
	j := ix.jobs[key]
	var runs []kant.Run
	if j != nil {
		runs = runsOf(j)
	}
	var success, active, failed *kant.Run
	for i := range runs {
		r := &runs[i]
		switch {
		case r.State == kant.StateSucceeded:
			if success == nil || r.FinishedAt.Before(success.FinishedAt) {
				success = r
			}
		case r.State.Active():
			if active == nil || r.Attempt > active.Attempt {
				active = r
			}
		case r.State.Failed():
			if failed == nil || later(r, failed) {
				failed = r
			}
		}
	}
	pick := func(r *kant.Run, reason string) JobAnswer {
		st := r.State
		ja.State, ja.Reason, ja.RunID, ja.Attempt = &st, reason, r.RunID, r.Attempt
		if !r.FinishedAt.IsZero() {
			t := r.FinishedAt.UTC()
			ja.FinishedAt = &t
		}
		ja.Error = r.ErrorMessage
		return ja
	}
	switch {
	case success != nil:
		return pick(success, ReasonSucceeded)
	case active != nil && active.State == kant.StateQueued:
		return pick(active, ReasonQueued)
	case active != nil:
		return pick(active, ReasonRunning)
	case failed != nil && failed.RetryPending():
		return pick(failed, ReasonRetryPending)
	case failed != nil:
		return pick(failed, ReasonFailed)
	}
	if j != nil && j.def != nil && len(j.def.Occurrences(key, date, date)) == 0 {
		ja.Reason = ReasonNotScheduled
		return ja
	}
	ja.Reason = ReasonNotStarted
	return ja
}

// later reports whether r is a later attempt than o.
func later(r, o *kant.Run) bool {
	if r.Attempt != o.Attempt {
		return r.Attempt > o.Attempt
	}
	return r.At().After(o.At())
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
		at := ix.lastGood[s].Add(src.StaleAfter)
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
