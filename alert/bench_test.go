package alert_test

import (
	"fmt"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/slo"
)

// BenchmarkDecide measures one decision over 1,000 jobs' occurrences for a
// week, a tenth of them failed and already alerted.
func BenchmarkDecide(b *testing.B) {
	p := alert.Policy{SLOs: []slo.Definition{def("hegel-nightly", "hegel/*")}, Channel: "#kant"}
	var in alert.Input
	for i := range 1000 {
		job := kant.JobKey(fmt.Sprintf("hegel/job%04d", i))
		for d := range 7 {
			r := result("hegel-nightly", job, kant.VerdictMet, "")
			r.Date = r.Date.AddDays(-d)
			r.ExpectedAt, r.Deadline = r.ExpectedAt.AddDate(0, 0, -d), r.Deadline.AddDate(0, 0, -d)
			state := kant.StateSucceeded
			if i%10 == 0 && d == 0 {
				r.Verdict, r.Reason, state = kant.VerdictMissed, kant.ReasonFailed, kant.StateFailed
			}
			in.Results = append(in.Results, r)
			in.Runs = append(in.Runs, run(job, fmt.Sprintf("r%d", d), 1, 1, state, r.ExpectedAt, r.ExpectedAt.Add(3600e9), ""))
		}
	}
	for _, c := range alert.Decide(p, in, at(7, 0)) {
		in.Alerts = append(in.Alerts, c.Alert)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(alert.Decide(p, in, at(7, 1))) != 0 {
			b.Fatal("changes on a steady state")
		}
	}
}
