package gate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/gate"
)

func TestDecide(t *testing.T) {
	def := nightly(t)
	now := at("2026-06-01T07:00:00+09:00")
	monday := kant.Date{Year: 2026, Month: 6, Day: 1}
	holiday := kant.Date{Year: 2026, Month: 11, Day: 23} // Labour Thanksgiving Day: no occurrence
	const users, items = kant.JobKey("hegel/export_users"), kant.JobKey("hegel/export_items")
	const pushed = kant.JobKey("onprem/load") // of a source with a staleness bound

	ok := run(string(users), "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")
	failed := run(string(users), "jr_1", 1, kant.StateFailed, "2026-06-01T02:00:00+09:00")
	failed.ErrorMessage = "OutOfMemory"
	retrying := failed
	retrying.MaxAttempts = 2
	retried := run(string(users), "jr_2", 2, kant.StateSucceeded, "2026-06-01T04:00:00+09:00")
	rerun := func(state kant.State) kant.Run {
		r := run(string(users), "jr_3", 1, state, "2026-06-01T09:00:00+09:00")
		r.StartedAt = at("2026-06-01T08:00:00+09:00")
		return r
	}
	timedOut := run(string(users), "jr_1", 1, kant.StateTimeout, "2026-06-01T05:00:00+09:00")
	running := run(string(items), "jr_4", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00")
	pushedOK := run(string(pushed), "p1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")
	pushedFailed := run(string(pushed), "p1", 1, kant.StateFailed, "2026-06-01T03:00:00+09:00")

	one := func(job kant.JobKey, runs ...kant.Run) []gate.JobInput {
		return []gate.JobInput{{Job: job, Runs: runs, SLO: &def}}
	}
	bound := map[string]time.Duration{"onprem": 30 * time.Minute}
	fresh := map[string]time.Time{"onprem": now.Add(-10 * time.Minute)}
	old := map[string]time.Time{"onprem": now.Add(-31 * time.Minute)}

	tests := []struct {
		name    string
		in      gate.Input
		status  int
		reasons []string // of each job, in order
	}{
		{"a job whose run succeeded opens the gate",
			gate.Input{Date: monday, Jobs: one(users, ok)}, 200, []string{gate.ReasonSucceeded}},
		{"a running job is not yet",
			gate.Input{Date: monday, Jobs: one(items, running)}, 404, []string{gate.ReasonRunning}},
		{"a queued job is not yet",
			gate.Input{Date: monday, Jobs: one(users, run(string(users), "jr_1", 1, kant.StateQueued, "2026-06-01T01:00:00+09:00"))},
			404, []string{gate.ReasonQueued}},
		{"a job with no run on a scheduled date has not started",
			gate.Input{Date: monday, Jobs: one(users)}, 404, []string{gate.ReasonNotStarted}},
		{"a job with no run on a date its SLO does not schedule is not scheduled, and still not open",
			gate.Input{Date: holiday, Jobs: one(users)}, 404, []string{gate.ReasonNotScheduled}},
		{"a job no SLO selects with no run has not started",
			gate.Input{Date: holiday, Jobs: []gate.JobInput{{Job: users}}}, 404, []string{gate.ReasonNotStarted}},
		{"a failure with no retry to come fails fast",
			gate.Input{Date: monday, Jobs: one(users, failed)}, 409, []string{gate.ReasonFailed}},
		{"a run that timed out fails fast",
			gate.Input{Date: monday, Jobs: one(users, timedOut)}, 409, []string{gate.ReasonFailed}},
		{"a failed attempt with a retry to come is not yet",
			gate.Input{Date: monday, Jobs: one(users, retrying)}, 404, []string{gate.ReasonRetryPending}},
		{"a failed attempt then a successful retry opens",
			gate.Input{Date: monday, Jobs: one(users, retried, retrying)}, 200, []string{gate.ReasonSucceeded}},
		{"a success followed by a failed re-run fails",
			gate.Input{Date: monday, Jobs: one(users, ok, rerun(kant.StateFailed))}, 409, []string{gate.ReasonFailed}},
		{"a success followed by a running re-run is not yet",
			gate.Input{Date: monday, Jobs: one(users, ok, rerun(kant.StateRunning))}, 404, []string{gate.ReasonRunning}},
		{"one failed job among running ones fails fast",
			gate.Input{Date: monday, Jobs: append(one(users, failed), one(items, running)...)}, 409,
			[]string{gate.ReasonFailed, gate.ReasonRunning}},
		{"one job not yet among succeeded ones is not yet",
			gate.Input{Date: monday, Jobs: append(one(users, ok), one(items, running)...)}, 404,
			[]string{gate.ReasonSucceeded, gate.ReasonRunning}},
		{"a success from a source heard from within its bound opens",
			gate.Input{Date: monday, Jobs: one(pushed, pushedOK), LastGood: fresh, StaleAfter: bound}, 200,
			[]string{gate.ReasonSucceeded}},
		{"a success from a source past its staleness bound is stale, not open",
			gate.Input{Date: monday, Jobs: one(pushed, pushedOK), LastGood: old, StaleAfter: bound}, 404,
			[]string{gate.ReasonStale}},
		{"a source with a bound that was never heard from is stale",
			gate.Input{Date: monday, Jobs: one(pushed, pushedOK), StaleAfter: bound}, 404, []string{gate.ReasonStale}},
		{"a failure from a stale source is stale, not a failure: what was seen may be outdated",
			gate.Input{Date: monday, Jobs: one(pushed, pushedFailed), LastGood: old, StaleAfter: bound}, 404,
			[]string{gate.ReasonStale}},
		{"a source without a bound is never stale",
			gate.Input{Date: monday, Jobs: one(users, ok), LastGood: old, StaleAfter: bound}, 200, []string{gate.ReasonSucceeded}},
		{"a question naming no job never opens",
			gate.Input{Date: monday}, 404, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := gate.Decide(tt.in, now)
			var reasons []string
			for _, j := range a.Jobs {
				reasons = append(reasons, j.Reason)
			}
			if a.Status() != tt.status || a.Open != (tt.status == 200) || !slices.Equal(reasons, tt.reasons) {
				t.Errorf("status %d open %v reasons %v, want %d %v", a.Status(), a.Open, reasons, tt.status, tt.reasons)
			}
			if a.Date != tt.in.Date || !a.CheckedAt.Equal(now) {
				t.Errorf("date %s checked at %v, want %s at %v", a.Date, a.CheckedAt, tt.in.Date, now)
			}
		})
	}
}

func TestDecideShowsTheDecidingRun(t *testing.T) {
	failed := run("hegel/export_users", "jr_2", 2, kant.StateFailed, "2026-06-01T04:00:00+09:00")
	failed.ErrorMessage = "OutOfMemory"
	a := gate.Decide(gate.Input{Date: kant.Date{Year: 2026, Month: 6, Day: 1}, Jobs: []gate.JobInput{{Job: "hegel/export_users",
		Runs: []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateFailed, "2026-06-01T02:00:00+09:00"), failed}}}},
		at("2026-06-01T07:00:00+09:00"))
	j := a.Jobs[0]
	if j.RunID != "jr_2" || j.Attempt != 2 || j.State == nil || *j.State != kant.StateFailed || j.Error != "OutOfMemory" ||
		j.FinishedAt == nil || !j.FinishedAt.Equal(failed.FinishedAt) {
		t.Errorf("job answer %+v, want the second attempt's run, state, error and finish", j)
	}
}

func TestDecideRemembersWhenTheGateFirstOpened(t *testing.T) {
	const users = "hegel/export_users"
	ok := run(users, "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")
	rerun := func(id string, state kant.State, start, observed string) kant.Run {
		r := run(users, id, 1, state, observed)
		r.StartedAt = at(start)
		return r
	}
	// A second run started before the first success finished: the answer
	// followed it, so that success never opened the gate.
	overlapping := rerun("jr_0", kant.StateRunning, "2026-06-01T02:00:00+09:00", "2026-06-01T02:00:00+09:00")
	tests := []struct {
		name            string
		runs            []kant.Run
		opened, rerunAt string // "" for none
	}{
		{"a first success opens at its finish, unchanged since", []kant.Run{ok}, "2026-06-01T03:00:00+09:00", ""},
		{"a re-run after the gate opened keeps when it opened and tells when the re-run started",
			[]kant.Run{ok, rerun("jr_3", kant.StateRunning, "2026-06-01T08:00:00+09:00", "2026-06-01T08:00:00+09:00")},
			"2026-06-01T03:00:00+09:00", "2026-06-01T08:00:00+09:00"},
		{"a successful re-run is still a change since the gate opened",
			[]kant.Run{rerun("jr_3", kant.StateSucceeded, "2026-06-01T08:00:00+09:00", "2026-06-01T09:00:00+09:00"), ok},
			"2026-06-01T03:00:00+09:00", "2026-06-01T08:00:00+09:00"},
		{"of two re-runs the newer one is told", []kant.Run{ok,
			rerun("jr_3", kant.StateFailed, "2026-06-01T08:00:00+09:00", "2026-06-01T08:30:00+09:00"),
			rerun("jr_4", kant.StateRunning, "2026-06-01T10:00:00+09:00", "2026-06-01T10:00:00+09:00")},
			"2026-06-01T03:00:00+09:00", "2026-06-01T10:00:00+09:00"},
		{"a failed attempt then a successful retry opens at the retry's finish, unchanged since",
			[]kant.Run{run(users, "jr_1", 1, kant.StateFailed, "2026-06-01T02:00:00+09:00"),
				run(users, "jr_1", 2, kant.StateSucceeded, "2026-06-01T04:00:00+09:00")}, "2026-06-01T04:00:00+09:00", ""},
		{"a success overtaken by a run started before it finished never opened", []kant.Run{ok, overlapping}, "", ""},
		{"a job that never succeeded never opened", []kant.Run{run(users, "jr_1", 1, kant.StateFailed, "2026-06-01T02:00:00+09:00")}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := gate.Decide(gate.Input{Date: kant.Date{Year: 2026, Month: 6, Day: 1},
				Jobs: []gate.JobInput{{Job: users, Runs: tt.runs}}}, at("2026-06-01T11:00:00+09:00"))
			j := a.Jobs[0]
			if got := fmtOpt(j.OpenedAt); got != tt.opened {
				t.Errorf("opened_at %s, want %q", got, tt.opened)
			}
			if got := fmtOpt(j.RerunAt); got != tt.rerunAt || j.ChangedSinceOpen != (tt.rerunAt != "") {
				t.Errorf("rerun_at %s changed_since_open %v, want %q", got, j.ChangedSinceOpen, tt.rerunAt)
			}
		})
	}
}

// fmtOpt formats an optional time in the zone of the tests, "" for nil.
func fmtOpt(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(time.FixedZone("", 9*3600)).Format(time.RFC3339)
}
