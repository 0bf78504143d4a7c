package gate_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
