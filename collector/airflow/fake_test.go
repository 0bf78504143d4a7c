package airflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Airflow's published REST API descriptions (see shared/contracts/README.md):
// v1 for Airflow 2, whose paths omit the /api/v1 prefix, and v2 for
// Airflow 3, whose paths include /api/v2.
const (
	specV1 = "../../contracts/airflow-v1.yaml"
	specV2 = "../../contracts/airflow-v2.yaml"
	// specHost is the server the specs are pointed at; requests are matched
	// against it whatever port the test server has.
	specHost = "airflow.spec"
)

var (
	specOnce    sync.Once
	specRouters map[string]routers.Router
	specErr     error
)

// loadSpecs returns a router per API version, skipping the test only when
// the contract files are absent.
func loadSpecs(t testing.TB) map[string]routers.Router {
	t.Helper()
	for _, p := range []string{specV1, specV2} {
		if _, err := os.Stat(p); os.IsNotExist(err) {
			t.Fatalf("Airflow contract %s is absent: the wire-format tests need it", p)
		}
	}
	specOnce.Do(func() {
		specRouters = map[string]routers.Router{}
		for api, f := range map[string]struct{ path, server string }{
			APIv1: {specV1, "http://" + specHost + "/api/v1"},
			APIv2: {specV2, "http://" + specHost},
		} {
			doc, err := openapi3.NewLoader().LoadFromFile(f.path)
			if err != nil {
				specErr = fmt.Errorf("%s: %w", f.path, err)
				return
			}
			doc.Servers = openapi3.Servers{{URL: f.server}}
			r, err := gorillamux.NewRouter(doc)
			if err != nil {
				specErr = fmt.Errorf("%s: router: %w", f.path, err)
				return
			}
			specRouters[api] = r
		}
	})
	if specErr != nil {
		t.Fatalf("load Airflow specs: %v", specErr)
	}
	return specRouters
}

// fakeRun is a DAG run as the fake keeps it.
type fakeRun struct {
	DagID, RunID string
	State        string // queued, running, success, failed
	Start, End   time.Time
	// Tick is the run's data_interval_end (v1) and run_after (v2).
	Tick time.Time
	// Logical is the logical date; nil is null in v2 (v1 sends the tick's
	// day before, as a cron DAG's execution_date).
	Logical *time.Time
}

// fakeTI is a task instance as the fake keeps it.
type fakeTI struct {
	DagID, TaskID, RunID string
	MapIndex             int    // -1 when not mapped
	State                string // "" is null
	Try, MaxTries        int
	Start, End           time.Time
}

// fakeFault is an answer the fake gives instead of the operation's result.
type fakeFault struct {
	Status int
	Header http.Header
}

// fakeAirflow is a local Airflow speaking API v1 (Airflow 2) or v2
// (Airflow 3). Every request kant sends and every response the fake gives
// is validated against Airflow's published spec; a violation fails the test.
type fakeAirflow struct {
	t       testing.TB
	api     string
	version string
	router  routers.Router

	mu sync.Mutex
	// pageCap: 0 is a server before 2.10.3, which ignores page_limit and
	// page_offset and returns every match; n caps pages at n.
	pageCap  int
	dags     []string
	runs     []fakeRun
	runIdx   map[string]int // dag_id + "\x00" + run id -> index in runs
	tis      []fakeTI
	faults   []fakeFault
	auth     func(r *http.Request) bool // nil: every request is authorized
	requests int                        // API requests answered (any status)
	bytes    int64                      // response bytes of those
	byPath   map[string]int
	bodies   []map[string]any // request bodies of the batch lists
	tokens   int              // JWTs issued at /auth/token
}

func newFakeAirflow(t testing.TB, api string) (*fakeAirflow, *httptest.Server) {
	f := &fakeAirflow{t: t, api: api, router: loadSpecs(t)[api], pageCap: 100, byPath: map[string]int{}}
	f.version = "2.10.5"
	if api == APIv2 {
		f.version = "3.0.2"
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAirflow) addDAGs(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dags = append(f.dags, ids...)
}

func (f *fakeAirflow) addRun(r fakeRun) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, r)
}

func (f *fakeAirflow) addTI(tis ...fakeTI) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tis = append(f.tis, tis...)
}

// setTI replaces the task instance with the same dag, task, run and index.
func (f *fakeAirflow) setTI(ti fakeTI) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, o := range f.tis {
		if o.DagID == ti.DagID && o.TaskID == ti.TaskID && o.RunID == ti.RunID && o.MapIndex == ti.MapIndex {
			f.tis[i] = ti
			return
		}
	}
	f.t.Fatalf("no task instance %s.%s %s", ti.DagID, ti.TaskID, ti.RunID)
}

func (f *fakeAirflow) failNext(faults ...fakeFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

func (f *fakeAirflow) stats() (requests int, bytes int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.bytes
}

func (f *fakeAirflow) resetStats() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests, f.bytes, f.byPath, f.bodies = 0, 0, map[string]int{}, nil
}

func (f *fakeAirflow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/auth/token" {
		f.serveToken(w, r, body)
		return
	}
	status, header, out := f.serve(r.Method, r.URL.Path, r.URL.RawQuery, r.Header, body)
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(out)
}

// serve answers one API request and validates both sides against the spec.
func (f *fakeAirflow) serve(method, path, rawQuery string, hdr http.Header, body []byte) (int, http.Header, []byte) {
	prefix := "/api/" + f.api
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		// Airflow 2 has no /api/v2 and Airflow 3 no /api/v1.
		return http.StatusNotFound, nil, []byte(`{"detail":"Not Found"}`)
	}
	req, in, err := f.validateRequest(method, path, rawQuery, hdr, body)
	if err != nil {
		f.t.Errorf("%v\nbody: %s", err, body)
	}
	if in == nil {
		return http.StatusNotFound, nil, []byte(`{"detail":"Not Found"}`)
	}

	f.mu.Lock()
	f.requests++
	f.byPath[method+" "+rest]++
	status, header, out := f.answerLocked(method, rest, req, body)
	f.bytes += int64(len(out))
	f.mu.Unlock()

	if err := f.validateResponse(in, status, out); err != nil {
		f.t.Error(err)
	}
	return status, header, out
}

// validateRequest checks a request against the spec. It returns the
// validation input for the response check, nil when no route matched.
func (f *fakeAirflow) validateRequest(method, path, rawQuery string, hdr http.Header, body []byte) (*http.Request, *openapi3filter.RequestValidationInput, error) {
	req, err := http.NewRequest(method, "http://"+specHost+path+"?"+rawQuery, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = hdr.Clone()
	route, params, err := f.router.FindRoute(req)
	if err != nil {
		return req, nil, fmt.Errorf("%s %s is not in the %s spec: %w", method, path, f.api, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return req, in, fmt.Errorf("kant's request %s %s does not follow the %s spec: %w", method, path, f.api, err)
	}
	// The validator read the body; give it back for the answer.
	req.Body = io.NopCloser(bytes.NewReader(body))
	return req, in, nil
}

// validateResponse checks an answer to a validated request against the spec.
func (f *fakeAirflow) validateResponse(in *openapi3filter.RequestValidationInput, status int, out []byte) error {
	resp := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(bytes.NewReader(out)),
		Options: &openapi3filter.Options{MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), resp); err != nil {
		return fmt.Errorf("the fake's %d response to %s %s does not follow the %s spec: %w", status, in.Request.Method, in.Request.URL.Path, f.api, err)
	}
	return nil
}

// problem is an error body as the version sends it: RFC 7807 in v1,
// {"detail": ...} in v2.
func (f *fakeAirflow) problem(status int, detail string) []byte {
	if f.api == APIv1 {
		b, _ := json.Marshal(map[string]any{"type": "https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html#section/Errors/" + strings.ReplaceAll(http.StatusText(status), " ", ""), "title": http.StatusText(status), "status": status, "detail": detail})
		return b
	}
	b, _ := json.Marshal(map[string]any{"detail": detail})
	return b
}

func (f *fakeAirflow) answerLocked(method, rest string, req *http.Request, body []byte) (int, http.Header, []byte) {
	if f.auth != nil && rest != "/version" && !f.auth(req) {
		return http.StatusUnauthorized, nil, f.problem(401, "Invalid credentials")
	}
	if len(f.faults) > 0 {
		flt := f.faults[0]
		f.faults = f.faults[1:]
		return flt.Status, flt.Header, f.problem(flt.Status, "fault from the fake")
	}
	var in map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			f.t.Errorf("request body is not JSON: %v", err)
		}
		f.bodies = append(f.bodies, in)
	}
	var out any
	switch {
	case method == "GET" && rest == "/version":
		out = map[string]any{"version": f.version, "git_version": nil}
	case method == "GET" && rest == "/dags":
		q := req.URL.Query()
		limit, offset := atoiOr(q.Get("limit"), 100), atoiOr(q.Get("offset"), 0)
		if f.api == APIv2 {
			limit = atoiOr(q.Get("limit"), 50)
		}
		page := pageOf(f.dags, offset, min(limit, max(f.pageCap, 100)))
		dags := []any{}
		for _, id := range page {
			dags = append(dags, f.dagWire(id))
		}
		out = map[string]any{"dags": dags, "total_entries": len(f.dags)}
	case method == "POST" && rest == "/dags/~/dagRuns/list":
		var match []any
		fl := parseFilter(in, "states")
		for _, r := range f.runs {
			if f.runMatches(r, fl) {
				match = append(match, f.runWire(r))
			}
		}
		out = map[string]any{"dag_runs": f.page(match, in), "total_entries": len(match)}
	case method == "POST" && rest == "/dags/~/dagRuns/~/taskInstances/list":
		var match []any
		fl := parseFilter(in, "state")
		for _, ti := range f.tis {
			if f.tiMatches(ti, fl) {
				match = append(match, f.tiWire(ti))
			}
		}
		out = map[string]any{"task_instances": f.page(match, in), "total_entries": len(match)}
	default:
		f.t.Errorf("the fake does not answer %s %s", method, rest)
		return http.StatusNotFound, nil, f.problem(404, "not found")
	}
	b, err := json.Marshal(out)
	if err != nil {
		f.t.Errorf("encode: %v", err)
	}
	return http.StatusOK, nil, b
}

// page applies page_limit and page_offset as the server version does.
func (f *fakeAirflow) page(items []any, in map[string]any) []any {
	if items == nil {
		items = []any{}
	}
	if f.pageCap == 0 {
		return items // before 2.10.3: both ignored
	}
	limit, offset := 100, 0
	if v, ok := in["page_limit"].(float64); ok {
		limit = int(v)
	}
	if v, ok := in["page_offset"].(float64); ok {
		offset = int(v)
	}
	return pageOf(items, offset, min(limit, f.pageCap))
}

func pageOf[T any](items []T, offset, limit int) []T {
	if offset > len(items) {
		offset = len(items)
	}
	return items[offset:min(offset+limit, len(items))]
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		} else {
			out = append(out, "")
		}
	}
	return out
}

// filter is a batch list body's filters, parsed once per request.
type filter struct {
	dagIDs, states                     map[string]bool // nil: any
	endGTE, execGTE, execLTE, afterGTE time.Time       // zero: no bound
}

func parseFilter(in map[string]any, stateKey string) filter {
	set := func(v any) map[string]bool {
		if v == nil {
			return nil
		}
		m := map[string]bool{}
		for _, s := range strs(v) {
			m[s] = true
		}
		return m
	}
	tm := func(k string) time.Time {
		s, _ := in[k].(string)
		t, _ := time.Parse(time.RFC3339, s)
		return t
	}
	return filter{dagIDs: set(in["dag_ids"]), states: set(in[stateKey]), endGTE: tm("end_date_gte"),
		execGTE: tm("execution_date_gte"), execLTE: tm("execution_date_lte"), afterGTE: tm("run_after_gte")}
}

// gte reports whether t is at or after bound (always when there is no
// bound); a zero t never meets a bound.
func gte(t, bound time.Time) bool { return bound.IsZero() || !t.IsZero() && !t.Before(bound) }
func lte(t, bound time.Time) bool { return bound.IsZero() || !t.IsZero() && !t.After(bound) }

func (fl filter) matches(dag, state string, end, exec, tick time.Time) bool {
	return (fl.dagIDs == nil || fl.dagIDs[dag]) && (fl.states == nil || fl.states[state]) &&
		gte(end, fl.endGTE) && gte(exec, fl.execGTE) && lte(exec, fl.execLTE) && gte(tick, fl.afterGTE)
}

func (f *fakeAirflow) runLocked(dag, id string) fakeRun {
	if len(f.runIdx) != len(f.runs) {
		f.runIdx = make(map[string]int, len(f.runs))
		for i, r := range f.runs {
			f.runIdx[r.DagID+"\x00"+r.RunID] = i
		}
	}
	if i, ok := f.runIdx[dag+"\x00"+id]; ok {
		return f.runs[i]
	}
	f.t.Errorf("fake: task instance of unknown run %s %s", dag, id)
	return fakeRun{}
}

// executionDate is v1's execution_date of a run: its logical date, else
// the day before its tick.
func (r fakeRun) executionDate() time.Time {
	if r.Logical != nil {
		return *r.Logical
	}
	return r.Tick.AddDate(0, 0, -1)
}

func (f *fakeAirflow) runMatches(r fakeRun, fl filter) bool {
	return fl.matches(r.DagID, r.State, r.End, r.executionDate(), r.Tick)
}

func (f *fakeAirflow) tiMatches(ti fakeTI, fl filter) bool {
	r := f.runLocked(ti.DagID, ti.RunID)
	return fl.matches(ti.DagID, ti.State, ti.End, r.executionDate(), r.Tick)
}

func wtime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

func (f *fakeAirflow) dagWire(id string) map[string]any {
	if f.api == APIv1 {
		return map[string]any{"dag_id": id, "is_paused": false, "is_active": true, "fileloc": "/dags/" + id + ".py", "tags": []any{}, "owners": []any{"data"}}
	}
	return map[string]any{
		"dag_id": id, "dag_display_name": id, "is_paused": false, "is_stale": false, "last_parsed_time": nil, "last_expired": nil,
		"bundle_name": "dags-folder", "bundle_version": nil, "relative_fileloc": id + ".py", "fileloc": "/dags/" + id + ".py",
		"description": nil, "timetable_summary": "0 1 * * *", "timetable_description": nil, "tags": []any{}, "max_active_tasks": 16,
		"max_active_runs": 16, "max_consecutive_failed_dag_runs": 0, "has_task_concurrency_limits": false, "has_import_errors": false,
		"next_dagrun_logical_date": nil, "next_dagrun_data_interval_start": nil, "next_dagrun_data_interval_end": nil,
		"next_dagrun_run_after": nil, "owners": []any{"data"}, "file_token": "tok",
	}
}

func (f *fakeAirflow) runWire(r fakeRun) map[string]any {
	var dur any
	if !r.Start.IsZero() && !r.End.IsZero() {
		dur = r.End.Sub(r.Start).Seconds()
	}
	if f.api == APIv1 {
		exec := wtime(r.executionDate())
		return map[string]any{
			"dag_id": r.DagID, "dag_run_id": r.RunID, "state": r.State, "run_type": "scheduled",
			"start_date": wtime(r.Start), "end_date": wtime(r.End), "execution_date": exec, "logical_date": exec,
			"data_interval_start": wtime(r.Tick.AddDate(0, 0, -1)), "data_interval_end": wtime(r.Tick),
			"external_trigger": false, "conf": map[string]any{}, "last_scheduling_decision": nil, "note": nil,
		}
	}
	var logical any
	if r.Logical != nil {
		logical = wtime(*r.Logical)
	}
	return map[string]any{
		"dag_run_id": r.RunID, "dag_id": r.DagID, "logical_date": logical, "queued_at": wtime(r.Tick),
		"start_date": wtime(r.Start), "end_date": wtime(r.End), "duration": dur,
		"data_interval_start": nil, "data_interval_end": nil, "run_after": wtime(r.Tick),
		"last_scheduling_decision": nil, "run_type": "scheduled", "state": r.State, "triggered_by": "timetable",
		"triggering_user_name": nil, "conf": map[string]any{}, "note": nil, "dag_versions": []any{}, "bundle_version": nil,
		"dag_display_name": r.DagID,
	}
}

func (f *fakeAirflow) tiWire(ti fakeTI) map[string]any {
	r := f.runLocked(ti.DagID, ti.RunID)
	var state, dur any
	if ti.State != "" {
		state = ti.State
	}
	if !ti.Start.IsZero() && !ti.End.IsZero() {
		dur = ti.End.Sub(ti.Start).Seconds()
	}
	if f.api == APIv1 {
		return map[string]any{
			"dag_id": ti.DagID, "task_id": ti.TaskID, "dag_run_id": ti.RunID, "map_index": ti.MapIndex,
			"execution_date": wtime(r.executionDate()), "start_date": wtime(ti.Start), "end_date": wtime(ti.End),
			"duration": dur, "state": state, "try_number": ti.Try, "max_tries": ti.MaxTries,
			"hostname": "worker-1", "unixname": "airflow", "pool": "default_pool", "pool_slots": 1, "queue": "default",
			"priority_weight": 1, "operator": "PythonOperator", "queued_when": nil, "pid": nil, "executor": nil,
			"executor_config": "{}", "note": nil, "rendered_map_index": nil, "rendered_fields": map[string]any{},
			"task_display_name": ti.TaskID,
		}
	}
	var logical any
	if r.Logical != nil {
		logical = wtime(*r.Logical)
	}
	return map[string]any{
		"id": fmt.Sprintf("0190-%s-%s-%s-%d", ti.DagID, ti.TaskID, ti.RunID, ti.MapIndex), "task_id": ti.TaskID, "dag_id": ti.DagID,
		"dag_run_id": ti.RunID, "map_index": ti.MapIndex, "logical_date": logical, "run_after": wtime(r.Tick),
		"start_date": wtime(ti.Start), "end_date": wtime(ti.End), "duration": dur, "state": state,
		"try_number": ti.Try, "max_tries": ti.MaxTries, "task_display_name": ti.TaskID, "dag_display_name": ti.DagID,
		"hostname": nil, "unixname": nil, "pool": "default_pool", "pool_slots": 1, "queue": nil, "priority_weight": nil,
		"operator": nil, "operator_name": nil, "queued_when": nil, "scheduled_when": nil, "pid": nil, "executor": nil,
		"executor_config": "{}", "note": nil, "rendered_map_index": nil, "rendered_fields": map[string]any{},
		"trigger": nil, "triggerer_job": nil, "dag_version": nil,
	}
}

// serveToken is Airflow 3's POST /auth/token (simple auth manager): a JWT
// for a username and password.
func (f *fakeAirflow) serveToken(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ Username, Password string }
	if r.Method != http.MethodPost || json.Unmarshal(body, &in) != nil {
		f.t.Errorf("bad token request %s %q", r.Method, body)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if in.Username != "kant" || in.Password != "s3cret" {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"detail":"Invalid credentials"}`))
		return
	}
	f.mu.Lock()
	f.tokens++
	n := f.tokens
	f.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]string{"access_token": "jwt-" + strconv.Itoa(n)})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
