package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/api"
	"github.com/kantproject/kant/slo"
	"github.com/kantproject/kant/store"
)

// fakeStore holds fixed runs, results and days; it records the last filters.
type fakeStore struct {
	runs    []kant.Run
	results []kant.Result
	days    []kant.Day
	lastRun store.RunFilter
}

func (f *fakeStore) LatestRuns(_ context.Context, rf store.RunFilter) ([]kant.Run, error) {
	f.lastRun = rf
	if rf.Limit > 0 && len(f.runs) > rf.Limit {
		return f.runs[:rf.Limit], nil
	}
	return f.runs, nil
}
func (f *fakeStore) Results(context.Context, store.ResultFilter) ([]kant.Result, error) {
	return f.results, nil
}
func (f *fakeStore) Days(context.Context, store.ResultFilter) ([]kant.Day, error) { return f.days, nil }
func (f *fakeStore) Ingest(context.Context, []kant.Run) (int, error)              { return 0, nil }

func newServer(t *testing.T, st *fakeStore, cfg api.Config) http.Handler {
	t.Helper()
	sched, _ := slo.ParseSchedule("0 1 * * *")
	deadline := slo.Clock{Hour: 6}
	cfg.Runs, cfg.Results, cfg.Ingester = st, st, st
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
