package backend_test

import (
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// TestTheObservationHashNeverChanges pins the encoding: stored rows carry
// the hash, so a change would store every observation again.
func TestTheObservationHashNeverChanges(t *testing.T) {
	tests := []struct {
		name string
		run  kant.Run
		keys []string
		want int64
	}{
		{"a failed attempt with every field set",
			kant.Run{Source: "hegel", Job: "hegel/export_users", RunID: "jr_1", Attempt: 2, MaxAttempts: 3, State: kant.StateFailed,
				SourceState: "FAILED", LogicalDate: kant.Date{Year: 2026, Month: 6, Day: 1},
				StartedAt: time.Date(2026, 6, 1, 1, 0, 0, 123456789, time.UTC), FinishedAt: time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC),
				ErrorMessage: "OutOfMemoryError", Attributes: map[string]string{"b": "2", "a": "1"}},
			[]string{"a", "b"}, 3824101948634858486},
		{"a running run with only the required fields",
			kant.Run{Source: "onprem", Job: "onprem/x", RunID: "r", Attempt: 1, State: kant.StateRunning},
			nil, -5719953787312056086},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := backend.ObservationHash(nil, &tt.run, tt.keys)
			if got != tt.want {
				t.Errorf("hash %d, want %d", got, tt.want)
			}
			observed := tt.run
			observed.ObservedAt = time.Now()
			if again, _ := backend.ObservationHash(make([]byte, 0, 64), &observed, tt.keys); again != got {
				t.Errorf("the time of observation changed the hash")
			}
		})
	}
}
