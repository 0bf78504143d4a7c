package kant

import "time"

// Verdict is the judgement of one occurrence against its deadline.
type Verdict string

// The verdicts.
const (
	// VerdictPending: the deadline has not passed and there is no success yet.
	VerdictPending Verdict = "pending"
	// VerdictMet: the first success came at or before the deadline.
	VerdictMet Verdict = "met"
	// VerdictLate: the first success came after the deadline.
	VerdictLate Verdict = "late"
	// VerdictMissed: the deadline passed with no success (see Reason).
	VerdictMissed Verdict = "missed"
)

// Reason explains a missed verdict, or marks a pending one at risk.
type Reason string

// The reasons for a missed verdict, and the mark of a pending one at risk.
const (
	ReasonNone       Reason = ""
	ReasonFailed     Reason = "failed"      // the latest attempt ended without success
	ReasonNotStarted Reason = "not_started" // no run was seen for the occurrence
	ReasonRunning    Reason = "running"     // a run was still queued or running
	// ReasonAtRisk marks a pending occurrence that its job's recent
	// durations say will miss its deadline: not started by the deadline
	// minus the expected duration, or running since a start that the
	// expected duration carries past the deadline (see slo.AtRisk).
	ReasonAtRisk Reason = "at_risk"
)

// Occurrence is one scheduled tick of a job under an SLO: the job was expected
// to start at ExpectedAt and to have succeeded by Deadline. Date is the tick's
// local date in the SLO's time zone, the business date used by every API.
type Occurrence struct {
	SLO        string    `json:"slo"`
	Job        JobKey    `json:"job"`
	Date       Date      `json:"date"`
	ExpectedAt time.Time `json:"expected_at"`
	Deadline   time.Time `json:"deadline"`
	RecoverBy  time.Time `json:"recover_by"`
}

// Result is the verdict on one occurrence, as evaluated at EvaluatedAt.
type Result struct {
	Occurrence
	Verdict     Verdict   `json:"verdict"`
	Reason      Reason    `json:"reason"`
	SucceededAt time.Time `json:"succeeded_at,omitzero"`
	// Lateness is how long after the deadline the success came (late only;
	// zero otherwise).
	Lateness    time.Duration `json:"-"`
	Runs        int           `json:"runs"`
	EvaluatedAt time.Time     `json:"evaluated_at"`
}

// AtRisk reports whether r is pending and marked at risk of missing its
// deadline.
func (r Result) AtRisk() bool { return r.Verdict == VerdictPending && r.Reason == ReasonAtRisk }

// Final reports whether the result can no longer change: a success was seen
// (met or late). Missed occurrences can still become late.
func (r Result) Final() bool { return r.Verdict == VerdictMet || r.Verdict == VerdictLate }

// Recovered reports whether the occurrence succeeded by its RecoverBy time.
func (r Result) Recovered() bool {
	return !r.SucceededAt.IsZero() && !r.SucceededAt.After(r.RecoverBy)
}

// Day summarizes one SLO on one business date: its occurrences' verdicts, and
// whether the day met the SLO (every occurrence met) and the SLA (every
// occurrence that was not met succeeded by its recover-by time).
//
// A day is Final when nothing can change it any more: every occurrence is met,
// or the recover-by time of every occurrence has passed. Attainment counts
// only final days.
type Day struct {
	SLO         string    `json:"slo"`
	Date        Date      `json:"date"`
	Occurrences int       `json:"occurrences"`
	Met         int       `json:"met"`
	Late        int       `json:"late"`
	Missed      int       `json:"missed"`
	Pending     int       `json:"pending"`
	SLOMet      bool      `json:"slo_met"`
	SLAMet      bool      `json:"sla_met"`
	Final       bool      `json:"final"`
	EvaluatedAt time.Time `json:"evaluated_at"`
}

// Attainment summarizes an SLO over a window of days.
type Attainment struct {
	SLO        string  `json:"slo"`
	Days       int     `json:"days"`
	SLODaysMet int     `json:"slo_days_met"`
	SLADaysMet int     `json:"sla_days_met"`
	Attainment float64 `json:"attainment"`
	SLAAttain  float64 `json:"sla_attainment"`
	Target     float64 `json:"target"`
	// ErrorBudgetLeft is in days: Days*(1-Target) minus the days that missed.
	ErrorBudgetLeft float64 `json:"error_budget_left"`
	// PendingDays are days not yet final, not counted above.
	PendingDays int `json:"pending_days"`
}
