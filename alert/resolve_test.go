package alert_test

import (
	"context"
	"testing"

	"github.com/kantproject/kant"
)

func TestARecoverySaysHowLongTheIncidentLasted(t *testing.T) {
	tests := []struct {
		name    string
		success kant.Run
		at      int // minutes after 00:00 of the tick that tells it
		want    string
	}{
		{"a success by the deadline recovers after the time since the failure",
			run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(4, 15), ""), 4*60 + 16,
			"hegel/export recovered for 2026-06-01 after 2h15m: succeeded at 2026-06-01 04:15 UTC"},
		{"a success after the deadline is late, after the time since the failure",
			run(export, "jr_2", 1, 0, kant.StateSucceeded, at(6, 30), at(7, 0), ""), 7*60 + 1,
			"hegel/export succeeded late for 2026-06-01 after 5h: at 2026-06-01 07:00 UTC, 1h after the deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, def("hegel-nightly", "hegel/export"))
			w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
			expectOps(t, "the failure", w.tick(at(2, 1)), "post")
			w.observe(tt.success)
			w.tick(at(tt.at/60, tt.at%60))
			var got string
			for _, a := range w.alerts() {
				got = a.Text
			}
			if got != tt.want {
				t.Errorf("resolved as %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAnIncidentPostedBeforeASilenceBeganIsResolvedInItsThread(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/export"))
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "the failure", w.tick(at(2, 1)), "post")
	if err := w.db.PutSilence(context.Background(), kant.Silence{ID: "s1", SLOs: []string{"hegel-nightly"},
		Start: at(2, 30), End: at(12, 0), Reason: "Glue upgrade"}); err != nil {
		t.Fatal(err)
	}
	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(4, 0), ""))
	calls := w.tick(at(4, 1))
	expectOps(t, "the recovery under the silence", calls, "update,reply")
	if a := w.alerts(); len(a) != 1 || a[0].Status != kant.AlertResolved || a[0].Silenced != "" || a[0].Pending() {
		t.Errorf("alerts %+v, want one resolved, not silenced, fully delivered", a)
	}
}
