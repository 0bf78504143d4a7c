package alert_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/slo"
)

// The engine reads only the verdicts that can decide something (those not
// met, those of jobs with incidents, yesterday's when the digest is due):
// at every step of a day and the next morning, Decide on that decides
// exactly what it decides on every verdict of the window.
func TestTheVerdictsTheEngineReadsDecideWhatAllTheVerdictsDecide(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/export", "hegel/load", "hegel/never"))
	w.policy.Digest = &slo.Clock{Hour: 9}
	w.restart()
	ctx := context.Background()
	steps := []struct {
		name string
		runs []kant.Run
		now  time.Time
		// fewer: the engine reads fewer verdicts than there are (the
		// digest reads all of yesterday's)
		fewer bool
	}{
		{"export fails, load succeeds", []kant.Run{
			run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"),
			run("hegel/load", "jl_1", 1, 0, kant.StateSucceeded, at(1, 0), at(2, 0), ""),
		}, at(2, 1), true},
		{"export recovers in time: met, its incident resolves", []kant.Run{
			run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(4, 15), ""),
		}, at(4, 16), true},
		{"the deadline passes for the job that never started", nil, at(6, 1), true},
		{"the next morning, at the digest's time", []kant.Run{
			run(export, "jr_3", 1, 0, kant.StateSucceeded, at(24+1, 0), at(24+2, 0), ""),
		}, at(24+9, 30), false},
	}
	for _, s := range steps {
		w.observe(s.runs...)
		w.evaluate(s.now)
		in, err := w.engine.ReadInput(ctx, s.now)
		if err != nil {
			t.Fatal(err)
		}
		today := kant.DateOf(s.now)
		all := in
		if all.Results, err = w.db.Results(ctx, kant.ResultFilter{From: today.AddDays(-7), To: today.AddDays(1)}); err != nil {
			t.Fatal(err)
		}
		if s.fewer && len(in.Results) >= len(all.Results) {
			t.Errorf("%s: the engine read %d verdicts of %d, want fewer", s.name, len(in.Results), len(all.Results))
		}
		got, want := alert.Decide(w.policy, in, s.now), alert.Decide(w.policy, all, s.now)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: from what the engine read Decide decides\n%+v\nfrom every verdict\n%+v", s.name, got, want)
		}
		if len(want) == 0 {
			t.Errorf("%s: nothing decided: the step shows nothing", s.name)
		}
		if err := w.engine.Tick(ctx, s.now); err != nil {
			t.Fatal(err)
		}
		w.n.take()
	}
}

// With the store's log the engine keeps the window's runs from one tick to
// the next; at every step they are the runs an engine reading the store
// every tick reads, in the same order, and Decide decides the same on
// them: runs stored, a newer observation of a run and an older one
// stored after it, more runs at once than are inserted one by one, more
// observations than the runs kept (read again), a run
// dated after the window, the window moving on two days, a run moved to
// a date before the window, and the clock stepping back.
func TestTheRunsKeptByTheLogAreTheRunsTheStoreReturns(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	ctx := context.Background()
	reading, err := alert.New(alert.Config{Reader: w.db, Store: w.db, Notifier: alert.NewLogNotifier(nil), Policy: w.policy})
	if err != nil {
		t.Fatal(err)
	}
	dated := func(r kant.Run, d kant.Date) kant.Run { r.LogicalDate = d; return r }
	today := kant.DateOf(t0)
	many := func(day int, n int) []kant.Run {
		var out []kant.Run
		for i := range n {
			out = append(out, run(kant.JobKey(fmt.Sprintf("hegel/job_%02d", i%100)), fmt.Sprintf("jr_%d_%d", day, i), 1, 0,
				kant.StateSucceeded, at(24*day+1, i%60), at(24*day+2, i%60), ""))
		}
		return out
	}
	steps := []struct {
		name string
		runs []kant.Run
		now  time.Time
	}{
		{"runs of today, dated and not", []kant.Run{
			run(export, "jr_1", 1, 2, kant.StateFailed, at(1, 0), at(1, 30), "boom"),
			dated(run("hegel/load", "jl_1", 1, 0, kant.StateRunning, at(1, 0), time.Time{}, ""), today),
			dated(run("hegel/late", "jx_1", 1, 0, kant.StateSucceeded, at(-30, 0), at(-29, 0), ""), today.AddDays(-1)),
		}, at(2, 0)},
		{"a newer observation of a run, a second attempt", []kant.Run{
			dated(run("hegel/load", "jl_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 10), "oom"), today),
			run(export, "jr_1", 2, 2, kant.StateSucceeded, at(2, 0), at(2, 20), ""),
		}, at(2, 30)},
		{"an older observation stored after a newer one", []kant.Run{
			// Observed at 01:05, between the two stored: a new observation
			// (its source's state differs), older than the newest.
			func() kant.Run {
				r := dated(run("hegel/load", "jl_1", 1, 0, kant.StateRunning, at(1, 5), time.Time{}, ""), today)
				r.StartedAt, r.SourceState = at(1, 0), "RUNNING"
				return r
			}(),
		}, at(2, 40)},
		{"more runs at once than are inserted one by one", many(0, 50), at(3, 0)},
		{"more observations at once than the runs kept: the window read again", many(1, 6000), at(24+3, 0)},
		{"a run dated after the window's end", []kant.Run{
			dated(run("hegel/ahead", "ja_1", 1, 0, kant.StateSucceeded, at(3, 0), at(3, 5), ""), today.AddDays(3)),
		}, at(3, 10)},
		{"the window moves on: the ahead run enters", many(2, 3), at(2*24+3, 0)},
		{"the window moves on by the lookback: the first day's runs leave", many(8, 40), at(8*24+3, 0)},
		{"a run moved to a date before the window", []kant.Run{
			dated(run("hegel/job_01", "jr_8_1", 1, 0, kant.StateSucceeded, at(8*24+1, 1), at(8*24+4, 0), ""), today),
		}, at(8*24+5, 0)},
		{"the clock steps back a day", nil, at(7*24+5, 0)},
	}
	for _, s := range steps {
		w.observe(s.runs...)
		w.evaluate(s.now)
		kept, err := w.engine.ReadInput(ctx, s.now)
		if err != nil {
			t.Fatal(err)
		}
		read, err := reading.ReadInput(ctx, s.now)
		if err != nil {
			t.Fatal(err)
		}
		if len(read.Runs) == 0 {
			t.Fatalf("%s: the store returns no run: the step shows nothing", s.name)
		}
		if !reflect.DeepEqual(kept.Runs, read.Runs) {
			t.Errorf("%s: the engine keeps %d runs\n%v\nthe store returns %d\n%v", s.name, len(kept.Runs), keys(kept.Runs),
				len(read.Runs), keys(read.Runs))
		}
		if got, want := alert.Decide(w.policy, kept, s.now), alert.Decide(w.policy, read, s.now); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: on the runs kept Decide decides\n%+v\non the runs read\n%+v", s.name, got, want)
		}
	}
}

func keys(runs []kant.Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, fmt.Sprintf("%s/%s/%d:%s@%s", r.Job, r.RunID, r.Attempt, r.State, r.ObservedAt.Format("01-02T15:04")))
	}
	return out
}
