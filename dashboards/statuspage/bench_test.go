package statuspage

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// bigDay is one SLO over 500 jobs on one day: a mix of met, late,
// failed-and-retried, running and not started.
func bigDay(b testing.TB) *fixture {
	def := slo.Definition{Name: "big-nightly", Jobs: []string{"big/*"}, Schedule: mustSchedule("0 1 * * *"),
		Location: tokyo, Deadline: mustClock("06:00"), Target: 0.95}
	today := kant.DateOf(fixedNow.In(tokyo))
	tick := time.Date(today.Year, today.Month, today.Day, 1, 0, 0, 0, tokyo)
	var runs []kant.Run
	var jobs []slo.Job
	for i := range 500 {
		job := kant.NewJobKey("big", fmt.Sprintf("job_%03d", i))
		jobs = append(jobs, slo.Job{Key: job})
		r := kant.Run{Source: "big", Job: job, RunID: "r" + fmt.Sprint(i), Attempt: 1, ObservedAt: fixedNow,
			StartedAt: tick.Add(time.Duration(i%60) * time.Minute)}
		switch i % 10 {
		case 7: // late
			r.State, r.FinishedAt = kant.StateSucceeded, tick.Add(5*time.Hour+time.Duration(i%90)*time.Minute)
		case 8: // failed, then a running retry
			r.State, r.FinishedAt, r.ErrorMessage = kant.StateFailed, r.StartedAt.Add(20*time.Minute), "exit code 1"
			retry := r
			retry.Attempt, retry.State, retry.FinishedAt, retry.ErrorMessage = 2, kant.StateRunning, time.Time{}, ""
			retry.StartedAt = tick.Add(6 * time.Hour)
			runs = append(runs, retry)
		case 9: // not started
			continue
		default:
			r.State, r.FinishedAt = kant.StateSucceeded, r.StartedAt.Add(time.Duration(20+i%100)*time.Minute)
		}
		runs = append(runs, r)
	}
	results, days := slo.Evaluate(def, jobs, runs, today, today, fixedNow)
	return &fixture{defs: []slo.Definition{def}, runs: runs, results: results, days: days,
		health: []kant.SourceHealth{{Source: "big", LastSuccess: fixedNow.Add(-time.Minute)}},
		stale:  map[string]time.Duration{"big": 30 * time.Minute}}
}

func benchHome(b testing.TB) *Handler {
	f := bigDay(b)
	st := f.store()
	h, err := New(Config{Runs: st, Results: st, Health: st, SLOs: f.defs, Location: tokyo,
		StaleAfter: f.stale, Now: func() time.Time { return fixedNow }})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// benchCalendar is 50 SLOs with 90 days each.
func benchCalendar(b *testing.B) *Handler {
	var defs []slo.Definition
	var days []kant.Day
	today := kant.DateOf(fixedNow.In(tokyo))
	for s := range 50 {
		def := slo.Definition{Name: fmt.Sprintf("slo-%02d", s), Jobs: []string{fmt.Sprintf("src%02d/*", s)},
			Schedule: mustSchedule("0 1 * * *"), Location: tokyo, Deadline: mustClock("06:00"), Target: 0.95}
		defs = append(defs, def)
		for i := 89; i >= 0; i-- {
			d := kant.Day{SLO: def.Name, Date: today.AddDays(-i), Occurrences: 10, Met: 10, SLOMet: true, SLAMet: true, Final: i > 0}
			switch (s + i) % 17 {
			case 3:
				d.Met, d.Late, d.SLOMet = 9, 1, false
			case 11:
				d.Met, d.Missed, d.SLOMet, d.SLAMet = 8, 2, false, false
			}
			days = append(days, d)
		}
	}
	st := &memStore{days: days}
	h, err := New(Config{Runs: st, Results: st, SLOs: defs, Location: tokyo, Now: func() time.Time { return fixedNow }})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func benchPage(b *testing.B, h http.Handler, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d", path, rec.Code)
	}
	b.SetBytes(int64(rec.Body.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/page")
}

// BenchmarkHome500Jobs renders the home page of one day with 500 jobs
// (reading from an in-memory store, so the figure is the page's own cost).
func BenchmarkHome500Jobs(b *testing.B) { benchPage(b, benchHome(b), "/?date=2026-06-10") }

// BenchmarkHome500JobsSQLite is BenchmarkHome500Jobs reading from a SQLite
// store in a temp file: the page as kant serve renders it.
func BenchmarkHome500JobsSQLite(b *testing.B) {
	f := bigDay(b)
	db := openSQLite(b, f)
	if err := db.RecordPoll(context.Background(), "big", fixedNow.Add(-time.Minute), ""); err != nil {
		b.Fatal(err)
	}
	h, err := New(Config{Runs: db, Results: db, Health: db, SLOs: f.defs, Location: tokyo,
		StaleAfter: f.stale, Now: func() time.Time { return fixedNow }})
	if err != nil {
		b.Fatal(err)
	}
	benchPage(b, h, "/?date=2026-06-10")
}

// BenchmarkCalendar50SLOs renders the 90-day calendar of 50 SLOs.
func BenchmarkCalendar50SLOs(b *testing.B) { benchPage(b, benchCalendar(b), "/calendar") }
