package alert_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/slo"
	"github.com/kantproject/kant/store/sqlite"
)

// The SQLite store satisfies what the Engine reads and writes.
var (
	_ alert.Reader = (*sqlite.DB)(nil)
	_ alert.Store  = (*sqlite.DB)(nil)
)

// t0 is the day of every scenario: 2026-06-01 00:00 UTC. SLOs tick at 01:00
// with a 06:00 deadline.
var t0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func at(h, m int) time.Time { return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }

func def(name string, jobs ...string) slo.Definition {
	sched, err := slo.ParseSchedule("0 1 * * *")
	if err != nil {
		panic(err)
	}
	return slo.Definition{Name: name, Jobs: jobs, Schedule: sched, Location: time.UTC,
		Deadline: &slo.Clock{Hour: 6}, Target: 0.9, Owner: "@data-platform", Channel: "#data-alerts"}
}

// call is one notifier call.
type call struct {
	Op, Channel, TS, Text string
}

func (c call) String() string { return fmt.Sprintf("%s %s %s %q", c.Op, c.Channel, c.TS, c.Text) }

// fakeNotifier records calls; fail, when set, decides an error per call.
type fakeNotifier struct {
	mu    sync.Mutex
	calls []call
	n     int
	fail  func(op string) error
}

func (f *fakeNotifier) do(op, channel, ts string, m alert.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(op); err != nil {
			return "", err
		}
	}
	if op == "post" {
		f.n++
		ts = fmt.Sprintf("1000.%06d", f.n)
		channel = "C" + strings.TrimPrefix(m.Channel, "#")
	}
	f.calls = append(f.calls, call{op, channel, ts, m.Text})
	return ts, nil
}

func (f *fakeNotifier) Post(_ context.Context, m alert.Message) (string, string, error) {
	ts, err := f.do("post", "", "", m)
	if err != nil {
		return "", "", err
	}
	return "C" + strings.TrimPrefix(m.Channel, "#"), ts, nil
}
func (f *fakeNotifier) Update(_ context.Context, ch, ts string, m alert.Message) error {
	_, err := f.do("update", ch, ts, m)
	return err
}
func (f *fakeNotifier) Reply(_ context.Context, ch, ts string, m alert.Message) error {
	_, err := f.do("reply", ch, ts, m)
	return err
}

// take returns the calls since the last take.
func (f *fakeNotifier) take() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func ops(calls []call) string {
	var s []string
	for _, c := range calls {
		s = append(s, c.Op)
	}
	return strings.Join(s, ",")
}

// world is kant's state for one scenario: a real SQLite store, the SLOs, a
// notifier, and an engine that can be restarted.
type world struct {
	t      *testing.T
	db     *sqlite.DB
	policy alert.Policy
	maint  []alert.Maintenance
	n      *fakeNotifier
	m      *deliveries
	engine *alert.Engine
	// mayDeliver, when set, is the engine's MayDeliver; store, when set,
	// replaces db as its Store (a fenced view).
	mayDeliver func() bool
	store      alert.Store
}

// deliveries is an alert.Metrics counting deliveries as "kind ok|failed".
type deliveries struct {
	mu     sync.Mutex
	counts map[string]int
}

func (d *deliveries) AlertDelivered(_ context.Context, kind string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	result := "ok"
	if err != nil {
		result = "failed"
	}
	d.counts[kind+" "+result]++
}

func newWorld(t *testing.T, defs ...slo.Definition) *world {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{t: t, db: db, n: &fakeNotifier{}, m: &deliveries{counts: map[string]int{}},
		policy: alert.Policy{SLOs: defs, Channel: "#kant", StatusURL: "https://kant.example.com",
			StaleAfter: map[string]time.Duration{}}}
	w.restart()
	return w
}

// restart replaces the engine, as a process restart would: nothing but the
// store survives.
func (w *world) restart() {
	w.t.Helper()
	var st alert.Store = w.db
	if w.store != nil {
		st = w.store
	}
	// The engine keeps the window's runs by the store's log, as in kant
	// serve on SQLite; TestTheRunsKeptByTheLogAreTheRunsTheStoreReturns
	// compares them with an engine reading them every tick.
	e, err := alert.New(alert.Config{Reader: w.db, Store: st, Log: w.db, Notifier: w.n, Metrics: w.m, Policy: w.policy,
		Maintenance: w.maint, MayDeliver: w.mayDeliver})
	if err != nil {
		w.t.Fatal(err)
	}
	w.engine = e
}

func (w *world) observe(runs ...kant.Run) {
	w.t.Helper()
	for i := range runs {
		if err := runs[i].Validate(); err != nil {
			w.t.Fatal(err)
		}
	}
	if _, err := w.db.WriteRuns(context.Background(), runs); err != nil {
		w.t.Fatal(err)
	}
}

// evaluate stores the verdicts as of now, as the evaluator would.
func (w *world) evaluate(now time.Time) {
	w.t.Helper()
	ctx := context.Background()
	from, to := kant.DateOf(t0), kant.DateOf(now)
	for _, d := range w.policy.SLOs {
		runs, err := w.db.LatestRuns(ctx, kant.RunFilter{Jobs: d.Jobs})
		if err != nil {
			w.t.Fatal(err)
		}
		var jobs []slo.Job
		seen := map[kant.JobKey]bool{}
		for _, p := range d.Jobs {
			if !kant.IsGlob(p) {
				seen[kant.JobKey(p)] = true
				jobs = append(jobs, slo.Job{Key: kant.JobKey(p), Since: from})
			}
		}
		for _, r := range runs {
			if !seen[r.Job] {
				seen[r.Job] = true
				jobs = append(jobs, slo.Job{Key: r.Job, Since: from})
			}
		}
		results, days := slo.Evaluate(d, jobs, runs, from, to, now)
		if err := w.db.WriteEvaluation(ctx, kant.Evaluation{SLO: d.Name, From: from, To: to, Results: results, Days: days}); err != nil {
			w.t.Fatal(err)
		}
	}
}

// tick evaluates and runs one engine tick at now, returning the notifier
// calls it made.
func (w *world) tick(now time.Time) []call {
	w.t.Helper()
	w.evaluate(now)
	if err := w.engine.Tick(context.Background(), now); err != nil {
		w.t.Fatal(err)
	}
	return w.n.take()
}

func (w *world) alerts() []kant.Alert {
	w.t.Helper()
	a, err := w.db.Alerts(context.Background(), kant.AlertFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// run returns an observation of job's run.
func run(job kant.JobKey, id string, attempt, max int, state kant.State, start, end time.Time, errMsg string) kant.Run {
	r := kant.Run{Source: job.Source(), Job: job, RunID: id, Attempt: attempt, MaxAttempts: max, State: state,
		StartedAt: start, FinishedAt: end, ErrorMessage: errMsg, ObservedAt: start}
	if !end.IsZero() {
		r.ObservedAt = end
	}
	return r
}

func expectOps(t *testing.T, what string, got []call, want string) {
	t.Helper()
	if ops(got) != want {
		t.Errorf("%s: calls %q, want %q:\n%v", what, ops(got), want, got)
	}
}
