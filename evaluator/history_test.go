package evaluator_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/slo"
)

func date(s string) kant.Date {
	d, err := kant.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func withoutEvaluatedAt(rs []kant.Result, ds []kant.Day) ([]kant.Result, []kant.Day) {
	for i := range rs {
		rs[i].EvaluatedAt = time.Time{}
	}
	for i := range ds {
		ds[i].EvaluatedAt = time.Time{}
	}
	return rs, ds
}

// TestADateOlderThanRetentionIsJudgedOnDemandAsAnEvaluationWouldJudgeIt is
// the defect of issue 12: a date older than evaluate.retention answered no
// verdict at all, like a holiday, while its runs were stored.
func TestADateOlderThanRetentionIsJudgedOnDemandAsAnEvaluationWouldJudgeIt(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	def := nightly(t, "hegel/*", "hegel/never")
	runs := []kant.Run{
		// 2026-03-02 and 03-03 are business days in Japan, three months back.
		run("hegel/export", "a1", 1, kant.StateSucceeded, "2026-03-02T01:00:00+09:00", "2026-03-02T05:00:00+09:00"),
		run("hegel/late", "b1", 1, kant.StateSucceeded, "2026-03-02T01:00:00+09:00", "2026-03-02T07:30:00+09:00"),
		run("hegel/export", "a2", 1, kant.StateFailed, "2026-03-03T01:00:00+09:00", "2026-03-03T02:00:00+09:00"),
		run("hegel/export", "a3", 1, kant.StateSucceeded, "2026-03-03T09:00:00+09:00", "2026-03-03T10:00:00+09:00"),
		run("hegel/late", "b2", 1, kant.StateSucceeded, "2026-06-01T01:00:00+09:00", "2026-06-01T04:00:00+09:00"),
	}
	if _, err := db.WriteRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	now := at("2026-06-02T09:00:00+09:00")
	short, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db, Retention: 30 * 24 * time.Hour,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := short.Evaluate(ctx, now, 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	h := short.History(db)
	if kept := h.Kept(def, now); kept != date("2026-05-03") {
		t.Fatalf("Kept = %s, want 2026-05-03 (30 days before 2026-06-02 in Tokyo)", kept)
	}
	old := kant.ResultFilter{From: date("2026-03-02"), To: date("2026-03-03")}
	stored, err := db.Results(ctx, old)
	if err != nil || len(stored) != 0 {
		t.Fatalf("the store holds %d verdicts of 2026-03 (%v): this test needs none", len(stored), err)
	}
	gotResults, err := h.Results(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	gotDays, err := h.Days(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotResults) != 6 {
		t.Fatalf("on demand: %d verdicts, want 6 (3 jobs × 2 days): %+v", len(gotResults), gotResults)
	}

	// An evaluation whose window covers March writes the same verdicts.
	long, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db, Retention: 120 * 24 * time.Hour,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := long.Evaluate(ctx, now, 120*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	wantResults, err := db.Results(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	wantDays, err := db.Days(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	gotResults, gotDays = withoutEvaluatedAt(gotResults, gotDays)
	wantResults, wantDays = withoutEvaluatedAt(wantResults, wantDays)
	if !reflect.DeepEqual(gotResults, wantResults) {
		t.Errorf("on-demand verdicts differ from an evaluation's:\n got %+v\nwant %+v", gotResults, wantResults)
	}
	if !reflect.DeepEqual(gotDays, wantDays) {
		t.Errorf("on-demand days differ from an evaluation's:\n got %+v\nwant %+v", gotDays, wantDays)
	}

	// A job filter applies to what is judged on demand.
	some, err := h.Results(ctx, kant.ResultFilter{From: date("2026-03-02"), To: date("2026-03-02"), Jobs: []string{"hegel/late"}})
	if err != nil || len(some) != 1 || some[0].Job != "hegel/late" || some[0].Verdict != kant.VerdictLate {
		t.Errorf("filtered on demand: %+v, %v; want hegel/late late", some, err)
	}
}

func TestARangeAcrossTheRetentionWindowReadsTheStoreForTheKeptDates(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	def := nightly(t, "hegel/export")
	now := at("2026-06-02T09:00:00+09:00")
	if _, err := db.WriteRuns(ctx, []kant.Run{
		run("hegel/export", "a1", 1, kant.StateSucceeded, "2026-05-01T01:00:00+09:00", "2026-05-01T05:00:00+09:00"),
		run("hegel/export", "a2", 1, kant.StateSucceeded, "2026-05-07T01:00:00+09:00", "2026-05-07T05:00:00+09:00"),
	}); err != nil {
		t.Fatal(err)
	}
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db, Retention: 30 * 24 * time.Hour,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Evaluate(ctx, now, 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	// A stored verdict of a kept date that on-demand judging would see
	// differently shows the kept date is read from the store.
	kept, err := db.Results(ctx, kant.ResultFilter{From: date("2026-05-07"), To: date("2026-05-07")})
	if err != nil || len(kept) != 1 || kept[0].Verdict != kant.VerdictMet {
		t.Fatalf("stored verdicts of 2026-05-07: %+v, %v; want one met", kept, err)
	}
	kept[0].Verdict, kept[0].Reason, kept[0].SucceededAt = kant.VerdictPending, "", time.Time{}
	if err := db.WriteEvaluation(ctx, kant.Evaluation{SLO: def.Name, From: date("2026-05-07"), To: date("2026-05-07"),
		Jobs: []kant.JobKey{"hegel/export"}, Results: kept}); err != nil {
		t.Fatal(err)
	}
	got, err := e.History(db).Results(ctx, kant.ResultFilter{From: date("2026-05-01"), To: date("2026-05-07")})
	if err != nil {
		t.Fatal(err)
	}
	byDate := map[string]kant.Verdict{}
	for _, r := range got {
		byDate[r.Date.String()] = r.Verdict
	}
	// 05-01 (on demand): met; 05-07 (stored): pending; 05-03..06 are
	// Golden Week holidays and a weekend, with no occurrence.
	want := map[string]kant.Verdict{"2026-05-01": kant.VerdictMet, "2026-05-07": kant.VerdictPending}
	if !reflect.DeepEqual(byDate, want) {
		t.Errorf("verdicts by date %v, want %v", byDate, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Date.Before(got[i-1].Date) {
			t.Errorf("verdicts out of date order: %s after %s", got[i].Date, got[i-1].Date)
		}
	}
}

func TestTooManyDaysBeforeTheRetentionWindowAreRefusedNamingTheLimit(t *testing.T) {
	db := open(t)
	now := at("2026-06-02T09:00:00+09:00")
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/*")}, Store: db,
		Retention: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.History(db).Days(context.Background(), kant.ResultFilter{From: date("2025-06-01"), To: date("2026-06-01")})
	if kant.ErrorCode(err) != kant.EINVALID || !strings.Contains(kant.ErrorMessage(err), "92 days") {
		t.Errorf("a year before the window: %v (code %s), want EINVALID naming the 92-day limit", err, kant.ErrorCode(err))
	}
	if _, err := e.History(db).Days(context.Background(), kant.ResultFilter{From: date("2026-02-01"), To: date("2026-05-02")}); err != nil {
		t.Errorf("91 days before the window: %v, want an answer", err)
	}
}
