package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/slo"
)

// result returns the verdict on job's 2026-06-01 occurrence under def (01:00
// tick, 06:00 deadline).
func result(sloName string, job kant.JobKey, v kant.Verdict, reason kant.Reason) kant.Result {
	return kant.Result{Occurrence: kant.Occurrence{SLO: sloName, Job: job, Date: kant.DateOf(t0),
		ExpectedAt: at(1, 0), Deadline: at(6, 0), RecoverBy: at(24, 0)}, Verdict: v, Reason: reason}
}

func TestDecide(t *testing.T) {
	nightly := def("hegel-nightly", "hegel/*")
	load := def("socrates-load", "socrates/*")
	load.Upstream = []string{"hegel/export"}
	load.Channel = ""
	failedRun := run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom")
	base := alert.Policy{SLOs: []slo.Definition{nightly, load}, Channel: "#kant"}

	type check func(t *testing.T, changes []alert.Change)
	one := func(action alert.Action, kind, channel string, textHas string) check {
		return func(t *testing.T, changes []alert.Change) {
			t.Helper()
			if len(changes) != 1 {
				t.Fatalf("%d changes, want 1: %+v", len(changes), changes)
			}
			c := changes[0]
			if c.Action != action || c.Alert.Kind != kind || c.Alert.Channel != channel || !strings.Contains(c.Alert.Text, textHas) {
				t.Errorf("change %s %s to %s %q, want %s %s to %s containing %q", c.Action, c.Alert.Kind, c.Alert.Channel,
					c.Alert.Text, action, kind, channel, textHas)
			}
		}
	}
	none := func(t *testing.T, changes []alert.Change) {
		t.Helper()
		if len(changes) != 0 {
			t.Errorf("changes %+v, want none", changes)
		}
	}
	tests := []struct {
		name   string
		policy func(p *alert.Policy)
		in     alert.Input
		now    time.Time
		check  check
	}{
		{"a final failure opens an incident in the SLO's channel", nil,
			alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictPending, "")}, Runs: []kant.Run{failedRun}},
			at(2, 1), one(alert.Open, alert.KindFailed, "#data-alerts", "hegel/export failed for 2026-06-01")},
		{"a route for the kind overrides the SLO's channel",
			func(p *alert.Policy) { p.Routes = map[string]alert.Route{alert.KindFailed: {Channel: "#pager"}} },
			alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictPending, "")}, Runs: []kant.Run{failedRun}},
			at(2, 1), one(alert.Open, alert.KindFailed, "#pager", "failed")},
		{"an SLO without a channel uses the default", nil,
			alert.Input{Results: []kant.Result{result("socrates-load", "socrates/load", kant.VerdictMissed, kant.ReasonNotStarted)}},
			at(6, 1), one(alert.Open, alert.KindMissed, "#kant", "never started")},
		{"a failure with a retry pending opens nothing", nil,
			alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictPending, "")},
				Runs: []kant.Run{run(export, "jr_1", 1, 2, kant.StateFailed, at(1, 0), at(2, 0), "boom")}},
			at(2, 1), none},
		{"a pending occurrence past its deadline is judged missed at once", nil,
			alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictPending, "")}},
			at(6, 0), one(alert.Open, alert.KindMissed, "#data-alerts", "never started")},
		{"a met occurrence with no incident says nothing", nil,
			alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictMet, "")}},
			at(6, 0), none},
		{"a downstream miss whose upstream job failed is folded into the upstream incident", nil,
			alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictMissed, kant.ReasonFailed),
				result("socrates-load", "socrates/load", kant.VerdictMissed, kant.ReasonNotStarted)}, Runs: []kant.Run{failedRun}},
			at(6, 1), func(t *testing.T, changes []alert.Change) {
				one(alert.Open, alert.KindMissed, "#data-alerts", "hegel/export missed")(t, changes)
				if len(changes) == 1 && !strings.Contains(changes[0].Alert.Fields[len(changes[0].Alert.Fields)-1].Value, "socrates/load") {
					t.Errorf("fields %+v do not list the folded miss", changes[0].Alert.Fields)
				}
			}},
		{"an active silence records the incident as silenced", nil,
			alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictMissed, kant.ReasonNotStarted)},
				Silences: []kant.Silence{{ID: "s", SLOs: []string{"hegel-nightly"}, Start: at(0, 0), End: at(8, 0), Reason: "r"}}},
			at(6, 1), func(t *testing.T, changes []alert.Change) {
				if len(changes) != 1 || changes[0].Alert.Silenced != "s" || changes[0].Alert.Pending() {
					t.Errorf("changes %+v, want one silenced by s and not pending", changes)
				}
			}},
		{"a silence that has not started yet silences nothing", nil,
			alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictMissed, kant.ReasonNotStarted)},
				Silences: []kant.Silence{{ID: "s", Start: at(7, 0), End: at(8, 0), Reason: "r"}}},
			at(6, 1), func(t *testing.T, changes []alert.Change) {
				if len(changes) != 1 || changes[0].Alert.Silenced != "" {
					t.Errorf("changes %+v, want one not silenced", changes)
				}
			}},
		{"an error budget below the threshold opens a budget incident",
			func(p *alert.Policy) { p.BudgetBelow = 0.5 },
			alert.Input{Budgets: []kant.Attainment{{SLO: "hegel-nightly", Days: 30, SLODaysMet: 28, Attainment: 28.0 / 30, Target: 0.9, ErrorBudgetLeft: 1}}},
			at(6, 1), one(alert.Open, alert.KindBudget, "#data-alerts", "33% of its error budget left")},
		{"an error budget above the threshold says nothing",
			func(p *alert.Policy) { p.BudgetBelow = 0.5 },
			alert.Input{Budgets: []kant.Attainment{{SLO: "hegel-nightly", Days: 30, SLODaysMet: 29, Attainment: 29.0 / 30, Target: 0.9, ErrorBudgetLeft: 2}}},
			at(6, 1), none},
		{"a source that has not been polled within its bound is stale",
			func(p *alert.Policy) { p.StaleAfter = map[string]time.Duration{"hegel": 30 * time.Minute} },
			alert.Input{Health: []kant.SourceHealth{{Source: "hegel", LastSuccess: at(1, 0), LastAttempt: at(1, 0)}}},
			at(1, 31), one(alert.Open, alert.KindStale, "#kant", "Source hegel is stale")},
		{"the digest waits for its time",
			func(p *alert.Policy) { p.Digest = &slo.Clock{Hour: 9} },
			alert.Input{}, at(8, 59), none},
		{"the digest is due at its time",
			func(p *alert.Policy) { p.Digest = &slo.Clock{Hour: 9} },
			alert.Input{}, at(9, 0), one(alert.Open, alert.KindDigest, "#kant", "Daily digest for 2026-05-31")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			if tc.policy != nil {
				tc.policy(&p)
			}
			tc.check(t, alert.Decide(p, tc.in, tc.now))
		})
	}
}

func TestDecideIsIdempotentOverItsOwnOutput(t *testing.T) {
	p := alert.Policy{SLOs: []slo.Definition{def("hegel-nightly", "hegel/*")}, Channel: "#kant"}
	in := alert.Input{Results: []kant.Result{result("hegel-nightly", export, kant.VerdictMissed, kant.ReasonFailed)},
		Runs: []kant.Run{run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom")}}
	first := alert.Decide(p, in, at(6, 1))
	if len(first) != 1 {
		t.Fatalf("first decision: %+v", first)
	}
	in.Alerts = []kant.Alert{first[0].Alert}
	if again := alert.Decide(p, in, at(6, 2)); len(again) != 0 {
		t.Errorf("deciding again over the stored alert: %+v, want nothing", again)
	}
}

func TestAFailureMessageSaysWhatWhenSinceDeadlineErrorOwnerAndLinks(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	d := def("hegel-nightly", "hegel/*")
	d.Location = jst
	p := alert.Policy{SLOs: []slo.Definition{d}, Channel: "#kant", StatusURL: "https://kant.example.com/",
		ConsoleLink: func(r kant.Run) string {
			return "https://ap-northeast-1.console.aws.amazon.com/gluestudio/home?region=ap-northeast-1#/job/" + r.Job.Name() + "/run/" + r.RunID
		}}
	jstAt := func(h, m int) time.Time { return time.Date(2026, 6, 1, h, m, 0, 0, jst) }
	r := result("hegel-nightly", export, kant.VerdictPending, "")
	r.ExpectedAt, r.Deadline = jstAt(1, 0).UTC(), jstAt(15, 0).UTC()
	failed := run(export, "jr_1", 2, 2, kant.StateFailed, jstAt(1, 0), jstAt(11, 10), "OutOfMemoryError")
	changes := alert.Decide(p, alert.Input{Results: []kant.Result{r}, Runs: []kant.Run{failed}}, jstAt(11, 11))
	if len(changes) != 1 {
		t.Fatalf("changes %+v", changes)
	}
	a := changes[0].Alert
	want := map[string]string{
		"SLO": "hegel-nightly", "Business date": "2026-06-01", "Deadline": "2026-06-01 15:00 JST",
		"Since": "2026-06-01 11:10 JST", "Run": "jr_1 (attempt 2, failed)", "Error": "OutOfMemoryError", "Owner": "@data-platform",
	}
	for _, f := range a.Fields {
		if v, ok := want[f.Label]; ok && v != f.Value {
			t.Errorf("%s = %q, want %q", f.Label, f.Value, v)
		}
		delete(want, f.Label)
	}
	if len(want) > 0 {
		t.Errorf("message lacks %v", want)
	}
	if a.Owner != "@data-platform" || a.Text != "hegel/export failed for 2026-06-01 (attempt 2)" {
		t.Errorf("alert %+v", a)
	}
	if len(a.Links) != 2 || a.Links[0].URL != "https://ap-northeast-1.console.aws.amazon.com/gluestudio/home?region=ap-northeast-1#/job/export/run/jr_1" ||
		a.Links[1].URL != "https://kant.example.com/jobs/hegel/export" {
		t.Errorf("links %+v", a.Links)
	}
}
