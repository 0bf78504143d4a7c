package kant

import "time"

// SourceHealth is what kant knows of a source's polling: when it last
// succeeded, when it was last tried, and the last error.
type SourceHealth struct {
	Source              string    `json:"source"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastAttempt         time.Time `json:"last_attempt,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
}

// Alert is the record of one incident notification: what was sent, where,
// and its state, so that a restart neither repeats nor forgets it.
type Alert struct {
	ID        string    `json:"id"`   // dedup key, e.g. "missed/hegel-nightly/hegel/export/2026-06-01"
	Kind      string    `json:"kind"` // failed, missed, late, stale, budget, digest
	SLO       string    `json:"slo,omitempty"`
	Job       JobKey    `json:"job,omitempty"`
	Date      Date      `json:"date"`
	Status    string    `json:"status"`  // open, resolved
	Channel   string    `json:"channel"` // where it was (or will be) sent
	MessageTS string    `json:"message_ts,omitempty"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	SentAt    time.Time `json:"sent_at,omitzero"` // zero: not delivered yet
}
