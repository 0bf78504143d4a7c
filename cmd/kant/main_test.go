package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant/config"
)

// env returns a getenv that knows only vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// kantServer is kant serving in-process on a loopback port.
type kantServer struct {
	url  string
	app  *app
	stop func()
}

// start runs `kant serve` in-process with cfgYAML (empty: the default
// configuration) on a temporary store, with the clock fixed at now.
func start(t *testing.T, cfgYAML string, vars map[string]string, now time.Time) *kantServer {
	t.Helper()
	return startOn(t, filepath.Join(t.TempDir(), "kant.db"), cfgYAML, vars, now)
}

// startOn is start on the SQLite file at dbPath.
func startOn(t *testing.T, dbPath, cfgYAML string, vars map[string]string, now time.Time) *kantServer {
	t.Helper()
	return startClock(t, dbPath, cfgYAML, vars, func() time.Time { return now })
}

// startClock is startOn with the clock given.
func startClock(t *testing.T, dbPath, cfgYAML string, vars map[string]string, clock func() time.Time) *kantServer {
	t.Helper()
	var cfg *config.Config
	var err error
	if cfgYAML == "" {
		cfg, err = config.Default(env(vars))
	} else {
		cfg, err = config.Parse("kant.yaml", strings.NewReader(cfgYAML), env(vars))
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store.SQLitePath = dbPath
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := newApp(ctx, cfg, appDeps{logger: logger, now: clock, getenv: env(vars)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer ln.Close()
		defer a.close()
		done <- a.run(ctx, ln)
	}()
	s := &kantServer{url: "http://" + ln.Addr().String(), app: a}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(s.stop)
	// Wait until the first evaluation is written: readiness, not a timer.
	for i := 0; ; i++ {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i > 500 {
			t.Fatal("kant did not become ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

func (s *kantServer) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func TestServeWithNoConfigJudgesAPushedRun(t *testing.T) {
	now := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	s := start(t, "", nil, now)

	body := `[{"source":"onprem","job":"nightly_export","run_id":"r1","attempt":1,"state":"failed",
	  "started_at":"2026-06-01T01:00:00Z","finished_at":"2026-06-01T01:20:00Z","logical_date":"2026-06-01"},
	 {"source":"onprem","job":"nightly_export","run_id":"r1","attempt":2,"state":"succeeded",
	  "started_at":"2026-06-01T02:00:00Z","finished_at":"2026-06-01T02:40:00Z","logical_date":"2026-06-01"}]`
	code, out := s.do(t, "POST", "/v1/runs", "", body)
	if code != 200 || out["stored"] != 2.0 {
		t.Fatalf("POST /v1/runs = %d %v", code, out)
	}
	code, out = s.do(t, "POST", "/v1/runs", "", body)
	if code != 200 || out["stored"] != 0.0 {
		t.Fatalf("the same observations again = %d %v, want stored 0", code, out)
	}

	code, out = s.do(t, "GET", "/v1/slo?date=2026-06-01", "", "")
	if code != 200 {
		t.Fatalf("GET /v1/slo = %d %v", code, out)
	}
	results := out["results"].([]any)
	if len(results) != 1 {
		t.Fatalf("results = %v, want one", results)
	}
	r := results[0].(map[string]any)
	want := map[string]any{"slo": "default", "job": "onprem/nightly_export", "verdict": "met",
		"succeeded_at": "2026-06-01T02:40:00Z", "deadline": "2026-06-02T00:00:00Z", "runs": 2.0}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("result %s = %v, want %v", k, r[k], v)
		}
	}

	code, out = s.do(t, "GET", "/v1/runs?job=onprem/*&from=2026-06-01", "", "")
	if code != 200 || len(out["runs"].([]any)) != 2 {
		t.Errorf("GET /v1/runs = %d %v, want two runs", code, out)
	}
	code, out = s.do(t, "GET", "/v1/sla?from=2026-06-01&to=2026-06-01", "", "")
	if code != 200 {
		t.Fatalf("GET /v1/sla = %d", code)
	}
	days := out["days"].([]any)
	if len(days) != 1 || days[0].(map[string]any)["slo_met"] != true || days[0].(map[string]any)["final"] != true {
		t.Errorf("days = %v, want one final day that met the SLO", days)
	}
}

func TestAPostWithAnUnknownStateIsA400NamingTheFieldAndStoresNothing(t *testing.T) {
	s := start(t, "", nil, time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC))
	code, out := s.do(t, "POST", "/v1/runs", "", `[{"source":"a","job":"j","run_id":"1","state":"queued"},
		{"source":"a","job":"j","run_id":"2","state":"done"}]`)
	if code != 400 || !strings.HasPrefix(fmt.Sprint(out["error"]), `[1].state: unknown state "done"`) {
		t.Fatalf("POST = %d %v", code, out)
	}
	_, out = s.do(t, "GET", "/v1/runs", "", "")
	if n := len(out["runs"].([]any)); n != 0 {
		t.Errorf("%d runs stored, want none", n)
	}
}

func TestHTTPErrors(t *testing.T) {
	s := start(t, "", nil, time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC))
	tests := []struct {
		name, method, path, body string
		code                     int
		err                      string
	}{
		{"a bad date is a 400 naming the parameter", "GET", "/v1/slo?date=June", "", 400, "date: bad date"},
		{"an unknown SLO is a 400 naming it", "GET", "/v1/slo?slo=nope", "", 400, `unknown SLO "nope" (configured: default)`},
		{"a reversed range is a 400", "GET", "/v1/sla?from=2026-06-02&to=2026-06-01", "", 400, "is after"},
		{"broken JSON is a 400", "POST", "/v1/runs", `{"source":`, 400, "bad JSON"},
		{"an unknown path is a JSON 404", "GET", "/v2/nothing", "", 404, "no such endpoint"},
		{"a known path with another method is a JSON 405", "PUT", "/v1/runs", "", 405, "method not allowed (allowed: GET, POST)"},
		{"a body over the limit is a 413", "POST", "/v1/runs", `{"source":"` + strings.Repeat("a", 9<<20) + `"}`, 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := s.do(t, tt.method, tt.path, "", tt.body)
			if code != tt.code || !strings.Contains(fmt.Sprint(out["error"]), tt.err) {
				t.Errorf("= %d %v, want %d and %q", code, out, tt.code, tt.err)
			}
		})
	}
}

func TestWriteTokensAreRequiredWhenConfigured(t *testing.T) {
	cfg := "tokens:\n  write: [\"${KANT_WRITE_TOKEN}\"]\n"
	s := start(t, cfg, map[string]string{"KANT_WRITE_TOKEN": "s3cret"}, time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC))
	run := `{"source":"a","job":"j","run_id":"1","state":"queued"}`
	tests := []struct {
		name, token string
		code        int
	}{
		{"no token is a 401", "", 401},
		{"a wrong token is a 401", "s3cre", 401},
		{"the right token is accepted", "s3cret", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, out := s.do(t, "POST", "/v1/runs", tt.token, run); code != tt.code {
				t.Errorf("= %d %v, want %d", code, out, tt.code)
			}
		})
	}
	if code, _ := s.do(t, "GET", "/v1/runs", "", ""); code != 200 {
		t.Errorf("reads need no token when only write tokens are configured: %d", code)
	}
}

func TestCheckReportsEveryMistakeWithItsLineAndExits2(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kant.yaml")
	yaml := `timezone: Asia/Tokio
slos:
  - name: hegel-nightly
    jobs: ["hegel/*"]
    schedule: "0 25 * * *"
    deadline: "06:00"
    targett: 0.95
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check", "-config", path}, env(nil), nil, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{path + ":1:", path + ":5:", path + ":7:"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not name %s:\n%s", want, stderr.String())
		}
	}
	if !strings.Contains(stderr.String(), "3 problem") {
		t.Errorf("stderr does not count three problems:\n%s", stderr.String())
	}
}

func TestServeWithABadConfigWritesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kant.yaml")
	db := filepath.Join(dir, "kant.db")
	if err := os.WriteFile(path, []byte("store:\n  sqlite: {path: "+db+"}\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"serve", "-config", path, "-listen", "127.0.0.1:0"}, env(nil), nil, io.Discard, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, stderr.String())
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the store %s was created by a serve with a bad config", db)
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "kant.db")
	cfgPath := filepath.Join(dir, "kant.yaml")
	if err := os.WriteFile(cfgPath, []byte("store:\n  sqlite: {path: "+db+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	line := func(id, state string) string {
		return `{"source":"onprem","job":"load","run_id":"` + id + `","state":"` + state + `","started_at":"2026-06-01T01:00:00Z","finished_at":"2026-06-01T02:00:00Z"}` + "\n"
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(line("1", "succeeded")+line("2", "failed")+line("3", "finished")+line("4", "succeeded")), 0o644)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"import", "-config", cfgPath, bad}, env(nil), nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "line 3: state: unknown state \"finished\"") ||
		!strings.Contains(stderr.String(), "nothing was stored") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}

	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte(line("1", "succeeded")+line("2", "failed")+line("2", "failed")), 0o644)
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"import", "-config", cfgPath, good}, env(nil), nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "3 observations read, 2 new") {
		t.Errorf("stdout %q: want 3 read, 2 new (the bad file stored nothing, the repeat is stored once)", stdout.String())
	}
}

func TestTheGateFollowsPushedRunsAndKantGateWaitExits0WhenOpen(t *testing.T) {
	cfg := `timezone: Asia/Tokyo
tokens:
  read: ["${KANT_READ}"]
sources:
  - {name: hegel, type: push}
slos:
  - name: hegel-nightly
    jobs: ["hegel/*"]
    schedule: "0 1 * * *"
    calendar: jp-business-days
    deadline: "06:00"
`
	vars := map[string]string{"KANT_READ": "r34d"}
	s := start(t, cfg, vars, time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)) // 12:00 JST
	push := func(state string) {
		t.Helper()
		code, out := s.do(t, "POST", "/v1/runs", "", `{"source":"hegel","job":"export_users","run_id":"jr_1","state":"`+state+`",
			"started_at":"2026-06-01T01:00:00+09:00","finished_at":"2026-06-01T02:00:00+09:00"}`)
		if code != 200 {
			t.Fatalf("push: %d %v", code, out)
		}
	}
	push("failed")
	if code, _ := s.do(t, "GET", "/v1/gate?jobs=hegel/*&date=2026-06-01", "", ""); code != 401 {
		t.Errorf("the gate without the read token: %d, want 401", code)
	}
	if code, out := s.do(t, "GET", "/v1/gate?jobs=hegel/*&date=2026-06-01", "r34d", ""); code != 409 {
		t.Errorf("after a failure: %d %v, want 409", code, out)
	}
	push("succeeded") // the same run, now reported succeeded (e.g. a corrected state)
	code, out := s.do(t, "GET", "/v1/gate?slo=hegel-nightly", "r34d", "")
	if code != 200 || out["date"] != "2026-06-01" {
		t.Errorf("after the success, the current occurrence: %d %v, want 200 for 2026-06-01", code, out)
	}
	var stdout, stderr bytes.Buffer
	vars["KANT_TOKEN"] = "r34d"
	exit := run(context.Background(), []string{"gate", "wait", "-jobs", "hegel/export_users", "-date", "2026-06-01", "-url", s.url},
		env(vars), nil, &stdout, &stderr)
	if exit != 0 || !strings.Contains(stdout.String(), "open: 1 job(s) succeeded for 2026-06-01") {
		t.Errorf("kant gate wait: exit %d, stdout %q, stderr %q", exit, stdout.String(), stderr.String())
	}
	exit = run(context.Background(), []string{"gate", "wait", "-jobs", "hegel/nope", "-url", s.url}, env(vars), nil, &stdout, &stderr)
	if exit != 3 || !strings.Contains(stderr.String(), `unknown job "hegel/nope"`) {
		t.Errorf("kant gate wait on an unknown job: exit %d, stderr %q", exit, stderr.String())
	}
}

func TestShutdownAnswersLongPollsAndStopsCleanly(t *testing.T) {
	s := start(t, "", nil, time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC))
	if code, _ := s.do(t, "POST", "/v1/runs", "", `{"source":"onprem","job":"load","run_id":"1","state":"running",
		"started_at":"2026-06-02T01:00:00Z","logical_date":"2026-06-02"}`); code != 200 {
		t.Fatalf("push: %d", code)
	}
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(s.url + "/v1/gate?jobs=onprem/load&date=2026-06-02&wait=60s")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for s.app.index.Waiting() == 0 { // parked in its long-poll: a condition, not a timer
		runtime.Gosched()
	}
	// Stopping fails the test if serve returned an error, as a graceful
	// shutdown held past its deadline by the long-poll would.
	s.stop()
	if code := <-done; code != 404 {
		t.Errorf("the long-poll got %d, want its current answer 404", code)
	}
}

func TestMetricsCountGateRequestsAndPassPromtool(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	s := start(t, "", nil, now)
	if code, _ := s.do(t, "POST", "/v1/runs", "", `{"source":"onprem","job":"export","run_id":"r1","state":"succeeded",
		"started_at":"2026-11-21T01:00:00Z","finished_at":"2026-11-21T01:30:00Z","logical_date":"2026-11-21"}`); code != 200 {
		t.Fatalf("push: %d", code)
	}
	for _, q := range []string{"jobs=onprem/export&date=2026-11-21", "jobs=onprem/export&date=2026-11-22", "jobs=onprem/nope&date=2026-11-21"} {
		resp, err := http.Get(s.url + "/v1/gate?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, series := range []string{
		`kant_gate_requests_total{code="200"} 1`,
		`kant_gate_requests_total{code="404"} 1`,
		`kant_gate_requests_total{code="400"} 1`,
		`kant_runs_ingested_total{source="onprem"} 1`,
		`kant_verdicts{slo="default",verdict="met"} 1`,
		`kant_leader 1`,
	} {
		if !strings.Contains(string(body), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("KANT_REQUIRE_TOOLS") != "" {
			t.Fatal("promtool is not on PATH and KANT_REQUIRE_TOOLS is set")
		}
		t.Skip("promtool is not on PATH (Debian package prometheus)")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestServeRefusesToStartWhenBigQueryCannotBeReachedAndSaysWhy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kant.yaml")
	if err := os.WriteFile(path, []byte("store:\n  bigquery: {project: my-project, dataset: kant}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(dir, "missing-key.json"))
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "-config", path, "-listen", "127.0.0.1:0"}, env(nil), nil, &stdout, &stderr)
	if code != exitFail {
		t.Fatalf("exit %d, want %d\n%s", code, exitFail, stderr.String())
	}
	for _, want := range []string{"open store bigquery my-project.kant", "missing-key.json: no such file"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestOpenLineageEventsArriveOnTheMarquezPath(t *testing.T) {
	now := time.Date(2026, 6, 2, 3, 0, 0, 0, time.UTC)
	s := start(t, "", nil, now)
	for _, f := range []string{"airflow_task_start.json", "airflow_task_complete.json"} {
		body, err := os.ReadFile(filepath.Join("..", "..", "collector", "lineage", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", s.url+"/api/v1/lineage", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || !strings.Contains(string(out), `"stored":1`) {
			t.Fatalf("%s: %d %s, want 201 with one observation stored", f, resp.StatusCode, out)
		}
	}
	code, out := s.do(t, "GET", "/v1/runs?job=socrates/*", "", "")
	runs, _ := out["runs"].([]any)
	if code != 200 || len(runs) != 1 {
		t.Fatalf("runs: %d %v, want the task's one run", code, out)
	}
	r := runs[0].(map[string]any)
	if r["job"] != "socrates/daily_load.load_users" || r["state"] != "succeeded" || r["logical_date"] != "2026-06-01" {
		t.Errorf("run %v, want socrates/daily_load.load_users succeeded for 2026-06-01", r)
	}
	if code, out := s.do(t, "POST", "/api/v1/lineage", "", `{"eventType":"COMPLETE"}`); code != 400 || out["error"] == "" {
		t.Errorf("a bad event: %d %v, want a 400 naming the field", code, out)
	}
}

func TestStatusSaysWhichReplicaLeadsAndTheStatusPageShowsIt(t *testing.T) {
	s := start(t, "", nil, time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC))
	code, st := s.do(t, "GET", "/v1/status", "", "")
	if code != 200 || st["role"] != "leader" || st["leader"] != st["replica"] || st["replica"] == "" || st["generation"].(float64) < 1 {
		t.Errorf("/v1/status: %d %v; want this replica leading at generation 1 or more", code, st)
	}
	resp, err := http.Get(s.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "leader " + st["replica"].(string) + " since"; !strings.Contains(string(page), want) {
		t.Errorf("the status page does not say %q", want)
	}
}
