package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeAirflow3 answers the calls a poll of Airflow 3 makes with one DAG and
// one task instance, behind a static bearer token: collector/airflow's own
// tests check the protocol against the published OpenAPI description; this
// one checks the wiring of kant check and collect.
func fakeAirflow3(t *testing.T, token string) *httptest.Server {
	t.Helper()
	// Fixed once: every poll must see the same task instance.
	start := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(401)
			w.Write([]byte(`{"detail":"Invalid JWT token"}`))
			return
		}
		switch {
		case r.Method == "GET" && r.URL.Path == "/api/v2/version":
			w.Write([]byte(`{"version":"3.0.2","git_version":null}`))
		case r.Method == "GET" && r.URL.Path == "/api/v2/dags":
			w.Write([]byte(`{"dags":[{"dag_id":"daily_load"}],"total_entries":1}`))
		case r.Method == "POST" && r.URL.Path == "/api/v2/dags/~/dagRuns/~/taskInstances/list":
			json.NewEncoder(w).Encode(map[string]any{"total_entries": 1, "task_instances": []map[string]any{{
				"dag_id": "daily_load", "task_id": "load_users", "dag_run_id": "scheduled__2026-06-01T01:00:00+00:00",
				"map_index": -1, "state": "success", "try_number": 1, "max_tries": 2,
				"start_date": start, "end_date": end, "logical_date": nil, "run_after": "2026-06-01T01:00:00Z",
			}}})
		default:
			w.WriteHeader(404)
			w.Write([]byte(`{"detail":"Not Found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCollectOncePollsAirflowAndCheckReachesIt(t *testing.T) {
	const token = "s3cr3t-airflow-token"
	srv := fakeAirflow3(t, token)
	dir := t.TempDir()
	path := filepath.Join(dir, "kant.yaml")
	yaml := `store:
  sqlite: {path: ` + filepath.Join(dir, "kant.db") + `}
sources:
  - name: socrates
    type: airflow
    url: ` + srv.URL + `
    auth: bearer
    token: ${AIRFLOW_TOKEN}
    dags: ["daily_*"]
slos: []
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token string
		code        int
		want        string
	}{
		{"with the right token check reports the version and the DAGs", token, 0, "source socrates: ok: Airflow 3.0.2, API v2"},
		{"with a wrong token check fails, says why, and shows no token", "wrong-token", 1, "source socrates: FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"check", "-config", path}, env(map[string]string{"AIRFLOW_TOKEN": tc.token}), nil, &stdout, &stderr)
			out := stdout.String() + stderr.String()
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("check: exit %d, want %d, output lacks %q:\n%s", code, tc.code, tc.want, out)
			}
			t.Logf("kant check:\n%s", out)
			if strings.Contains(out, tc.token) {
				t.Errorf("check output shows the token:\n%s", out)
			}
		})
	}
	getenv := env(map[string]string{"AIRFLOW_TOKEN": token})
	for i, want := range []string{"1 new observation(s)", "0 new observation(s)"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"collect", "-once", "-config", path}, getenv, nil, &stdout, &stderr); code != 0 {
			t.Fatalf("collect %d: exit %d\n%s%s", i, code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "socrates: ok") || !strings.Contains(stdout.String(), want) {
			t.Errorf("collect %d: output %q, want %q", i, stdout.String(), want)
		}
	}
}
