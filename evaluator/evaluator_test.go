package evaluator_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/slo"
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
	rs, err := db.Results(context.Background(), kant.ResultFilter{From: d, To: d})
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
	days, err := db.Days(ctx, kant.ResultFilter{SLO: "hegel-nightly"})
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

// snapshot reads every stored result and day, without evaluation times.
func snapshot(t testing.TB, db *sqlite.DB) ([]kant.Result, []kant.Day) {
	t.Helper()
	rs, err := db.Results(context.Background(), kant.ResultFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := db.Days(context.Background(), kant.ResultFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		rs[i].EvaluatedAt = time.Time{}
	}
	for i := range ds {
		ds[i].EvaluatedAt = time.Time{}
	}
	return rs, ds
}

func TestJudgingANewRunAloneAgreesWithAFullEvaluation(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	now := at("2026-06-05T12:00:00+09:00")
	def := nightly(t, "hegel/*")
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var history []kant.Run
	for _, job := range []string{"hegel/a", "hegel/b", "hegel/c"} {
		for _, day := range []string{"2026-06-01", "2026-06-02", "2026-06-03"} {
			history = append(history, run(job, day, 1, kant.StateSucceeded, day+"T01:00:00+09:00", day+"T05:00:00+09:00"))
		}
	}
	if _, err := db.WriteRuns(ctx, history); err != nil {
		t.Fatal(err)
	}
	if err := e.Evaluate(ctx, now, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	// New: b fails on the 4th then succeeds late; c succeeds on the 4th and 5th.
	news := []kant.Run{
		run("hegel/b", "2026-06-04", 1, kant.StateFailed, "2026-06-04T01:00:00+09:00", "2026-06-04T02:00:00+09:00"),
		run("hegel/b", "2026-06-04", 2, kant.StateSucceeded, "2026-06-04T07:00:00+09:00", "2026-06-04T08:00:00+09:00"),
		run("hegel/c", "2026-06-04", 1, kant.StateSucceeded, "2026-06-04T01:00:00+09:00", "2026-06-04T03:00:00+09:00"),
		run("hegel/c", "2026-06-05", 1, kant.StateRunning, "2026-06-05T01:00:00+09:00", ""),
	}
	written, err := db.WriteRuns(ctx, news)
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(ctx, written)
	gotR, gotD := snapshot(t, db)

	full, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := full.Evaluate(ctx, now, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	wantR, wantD := snapshot(t, db)
	if len(gotR) != len(wantR) || len(gotD) != len(wantD) {
		t.Fatalf("incremental: %d results, %d days; full: %d results, %d days", len(gotR), len(gotD), len(wantR), len(wantD))
	}
	for i := range wantR {
		if gotR[i] != wantR[i] {
			t.Errorf("result %d: incremental %+v\nfull %+v", i, gotR[i], wantR[i])
		}
	}
	for i := range wantD {
		if gotD[i] != wantD[i] {
			t.Errorf("day %d: incremental %+v\nfull %+v", i, gotD[i], wantD[i])
		}
	}
	// And the new verdicts are the expected ones.
	v := verdicts(t, db, "2026-06-04")
	if v["hegel/a"].Reason != kant.ReasonNotStarted || v["hegel/b"].Verdict != kant.VerdictLate || v["hegel/c"].Verdict != kant.VerdictMet {
		t.Errorf("2026-06-04: a %s/%s, b %s, c %s", v["hegel/a"].Verdict, v["hegel/a"].Reason, v["hegel/b"].Verdict, v["hegel/c"].Verdict)
	}
}

func TestABackfillOutsideTheWindowIsJudged(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	now := at("2026-06-30T12:00:00+09:00")
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/*")}, Store: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Evaluate(ctx, now, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	r := run("hegel/export", "backfill", 1, kant.StateSucceeded, "2026-06-29T10:00:00+09:00", "2026-06-29T11:00:00+09:00")
	r.LogicalDate = kant.Date{Year: 2026, Month: 6, Day: 1}
	written, err := db.WriteRuns(ctx, []kant.Run{r})
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(ctx, written)
	got := verdicts(t, db, "2026-06-01")["hegel/export"]
	if got.Verdict != kant.VerdictLate || got.Runs != 1 {
		t.Errorf("backfilled 2026-06-01 = %s with %d runs, want late with 1", got.Verdict, got.Runs)
	}
	if len(verdicts(t, db, "2026-06-29")) != 0 {
		t.Errorf("the backfill run was also judged on the day it ran")
	}
}

func TestRunIsReadyAfterTheFirstEvaluationAndStopsWithItsContext(t *testing.T) {
	db := open(t)
	now := at("2026-06-02T09:00:00+09:00")
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/never")}, Store: db,
		Now: func() time.Time { return now }, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if e.Ready() == nil {
		t.Fatal("ready before any evaluation")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	for e.Ready() != nil {
		runtime.Gosched()
	}
	// The literal job that never ran is judged from the store's first
	// observation, today for an empty store: missed today (past 06:00), and
	// not judged on the days before kant knew anything.
	if v := verdicts(t, db, "2026-06-02")["hegel/never"]; v.Verdict != kant.VerdictMissed || v.Reason != kant.ReasonNotStarted {
		t.Errorf("hegel/never on 2026-06-02: %s %s, want missed not_started", v.Verdict, v.Reason)
	}
	if v := verdicts(t, db, "2026-06-01"); len(v) != 0 {
		t.Errorf("2026-06-01 has verdicts %v, want none", v)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v after cancellation, want nil", err)
	}
}

func TestADeadlinePassingIsJudgedAtTheDeadlineNotAtTheNextTick(t *testing.T) {
	db := open(t)
	if _, err := db.WriteRuns(t.Context(), []kant.Run{run("hegel/slow", "r1", 1, kant.StateRunning, "2026-06-02T01:00:00+09:00", "")}); err != nil {
		t.Fatal(err)
	}
	// The clock runs from 100 ms before the 06:00 deadline; the ticker is
	// an hour away.
	deadline := at("2026-06-02T06:00:00+09:00")
	start := time.Now()
	now := func() time.Time { return deadline.Add(-100 * time.Millisecond).Add(time.Since(start)) }
	judged := make(chan struct{}, 1)
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/slow")}, Store: db,
		Now: now, Interval: time.Hour, Judged: judged})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go e.Run(ctx)
	<-judged // the first evaluation, before the deadline
	if v := verdicts(t, db, "2026-06-02")["hegel/slow"]; v.Verdict != kant.VerdictPending {
		t.Fatalf("before the deadline: %s, want pending", v.Verdict)
	}
	select {
	case <-judged:
	case <-time.After(10 * time.Second):
		t.Fatal("no evaluation at the deadline")
	}
	if v := verdicts(t, db, "2026-06-02")["hegel/slow"]; v.Verdict != kant.VerdictMissed || v.Reason != kant.ReasonRunning {
		t.Errorf("after the deadline: %s %s, want missed running", v.Verdict, v.Reason)
	}
	if late := now().Sub(deadline); late > 5*time.Second {
		t.Errorf("judged %s after the deadline", late)
	}
}

func TestNewRejectsAnInvalidSLO(t *testing.T) {
	def := nightly(t, "hegel/*")
	def.Target = 1.5
	if _, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: open(t)}); err == nil {
		t.Error("New accepted a target of 1.5")
	}
	if _, err := evaluator.New(evaluator.Config{}); err == nil {
		t.Error("New accepted no store")
	}
}

// countingStore counts the evaluations written.
type countingStore struct {
	*sqlite.DB
	writes  int
	results int
}

func (s *countingStore) WriteEvaluation(ctx context.Context, e kant.Evaluation) error {
	s.writes++
	s.results += len(e.Results)
	return s.DB.WriteEvaluation(ctx, e)
}

func TestAnEvaluationWritesOnlyTheDatesWhoseVerdictsChanged(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{DB: open(t)}
	now := at("2026-06-02T09:00:00+09:00")
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/*")}, Store: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WriteRuns(ctx, []kant.Run{
		run("hegel/export", "jr_1", 1, kant.StateSucceeded, "2026-05-29T01:00:00+09:00", "2026-05-29T02:00:00+09:00"),
		run("hegel/load", "jr_2", 1, kant.StateSucceeded, "2026-05-29T01:00:00+09:00", "2026-05-29T02:00:00+09:00"),
	}); err != nil {
		t.Fatal(err)
	}
	week := 7 * 24 * time.Hour
	if err := e.Evaluate(ctx, now, week); err != nil {
		t.Fatal(err)
	}
	if st.writes != 1 {
		t.Fatalf("first evaluation: %d writes, want 1 (every date)", st.writes)
	}
	st.writes, st.results = 0, 0
	now = now.Add(time.Minute)
	if err := e.Evaluate(ctx, now, week); err != nil {
		t.Fatal(err)
	}
	if st.writes != 0 {
		t.Fatalf("nothing changed: %d writes of %d results, want none", st.writes, st.results)
	}
	// A re-run that failed on 2026-06-01 changes that date alone.
	if _, err := st.WriteRuns(ctx, []kant.Run{run("hegel/export", "jr_3", 1, kant.StateFailed,
		"2026-06-01T01:00:00+09:00", "2026-06-01T02:00:00+09:00")}); err != nil {
		t.Fatal(err)
	}
	if err := e.Evaluate(ctx, now, week); err != nil {
		t.Fatal(err)
	}
	if st.writes != 1 || st.results != 2 {
		t.Fatalf("one date changed: %d writes of %d results, want 1 of 2", st.writes, st.results)
	}
	if v := verdicts(t, st.DB, "2026-06-01")["hegel/export"].Verdict; v != kant.VerdictMissed {
		t.Errorf("2026-06-01 export: %s, want missed", v)
	}
	if v := verdicts(t, st.DB, "2026-05-29")["hegel/export"].Verdict; v != kant.VerdictMet {
		t.Errorf("2026-05-29 export, not rewritten: %s, want met", v)
	}
}

func TestTheNextPeriodicEvaluationRepairsWhatAnotherProcessWrote(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	now := at("2026-06-02T09:00:00+09:00")
	def := nightly(t, "hegel/*")
	serve, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.WriteRuns(ctx, []kant.Run{run("hegel/export", "jr_1", 1, kant.StateSucceeded,
		"2026-06-02T01:00:00+09:00", "2026-06-02T02:00:00+09:00")}); err != nil {
		t.Fatal(err)
	}
	week := 7 * 24 * time.Hour
	if err := serve.Evaluate(ctx, now, week); err != nil {
		t.Fatal(err)
	}
	// `kant evaluate -once -now` as of 01:30 on the same store, from another process.
	other, _ := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db})
	if err := other.Evaluate(ctx, at("2026-06-02T01:30:00+09:00"), week); err != nil {
		t.Fatal(err)
	}
	if v := verdicts(t, db, "2026-06-02")["hegel/export"].Verdict; v != kant.VerdictPending {
		t.Fatalf("as of 01:30: %s, want pending", v)
	}
	if err := serve.Evaluate(ctx, now, week); err != nil {
		t.Fatal(err)
	}
	if v := verdicts(t, db, "2026-06-02")["hegel/export"].Verdict; v != kant.VerdictMet {
		t.Errorf("after serve's next evaluation: %s, want met again", v)
	}
}

func TestAJobsFirstRunAfterMidnightCountsForThePreviousDaysTick(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	def := nightly(t, "hegel/*")
	def.Schedule, _ = slo.ParseSchedule("0 23 * * *")
	def.Calendar = nil
	deadline := slo.Clock{Hour: 4}
	def.Deadline = &deadline
	now := at("2026-06-03T12:00:00+09:00")
	e, _ := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db, Now: func() time.Time { return now }})
	if err := e.Evaluate(ctx, now, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	w, err := db.WriteRuns(ctx, []kant.Run{run("hegel/export", "jr_1", 1, kant.StateSucceeded,
		"2026-06-02T00:30:00+09:00", "2026-06-02T01:00:00+09:00")})
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(ctx, w)
	if err := e.Evaluate(ctx, now, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if v := verdicts(t, db, "2026-06-01")["hegel/export"]; v.Verdict != kant.VerdictMet || v.Runs != 1 {
		t.Errorf("2026-06-01 after a full evaluation: %s with %d runs, want met with 1", v.Verdict, v.Runs)
	}
}

func TestABatchOfFarApartDatesIsJudgedOnThoseDatesOnly(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	now := at("2026-06-30T12:00:00+09:00")
	e, _ := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/*")}, Store: db, Now: func() time.Time { return now }})
	var runs []kant.Run
	for _, d := range []kant.Date{{Year: 2021, Month: 6, Day: 1}, {Year: 2026, Month: 6, Day: 1}} {
		r := run("hegel/export", "backfill_"+d.String(), 1, kant.StateSucceeded, "2026-06-29T10:00:00+09:00", "2026-06-29T11:00:00+09:00")
		r.LogicalDate = d
		runs = append(runs, r)
	}
	w, err := db.WriteRuns(ctx, runs)
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(ctx, w)
	all, err := db.Results(ctx, kant.ResultFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Date.String() != "2021-06-01" || all[1].Date.String() != "2026-06-01" {
		t.Errorf("results on %d dates, want exactly 2021-06-01 and 2026-06-01: %v", len(all), all)
	}
}
