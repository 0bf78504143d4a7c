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
