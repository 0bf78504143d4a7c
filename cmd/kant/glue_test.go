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

// fakeGlue answers the two Glue calls a poll makes (JSON 1.1 protocol,
// X-Amz-Target: AWSGlue.<Operation>) with one job and one run: the
// collector's own tests check the protocol against the published model;
// this one checks the wiring of kant collect, check and serve.
func fakeGlue(t *testing.T, denied bool) *httptest.Server {
	t.Helper()
	// Fixed once: every poll must see the same run.
	started, completed := float64(time.Now().Add(-2*time.Hour).Unix()), float64(time.Now().Add(-time.Hour).Unix())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSGlue."); {
		case denied:
			w.WriteHeader(400)
			w.Write([]byte(`{"__type":"AccessDeniedException","message":"User is not authorized to perform: glue:GetJobs"}`))
		case op == "GetJobs":
			w.Write([]byte(`{"Jobs":[{"Name":"export_users","MaxRetries":1}]}`))
		case op == "GetJobRuns":
			json.NewEncoder(w).Encode(map[string]any{"JobRuns": []map[string]any{{
				"Id": "jr_1", "Attempt": 0, "JobName": "export_users", "JobRunState": "SUCCEEDED",
				"StartedOn": started, "CompletedOn": completed,
				"ExecutionTime": 3600, "Arguments": map[string]string{"--target_date": "2026-06-01"},
			}}})
		case op == "GetJobRun": // a run the listing does not show: only an EventBridge event names it
			json.NewEncoder(w).Encode(map[string]any{"JobRun": map[string]any{
				"Id": "jr_evt", "Attempt": 0, "JobName": "export_users", "JobRunState": "SUCCEEDED",
				"StartedOn": started, "CompletedOn": completed,
				"Arguments": map[string]string{"--target_date": "2026-06-03"},
			}})
		default:
			w.WriteHeader(400)
			w.Write([]byte(`{"__type":"InvalidInputException","message":"unexpected ` + op + `"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func glueConfig(t *testing.T, endpoint string) string {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dir := t.TempDir()
	path := filepath.Join(dir, "kant.yaml")
	yaml := `store:
  sqlite: {path: ` + filepath.Join(dir, "kant.db") + `}
sources:
  - name: hegel
    type: glue
    region: ap-northeast-1
    endpoint: ` + endpoint + `
    jobs: ["export_*"]
    logical_date_argument: "--target_date"
slos: []
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCollectOncePollsGlueAndCheckReachesIt(t *testing.T) {
	path := glueConfig(t, fakeGlue(t, false).URL)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"check", "-config", path}, os.Getenv, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("check: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "source hegel: ok: lists 1 matching job(s); reads runs (export_users: 1 run(s)") {
		t.Errorf("check output:\n%s", stdout.String())
	}
	for i, want := range []string{"1 new observation(s)", "0 new observation(s)"} {
		stdout.Reset()
		if code := run(context.Background(), []string{"collect", "-once", "-config", path}, os.Getenv, nil, &stdout, &stderr); code != 0 {
			t.Fatalf("collect %d: exit %d\n%s%s", i, code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "hegel: ok in") || !strings.Contains(stdout.String(), want) {
			t.Errorf("collect %d: %q, want %q", i, stdout.String(), want)
		}
	}
}

func TestCheckAndCollectReportAccessDenied(t *testing.T) {
	path := glueConfig(t, fakeGlue(t, true).URL)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"check", "-config", path}, os.Getenv, nil, &stdout, &stderr); code != 1 ||
		!strings.Contains(stdout.String(), "source hegel: FAILED: cannot list jobs") || !strings.Contains(stdout.String(), "AccessDeniedException") {
		t.Errorf("check: exit %d\n%s", code, stdout.String())
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"collect", "-once", "-config", path}, os.Getenv, nil, &stdout, &stderr); code != 1 ||
		!strings.Contains(stdout.String(), "hegel: failed after") {
		t.Errorf("collect: exit %d\n%s", code, stdout.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), "not-a-secret") {
		t.Error("the secret key appears in the output")
	}
}

func TestServePollsGlueAndTheGateOpensOnAFreshSource(t *testing.T) {
	endpoint := fakeGlue(t, false).URL
	glueConfig(t, endpoint) // for the AWS environment
	cfg := `sources:
  - name: hegel
    type: glue
    region: ap-northeast-1
    endpoint: ` + endpoint + `
    logical_date_argument: "--target_date"
    stale_after: 30m
slos: []
`
	s := start(t, cfg, nil, time.Now())
	// The first poll runs at start; wait for its run to be stored.
	for i := 0; ; i++ {
		_, out := s.do(t, "GET", "/v1/runs?job=hegel/*", "", "")
		if len(out["runs"].([]any)) == 1 {
			break
		}
		if i > 500 {
			t.Fatal("the Glue run never arrived")
		}
		time.Sleep(10 * time.Millisecond)
	}
	code, out := s.do(t, "GET", "/v1/gate?jobs=hegel/export_users&date=2026-06-01", "", "")
	if code != 200 {
		t.Errorf("gate after a good poll: %d %v, want 200", code, out)
	}
}
