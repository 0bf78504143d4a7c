package alert_test

import (
	"context"
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
