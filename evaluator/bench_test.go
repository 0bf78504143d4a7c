package evaluator_test

import (
	"context"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/slo"
)

// seed stores one run per job and day (jobs × days) ending on 2026-06-30, a
// tenth of them failed and retried, and returns an evaluator over them.
// With follow, the evaluators follow the store's log (as kant serve's do),
// and judge only the dates that are not settled.
func seed(b *testing.B, jobs, days int, follow bool) (func() *evaluator.Evaluator, func(kant.Run) []kant.Run, time.Time) {
	ctx := context.Background()
	db := open(b)
	now := at("2026-06-30T12:00:00+09:00")
	last := kant.Date{Year: 2026, Month: 6, Day: 30}
	seq := func(yield func(kant.Run, error) bool) {
		for d := 0; d < days; d++ {
			date := last.AddDays(-d)
			day := date.String()
			for j := 0; j < jobs; j++ {
				job := fmt.Sprintf("hegel/job_%04d", j)
				attempt := 1
				if j%10 == d%10 {
					if !yield(run(job, day, 1, kant.StateFailed, day+"T01:00:00+09:00", day+"T02:00:00+09:00"), nil) {
						return
					}
					attempt = 2
				}
				r := run(job, day, attempt, kant.StateSucceeded, day+"T02:30:00+09:00", day+"T05:00:00+09:00")
				r.LogicalDate = date
				if !yield(r, nil) {
					return
				}
			}
		}
	}
	if _, err := db.ImportRuns(ctx, iter.Seq2[kant.Run, error](seq), nil); err != nil {
		b.Fatal(err)
	}
	newEval := func() *evaluator.Evaluator {
		cfg := evaluator.Config{SLOs: []slo.Definition{nightly(b, "hegel/*")}, Store: db,
			Now: func() time.Time { return now }, Lookback: 7 * 24 * time.Hour}
		if follow {
			cfg.Log = db
		}
		e, err := evaluator.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	write := func(r kant.Run) []kant.Run {
		w, err := db.WriteRuns(ctx, []kant.Run{r})
		if err != nil || len(w) != 1 {
			b.Fatalf("write: %d, %v", len(w), err)
		}
		return w
	}
	return newEval, write, now
}

// BenchmarkEvaluateStored is the full evaluation of 1,000 jobs × 90 days
// (about 65,000 business-day occurrences, 100,000 runs) from the SQLite store,
// including loading the runs and writing the results, by an evaluator that
// knows nothing settled: the first evaluation of a store nobody judged.
func BenchmarkEvaluateStored(b *testing.B) {
	newEval, _, now := seed(b, 1000, 90, false)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A new evaluator has written nothing yet, so it does not skip the
		// write of an unchanged evaluation.
		if err := newEval().Evaluate(ctx, now, 90*24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReEvaluateStored is the full re-evaluation of 1,000 jobs × 90
// days by an evaluator that wrote them before and follows the log: the
// final days are settled, so only today and tomorrow are loaded and judged
// again, and only what changed is written.
func BenchmarkReEvaluateStored(b *testing.B) { benchmarkReEvaluate(b, true) }

// BenchmarkReEvaluateStoredUnfollowed is BenchmarkReEvaluateStored by an
// evaluator without the log (the BigQuery store): every date is loaded
// and judged again; only what changed is written.
func BenchmarkReEvaluateStoredUnfollowed(b *testing.B) { benchmarkReEvaluate(b, false) }

// BenchmarkResumeStored is the first evaluation of the 90 days of 1,000
// jobs by a new evaluator (a restart, or a replica's new term) over a
// store that an evaluator following the log judged before: its
// checkpoint is read, the log after it replayed, the final days settled
// from the store, and the rest judged.
func BenchmarkResumeStored(b *testing.B) {
	newEval, _, now := seed(b, 1000, 90, true)
	ctx := context.Background()
	if err := newEval().Evaluate(ctx, now, 90*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := newEval().Evaluate(ctx, now, 90*24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkReEvaluate(b *testing.B, follow bool) {
	newEval, _, now := seed(b, 1000, 90, follow)
	ctx := context.Background()
	e := newEval()
	if err := e.Evaluate(ctx, now, 90*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.Evaluate(ctx, now, 90*24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserveOneRun is what judging one pushed run costs once it is
// stored: its job is re-evaluated alone over the dates it touches (its runs
// loaded from SQLite), the day re-summarized from the kept verdicts of the
// other jobs, and the result and day written, with 1,000 jobs × 90 days in
// the store. BenchmarkPushOneRun adds the write of the run itself.
func BenchmarkObserveOneRun(b *testing.B) { benchmarkOneRun(b, false) }

// BenchmarkPushOneRun is BenchmarkObserveOneRun plus storing the run.
func BenchmarkPushOneRun(b *testing.B) { benchmarkOneRun(b, true) }

func benchmarkOneRun(b *testing.B, timeWrite bool) {
	newEval, write, now := seed(b, 1000, 90, true)
	e := newEval()
	ctx := context.Background()
	if err := e.Evaluate(ctx, now, 7*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A manual re-run of a different job each time, so that no job
		// accumulates runs the benchmark made.
		r := run(fmt.Sprintf("hegel/job_%04d", i%1000), fmt.Sprintf("rerun_%d", i), 1, kant.StateSucceeded,
			"2026-06-30T01:00:00+09:00", "2026-06-30T01:00:01+09:00")
		if !timeWrite {
			b.StopTimer()
		}
		w := write(r)
		if !timeWrite {
			b.StartTimer()
		}
		e.Observe(ctx, w)
	}
}
