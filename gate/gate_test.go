package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/gate"
	"github.com/kantproject/kant/slo"
	"github.com/kantproject/kant/store/sqlite"
)

var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// nightly is the SLO of hegel's Glue exports: 01:00 JST on Japanese business
// days, due by 06:00.
func nightly(t testing.TB) slo.Definition {
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
	return slo.Definition{Name: "hegel-nightly", Jobs: []string{"hegel/*", "hegel/never_ran"}, Schedule: sched,
		Location: tokyo, Calendar: cal, Deadline: &deadline, Target: 0.95}
}

// run is an observation of hegel's job on business date 2026-06-01 (a Monday).
func run(job, id string, attempt int, state kant.State, observed string) kant.Run {
	r := kant.Run{Source: kant.JobKey(job).Source(), Job: kant.JobKey(job), RunID: id, Attempt: attempt, State: state,
		StartedAt: at("2026-06-01T01:00:00+09:00"), ObservedAt: at(observed), SourceState: string(state)}
	if state.Terminal() {
		r.FinishedAt = at(observed)
	}
	return r
}

type fixture struct {
	ix  *gate.Index
	srv *httptest.Server
	now time.Time
}

func newFixture(t *testing.T, now time.Time, runs ...kant.Run) *fixture {
	t.Helper()
	f := &fixture{now: now}
	f.ix = gate.New(gate.Config{
		SLOs:     []slo.Definition{nightly(t)},
		Sources:  []gate.Source{{Name: "hegel"}, {Name: "glue_prod", StaleAfter: 30 * time.Minute}},
		Location: tokyo,
		Now:      func() time.Time { return f.now },
	})
	f.ix.Observe(context.Background(), runs)
	f.srv = httptest.NewServer(gate.NewHandler(f.ix, nil))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) get(t *testing.T, query string) (int, gate.Answer, string) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/v1/gate?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	b, _ := json.Marshal(raw)
	var a gate.Answer
	json.Unmarshal(b, &a)
	errMsg, _ := raw["error"].(string)
	return resp.StatusCode, a, errMsg
}

// result is what a request answered.
type result struct {
	status int
	a      gate.Answer
	err    error // the body was not a gate answer
}

// serve answers query with h in process, without a network: inside a
// synctest bubble the handler's long-poll is then durably blocked while it
// waits, so synctest.Wait returns exactly when it has parked.
func serve(h http.Handler, query string) result {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/gate?"+query, nil))
	var a gate.Answer
	err := json.Unmarshal(rec.Body.Bytes(), &a)
	return result{rec.Code, a, err}
}

// longPoll starts a request for query on h and returns where its result
// will come.
func longPoll(h http.Handler, query string) <-chan result {
	done := make(chan result, 1)
	go func() { done <- serve(h, query) }()
	return done
}

// answered returns the result of a long-poll if it has answered.
func answered(done <-chan result) (result, bool) {
	select {
	case r := <-done:
		return r, true
	default:
		return result{}, false
	}
}

// newIndex returns an index like newFixture's, holding runs, with the
// clock *now; call it inside the synctest bubble that uses it.
func newIndex(t *testing.T, now *time.Time, runs ...kant.Run) *gate.Index {
	ix := gate.New(gate.Config{
		SLOs:     []slo.Definition{nightly(t)},
		Sources:  []gate.Source{{Name: "hegel"}, {Name: "glue_prod", StaleAfter: 30 * time.Minute}},
		Location: tokyo,
		Now:      func() time.Time { return *now },
	})
	ix.Observe(context.Background(), runs)
	return ix
}

func TestGateAnswers(t *testing.T) {
	morning := at("2026-06-01T07:00:00+09:00")
	failed := run("hegel/export_users", "jr_1", 1, kant.StateFailed, "2026-06-01T02:00:00+09:00")
	failed.ErrorMessage = "OutOfMemory"
	retrying := failed
	retrying.MaxAttempts = 2
	tests := []struct {
		name   string
		runs   []kant.Run
		query  string
		status int
		reason string // of the first job
		err    string
	}{
		{name: "every job succeeded: open",
			runs:  []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")},
			query: "jobs=hegel/export_users&date=2026-06-01", status: 200, reason: "succeeded"},
		{name: "a running job is not yet",
			runs:  []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00")},
			query: "jobs=hegel/export_users&date=2026-06-01", status: 404, reason: "running"},
		{name: "a queued job is not yet",
			runs:  []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateQueued, "2026-06-01T01:00:00+09:00")},
			query: "jobs=hegel/export_users&date=2026-06-01", status: 404, reason: "queued"},
		{name: "a job with no run for the date is not yet",
			runs:  []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")},
			query: "jobs=hegel/export_users&date=2026-06-02", status: 404, reason: "not_started"},
		{name: "a job named by an SLO that never ran is not yet",
			query: "jobs=hegel/never_ran&date=2026-06-01", status: 404, reason: "not_started"},
		{name: "a failure with no retry to come fails fast",
			runs:  []kant.Run{failed},
			query: "jobs=hegel/export_users&date=2026-06-01", status: 409, reason: "failed"},
		{name: "a failed attempt with a retry to come is not yet",
			runs:  []kant.Run{retrying},
			query: "jobs=hegel/export_users&date=2026-06-01", status: 404, reason: "retry_pending"},
		{name: "a failure then a successful retry is open",
			runs: []kant.Run{retrying,
				run("hegel/export_users", "jr_2", 2, kant.StateSucceeded, "2026-06-01T04:00:00+09:00")},
			query: "jobs=hegel/export_users&date=2026-06-01", status: 200, reason: "succeeded"},
		{name: "the last allowed attempt failing fails fast",
			runs: []kant.Run{retrying, func() kant.Run {
				r := run("hegel/export_users", "jr_2", 2, kant.StateFailed, "2026-06-01T04:00:00+09:00")
				r.MaxAttempts = 2
				return r
			}()},
			query: "jobs=hegel/export_users&date=2026-06-01", status: 409, reason: "failed"},
		{name: "one failed job among running ones fails fast",
			runs: []kant.Run{failed,
				run("hegel/export_items", "jr_3", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00")},
			query: "jobs=hegel/*&date=2026-06-01", status: 409, reason: "running"},
		{name: "a glob selects every matching job and opens only when all succeeded",
			runs: []kant.Run{
				run("hegel/export_items", "jr_3", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00"),
				run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00")},
			query: "jobs=hegel/export_*&date=2026-06-01", status: 404, reason: "succeeded"},
		{name: "an SLO selects its jobs including the one that never ran",
			runs: []kant.Run{
				run("hegel/export_items", "jr_3", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00"),
				run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")},
			query: "slo=hegel-nightly&date=2026-06-01", status: 404, reason: "succeeded"},
		{name: "without a date the SLO's current occurrence is asked",
			runs:  []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")},
			query: "jobs=hegel/export_users", status: 200, reason: "succeeded"},
		{name: "a source past its staleness bound is not yet even after a success",
			runs:  []kant.Run{run("glue_prod/load", "jr_9", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")},
			query: "jobs=glue_prod/load&date=2026-06-01", status: 404, reason: "stale"},
		{name: "an unknown job is a bad request suggesting a close match",
			runs:  []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")},
			query: "jobs=hegel/export_user&date=2026-06-01", status: 400, err: `unknown job "hegel/export_user" (did you mean "hegel/export_users"?)`},
		{name: "a glob matching nothing is a bad request",
			query: "jobs=socrates/*&date=2026-06-01", status: 400, err: `job "socrates/*" matches no known job`},
		{name: "an unknown SLO is a bad request suggesting a close match",
			query: "slo=hegel-nigthly", status: 400, err: `unknown slo "hegel-nigthly" (did you mean "hegel-nightly"?)`},
		{name: "a bad date is a bad request",
			runs:  []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")},
			query: "jobs=hegel/export_users&date=06/01", status: 400, err: "date: bad date"},
		{name: "neither jobs nor slo is a bad request",
			query: "date=2026-06-01", status: 400, err: "jobs or slo is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, morning, tt.runs...)
			status, a, errMsg := f.get(t, tt.query)
			if status != tt.status {
				t.Fatalf("status %d, want %d (answer %+v, error %q)", status, tt.status, a, errMsg)
			}
			if tt.err != "" {
				if !strings.Contains(errMsg, tt.err) {
					t.Errorf("error %q, want %q", errMsg, tt.err)
				}
				return
			}
			if a.Open != (status == 200) || len(a.Jobs) == 0 || a.Jobs[0].Reason != tt.reason {
				t.Errorf("answer %+v, want first job reason %q", a, tt.reason)
			}
		})
	}
}

func TestTheGateNeverOpensOnAHolidayWithoutARun(t *testing.T) {
	// 2026-11-23 is Labour Thanksgiving Day: no occurrence, and no run.
	f := newFixture(t, at("2026-11-23T12:00:00+09:00"),
		run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00"))
	status, a, _ := f.get(t, "jobs=hegel/export_users&date=2026-11-23")
	if status != 404 || a.Jobs[0].Reason != gate.ReasonNotScheduled {
		t.Errorf("status %d, answer %+v: want 404 not_scheduled", status, a)
	}
}

func TestALongPollIsWokenByAStateChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := at("2026-06-01T02:00:00+09:00")
		ix := newIndex(t, &now, run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00"))
		done := longPoll(gate.NewHandler(ix, nil), "jobs=hegel/export_users&date=2026-06-01&wait=60s")
		synctest.Wait() // the request is parked in its long-poll
		if r, ok := answered(done); ok {
			t.Fatalf("answered %d before any change, want it to wait", r.status)
		}
		ix.Observe(context.Background(), []kant.Run{
			run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")})
		synctest.Wait()
		r, ok := answered(done)
		if !ok {
			t.Fatal("the long-poll was not woken by the success")
		}
		if r.err != nil || r.status != 200 || !r.a.Open {
			t.Errorf("woken with %d %+v (%v), want 200 open", r.status, r.a, r.err)
		}
	})
}

func TestALongPollIgnoresChangesThatDoNotChangeTheAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := at("2026-06-01T02:00:00+09:00")
		ix := newIndex(t, &now, run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00"))
		done := longPoll(gate.NewHandler(ix, nil), "jobs=hegel/export_users&date=2026-06-01&wait=60s")
		synctest.Wait() // parked
		// Another job's change wakes the poll, and a repeated observation
		// of the same run changes nothing it answers: the poll goes back
		// to waiting.
		ix.Observe(context.Background(), []kant.Run{run("hegel/other", "x", 1, kant.StateRunning, "2026-06-01T02:00:00+09:00")})
		ix.ObservePoll("hegel", now, nil)
		synctest.Wait() // woken, and parked again or answered
		if r, ok := answered(done); ok {
			t.Fatalf("answered %d %+v on a change that did not change its answer, want it to keep waiting", r.status, r.a)
		}
		if ix.Waiting() != 1 {
			t.Fatalf("%d long-polls waiting, want 1", ix.Waiting())
		}
		ix.Observe(context.Background(), []kant.Run{
			run("hegel/export_users", "jr_1", 1, kant.StateFailed, "2026-06-01T03:00:00+09:00")})
		synctest.Wait()
		r, ok := answered(done)
		if !ok || r.status != 409 {
			t.Errorf("after the failure: answered %v, status %d; want 409", ok, r.status)
		}
	})
}

func TestALongPollBeyondMaxWaitingIsAnsweredAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := at("2026-06-01T02:00:00+09:00")
		ix := gate.New(gate.Config{
			SLOs:       []slo.Definition{nightly(t)},
			Sources:    []gate.Source{{Name: "hegel"}},
			Location:   tokyo,
			Now:        func() time.Time { return now },
			MaxWaiting: 1,
		})
		ix.Observe(context.Background(), []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00")})
		h := gate.NewHandler(ix, nil)
		first := longPoll(h, "jobs=hegel/export_users&date=2026-06-01&wait=60s")
		synctest.Wait()
		second := longPoll(h, "jobs=hegel/export_users&date=2026-06-01&wait=60s")
		synctest.Wait()
		if r, ok := answered(second); !ok || r.status != 404 {
			t.Fatalf("the poll beyond MaxWaiting: answered %v %d, want 404 at once", ok, r.status)
		}
		if _, ok := answered(first); ok || ix.Waiting() != 1 {
			t.Fatalf("the first poll answered %v with %d waiting, want it held alone", ok, ix.Waiting())
		}
		ix.Observe(context.Background(), []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")})
		synctest.Wait()
		if r, ok := answered(first); !ok || r.status != 200 || ix.Waiting() != 0 {
			t.Errorf("after the success: answered %v %d with %d waiting, want 200 and none", ok, r.status, ix.Waiting())
		}
	})
}

func TestTheIndexIsRebuiltFromTheStoreAfterARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kant.db")
	db, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	runs := []kant.Run{
		run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00"),
		run("hegel/export_items", "jr_2", 1, kant.StateFailed, "2026-06-01T03:00:00+09:00"),
	}
	if _, err := db.WriteRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordPoll(ctx, "glue_prod", at("2026-06-01T06:50:00+09:00"), ""); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := at("2026-06-01T07:00:00+09:00")
	ix := gate.New(gate.Config{SLOs: []slo.Definition{nightly(t)}, Location: tokyo,
		Sources: []gate.Source{{Name: "glue_prod", StaleAfter: 30 * time.Minute}},
		Now:     func() time.Time { return now }})
	if ix.Ready() == nil {
		t.Fatal("ready before the rebuild")
	}
	if err := ix.Rebuild(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := ix.Ready(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gate.NewHandler(ix, nil))
	defer srv.Close()
	f := &fixture{ix: ix, srv: srv, now: now}
	if status, a, _ := f.get(t, "jobs=hegel/export_users&date=2026-06-01"); status != 200 {
		t.Errorf("export_users after restart: %d %+v, want 200", status, a)
	}
	if status, a, _ := f.get(t, "jobs=hegel/*&date=2026-06-01"); status != 409 {
		t.Errorf("hegel/* after restart: %d %+v, want 409", status, a)
	}
	// The last good poll came back from the store too: glue_prod is fresh.
	if _, err := db.WriteRuns(ctx, []kant.Run{run("glue_prod/load", "r", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")}); err != nil {
		t.Fatal(err)
	}
	ix.Observe(ctx, []kant.Run{run("glue_prod/load", "r", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")})
	if status, a, _ := f.get(t, "jobs=glue_prod/load&date=2026-06-01"); status != 200 {
		t.Errorf("glue_prod/load: %d %+v, want 200 (polled 10 minutes ago)", status, a)
	}
	// A date older than the index window is answered from the store.
	f.now = at("2026-07-15T07:00:00+09:00")
	if status, a, _ := f.get(t, "jobs=hegel/export_users&date=2026-06-01"); status != 200 {
		t.Errorf("an old date: %d %+v, want 200 from the store", status, a)
	}
}

func TestARepeatedQueryNeverGetsAnOutdatedAnswer(t *testing.T) {
	f := newFixture(t, at("2026-06-01T03:10:00+09:00"),
		run("glue_prod/load", "jr_1", 1, kant.StateRunning, "2026-06-01T03:00:00+09:00"))
	q := "jobs=glue_prod/load&date=2026-06-01"
	if status, a, _ := f.get(t, q); status != 404 || a.Jobs[0].Reason != gate.ReasonRunning {
		t.Fatalf("first: %d %+v, want 404 running", status, a)
	}
	// A new observation changes the answer to the same query at once.
	f.ix.Observe(context.Background(), []kant.Run{run("glue_prod/load", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:20:00+09:00")})
	f.now = at("2026-06-01T03:20:00.5+09:00")
	if status, a, _ := f.get(t, q); status != 200 {
		t.Fatalf("after the success: %d %+v, want 200", status, a)
	}
	// Asked again just before the source's bound, then just after it with
	// nothing new observed: the source is stale, the gate no longer open.
	f.now = at("2026-06-01T03:49:59.5+09:00") // cached for a second, but not past the bound
	if status, _, _ := f.get(t, q); status != 200 {
		t.Fatalf("within the staleness bound: %d, want 200", status)
	}
	f.now = at("2026-06-01T03:50:00.001+09:00")
	if status, a, _ := f.get(t, q); status != 404 || a.Jobs[0].Reason != gate.ReasonStale {
		t.Errorf("past the staleness bound: %d %+v, want 404 stale", status, a)
	}
}

func TestTheLatestRunDecides(t *testing.T) {
	success := run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")
	rerun := func(state kant.State) kant.Run {
		r := run("hegel/export_users", "jr_2", 1, state, "2026-06-01T09:00:00+09:00")
		r.StartedAt = at("2026-06-01T08:00:00+09:00")
		return r
	}
	tests := []struct {
		name   string
		runs   []kant.Run
		status int
		reason string
	}{
		{"a success followed by a failed re-run fails", []kant.Run{success, rerun(kant.StateFailed)}, 409, gate.ReasonFailed},
		{"a success followed by a running re-run is not yet open", []kant.Run{success, rerun(kant.StateRunning)}, 404, gate.ReasonRunning},
		{"a failure followed by a successful re-run is open", []kant.Run{rerun(kant.StateSucceeded),
			run("hegel/export_users", "jr_1", 1, kant.StateFailed, "2026-06-01T03:00:00+09:00")}, 200, gate.ReasonSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, at("2026-06-01T10:00:00+09:00"), tt.runs...)
			status, a, _ := f.get(t, "jobs=hegel/export_users&date=2026-06-01")
			if status != tt.status || a.Jobs[0].Reason != tt.reason {
				t.Errorf("%d %+v, want %d %s", status, a, tt.status, tt.reason)
			}
		})
	}
}

func TestARunMovedToAnotherDateLeavesTheOldOne(t *testing.T) {
	r := run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-02T03:00:00+09:00")
	r.LogicalDate = kant.Date{Year: 2026, Month: 6, Day: 2}
	f := newFixture(t, at("2026-06-02T10:00:00+09:00"), r)
	if status, _, _ := f.get(t, "jobs=hegel/export_users&date=2026-06-02"); status != 200 {
		t.Fatalf("before the correction: %d, want 200", status)
	}
	corrected := r
	corrected.LogicalDate = kant.Date{Year: 2026, Month: 6, Day: 1}
	corrected.ObservedAt = r.ObservedAt.Add(time.Minute)
	f.ix.Observe(context.Background(), []kant.Run{corrected})
	if status, a, _ := f.get(t, "jobs=hegel/export_users&date=2026-06-02"); status != 404 || a.Jobs[0].Reason != gate.ReasonNotStarted {
		t.Errorf("2026-06-02 after the correction: %d %+v, want 404 not_started", status, a)
	}
	if status, _, _ := f.get(t, "jobs=hegel/export_users&date=2026-06-01"); status != 200 {
		t.Errorf("2026-06-01 after the correction: %d, want 200", status)
	}
	// An older observation arriving late changes nothing.
	f.ix.Observe(context.Background(), []kant.Run{r})
	if status, _, _ := f.get(t, "jobs=hegel/export_users&date=2026-06-01"); status != 200 {
		t.Errorf("after a late older observation: %d, want 200", status)
	}
}

func TestAnSLOQueryAttributesRunsByThatSLO(t *testing.T) {
	tokyoSLO := nightly(t)
	tokyoSLO.Jobs = []string{"hegel/*"}
	utcSLO := tokyoSLO
	utcSLO.Name, utcSLO.Location, utcSLO.Calendar = "hegel-utc", time.UTC, nil
	now := at("2026-06-02T03:00:00Z")
	ix := gate.New(gate.Config{SLOs: []slo.Definition{tokyoSLO, utcSLO}, Location: tokyo, Now: func() time.Time { return now }})
	// 17:00Z on 06-01 is 02:00 on 06-02 in Tokyo: the Tokyo SLO's 06-02
	// occurrence, but the UTC SLO's 06-01 one (its 01:00Z tick).
	r := run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T18:00:00Z")
	r.StartedAt = at("2026-06-01T17:00:00Z")
	ix.Observe(context.Background(), []kant.Run{r})
	srv := httptest.NewServer(gate.NewHandler(ix, nil))
	defer srv.Close()
	f := &fixture{ix: ix, srv: srv, now: now}
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"slo=hegel-nightly&date=2026-06-02", 200},
		{"slo=hegel-utc&date=2026-06-01", 200},
		{"slo=hegel-utc&date=2026-06-02", 404},
	} {
		if status, a, _ := f.get(t, tc.query); status != tc.status {
			t.Errorf("%s: %d %+v, want %d", tc.query, status, a, tc.status)
		}
	}
}

func TestClosingTheHandlerEndsLongPolls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := at("2026-06-01T02:00:00+09:00")
		ix := newIndex(t, &now, run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00"))
		h := gate.NewHandler(ix, nil)
		done := longPoll(h, "jobs=hegel/export_users&date=2026-06-01&wait=60s")
		synctest.Wait() // parked
		h.Close()
		synctest.Wait()
		r, ok := answered(done)
		if !ok || r.status != 404 {
			t.Errorf("a long-poll ended by Close: answered %v with %d, want at once with its current answer, 404", ok, r.status)
		}
	})
}

func TestALongPollAnswersWhenItsWaitEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := at("2026-06-01T02:00:00+09:00")
		ix := newIndex(t, &now, run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00"))
		done := longPoll(gate.NewHandler(ix, nil), "jobs=hegel/export_users&date=2026-06-01&wait=30s")
		time.Sleep(30*time.Second - time.Millisecond) // the bubble's clock: no real wait
		synctest.Wait()
		if _, ok := answered(done); ok {
			t.Fatal("answered before its wait ended")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if r, ok := answered(done); !ok || r.status != 404 || r.a.Jobs[0].Reason != gate.ReasonRunning {
			t.Errorf("at the end of its wait: answered %v %d %+v, want 404 running", ok, r.status, r.a)
		}
	})
}

// storedFixture serves an index rebuilt from an empty SQLite store, and
// returns the store and the log's cursor taken before the rebuild, as
// kant serve takes it.
func storedFixture(t *testing.T) (*fixture, *sqlite.DB, string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "kant.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, cursor, err := db.ObservationsAfter(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	now := at("2026-06-01T07:00:00+09:00")
	ix := gate.New(gate.Config{SLOs: []slo.Definition{nightly(t)}, Location: tokyo, Now: func() time.Time { return now }})
	if err := ix.Rebuild(ctx, db); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gate.NewHandler(ix, nil))
	t.Cleanup(srv.Close)
	return &fixture{ix: ix, srv: srv, now: now}, db, cursor
}

func TestRefreshPicksUpRunsAnotherProcessWrote(t *testing.T) {
	ctx := context.Background()
	f, db, _ := storedFixture(t)
	ix := f.ix
	if status, _, _ := f.get(t, "jobs=hegel/imported&date=2026-06-01"); status != 400 {
		t.Fatalf("before the import: %d, want 400 unknown job", status)
	}
	// `kant import` in another process, stamped with the time it ran: the
	// store has it, the index does not.
	if _, err := db.WriteRuns(ctx, []kant.Run{run("hegel/imported", "jr_1", 1, kant.StateSucceeded, "2026-06-01T06:55:00+09:00")}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Refresh(ctx, db); err != nil {
		t.Fatal(err)
	}
	if status, a, _ := f.get(t, "jobs=hegel/imported&date=2026-06-01"); status != 200 {
		t.Errorf("after the refresh: %d %+v, want 200", status, a)
	}
}

// kant serve on a store with a log (store.Follower) follows the log into
// the index: its periodic refresh then reads the jobs and the sources'
// health only, and the run another process wrote reaches the gate
// through the log, once.
func TestAFollowedIndexRefreshesJobsAndHealthAndTakesRunsFromTheLog(t *testing.T) {
	ctx := context.Background()
	f, db, cursor := storedFixture(t)
	ix := f.ix
	if _, err := db.WriteRuns(ctx, []kant.Run{run("hegel/imported", "jr_1", 1, kant.StateSucceeded, "2026-06-01T06:55:00+09:00")}); err != nil {
		t.Fatal(err)
	}
	if err := ix.RefreshHealth(ctx, db); err != nil {
		t.Fatal(err)
	}
	if status, a, _ := f.get(t, "jobs=hegel/imported&date=2026-06-01"); status != 404 || a.Jobs[0].Reason != gate.ReasonNotStarted {
		t.Fatalf("after the refresh of jobs and health: %d %+v, want 404 not_started (the job known, its run not read)", status, a)
	}
	runs, _, err := db.ObservationsAfter(ctx, cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("the log holds %d observations, want 1", len(runs))
	}
	ix.Observe(ctx, runs)
	if status, a, _ := f.get(t, "jobs=hegel/imported&date=2026-06-01"); status != 200 {
		t.Errorf("after the log: %d %+v, want 200", status, a)
	}
}

func TestAJobBothNamedAndMatchedByAnSLOIsAnsweredOnce(t *testing.T) {
	f := newFixture(t, at("2026-06-01T07:00:00+09:00"),
		run("hegel/never_ran", "jr_9", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00"),
		run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00"))
	status, a, _ := f.get(t, "slo=hegel-nightly&date=2026-06-01")
	if status != 404 {
		t.Fatalf("status %d, want 404", status)
	}
	var jobs []string
	for _, j := range a.Jobs {
		jobs = append(jobs, string(j.Job))
	}
	if want := []string{"hegel/export_users", "hegel/never_ran"}; !slices.Equal(jobs, want) {
		t.Errorf("jobs %v, want %v", jobs, want)
	}
}

// busyStore is a gate.Store that holds runs until it is made busy: then
// every read fails as a busy SQLite store does, with EUNAVAILABLE.
type busyStore struct {
	runs []kant.Run
	busy bool
}

func (s *busyStore) err() error {
	if s.busy {
		return fmt.Errorf("sqlite latest runs: %w", kant.Unavailable(errors.New("database is locked"), 3*time.Second, "store busy"))
	}
	return nil
}

func (s *busyStore) LatestRuns(context.Context, kant.RunFilter) ([]kant.Run, error) {
	return s.runs, s.err()
}
func (s *busyStore) Jobs(context.Context) ([]kant.JobInfo, error) {
	var out []kant.JobInfo
	for _, r := range s.runs {
		out = append(out, kant.JobInfo{Key: r.Job})
	}
	return out, s.err()
}
func (s *busyStore) SourceHealth(context.Context) ([]kant.SourceHealth, error) { return nil, s.err() }

func TestAGateAnsweredFromABusyStoreSaysToAskAgain(t *testing.T) {
	st := &busyStore{runs: []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")}}
	now := at("2026-07-15T07:00:00+09:00") // 2026-06-01 is older than the index's window: asked of the store
	ix := gate.New(gate.Config{SLOs: []slo.Definition{nightly(t)}, Location: tokyo, Now: func() time.Time { return now }})
	if err := ix.Rebuild(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gate.NewHandler(ix, nil))
	defer srv.Close()
	st.busy = true
	resp, err := http.Get(srv.URL + "/v1/gate?jobs=hegel/export_users&date=2026-06-01")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "3" || body["error"] != "store busy" {
		t.Errorf("%d, Retry-After %q, body %v; want 503, Retry-After 3, error \"store busy\" (not a 500)",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// countingMetrics is a gate.Metrics that counts answers by status code.
type countingMetrics struct {
	mu    sync.Mutex
	codes map[int]int
}

func (m *countingMetrics) GateRequest(_ context.Context, code int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.codes[code]++
}

func TestEveryAnswerIsReportedToTheMetricsByItsStatusCode(t *testing.T) {
	m := &countingMetrics{codes: map[int]int{}}
	now := at("2026-06-01T07:00:00+09:00")
	ix := gate.New(gate.Config{SLOs: []slo.Definition{nightly(t)}, Location: tokyo, Now: func() time.Time { return now }, Metrics: m})
	ix.Observe(context.Background(), []kant.Run{
		run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00"),
		run("hegel/export_items", "jr_2", 1, kant.StateFailed, "2026-06-01T03:00:00+09:00"),
	})
	h := gate.NewHandler(ix, nil)
	for _, q := range []string{
		"jobs=hegel/export_users&date=2026-06-01", // 200
		"jobs=hegel/export_users&date=2026-06-01", // 200 again, from the cache
		"jobs=hegel/export_items&date=2026-06-01", // 409
		"jobs=hegel/export_users&date=2026-06-02", // 404
		"jobs=hegel/typo&date=2026-06-01",         // 400
	} {
		serve(h, q)
	}
	want := map[int]int{200: 2, 409: 1, 404: 1, 400: 1}
	if !maps.Equal(m.codes, want) {
		t.Errorf("recorded %v, want %v", m.codes, want)
	}
}

// heldStore is a gate.Store whose LatestRuns, once held, signals entered
// and waits for release; it counts the calls.
type heldStore struct {
	busyStore
	mu       sync.Mutex
	hold     bool
	calls    int
	entered  chan struct{}
	released chan struct{}
}

func (s *heldStore) LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	s.mu.Lock()
	s.calls++
	hold := s.hold
	s.mu.Unlock()
	if hold {
		s.entered <- struct{}{}
		<-s.released
	}
	return s.runs, nil
}

func TestStoreQueriesOfOldDatesAreBoundedAndTheirAnswersReused(t *testing.T) {
	st := &heldStore{busyStore: busyStore{runs: []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")}},
		entered: make(chan struct{}), released: make(chan struct{})}
	now := at("2026-07-15T07:00:00+09:00") // 2026-06-01 is older than the index's window
	ix := gate.New(gate.Config{SLOs: []slo.Definition{nightly(t)}, Location: tokyo, Now: func() time.Time { return now },
		MaxStoreReads: 1, StoreReadWait: 10 * time.Millisecond})
	if err := ix.Rebuild(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	h := gate.NewHandler(ix, nil)
	st.mu.Lock()
	st.hold, st.calls = true, 0
	st.mu.Unlock()
	first := make(chan result)
	go func() { first <- serve(h, "jobs=hegel/export_users&date=2026-06-01") }()
	<-st.entered
	// The one query allowed is in flight: another waits its 10ms, then is told to ask again.
	busy := httptest.NewRecorder()
	h.ServeHTTP(busy, httptest.NewRequest(http.MethodGet, "/v1/gate?jobs=hegel/export_users&date=2026-06-02", nil))
	if busy.Code != http.StatusServiceUnavailable || busy.Header().Get("Retry-After") != "1" {
		t.Errorf("beyond the bound: %d, Retry-After %q; want 503, Retry-After 1", busy.Code, busy.Header().Get("Retry-After"))
	}
	close(st.released)
	if w := <-first; w.status != http.StatusOK {
		t.Fatalf("the query in flight: %d, want 200 (open)", w.status)
	}
	if again := serve(h, "jobs=hegel/export_users&date=2026-06-01"); again.status != http.StatusOK {
		t.Errorf("asked again: %d, want 200", again.status)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.calls != 1 {
		t.Errorf("%d store queries, want 1: the same question again is answered from the cache", st.calls)
	}
}

func TestARerunObservedAfterTheGateOpenedIsToldInTheAnswer(t *testing.T) {
	ok := run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")
	f := newFixture(t, at("2026-06-01T07:00:00+09:00"), ok)
	const q = "jobs=hegel/export_users&date=2026-06-01"
	if status, a, _ := f.get(t, q); status != 200 || a.Jobs[0].OpenedAt == nil || a.Jobs[0].ChangedSinceOpen {
		t.Fatalf("before the re-run: %d %+v, want open since 03:00, unchanged", status, a.Jobs[0])
	}
	rerun := run("hegel/export_users", "jr_2", 1, kant.StateRunning, "2026-06-01T07:10:00+09:00")
	rerun.StartedAt = at("2026-06-01T07:10:00+09:00")
	f.ix.Observe(context.Background(), []kant.Run{rerun})
	f.now = at("2026-06-01T07:11:00+09:00")
	status, a, _ := f.get(t, q)
	j := a.Jobs[0]
	if status != 404 || j.Reason != gate.ReasonRunning || j.OpenedAt == nil || !j.OpenedAt.Equal(ok.FinishedAt) ||
		!j.ChangedSinceOpen || j.RerunAt == nil || !j.RerunAt.Equal(rerun.StartedAt) {
		t.Errorf("after the re-run: %d %+v, want running, opened at %v, changed since by the re-run of %v", status, j, ok.FinishedAt, rerun.StartedAt)
	}
}

func TestAnIndexAwaitingItsRebuildAnswers503WithRetryAfterUntilRebuilt(t *testing.T) {
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "kant.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.WriteRuns(context.Background(), []kant.Run{run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")}); err != nil {
		t.Fatal(err)
	}
	now := at("2026-06-01T09:00:00+09:00")
	ix := gate.New(gate.Config{SLOs: []slo.Definition{nightly(t)}, Sources: []gate.Source{{Name: "hegel"}}, Location: tokyo,
		Now: func() time.Time { return now }, AwaitRebuild: true})
	srv := httptest.NewServer(gate.NewHandler(ix, nil))
	defer srv.Close()
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/v1/gate?jobs=hegel/export_users&date=2026-06-01")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	if code, retry := get(); code != http.StatusServiceUnavailable || retry != "1" {
		t.Errorf("before the rebuild: %d, Retry-After %q; want 503, 1", code, retry)
	}
	if err := ix.Rebuild(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(); code != http.StatusOK {
		t.Errorf("after the rebuild: %d, want 200 (the stored run succeeded)", code)
	}
}

func TestARebuildReadInPartsHoldsWhatOneReadOfTheStoreHolds(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "kant.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := at("2026-06-20T12:00:00+09:00")
	// Over 20 days: a dated run each day, and undated runs (of three jobs)
	// a second before, at and after UTC midnight, where the parts meet;
	// one run dated after today.
	var runs []kant.Run
	for d := 0; d < 20; d++ {
		day := kant.Date{Year: 2026, Month: 6, Day: 1 + d}
		midnight := day.In(time.UTC)
		dated := run("onprem/dated", "d_"+day.String(), 1, kant.StateSucceeded, midnight.Add(3*time.Hour).Format(time.RFC3339))
		dated.LogicalDate = day
		runs = append(runs, dated)
		for i, at := range []time.Time{midnight.Add(-time.Second), midnight, midnight.Add(time.Second)} {
			r := run(fmt.Sprintf("onprem/undated_%d", i), fmt.Sprintf("u_%s_%d", day, i), 1, kant.StateFailed, at.Format(time.RFC3339))
			r.StartedAt = at
			runs = append(runs, r)
		}
	}
	ahead := run("onprem/dated", "d_ahead", 1, kant.StateRunning, "2026-06-20T01:00:00Z")
	ahead.LogicalDate = kant.Date{Year: 2026, Month: 6, Day: 23}
	runs = append(runs, ahead)
	if _, err := db.WriteRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	ix := gate.New(gate.Config{Sources: []gate.Source{{Name: "onprem"}}, Location: tokyo, Window: 14 * 24 * time.Hour,
		Now: func() time.Time { return now }, AwaitRebuild: true})
	if err := ix.Rebuild(ctx, db); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gate.NewHandler(ix, nil))
	defer srv.Close()
	keys := []kant.JobKey{"onprem/dated", "onprem/undated_0", "onprem/undated_1", "onprem/undated_2"}
	for d := 6; d <= 23; d++ {
		date := kant.Date{Year: 2026, Month: 6, Day: d}
		want, err := ix.AnswerFromStore(ctx, db, keys, date, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(srv.URL + "/v1/gate?jobs=onprem/dated,onprem/undated_*&date=" + date.String())
		if err != nil {
			t.Fatal(err)
		}
		var got gate.Answer
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Jobs) != len(want.Jobs) {
			t.Fatalf("%s: %d jobs answered, want %d", date, len(got.Jobs), len(want.Jobs))
		}
		for i := range want.Jobs {
			g, w := got.Jobs[i], want.Jobs[i]
			if g.Job != w.Job || g.RunID != w.RunID || g.Reason != w.Reason {
				t.Errorf("%s %s: the rebuilt index answers run %q (%s), one read of the store %q (%s)", date, w.Job, g.RunID, g.Reason, w.RunID, w.Reason)
			}
		}
	}
}

// blockingStore holds LatestRuns, once armed, until released.
type blockingStore struct {
	*sqlite.DB
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	if s.armed.Load() {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.DB.LatestRuns(ctx, f)
}

func TestWhileOneRequestReadsAnOldDateAgainTheOthersGetTheAnswerItReplaces(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "kant.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := run("hegel/export_users", "jr_old", 1, kant.StateSucceeded, "2026-05-01T03:00:00+09:00")
	old.StartedAt = at("2026-05-01T01:00:00+09:00")
	if _, err := db.WriteRuns(ctx, []kant.Run{old}); err != nil {
		t.Fatal(err)
	}
	st := &blockingStore{DB: db, entered: make(chan struct{}, 2), release: make(chan struct{})}
	var mu sync.Mutex
	now := at("2026-06-01T09:00:00+09:00")
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ix := gate.New(gate.Config{SLOs: []slo.Definition{nightly(t)}, Sources: []gate.Source{{Name: "hegel"}}, Location: tokyo,
		Window: 14 * 24 * time.Hour, Now: clock})
	if err := ix.Rebuild(ctx, st); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gate.NewHandler(ix, nil))
	defer srv.Close()
	// A request that waited for the read would be given up on, so that
	// the test fails rather than hangs.
	client := &http.Client{Timeout: 5 * time.Second}
	get := func() int {
		resp, err := client.Get(srv.URL + "/v1/gate?jobs=hegel/export_users&date=2026-05-01")
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("first answer: %d, want 200", code)
	}
	mu.Lock()
	now = now.Add(1500 * time.Millisecond) // expired, within the grace
	mu.Unlock()
	st.armed.Store(true)
	reading := make(chan int)
	go func() { reading <- get() }()
	<-st.entered // the first request reads the store again
	if code := get(); code != http.StatusOK {
		t.Errorf("while the store is read: %d, want the answer it replaces, 200", code)
	}
	st.armed.Store(false)
	close(st.release)
	if code := <-reading; code != http.StatusOK {
		t.Errorf("the request that read the store: %d, want 200", code)
	}
}
