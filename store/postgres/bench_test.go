package postgres_test

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/postgres"
	"github.com/kantproject/kant/store/postgres/pgtest"
)

// observations yields n observations of n/2 runs of 2,000 jobs in four
// sources, two per run (running, then succeeded or failed, 2% failing with
// an error message), in the order pollers would see them: a thousand runs
// start, then finish. Glue-like runs carry an attribute.
func observations(n int) iter.Seq2[kant.Run, error] {
	return func(yield func(kant.Run, error) bool) {
		base := time.Date(2026, 6, 1, 16, 0, 0, 0, time.UTC)
		sources := []string{"hegel", "socrates", "kant", "onprem"}
		const jobs = 2000
		const batch = 1000 // runs that start before the first of them finishes
		for start := 0; start < n/2; start += batch {
			end := min(start+batch, n/2)
			for phase := range 2 {
				for i := start; i < end; i++ {
					job := i % jobs
					day := i / jobs
					src := sources[job%len(sources)]
					started := base.Add(time.Duration(day)*24*time.Hour + time.Duration(job)*time.Second + 123456789)
					r := kant.Run{
						Source:      src,
						Job:         kant.NewJobKey(src, "job_"+strconv.Itoa(job)),
						RunID:       runID(src, i, started),
						Attempt:     1,
						State:       kant.StateRunning,
						SourceState: "RUNNING",
						LogicalDate: kant.DateOf(base).AddDays(day),
						StartedAt:   started,
						ObservedAt:  started.Add(30 * time.Second),
					}
					if src == "hegel" {
						r.Attributes = map[string]string{"--target_date": r.LogicalDate.AddDays(-1).String()}
					}
					if phase == 1 {
						r.FinishedAt = started.Add(15 * time.Minute)
						r.ObservedAt = r.FinishedAt.Add(time.Minute)
						r.State, r.SourceState = kant.StateSucceeded, "SUCCEEDED"
						if i%50 == 0 {
							r.State, r.SourceState = kant.StateFailed, "FAILED"
							r.ErrorMessage = "An error occurred while calling o123.pyWriteDynamicFrame: Task failed"
						}
					}
					if !yield(r, nil) {
						return
					}
				}
			}
		}
	}
}

// runID returns a run ID shaped like the source's: a Glue job run ID
// (jr_ and 64 hex digits), an Airflow DAG run ID, or a push source's own.
func runID(source string, i int, started time.Time) string {
	switch source {
	case "hegel":
		var b strings.Builder
		b.WriteString("jr_")
		x := uint64(i)*0x9e3779b97f4a7c15 + 1
		for range 4 {
			x ^= x >> 29
			x *= 0xbf58476d1ce4e5b9
			fmt.Fprintf(&b, "%016x", x)
		}
		return b.String()
	case "socrates", "kant":
		return "scheduled__" + started.Truncate(24*time.Hour).Format("2006-01-02T15:04:05+00:00")
	}
	return started.Format("2006-01-02T15:04")
}

// BenchmarkImport100k imports 100,000 observations into a fresh database
// per iteration (a pgtest cluster: fsync off, so this measures kant and the
// server's work, not the disk) and reports observations per second.
func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		s, err := postgres.Open(ctx, postgres.Config{DSN: pgtest.Start(b)})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		fresh := 0
		got, err := s.ImportRuns(ctx, observations(n), func(int) { fresh++ })
		total += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if got != n || fresh != n {
			b.Fatalf("imported %d (fresh called %d times), want %d", got, fresh, n)
		}
		b.StopTimer()
		latest, err := s.LatestRuns(ctx, kant.RunFilter{Jobs: []string{"hegel/job_4"}})
		if err != nil || len(latest) != n/2/2000 {
			b.Fatalf("latest runs of one job: %d, %v", len(latest), err)
		}
		// Importing the same observations again stores none.
		if again, err := s.ImportRuns(ctx, observations(n), nil); err != nil || again != 0 {
			b.Fatalf("a repeated import stored %d, %v", again, err)
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "obs/s")
}

// BenchmarkWriteRuns writes batches of 100 observations, as a poller does,
// and reports observations per second.
func BenchmarkWriteRuns(b *testing.B) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{DSN: pgtest.Start(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	next, stop := iter.Pull2(observations(1 << 30))
	defer stop()
	batch := make([]kant.Run, 100)
	for b.Loop() {
		for i := range batch {
			batch[i], _, _ = next()
		}
		if _, err := s.WriteRuns(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "obs/s")
}
