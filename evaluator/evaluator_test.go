package evaluator_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/slo"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/sqlite"
)

var tokyo = mustLoad("Asia/Tokyo")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func nightly(t testing.TB, jobs ...string) slo.Definition {
	t.Helper()
	sched, err := slo.ParseSchedule("0 1 * * *")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := slo.NewCalendar("jp-business-days", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := slo.Clock{Hour: 6}
	recover := slo.Clock{Hour: 23, Minute: 59}
	return slo.Definition{Name: "hegel-nightly", Jobs: jobs, Schedule: sched, Location: tokyo,
		Calendar: cal, Deadline: &deadline, RecoverBy: &recover, Target: 0.95}
}

func open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "kant.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func run(job, id string, attempt int, state kant.State, start, end string) kant.Run {
	r := kant.Run{Source: kant.JobKey(job).Source(), Job: kant.JobKey(job), RunID: id, Attempt: attempt,
		State: state, StartedAt: at(start), ObservedAt: at(start)}
	if end != "" {
		r.FinishedAt, r.ObservedAt = at(end), at(end)
	}
	return r
}

func verdicts(t *testing.T, db *sqlite.DB, date string) map[kant.JobKey]kant.Result {
	t.Helper()
	d, _ := kant.ParseDate(date)
	rs, err := db.Results(context.Background(), store.ResultFilter{From: d, To: d})
	if err != nil {
		t.Fatal(err)
	}
	out := map[kant.JobKey]kant.Result{}
	for _, r := range rs {
		out[r.Job] = r
	}
	return out
}

func TestObserveJudgesNewRunsAtOnce(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	now := at("2026-06-02T09:00:00+09:00")
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/*", "hegel/never")}, Store: db,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// The first evaluation knows only the literally named job.
	if err := e.Evaluate(ctx, now, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if e.Ready() != nil {
		// Ready is set by Run, not by Evaluate.
	}
	runs := []kant.Run{
		run("hegel/export", "jr_1", 1, kant.StateSucceeded, "2026-06-02T01:00:00+09:00", "2026-06-02T05:00:00+09:00"),
		run("hegel/late", "jr_2", 1, kant.StateSucceeded, "2026-06-02T01:00:00+09:00", "2026-06-02T07:00:00+09:00"),
	}
	written, err := db.WriteRuns(ctx, runs)
	if err != nil || len(written) != 2 {
		t.Fatalf("WriteRuns = %d, %v", len(written), err)
	}
	e.Observe(ctx, written)
	got := verdicts(t, db, "2026-06-02")
	want := map[kant.JobKey]kant.Verdict{"hegel/export": kant.VerdictMet, "hegel/late": kant.VerdictLate, "hegel/never": kant.VerdictMissed}
	for job, v := range want {
		if got[job].Verdict != v {
			t.Errorf("%s: verdict %q, want %q (all: %+v)", job, got[job].Verdict, v, got)
		}
	}
	if got["hegel/never"].Reason != kant.ReasonNotStarted {
		t.Errorf("hegel/never: reason %q, want not_started", got["hegel/never"].Reason)
	}
	days, err := db.Days(ctx, store.ResultFilter{SLO: "hegel-nightly"})
	if err != nil {
		t.Fatal(err)
	}
	var day kant.Day
	for _, d := range days {
		if d.Date.String() == "2026-06-02" {
			day = d
		}
	}
	if day.Occurrences != 3 || day.Met != 1 || day.Late != 1 || day.Missed != 1 || day.SLOMet {
		t.Errorf("day = %+v, want 3 occurrences: 1 met, 1 late, 1 missed", day)
	}
}
