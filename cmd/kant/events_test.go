package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// postEvent delivers body to /v1/events/aws as an EventBridge connection
// with basic auth would, and returns the status and answer.
func postEvent(t *testing.T, s *kantServer, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.url+"/v1/events/aws", strings.NewReader(body))
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("eventbridge:w-token")))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, out
}

func TestEventBridgeDeliveriesAreEnrichedThroughGetJobRunStoredOnceAndIgnoredForOtherAccounts(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv := fakeGlue(t, false)
	cfg := `tokens:
  write: ["w-token"]
sources:
  - name: hegel
    type: glue
    region: ap-northeast-1
    account: "123456789012"
    endpoint: ` + srv.URL + `
    jobs: ["export_*"]
    logical_date_argument: "--target_date"
slos: []
`
	s := start(t, cfg, nil, time.Now())
	b, err := os.ReadFile(filepath.Join("..", "..", "collector", "eventbridge", "testdata", "glue_job_succeeded.json"))
	if err != nil {
		t.Fatal(err)
	}
	event := strings.Replace(string(b), `"jobRunId": "jr_abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"`, `"jobRunId": "jr_evt"`, 1)

	if code, out := postEvent(t, s, event); code != 200 || out["stored"] != 1.0 {
		t.Fatalf("the event: %d %v, want 200 with one observation stored", code, out)
	}
	_, out := s.do(t, "GET", "/v1/runs?job=hegel/*", "", "")
	var found map[string]any
	for _, r := range out["runs"].([]any) {
		if r := r.(map[string]any); r["run_id"] == "jr_evt" {
			found = r
		}
	}
	if found == nil || found["state"] != "succeeded" || found["logical_date"] != "2026-06-03" || found["started_at"] == nil {
		t.Fatalf("run jr_evt = %v, want it succeeded for 2026-06-03 (its argument, read with GetJobRun) with its start", found)
	}
	if code, out := postEvent(t, s, event); code != 200 || out["stored"] != 0.0 {
		t.Errorf("the replay: %d %v, want 200 with nothing stored", code, out)
	}
	other := strings.Replace(event, `"account": "123456789012"`, `"account": "999999999999"`, 1)
	if code, out := postEvent(t, s, other); code != 200 || out["stored"] != 0.0 || !strings.Contains(out["ignored"].(string), "999999999999") {
		t.Errorf("another account's event: %d %v, want 200 ignored", code, out)
	}
	if code, out := postEvent(t, s, `{"detail-type": "Glue Job State Change"}`); code != 400 || out["error"] == "" {
		t.Errorf("a malformed event: %d %v, want a 400 naming the field", code, out)
	}
}
