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

// fakeSFN answers the Step Functions calls a poll makes (JSON 1.0,
// X-Amz-Target: AWSStepFunctions.<Operation>) with one state machine and
// one failed execution: collector/stepfunctions checks the protocol
// against the published model; this checks the wiring of kant check and
// collect.
func fakeSFN(t *testing.T) *httptest.Server {
	t.Helper()
	started, stopped := float64(time.Now().Add(-2*time.Hour).Unix()), float64(time.Now().Add(-time.Hour).Unix())
	const machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:nightly_billing"
	const exec = "arn:aws:states:eu-west-1:123456789012:execution:nightly_billing:2026-06-01"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		item := map[string]any{"executionArn": exec, "stateMachineArn": machine, "name": "2026-06-01",
			"status": "FAILED", "startDate": started, "stopDate": stopped}
		switch op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions."); op {
		case "ListStateMachines":
			json.NewEncoder(w).Encode(map[string]any{"stateMachines": []any{map[string]any{
				"stateMachineArn": machine, "name": "nightly_billing", "type": "STANDARD", "creationDate": started}}})
		case "ListExecutions":
			if in["redriveFilter"] == "REDRIVEN" {
				json.NewEncoder(w).Encode(map[string]any{"executions": []any{}})
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"executions": []any{item}})
		case "DescribeExecution":
			item["input"] = `{"date": "2026-06-01"}`
			item["error"], item["cause"] = "States.TaskFailed", "the export Lambda timed out"
			json.NewEncoder(w).Encode(item)
		default:
			w.WriteHeader(400)
			w.Write([]byte(`{"__type":"ValidationException","message":"unexpected ` + op + `"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckAndCollectOnceReachStepFunctions(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dir := t.TempDir()
	path := filepath.Join(dir, "kant.yaml")
	yaml := `store:
  sqlite: {path: ` + filepath.Join(dir, "kant.db") + `}
sources:
  - name: spinoza
    type: stepfunctions
    region: eu-west-1
    endpoint: ` + fakeSFN(t).URL + `
    state_machines: ["nightly_*"]
    logical_date_path: "$.date"
slos: []
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"check", "-config", path}, os.Getenv, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("check: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "source spinoza: ok: lists 1 matching state machine(s); reads executions (nightly_billing: 1 execution(s)") {
		t.Errorf("check output:\n%s", stdout.String())
	}
	for i, want := range []string{"1 new observation(s)", "0 new observation(s)"} {
		stdout.Reset()
		if code := run(context.Background(), []string{"collect", "-once", "-config", path}, os.Getenv, nil, &stdout, &stderr); code != 0 {
			t.Fatalf("collect %d: exit %d\n%s%s", i, code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "spinoza: ok in") || !strings.Contains(stdout.String(), want) {
			t.Errorf("collect %d: %q, want %q", i, stdout.String(), want)
		}
	}
}
