package alert_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/slo"
)

func atRisk(sloName string, job kant.JobKey) kant.Result {
	return result(sloName, job, kant.VerdictPending, kant.ReasonAtRisk)
}

func TestDecideAtRisk(t *testing.T) {
	nightly := def("hegel-nightly", "hegel/*")
	load := def("socrates-load", "socrates/*")
	load.Upstream = []string{"hegel/export"}
	p := alert.Policy{SLOs: []slo.Definition{nightly, load}, Channel: "#kant"}
	const loadJob kant.JobKey = "socrates/load"
	first := alert.Decide(p, alert.Input{Results: []kant.Result{atRisk("hegel-nightly", export)}}, at(4, 0))
	warning := func() kant.Alert {
		if len(first) != 1 {
			t.Fatalf("the at-risk decision: %+v, want one change", first)
		}
		return first[0].Alert
	}
	failedRun := run(export, "jr_1", 1, 2, kant.StateFailed, at(1, 0), at(2, 0), "boom")
	retry := run(export, "jr_1", 2, 2, kant.StateRunning, at(4, 30), time.Time{}, "")

	tests := []struct {
		name   string
		in     func() alert.Input
		now    time.Time
		action alert.Action
		kind   string
		status string
		text   string // the headline contains it
		note   string // the last note contains it; "" for no note
		none   bool   // no change at all
	}{
		{
			name:   "an occurrence at risk with no incident opens one at-risk warning",
			in:     func() alert.Input { return alert.Input{Results: []kant.Result{atRisk("hegel-nightly", export)}} },
			now:    at(4, 0),
			action: alert.Open, kind: alert.KindAtRisk, status: kant.AlertOpen,
			text: "hegel/export is at risk of missing its deadline 2026-06-01 06:00 UTC for 2026-06-01: it has not started",
		},
		{
			name: "a warning still at risk is not repeated",
			in: func() alert.Input {
				return alert.Input{Results: []kant.Result{atRisk("hegel-nightly", export)}, Alerts: []kant.Alert{warning()}}
			},
			now:  at(4, 30),
			none: true,
		},
		{
			name: "a warned job that starts says so in the thread of the same warning",
			in: func() alert.Input {
				return alert.Input{Results: []kant.Result{atRisk("hegel-nightly", export)}, Alerts: []kant.Alert{warning()},
					Runs: []kant.Run{run(export, "jr_1", 1, 1, kant.StateRunning, at(4, 30), time.Time{}, "")}}
			},
			now:    at(4, 31),
			action: alert.Update, kind: alert.KindAtRisk, status: kant.AlertOpen,
			text: "running since 2026-06-01 04:30 UTC", note: "running since",
		},
		{
			name: "a warned occurrence that then misses becomes the missed incident, the same alert",
			in: func() alert.Input {
				return alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictMissed, kant.ReasonNotStarted)},
					Alerts: []kant.Alert{warning()}}
			},
			now:    at(6, 1),
			action: alert.Update, kind: alert.KindMissed, status: kant.AlertOpen,
			text: "hegel/export missed its deadline", note: "missed its deadline",
		},
		{
			name: "a warned occurrence that then meets its deadline is resolved with a note",
			in: func() alert.Input {
				met := result("hegel-nightly", export, kant.VerdictMet, "")
				met.SucceededAt = at(5, 50)
				return alert.Input{Results: []kant.Result{met}, Alerts: []kant.Alert{warning()}}
			},
			now:    at(5, 51),
			action: alert.Resolve, kind: alert.KindAtRisk, status: kant.AlertResolved,
			text: "hegel/export met its deadline for 2026-06-01 after all: succeeded at 2026-06-01 05:50 UTC", note: "met its deadline",
		},
		{
			name: "a warned occurrence that succeeds late is resolved as late",
			in: func() alert.Input {
				late := result("hegel-nightly", export, kant.VerdictLate, "")
				late.SucceededAt, late.Lateness = at(6, 30), 30*time.Minute
				return alert.Input{Results: []kant.Result{late}, Alerts: []kant.Alert{warning()}}
			},
			now:    at(6, 31),
			action: alert.Resolve, kind: alert.KindLate, status: kant.AlertResolved,
			text: "succeeded late", note: "succeeded late",
		},
		{
			name: "a failure being retried that is at risk gets a thread reply in its incident, not a new alert",
			in: func() alert.Input {
				failed := alert.Decide(p, alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictPending, "")},
					Runs: []kant.Run{run(export, "jr_1", 1, 1, kant.StateFailed, at(1, 0), at(2, 0), "boom")}}, at(2, 1))
				if len(failed) != 1 {
					t.Fatalf("failure: %+v", failed)
				}
				return alert.Input{Results: []kant.Result{atRisk("hegel-nightly", export)}, Alerts: []kant.Alert{failed[0].Alert},
					Runs: []kant.Run{failedRun, retry}}
			},
			now:    at(4, 31),
			action: alert.Update, kind: alert.KindFailed, status: kant.AlertOpen,
			text: "is being retried", note: "At risk: likely to miss the deadline",
		},
		{
			name: "a failure for good that is at risk says nothing more: its incident already says it failed",
			in: func() alert.Input {
				runs := []kant.Run{run(export, "jr_1", 1, 1, kant.StateFailed, at(1, 0), at(2, 0), "boom")}
				failed := alert.Decide(p, alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictPending, "")},
					Runs: runs}, at(2, 1))
				if len(failed) != 1 {
					t.Fatalf("failure: %+v", failed)
				}
				return alert.Input{Results: []kant.Result{atRisk("hegel-nightly", export)}, Alerts: []kant.Alert{failed[0].Alert}, Runs: runs}
			},
			now:  at(5, 0),
			none: true,
		},
		{
			name: "a downstream at risk while its upstream has an incident gets no warning of its own",
			in: func() alert.Input {
				return alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictPending, ""), atRisk("socrates-load", loadJob)},
					Runs: []kant.Run{run(export, "jr_1", 1, 1, kant.StateFailed, at(1, 0), at(2, 0), "boom")}}
			},
			now:    at(4, 0),
			action: alert.Open, kind: alert.KindFailed, status: kant.AlertOpen,
			text: "hegel/export failed",
		},
		{
			name:   "a downstream at risk without upstream trouble is warned",
			in:     func() alert.Input { return alert.Input{Results: []kant.Result{atRisk("socrates-load", loadJob)}} },
			now:    at(4, 0),
			action: alert.Open, kind: alert.KindAtRisk, status: kant.AlertOpen,
			text: "socrates/load is at risk",
		},
		{
			name: "a pending occurrence not at risk says nothing",
			in: func() alert.Input {
				return alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictPending, "")}}
			},
			now:  at(4, 0),
			none: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes := alert.Decide(p, tt.in(), tt.now)
			if tt.none {
				if len(changes) != 0 {
					t.Errorf("changes %+v, want none", changes)
				}
				return
			}
			if len(changes) != 1 {
				t.Fatalf("%d changes, want 1: %+v", len(changes), changes)
			}
			c := changes[0]
			if c.Action != tt.action || c.Alert.Kind != tt.kind || c.Alert.Status != tt.status || !strings.Contains(c.Alert.Text, tt.text) {
				t.Errorf("change %s %s %s %q, want %s %s %s containing %q", c.Action, c.Alert.Kind, c.Alert.Status, c.Alert.Text,
					tt.action, tt.kind, tt.status, tt.text)
			}
			if tt.action != alert.Open && tt.kind != alert.KindFailed && c.Alert.ID != warning().ID {
				t.Errorf("alert %s, want the warning's %s", c.Alert.ID, warning().ID)
			}
			notes := c.Alert.Notes
			switch {
			case tt.note == "" && len(notes) > 0:
				t.Errorf("notes %q, want none", notes)
			case tt.note != "" && (len(notes) == 0 || !strings.Contains(notes[len(notes)-1], tt.note)):
				t.Errorf("notes %q, want the last to contain %q", notes, tt.note)
			}
		})
	}
}

// tickAtRisk is world.tick with the pending results marked at risk from
// expected, as the evaluator marks them.
func (w *world) tickAtRisk(now time.Time, expected map[kant.JobKey]time.Duration) []call {
	w.t.Helper()
	w.evaluate(now)
	ctx := context.Background()
	for _, d := range w.policy.SLOs {
		results, err := w.db.Results(ctx, kant.ResultFilter{SLO: d.Name})
		if err != nil {
			w.t.Fatal(err)
		}
		runs, err := w.db.LatestRuns(ctx, kant.RunFilter{Jobs: d.Jobs})
		if err != nil {
			w.t.Fatal(err)
		}
		slo.MarkAtRisk(d, results, runs, expected, now)
		days, err := w.db.Days(ctx, kant.ResultFilter{SLO: d.Name})
		if err != nil {
			w.t.Fatal(err)
		}
		from, to := kant.DateOf(t0), kant.DateOf(now)
		if err := w.db.WriteEvaluation(ctx, kant.Evaluation{SLO: d.Name, From: from, To: to, Results: results, Days: days}); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.engine.Tick(ctx, now); err != nil {
		w.t.Fatal(err)
	}
	return w.n.take()
}

func TestAnAtRiskWarningIsPostedOnceBeforeTheDeadlineAndTheMissUpdatesTheSameMessage(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/export"))
	expected := map[kant.JobKey]time.Duration{export: 2 * time.Hour} // at risk from 04:00
	expectOps(t, "at 03:59", w.tickAtRisk(at(3, 59), expected), "")
	calls := w.tickAtRisk(at(4, 0), expected)
	expectOps(t, "at 04:00", calls, "post")
	if len(calls) == 1 && !strings.Contains(calls[0].Text, "at risk") {
		t.Errorf("post %q, want an at-risk warning", calls[0].Text)
	}
	expectOps(t, "at 05:00", w.tickAtRisk(at(5, 0), expected), "")
	calls = w.tickAtRisk(at(6, 1), expected)
	expectOps(t, "after the deadline", calls, "update,reply")
	if len(calls) == 2 && (calls[0].TS != "1000.000001" || !strings.Contains(calls[0].Text, "missed its deadline")) {
		t.Errorf("calls %v, want the at-risk message updated to the miss", calls)
	}
	if a := w.alerts(); len(a) != 1 || a[0].Kind != alert.KindMissed {
		t.Errorf("alerts %+v, want one missed incident", a)
	}
}

func TestAnAtRiskWarningThatMeetsItsDeadlineIsResolved(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/export"))
	expected := map[kant.JobKey]time.Duration{export: 2 * time.Hour}
	expectOps(t, "at 04:00", w.tickAtRisk(at(4, 0), expected), "post")
	w.observe(run(export, "jr_1", 1, 1, kant.StateRunning, at(4, 5), time.Time{}, ""))
	expectOps(t, "the job starts", w.tickAtRisk(at(4, 6), expected), "update,reply")
	w.observe(run(export, "jr_1", 1, 1, kant.StateSucceeded, at(4, 5), at(5, 50), ""))
	calls := w.tickAtRisk(at(5, 51), expected)
	expectOps(t, "the job succeeds in time", calls, "update,reply")
	if a := w.alerts(); len(a) != 1 || a[0].Status != kant.AlertResolved || !strings.Contains(a[0].Text, "met its deadline") {
		t.Errorf("alerts %+v, want the warning resolved as met", a)
	}
}
