package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/slo"
)

// hourly is an SLO whose job runs every hour, due 50 minutes after.
func hourly(t *testing.T) slo.Definition {
	sched, err := slo.ParseSchedule("0 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	return slo.Definition{Name: "hegel-hourly", Jobs: []string{"hegel/export"}, Schedule: sched, Location: time.UTC,
		Within: 50 * time.Minute, Target: 0.9, Owner: "@data-platform", Channel: "#data-alerts"}
}

// hourRun is the run of hour h (from t0): started at :05, done at :10.
func hourRun(h int, state kant.State) kant.Run {
	return run(export, "h"+time.Duration(h).String(), 1, 0, state, at(h, 5), at(h, 10), map[bool]string{true: "boom"}[state.Failed()])
}

func texts(calls []call, op, has string) []string {
	var out []string
	for _, c := range calls {
		if c.Op == op && strings.Contains(c.Text, has) {
			out = append(out, c.Text)
		}
	}
	return out
}

func TestAJobThatFlipsMoreThanFourTimesInADayIsOneFlappingNotice(t *testing.T) {
	w := newWorld(t, hourly(t))
	var calls []call
	// Failed at odd hours, succeeded at even ones: 01:05 to 08:05.
	for h := 1; h <= 8; h++ {
		w.observe(hourRun(h, map[bool]kant.State{true: kant.StateFailed, false: kant.StateSucceeded}[h%2 == 1]))
		calls = append(calls, w.tick(at(h, 11))...)
	}
	if got := texts(calls, "post", "failed for"); len(got) != 3 {
		t.Errorf("incidents posted %q, want the failures of 01:05, 03:05 and 05:05 only (up to 4 flips)", got)
	}
	flapping := texts(calls, "post", "is flapping")
	if len(flapping) != 1 || !strings.HasPrefix(flapping[0], "hegel/export is flapping: 5 changes between success and failure in the last 24h") {
		t.Errorf("flapping notices %q, want one, posted at the fifth flip", flapping)
	}
	if got := texts(calls, "update", "is flapping: 7 changes"); len(got) != 1 {
		t.Errorf("flapping updates %q, want the message updated to 7 changes, not posted again", got)
	}
	// Then it succeeds every hour: a day later it has stopped flapping.
	for h := 9; h <= 32; h++ {
		w.observe(hourRun(h, kant.StateSucceeded))
	}
	calls = w.tick(at(32, 11))
	stopped := texts(calls, "reply", "stopped flapping")
	if len(stopped) != 1 || !strings.HasPrefix(stopped[0], "hegel/export stopped flapping after 31h06m: 0 changes") {
		t.Errorf("calls %v, want the notice resolved in its thread", calls)
	}
	if got := texts(calls, "post", ""); len(got) != 0 {
		t.Errorf("posted %q after the flapping ended, want nothing: the failures it counted stay counted", got)
	}
}

func TestFlappingCanBeTunedOrTurnedOff(t *testing.T) {
	tests := []struct {
		name      string
		flapping  alert.Flapping
		incidents int // failures posted one by one
		notices   int
	}{
		{"a higher threshold posts each failure until it is passed", alert.Flapping{Flips: 6}, 4, 1},
		{"a shorter window counts only the flips within it", alert.Flapping{Window: 3 * time.Hour}, 4, 0},
		{"a negative threshold never folds failures", alert.Flapping{Flips: -1}, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, hourly(t))
			w.policy.Flapping = tt.flapping
			w.restart()
			var calls []call
			for h := 1; h <= 8; h++ {
				w.observe(hourRun(h, map[bool]kant.State{true: kant.StateFailed, false: kant.StateSucceeded}[h%2 == 1]))
				calls = append(calls, w.tick(at(h, 11))...)
			}
			if got := texts(calls, "post", "failed for"); len(got) != tt.incidents {
				t.Errorf("incidents posted %q, want %d", got, tt.incidents)
			}
			if got := texts(calls, "post", "is flapping"); len(got) != tt.notices {
				t.Errorf("flapping notices %q, want %d", got, tt.notices)
			}
		})
	}
}

func TestTurningFlappingOffResolvesANoticeStillOpen(t *testing.T) {
	w := newWorld(t, hourly(t))
	for h := 1; h <= 6; h++ {
		w.observe(hourRun(h, map[bool]kant.State{true: kant.StateFailed, false: kant.StateSucceeded}[h%2 == 1]))
		w.tick(at(h, 11))
	}
	w.policy.Flapping = alert.Flapping{Flips: -1}
	w.restart()
	calls := w.tick(at(6, 12))
	if got := texts(calls, "reply", "stopped flapping"); len(got) != 1 {
		t.Errorf("calls %v, want the open notice resolved in its thread", calls)
	}
}
