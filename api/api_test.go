package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/api"
	"github.com/kantproject/kant/collector/push"
	"github.com/kantproject/kant/slo"
)

// fakeStore holds fixed runs, results and days; it records the last filters.
type fakeStore struct {
	runs    []kant.Run
	results []kant.Result
	days    []kant.Day
	lastRun kant.RunFilter
	err     error // returned by every read when set
}

func (f *fakeStore) LatestRuns(_ context.Context, rf kant.RunFilter) ([]kant.Run, error) {
	f.lastRun = rf
	if f.err != nil {
		return nil, f.err
	}
	if rf.Limit > 0 && len(f.runs) > rf.Limit {
		return f.runs[:rf.Limit], nil
	}
	return f.runs, nil
}
func (f *fakeStore) Results(context.Context, kant.ResultFilter) ([]kant.Result, error) {
	return f.results, nil
}
func (f *fakeStore) Days(context.Context, kant.ResultFilter) ([]kant.Day, error) { return f.days, nil }
func (f *fakeStore) Ingest(context.Context, []kant.Run) (int, error)             { return 0, nil }

func newServer(t testing.TB, st *fakeStore, cfg api.Config) http.Handler {
	t.Helper()
	sched, _ := slo.ParseSchedule("0 1 * * *")
	deadline := slo.Clock{Hour: 6}
	cfg.Runs, cfg.Results = st, st
	if cfg.Ingester == nil {
		cfg.Ingester = st
	}
	if cfg.Push == nil {
		cfg.Push = push.Decoder{}
	}
	cfg.SLOs = []slo.Definition{{Name: "hegel-nightly", Jobs: []string{"hegel/*"}, Schedule: sched,
		Location: time.UTC, Deadline: &deadline, Target: 0.95}}
	cfg.Now = func() time.Time { return time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC) }
	s, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, h http.Handler, path, auth string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: not JSON: %s", path, rec.Body.String())
	}
	return rec.Code, out
}

func TestVerdictsOfAnSLONoLongerConfiguredAreNotServed(t *testing.T) {
	d := kant.Date{Year: 2026, Month: 6, Day: 1}
	st := &fakeStore{
		results: []kant.Result{
			{Occurrence: kant.Occurrence{SLO: "default", Job: "hegel/x", Date: d}, Verdict: kant.VerdictMet},
			{Occurrence: kant.Occurrence{SLO: "hegel-nightly", Job: "hegel/x", Date: d}, Verdict: kant.VerdictLate},
		},
		days: []kant.Day{{SLO: "default", Date: d}, {SLO: "hegel-nightly", Date: d}},
	}
	h := newServer(t, st, api.Config{})
	_, out := get(t, h, "/v1/slo?date=2026-06-01", "")
	if rs := out["results"].([]any); len(rs) != 1 || rs[0].(map[string]any)["slo"] != "hegel-nightly" {
		t.Errorf("results = %v, want only hegel-nightly's", rs)
	}
	_, out = get(t, h, "/v1/sla?from=2026-06-01&to=2026-06-01", "")
	if ds := out["days"].([]any); len(ds) != 1 || ds[0].(map[string]any)["slo"] != "hegel-nightly" {
		t.Errorf("days = %v, want only hegel-nightly's", ds)
	}
}

func TestAListOfRunsCutByItsLimitSaysSo(t *testing.T) {
	st := &fakeStore{}
	for i := 0; i < 3; i++ {
		st.runs = append(st.runs, kant.Run{Source: "hegel", Job: "hegel/x", RunID: strings.Repeat("r", i+1), Attempt: 1,
			State: kant.StateSucceeded, ObservedAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	}
	h := newServer(t, st, api.Config{})
	for _, tc := range []struct {
		limit     string
		n         int
		truncated bool
	}{{"2", 2, true}, {"3", 3, false}} {
		_, out := get(t, h, "/v1/runs?limit="+tc.limit, "")
		if n := len(out["runs"].([]any)); n != tc.n || out["truncated"] != tc.truncated {
			t.Errorf("limit %s: %d runs, truncated %v; want %d, %v", tc.limit, n, out["truncated"], tc.n, tc.truncated)
		}
	}
	// from alone runs to today, in the service's zone.
	get(t, h, "/v1/runs?from=2026-05-30", "")
	if got := st.lastRun.DateTo.String(); got != "2026-06-02" {
		t.Errorf("from alone: to = %s, want today 2026-06-02", got)
	}
}

func TestTheBearerSchemeIsCaseInsensitive(t *testing.T) {
	h := newServer(t, &fakeStore{}, api.Config{ReadTokens: []string{"r34d"}})
	for _, tc := range []struct {
		auth string
		code int
	}{{"Bearer r34d", 200}, {"bearer r34d", 200}, {"Basic r34d", 401}, {"Bearer r34", 401}, {"", 401}} {
		if code, _ := get(t, h, "/v1/runs", tc.auth); code != tc.code {
			t.Errorf("Authorization %q: %d, want %d", tc.auth, code, tc.code)
		}
	}
}

func TestSilencedDaysLeaveTheAttainmentOfAnSLOThatSaysSo(t *testing.T) {
	d1, d2 := kant.Date{Year: 2026, Month: 6, Day: 1}, kant.Date{Year: 2026, Month: 6, Day: 2}
	st := &fakeStore{days: []kant.Day{
		{SLO: "hegel-nightly", Date: d1, Occurrences: 1, Missed: 1, Final: true},
		{SLO: "hegel-nightly", Date: d2, Occurrences: 1, Met: 1, SLOMet: true, SLAMet: true, Final: true},
	}}
	maintenance := kant.Silence{ID: "upgrade", Start: time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC),
		End: time.Date(2026, 6, 1, 4, 0, 0, 0, time.UTC), Reason: "upgrade"}
	for _, tc := range []struct {
		name    string
		exclude bool
		want    float64
	}{
		{"an SLO that excludes silenced days counts only the unsilenced one", true, 1},
		{"an SLO that does not counts both", false, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sched, _ := slo.ParseSchedule("0 1 * * *")
			deadline := slo.Clock{Hour: 6}
			var asked [2]time.Time
			s, err := api.New(api.Config{Runs: st, Results: st, Ingester: st, Push: push.Decoder{},
				SLOs: []slo.Definition{{Name: "hegel-nightly", Jobs: []string{"hegel/*"}, Schedule: sched,
					Location: time.UTC, Deadline: &deadline, Target: 0.95, ExcludeSilenced: tc.exclude}},
				Silences: func(_ context.Context, from, to time.Time) ([]kant.Silence, error) {
					asked = [2]time.Time{from, to}
					return []kant.Silence{maintenance}, nil
				},
				Now: func() time.Time { return time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC) },
			})
			if err != nil {
				t.Fatal(err)
			}
			_, out := get(t, s, "/v1/sla?from=2026-06-01&to=2026-06-02", "")
			sum := out["summary"].([]any)[0].(map[string]any)
			if sum["attainment"] != tc.want {
				t.Errorf("attainment %v, want %v (summary %v)", sum["attainment"], tc.want, sum)
			}
			if tc.exclude && (asked[0].After(maintenance.Start) || asked[1].Before(maintenance.End)) {
				t.Errorf("silences asked for %v..%v, which misses the window", asked[0], asked[1])
			}
		})
	}
}

func TestAReadErrorIsAnsweredWithTheStatusOfItsCode(t *testing.T) {
	busy := fmt.Errorf("sqlite latest runs: %w", kant.Unavailable(errors.New("database is locked (5) SQLITE_BUSY"), 2*time.Second, "store busy"))
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
		message    string
	}{
		{"a busy store is a 503 that says when to ask again", busy, 503, "2", "store busy"},
		{"an unavailable store naming no delay is asked again after a second",
			kant.Unavailable(nil, 0, "store not reachable"), 503, "1", "store not reachable"},
		{"a conflict is a 409", kant.Errorf(kant.ECONFLICT, "stale"), 409, "", "stale"},
		{"an internal error is a 500 that hides its detail", kant.Errorf(kant.EINTERNAL, "secret detail"), 500, "", "internal error"},
		{"an error without a code is a 500 that hides its detail", errors.New("secret detail"), 500, "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newServer(t, &fakeStore{err: tt.err}, api.Config{})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/runs", nil))
			var body map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tt.status || rec.Header().Get("Retry-After") != tt.retryAfter || body["error"] != tt.message {
				t.Errorf("%d, Retry-After %q, body %s; want %d, %q, error %q", rec.Code, rec.Header().Get("Retry-After"),
					rec.Body.String(), tt.status, tt.retryAfter, tt.message)
			}
		})
	}
}

// slowStore holds Days until released, once it has said it entered.
type slowStore struct {
	*fakeStore
	entered chan struct{}
	release chan struct{}
}

func (s *slowStore) Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.fakeStore.Days(ctx, f)
}

func TestReadsBeyondMaxReadsWaitForATurnThenGet503WithRetryAfter(t *testing.T) {
	st := &slowStore{fakeStore: &fakeStore{}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	sched, _ := slo.ParseSchedule("0 1 * * *")
	deadline := slo.Clock{Hour: 6}
	s, err := api.New(api.Config{Runs: st, Results: st, Ingester: st.fakeStore, Push: push.Decoder{},
		SLOs: []slo.Definition{{Name: "hegel-nightly", Jobs: []string{"hegel/*"}, Schedule: sched, Location: time.UTC, Deadline: &deadline, Target: 0.95}},
		Now:  func() time.Time { return time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC) }, MaxReads: 1, ReadWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/sla?from=2026-05-01&to=2026-06-01", nil))
		first <- rec.Code
	}()
	<-st.entered // the one turn is taken
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/slo?date=2026-06-01", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("a read beyond the bound: %d, Retry-After %q; want 503, 1 (%s)", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(fmt.Sprint(body["error"]), "MaxReads") {
		t.Errorf("its body %s is not a JSON error naming the bound", rec.Body)
	}
	// /healthz is not bounded.
	if code, _ := get(t, s, "/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz while the reads are taken: %d, want 200", code)
	}
	close(st.release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("the read holding the turn: %d, want 200", code)
	}
}
