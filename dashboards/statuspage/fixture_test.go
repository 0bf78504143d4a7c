package statuspage

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

var (
	tokyo  = mustLoad("Asia/Tokyo")
	london = mustLoad("Europe/London")
)

// fixedNow is the clock of every fixture: 09:30 in Tokyo, 01:30 in London,
// on 2026-06-10.
var fixedNow = time.Date(2026, 6, 10, 0, 30, 0, 0, time.UTC)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func mustSchedule(spec string) slo.Schedule {
	s, err := slo.ParseSchedule(spec)
	if err != nil {
		panic(err)
	}
	return s
}

func mustClock(s string) *slo.Clock {
	c, err := slo.ParseClock(s)
	if err != nil {
		panic(err)
	}
	return &c
}

func day(s string) kant.Date {
	d, err := kant.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// fixture is a known data set: two SLOs in different zones, five jobs, 90
// days of runs with a deterministic mix of outcomes, and a today with one
// job of each kind (met, late, failed and retrying, running, not started).
type fixture struct {
	defs    []slo.Definition
	runs    []kant.Run
	results []kant.Result
	days    []kant.Day
	health  []kant.SourceHealth
	stale   map[string]time.Duration
}

var (
	hegelJobs    = []kant.JobKey{"hegel/export_items", "hegel/export_users", "hegel/load_orders"}
	socratesJobs = []kant.JobKey{"socrates/daily_load.load_users", "socrates/daily_load.transform"}
)

func newFixture(now time.Time) *fixture {
	f := &fixture{
		defs: []slo.Definition{
			{Name: "hegel-nightly", Jobs: []string{"hegel/*"}, Schedule: mustSchedule("0 1 * * *"), Location: tokyo,
				Deadline: mustClock("06:00"), RecoverBy: mustClock("12:00"), Target: 0.95, Owner: "@data-platform"},
			{Name: "socrates-daily", Jobs: []string{"socrates/*"}, Schedule: mustSchedule("0 1 * * *"), Location: london,
				Within: 3 * time.Hour, Target: 0.9},
		},
		stale: map[string]time.Duration{"hegel": 30 * time.Minute, "socrates": 30 * time.Minute},
		health: []kant.SourceHealth{
			{Source: "hegel", LastSuccess: now.Add(-2 * time.Minute), LastAttempt: now.Add(-2 * time.Minute)},
			{Source: "socrates", LastSuccess: now.Add(-50 * time.Minute), LastAttempt: now.Add(-time.Minute),
				LastError: "airflow list dag runs: 503 Service Unavailable", ConsecutiveFailures: 3},
		},
	}
	obs := now
	add := func(job kant.JobKey, id string, attempt int, state kant.State, start, end time.Time, msg string) {
		r := kant.Run{Source: job.Source(), Job: job, RunID: id, Attempt: attempt, State: state,
			StartedAt: start, FinishedAt: end, ErrorMessage: msg, ObservedAt: obs}
		if !end.IsZero() {
			r.ObservedAt = end
		}
		f.runs = append(f.runs, r)
	}
	history := func(job kant.JobKey, loc *time.Location, tick time.Time, d kant.Date) {
		id := fmt.Sprintf("jr_%s_%s", job.Name(), d)
		switch h := hash(string(job)+d.String()) % 100; {
		case h < 90: // met
			add(job, id, 1, kant.StateSucceeded, tick.Add(2*time.Minute), tick.Add(time.Hour+time.Duration(h)*time.Minute/2), "")
		case h < 95: // late
			add(job, id, 1, kant.StateSucceeded, tick.Add(3*time.Hour), tick.Add(5*time.Hour+30*time.Minute), "")
		case h < 97: // failed, recovered by a retry
			add(job, id, 1, kant.StateFailed, tick.Add(time.Minute), tick.Add(40*time.Minute), "OutOfMemoryError: Java heap space")
			add(job, id, 2, kant.StateSucceeded, tick.Add(4*time.Hour), tick.Add(6*time.Hour), "")
		case h < 99: // failed for good
			add(job, id, 1, kant.StateFailed, tick.Add(time.Minute), tick.Add(20*time.Minute),
				"An error occurred while calling o123.save.\nTraceback (most recent call last):\n  File \"job.py\", line 42\nAccessDenied: s3://bucket/prefix")
		default: // never started
		}
		_ = loc
	}
	today := kant.DateOf(now.In(tokyo))
	for i := 89; i >= 1; i-- {
		d := today.AddDays(-i)
		for _, job := range hegelJobs {
			history(job, tokyo, time.Date(d.Year, d.Month, d.Day, 1, 0, 0, 0, tokyo), d)
		}
		for _, job := range socratesJobs {
			history(job, london, time.Date(d.Year, d.Month, d.Day, 1, 0, 0, 0, london), d)
		}
	}
	// Today in Tokyo (09:30): met, late, failed then retrying past the
	// deadline.
	jt := func(h, m int) time.Time { return time.Date(today.Year, today.Month, today.Day, h, m, 0, 0, tokyo) }
	add("hegel/export_users", "jr_export_users_today", 1, kant.StateSucceeded, jt(1, 2), jt(2, 15), "")
	add("hegel/export_items", "jr_export_items_today", 1, kant.StateSucceeded, jt(1, 5), jt(6, 40), "")
	add("hegel/load_orders", "jr_load_orders_today", 1, kant.StateFailed, jt(1, 1), jt(3, 10), "Glue: Command failed with exit code 1 <oops & \"quotes\">")
	add("hegel/load_orders", "jr_load_orders_today", 2, kant.StateRunning, jt(7, 0), time.Time{}, "")
	// Today in London (01:30): one running before its deadline, one not
	// started yet.
	lt := func(h, m int) time.Time { return time.Date(today.Year, today.Month, today.Day, h, m, 0, 0, london) }
	add("socrates/daily_load.load_users", "scheduled__2026-06-10T00:00:00+00:00", 1, kant.StateRunning, lt(1, 4), time.Time{}, "")
	_ = lt

	for _, def := range f.defs {
		var jobs []slo.Job
		for _, j := range append(slices.Clone(hegelJobs), socratesJobs...) {
			if def.Selects(j) {
				jobs = append(jobs, slo.Job{Key: j})
			}
		}
		res, days := slo.Evaluate(def, jobs, f.runs, today.AddDays(-89), today, now)
		f.results = append(f.results, res...)
		f.days = append(f.days, days...)
	}
	return f
}

func hash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

func (f *fixture) store() *memStore {
	return &memStore{runs: f.runs, results: f.results, days: f.days, health: f.health}
}

func (f *fixture) config(st *memStore) Config {
	return Config{
		Runs: st, Results: st, Health: st,
		SLOs: f.defs, Location: tokyo, StaleAfter: f.stale,
		ConsoleLink: func(r kant.Run) string {
			return "https://console.example.com/" + r.Source + "/runs/" + url.PathEscape(r.RunID)
		},
		Now: func() time.Time { return fixedNow },
	}
}

func (f *fixture) handler(t testing.TB) *Handler {
	t.Helper()
	h, err := New(f.config(f.store()))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// memStore is a hand-written in-memory reader with the store contract's
// filter semantics, enough for the pages.
type memStore struct {
	runs    []kant.Run
	results []kant.Result
	days    []kant.Day
	health  []kant.SourceHealth
	err     error
}

func (m *memStore) LatestRuns(_ context.Context, f kant.RunFilter) ([]kant.Run, error) {
	if m.err != nil {
		return nil, m.err
	}
	var out []kant.Run
	for _, r := range m.runs {
		if len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, r.Job) {
			continue
		}
		if !r.LogicalDate.IsZero() {
			if (!f.DateFrom.IsZero() && r.LogicalDate.Before(f.DateFrom)) || (!f.DateTo.IsZero() && r.LogicalDate.After(f.DateTo)) {
				continue
			}
		} else if (!f.From.IsZero() && r.At().Before(f.From)) || (!f.To.IsZero() && !r.At().Before(f.To)) {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b kant.Run) int { return a.At().Compare(b.At()) })
	return out, nil
}

func (m *memStore) Results(_ context.Context, f kant.ResultFilter) ([]kant.Result, error) {
	if m.err != nil {
		return nil, m.err
	}
	var out []kant.Result
	for _, r := range m.results {
		if (f.SLO != "" && r.SLO != f.SLO) || (len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, r.Job)) ||
			(!f.From.IsZero() && r.Date.Before(f.From)) || (!f.To.IsZero() && r.Date.After(f.To)) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func (m *memStore) Days(_ context.Context, f kant.ResultFilter) ([]kant.Day, error) {
	if m.err != nil {
		return nil, m.err
	}
	var out []kant.Day
	for _, d := range m.days {
		if (f.SLO != "" && d.SLO != f.SLO) || (!f.From.IsZero() && d.Date.Before(f.From)) || (!f.To.IsZero() && d.Date.After(f.To)) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

func (m *memStore) SourceHealth(context.Context) ([]kant.SourceHealth, error) {
	if m.err != nil {
		return nil, m.err
	}
	return m.health, nil
}
