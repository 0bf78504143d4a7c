package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

// rerunWorld has hegel/export (SLO hegel-nightly, done at 02:00) upstream
// of socrates/load (SLO socrates-load), named by downstream.Upstream.
func rerunWorld(t *testing.T, upstream ...string) *world {
	down := def("socrates-load", "socrates/load")
	down.Channel = "#socrates"
	down.Upstream = upstream
	other := def("plato-report", "plato/*") // names nothing upstream
	w := newWorld(t, def("hegel-nightly", "hegel/*"), down, other)
	w.observe(run(export, "jr_1", 1, 0, kant.StateSucceeded, at(1, 0), at(2, 0), ""))
	return w
}

func TestAnUpstreamRerunAfterTheGateOpenedIsToldDownstream(t *testing.T) {
	tests := []struct {
		name     string
		upstream []string
	}{
		{"an SLO naming the upstream SLO is told in its channel", []string{"hegel-nightly"}},
		{"an SLO naming the upstream job by glob is told in its channel", []string{"hegel/*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := rerunWorld(t, tt.upstream...)
			w.observe(run("socrates/load", "s1", 1, 0, kant.StateSucceeded, at(2, 30), at(3, 0), ""))
			expectOps(t, "all done", w.tick(at(3, 1)), "")
			w.observe(run(export, "jr_2", 1, 0, kant.StateRunning, at(7, 10), time.Time{}, ""))
			calls := w.tick(at(7, 11))
			expectOps(t, "the re-run", calls, "post")
			want := "hegel/export re-ran for 2026-06-01 at 07:10 (run jr_2, attempt 1), after its gate opened at 02:00: socrates-load may have read it before"
			if len(calls) == 1 && (calls[0].Text != want || calls[0].Channel != "Csocrates") {
				t.Errorf("posted %v, want %q in #socrates", calls[0], want)
			}
			// The re-run finishing is no news; nor is a restart.
			w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(7, 10), at(8, 0), ""))
			expectOps(t, "the re-run done", w.tick(at(8, 1)), "")
			w.restart()
			expectOps(t, "after a restart", w.tick(at(8, 2)), "")
		})
	}
}

func TestAnUpstreamRerunIsToldInTheThreadOfTheDownstreamsOpenIncident(t *testing.T) {
	w := rerunWorld(t, "hegel-nightly")
	// socrates/load never ran: its own miss at 06:00 (its upstream was fine).
	expectOps(t, "the downstream miss", w.tick(at(6, 0)), "post")
	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(7, 10), at(7, 40), ""))
	calls := w.tick(at(7, 41))
	expectOps(t, "the re-run", calls, "update,reply")
	if len(calls) == 2 && !strings.HasPrefix(calls[1].Text, "hegel/export re-ran for 2026-06-01 at 07:10") {
		t.Errorf("replied %q, want the re-run", calls[1].Text)
	}
	a := w.alerts()
	if len(a) != 1 || !strings.HasPrefix(a[0].ID, "job/socrates-load/") {
		t.Errorf("alerts %+v, want only the downstream incident", a)
	}
	// Once the incident is resolved the re-run is not told again on its own.
	w.observe(run("socrates/load", "s1", 1, 0, kant.StateSucceeded, at(8, 0), at(8, 30), ""))
	calls = w.tick(at(8, 31))
	expectOps(t, "the downstream recovers late", calls, "update,reply")
	for _, c := range w.alerts() {
		if c.Kind == "rerun" {
			t.Errorf("a re-run alert of its own %+v, want none", c)
		}
	}
}

func TestWhatIsNotARerunAfterTheGateOpenedTellsNothing(t *testing.T) {
	tests := []struct {
		name string
		runs []kant.Run
	}{
		{"a retry after a failure, before the gate ever opened", []kant.Run{
			run("hegel/load", "r1", 1, 0, kant.StateFailed, at(1, 0), at(1, 30), "boom"),
			run("hegel/load", "r1", 2, 0, kant.StateSucceeded, at(1, 40), at(2, 10), "")}},
		{"a run of a job no SLO downstream names", []kant.Run{
			run("plato/report", "p1", 1, 0, kant.StateSucceeded, at(1, 0), at(1, 30), ""),
			run("plato/report", "p2", 1, 0, kant.StateSucceeded, at(4, 0), at(4, 30), "")}},
		{"a second run started before the first success finished", []kant.Run{
			run("hegel/load", "r1", 1, 0, kant.StateSucceeded, at(1, 0), at(2, 0), ""),
			run("hegel/load", "r2", 1, 0, kant.StateSucceeded, at(1, 50), at(2, 20), "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := rerunWorld(t, "hegel-nightly")
			w.observe(run("socrates/load", "s1", 1, 0, kant.StateSucceeded, at(2, 30), at(3, 0), ""))
			w.observe(tt.runs...)
			expectOps(t, "the runs", w.tick(at(5, 0)), "")
		})
	}
}
