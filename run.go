package kant

import (
	"time"
	"unicode/utf8"
)

// Run is one observation of a job run: what a source said about the run at
// ObservedAt. Observations are appended to the store only when the state or
// the times change; the newest observation of a run is its current state.
//
// A run is identified by (Job, RunID, Attempt): a retry with the same RunID
// and a higher Attempt is a separate run of the same occurrence.
type Run struct {
	Source  string `json:"source"`
	Job     JobKey `json:"job"`
	RunID   string `json:"run_id"`
	Attempt int    `json:"attempt"`
	// MaxAttempts is how many attempts the source allows in all (Glue
	// MaxRetries+1, Airflow max_tries+1); 0 when unknown. A failed attempt
	// below it is "retry pending", not a final failure.
	MaxAttempts  int               `json:"max_attempts,omitempty"`
	State        State             `json:"state"`
	SourceState  string            `json:"source_state,omitempty"`
	LogicalDate  Date              `json:"logical_date"`
	StartedAt    time.Time         `json:"started_at,omitzero"`
	FinishedAt   time.Time         `json:"finished_at,omitzero"`
	ErrorMessage string            `json:"error_message,omitempty"`
	ObservedAt   time.Time         `json:"observed_at"`
	Attributes   map[string]string `json:"attributes,omitempty"`
}

// Limits on run fields; longer values are rejected, not truncated, except the
// error message which is truncated to MaxErrorMessage bytes.
const (
	MaxIDLength     = 512
	MaxErrorMessage = 8 << 10
	MaxAttributes   = 64
)

// RunKey identifies a run: one attempt of one run of one job.
type RunKey struct {
	Job     JobKey
	RunID   string
	Attempt int
}

// Key returns the identity of r.
func (r Run) Key() RunKey { return RunKey{r.Job, r.RunID, r.Attempt} }

// Duration returns FinishedAt - StartedAt, or 0 when either is unknown.
func (r Run) Duration() time.Duration {
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// At returns the time used to attribute r to a scheduled occurrence when it
// carries no logical date: its start, else its end, else when it was observed.
func (r Run) At() time.Time {
	switch {
	case !r.StartedAt.IsZero():
		return r.StartedAt
	case !r.FinishedAt.IsZero():
		return r.FinishedAt
	}
	return r.ObservedAt
}

// SameObservation reports whether r and o say the same thing about the same
// run, ignoring when they were observed. Such a repeat is not stored twice.
func (r Run) SameObservation(o Run) bool {
	if r.Key() != o.Key() || r.Source != o.Source || r.State != o.State || r.MaxAttempts != o.MaxAttempts ||
		r.SourceState != o.SourceState || r.LogicalDate != o.LogicalDate ||
		!r.StartedAt.Equal(o.StartedAt) || !r.FinishedAt.Equal(o.FinishedAt) ||
		r.ErrorMessage != o.ErrorMessage || len(r.Attributes) != len(o.Attributes) {
		return false
	}
	for k, v := range r.Attributes {
		if ov, ok := o.Attributes[k]; !ok || ov != v {
			return false
		}
	}
	return true
}

// Validate checks r and returns an EINVALID error naming the first bad field
// (by its JSON name). It normalizes times to UTC and truncates an over-long
// error message.
func (r *Run) Validate() error {
	switch {
	case r.Source == "":
		return Errorf(EINVALID, "source: required")
	case len(r.Source) > MaxIDLength || !utf8.ValidString(r.Source):
		return Errorf(EINVALID, "source: longer than %d bytes or not UTF-8", MaxIDLength)
	case r.Job == "" || r.Job.Name() == "":
		return Errorf(EINVALID, "job: required")
	case !r.Job.Valid() || r.Job.Source() != r.Source:
		return Errorf(EINVALID, "job: key %q does not belong to source %q", r.Job, r.Source)
	case len(r.Job) > MaxIDLength || !utf8.ValidString(string(r.Job)):
		return Errorf(EINVALID, "job: longer than %d bytes or not UTF-8", MaxIDLength)
	case r.RunID == "":
		return Errorf(EINVALID, "run_id: required")
	case len(r.RunID) > MaxIDLength || !utf8.ValidString(r.RunID):
		return Errorf(EINVALID, "run_id: longer than %d bytes or not UTF-8", MaxIDLength)
	case r.State == "":
		return Errorf(EINVALID, "state: required")
	case !r.State.Valid():
		_, err := ParseState(string(r.State))
		return Errorf(EINVALID, "state: %s", ErrorMessage(err))
	case r.Attempt < 0:
		return Errorf(EINVALID, "attempt: must be 0 or more")
	case r.MaxAttempts < 0:
		return Errorf(EINVALID, "max_attempts: must be 0 or more")
	case !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() && r.FinishedAt.Before(r.StartedAt):
		return Errorf(EINVALID, "finished_at: before started_at")
	case len(r.Attributes) > MaxAttributes:
		return Errorf(EINVALID, "attributes: more than %d", MaxAttributes)
	case r.ObservedAt.IsZero():
		return Errorf(EINVALID, "observed_at: required")
	}
	if r.Attempt == 0 {
		r.Attempt = 1
	}
	r.ErrorMessage = Truncate(r.ErrorMessage, MaxErrorMessage)
	r.StartedAt = utc(r.StartedAt)
	r.FinishedAt = utc(r.FinishedAt)
	r.ObservedAt = utc(r.ObservedAt)
	return nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// AsOf returns what was known of r at time t, judged by its own timestamps:
// a run that finished after t was still running at t, and a run that started
// after t did not exist yet (ok is false). This lets verdicts be recomputed
// "as of" any moment from the same observations.
func (r Run) AsOf(t time.Time) (Run, bool) {
	if r.At().After(t) {
		return Run{}, false
	}
	if !r.FinishedAt.IsZero() && r.FinishedAt.After(t) {
		r.State = StateRunning
		r.FinishedAt = time.Time{}
		r.ErrorMessage = ""
	}
	return r, true
}

// RetryPending reports whether r failed but the source will retry it: its
// attempt is below the number of attempts the source allows.
func (r Run) RetryPending() bool {
	return r.State.Failed() && r.State != StateSkipped && r.MaxAttempts > r.Attempt
}

// Later reports whether r ran after o, the rule by which the latest of
// several runs of one occurrence is chosen everywhere (the gate's answer,
// alert decisions): by Run.At, then attempt, then which was observed last.
func (r *Run) Later(o *Run) bool {
	if !r.At().Equal(o.At()) {
		return r.At().After(o.At())
	}
	if r.Attempt != o.Attempt {
		return r.Attempt > o.Attempt
	}
	return r.ObservedAt.After(o.ObservedAt)
}
