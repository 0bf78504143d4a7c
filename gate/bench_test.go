package gate_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/gate"
	"github.com/kantproject/kant/slo"
	"github.com/kantproject/kant/store/sqlite"
)

// The gate benchmarks, like bench/gate.sh, know benchJobs jobs with one
// succeeded run each for 2026-06-01 and ask about benchAsk of them by their
// literal keys, spread over the whole set.
const (
	benchJobs = 10_000
	benchAsk  = 100
)

// benchRuns returns one succeeded run of each of the benchmark's jobs.
func benchRuns() []kant.Run {
	runs := make([]kant.Run, benchJobs)
	for i := range runs {
		runs[i] = run(fmt.Sprintf("hegel/job_%05d", i), fmt.Sprintf("jr_%05d", i), 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")
	}
	return runs
}

// benchKeys returns the keys asked about, in the order of the query.
func benchKeys() []kant.JobKey {
	keys := make([]kant.JobKey, benchAsk)
	for i := range keys {
		keys[i] = kant.JobKey(fmt.Sprintf("hegel/job_%05d", i*(benchJobs/benchAsk)))
	}
	return keys
}

// benchTarget is the request URL for the asked keys on 2026-06-01.
func benchTarget(keys []kant.JobKey) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = string(k)
	}
	return "/v1/gate?jobs=" + strings.Join(s, ",") + "&date=2026-06-01"
}

// benchIndex returns an index configured like the fixture's, at now.
func benchIndex(b *testing.B, now time.Time) *gate.Index {
	return gate.New(gate.Config{
		SLOs:     []slo.Definition{nightly(b)},
		Sources:  []gate.Source{{Name: "hegel"}},
		Location: tokyo,
		Now:      func() time.Time { return now },
	})
}

// serveOpen serves target through h and fails b unless the gate is open.
func serveOpen(b *testing.B, h http.Handler, target string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d, want 200: %.300s", rec.Code, rec.Body.String())
	}
}

// BenchmarkGateIndex answers a 100-job query from the in-memory index of
// 10,000 jobs through the handler: parsing, lookup, judging and JSON.
func BenchmarkGateIndex(b *testing.B) {
	ix := benchIndex(b, at("2026-06-01T07:00:00+09:00"))
	ix.Observe(context.Background(), benchRuns())
	h := gate.NewHandler(ix, nil)
	target := benchTarget(benchKeys())
	serveOpen(b, h, target)
	b.ReportAllocs()
	for b.Loop() {
		serveOpen(b, h, target)
	}
}

// BenchmarkGateIndexParallel is BenchmarkGateIndex from GOMAXPROCS
// goroutines at once, as under load: it shows contention on the index.
func BenchmarkGateIndexParallel(b *testing.B) {
	ix := benchIndex(b, at("2026-06-01T07:00:00+09:00"))
	ix.Observe(context.Background(), benchRuns())
	h := gate.NewHandler(ix, nil)
	target := benchTarget(benchKeys())
	serveOpen(b, h, target)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
			if rec.Code != http.StatusOK {
				b.Errorf("status %d, want 200", rec.Code)
				return
			}
		}
	})
}

// BenchmarkGateStoreQuery computes the same answer by a store query per
// request, against SQLite holding the same runs: what the index saves.
// AnswerFromStore is the query and the judging; handler is the whole
// request, which the handler answers from the store because the date is
// older than the index's window at that now. Runs with a logical date are
// found by their date (pushes, Airflow); undated runs by when they ran (Glue).
func BenchmarkGateStoreQuery(b *testing.B) {
	for _, dated := range []bool{true, false} {
		name := "logical_date"
		if !dated {
			name = "undated"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(b.TempDir(), "kant.db")})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			date, err := kant.ParseDate("2026-06-01")
			if err != nil {
				b.Fatal(err)
			}
			runs := benchRuns()
			if dated {
				for i := range runs {
					runs[i].LogicalDate = date
				}
			}
			if _, err := db.WriteRuns(ctx, runs); err != nil {
				b.Fatal(err)
			}
			// Six weeks later 2026-06-01 is out of the index's window.
			now := at("2026-07-15T07:00:00+09:00")
			ix := benchIndex(b, now)
			if err := ix.Rebuild(ctx, db); err != nil {
				b.Fatal(err)
			}
			keys := benchKeys()

			b.Run("AnswerFromStore", func(b *testing.B) {
				a, err := ix.AnswerFromStore(ctx, db, keys, date, now, nil)
				if err != nil || !a.Open || len(a.Jobs) != benchAsk {
					b.Fatalf("answer %+v, %v: want %d jobs, open", a, err, benchAsk)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := ix.AnswerFromStore(ctx, db, keys, date, now, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("handler", func(b *testing.B) {
				h := gate.NewHandler(ix, nil)
				target := benchTarget(keys)
				serveOpen(b, h, target)
				b.ReportAllocs()
				for b.Loop() {
					serveOpen(b, h, target)
				}
			})
		})
	}
}

// BenchmarkGateIndexMemory reports the heap the index holds per run, with
// 10,000 jobs and one run each on each of 14 days (a retry on every tenth):
// bytes/run is what sizing the window costs.
func BenchmarkGateIndexMemory(b *testing.B) {
	now := at("2026-06-15T12:00:00+09:00")
	var runs []kant.Run
	for d := 0; d < 14; d++ {
		day := kant.Date{Year: 2026, Month: 6, Day: 1 + d}.String()
		for i := range benchJobs {
			job := fmt.Sprintf("hegel/job_%05d", i)
			r := run(job, fmt.Sprintf("jr_%s_%05d", day, i), 1, kant.StateSucceeded, day+"T03:00:00+09:00")
			r.StartedAt = at(day + "T02:00:00+09:00")
			r.FinishedAt = r.StartedAt.Add(time.Hour)
			runs = append(runs, r)
			if i%10 == d%10 {
				r.Attempt, r.State, r.ErrorMessage = 2, kant.StateFailed, "Task failed: exit code 1"
				runs = append(runs, r)
			}
		}
	}
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ix := benchIndex(b, now)
		ix.Observe(context.Background(), runs)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(runs)), "bytes/run")
		runtime.KeepAlive(ix)
	}
}
