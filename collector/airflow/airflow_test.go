package airflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/collectortest"
)

// t0 is "now" at the start of every test: 03:00 UTC, 12:00 in Tokyo.
var t0 = time.Date(2026, 6, 10, 3, 0, 0, 0, time.UTC)

var tokyo = mustZone("Asia/Tokyo")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

type harness struct {
	fake     *fakeAirflow
	url      string
	clock    *collectortest.Clock
	cps      *collectortest.Checkpoints
	runs     *collectortest.Ingester
	health   *collectortest.Health
	sleeps   *collectortest.Sleeps
	interval time.Duration // the engine's
	cfg      Config
	deps     Deps
	src      *Poller // the source of the last engine built
}

func newHarness(t testing.TB, api string) *harness {
	t.Helper()
	fake, srv := newFakeAirflow(t, api)
	h := &harness{fake: fake, url: srv.URL, clock: collectortest.NewClock(t0), cps: &collectortest.Checkpoints{},
		runs: &collectortest.Ingester{}, health: &collectortest.Health{}, sleeps: &collectortest.Sleeps{}, interval: 2 * time.Minute}
	h.cfg = Config{Source: "socrates", URL: srv.URL, DAGs: []string{"*"}, Now: h.clock.Now, Location: tokyo}
	h.deps = Deps{HTTPClient: srv.Client(), Sleep: h.sleeps.Sleep}
	return h
}

// source returns a Poller of the fake.
func (h *harness) source(t testing.TB) *Poller {
	t.Helper()
	p, err := New(context.Background(), h.cfg, h.deps)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// poller returns a Poller of the fake (kept in h.src) in the engine that
// polls it, which sleeps with the Poller's Sleep.
func (h *harness) poller(t testing.TB) *collector.Engine {
	t.Helper()
	h.src = h.source(t)
	e, err := collector.NewEngine(collector.EngineConfig{Source: h.src, Ingester: h.runs, Checkpoints: h.cps, Health: h.health,
		Interval: h.interval, Now: h.clock.Now, Sleep: h.deps.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// take returns and forgets the runs stored so far.
func (h *harness) take() []kant.Run {
	runs, _ := h.runs.Take()
	return runs
}

func pollOK(t testing.TB, p *collector.Engine) int {
	t.Helper()
	n, err := p.PollOnce(context.Background())
	if err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	return n
}

// day is the run of dag ticking at 01:00 Tokyo on 2026-06-<d>
// (16:00 UTC the day before), run id scheduled__<tick>.
func day(dag string, d int, state string) fakeRun {
	tick := time.Date(2026, 6, d, 1, 0, 0, 0, tokyo)
	r := fakeRun{DagID: dag, RunID: "scheduled__" + tick.UTC().Format(time.RFC3339), State: state, Tick: tick, Start: tick.Add(time.Minute)}
	if state == "success" || state == "failed" {
		r.End = r.Start.Add(30 * time.Minute)
	}
	return r
}

func ti(r fakeRun, task, state string, try, maxTries int) fakeTI {
	x := fakeTI{DagID: r.DagID, TaskID: task, RunID: r.RunID, MapIndex: -1, State: state, Try: try, MaxTries: maxTries}
	switch state {
	case "", "scheduled", "queued":
	default:
		x.Start = r.Start.Add(time.Minute)
	}
	switch state {
	case "success", "failed", "upstream_failed", "skipped", "removed", "up_for_retry":
		x.End = x.Start.Add(10 * time.Minute)
		if x.Start.IsZero() {
			x.Start = r.Start
			x.End = r.Start
		}
	}
	return x
}

func byJob(runs []kant.Run) map[kant.JobKey]kant.Run {
	m := map[kant.JobKey]kant.Run{}
	for _, r := range runs {
		m[r.Job] = r
	}
	return m
}

func TestPollBothAPIs(t *testing.T) {
	for _, api := range []string{APIv1, APIv2} {
		t.Run("a task-level poll of Airflow "+api+" maps task instances to runs dated by the tick in the SLO zone", func(t *testing.T) {
			h := newHarness(t, api)
			h.fake.addDAGs("daily_load", "other")
			r := day("daily_load", 9, "success")
			h.fake.addRun(r)
			h.fake.addTI(ti(r, "load_users", "success", 1, 2), ti(r, "load_items", "success", 2, 2))
			p := h.poller(t)
			if n := pollOK(t, p); n != 2 {
				t.Fatalf("stored %d, want 2", n)
			}
			got := byJob(h.take())
			u, ok := got["socrates/daily_load.load_users"]
			if !ok {
				t.Fatalf("no run of daily_load.load_users in %v", got)
			}
			want := kant.Date{Year: 2026, Month: 6, Day: 9}
			if u.LogicalDate != want || u.RunID != r.RunID || u.State != kant.StateSucceeded || u.SourceState != "success" || u.Attempt != 1 {
				t.Errorf("run = %+v, want date %s, run id %s, succeeded attempt 1", u, want, r.RunID)
			}
			if !u.StartedAt.Equal(r.Start.Add(time.Minute)) || !u.FinishedAt.Equal(r.Start.Add(11*time.Minute)) {
				t.Errorf("times = %v..%v", u.StartedAt, u.FinishedAt)
			}
			if it := got["socrates/daily_load.load_items"]; it.Attempt != 2 {
				t.Errorf("load_items attempt = %d, want try_number 2", it.Attempt)
			}
			if h.health.Last() != "" {
				t.Errorf("health = %q", h.health.Last())
			}
		})
		t.Run("a DAG-level poll of Airflow "+api+" maps DAG runs to runs of the DAG", func(t *testing.T) {
			h := newHarness(t, api)
			h.cfg.Level = LevelDAG
			h.fake.addDAGs("daily_load")
			h.fake.addRun(day("daily_load", 8, "success"))
			h.fake.addRun(day("daily_load", 9, "failed"))
			h.fake.addRun(day("daily_load", 10, "running"))
			pollOK(t, h.poller(t))
			runs := h.take()
			slices.SortFunc(runs, func(a, b kant.Run) int { return a.LogicalDate.Compare(b.LogicalDate) })
			var got []string
			for _, r := range runs {
				got = append(got, fmt.Sprintf("%s %s %s", r.Job, r.LogicalDate, r.State))
			}
			want := []string{
				"socrates/daily_load 2026-06-08 succeeded",
				"socrates/daily_load 2026-06-09 failed",
				"socrates/daily_load 2026-06-10 running",
			}
			if !slices.Equal(got, want) {
				t.Errorf("runs =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for _, api := range []string{APIv1, APIv2} {
		t.Run("an Airflow speaking "+api+" is detected when api is not configured", func(t *testing.T) {
			h := newHarness(t, api)
			h.fake.addDAGs("d")
			p := h.poller(t)
			pollOK(t, p)
			if h.src.api != api {
				t.Errorf("detected %q, want %q", h.src.api, api)
			}
		})
	}
	t.Run("a configured api is used without asking the server", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.API = APIv2
		h.fake.addDAGs("d")
		pollOK(t, h.poller(t))
		if n := h.fake.byPath["GET /version"]; n != 0 {
			t.Errorf("version read %d times", n)
		}
	})
}
