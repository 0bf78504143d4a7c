package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestASlackThatDoesNotAnswerSlowsNothingElse holds every Slack call for
// as long as the test runs: pushes, verdicts and the gate answer as fast
// as without it, because alerts are decided and sent beside ingestion.
func TestASlackThatDoesNotAnswerSlowsNothingElse(t *testing.T) {
	stuck := make(chan struct{})
	asked := make(chan struct{}, 100)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- struct{}{}
		<-stuck // never answers while the test runs
	}))
	defer slack.Close()
	defer close(stuck)
	now := time.Now().UTC()
	s := start(t, `
alerts:
  slack: {token: xoxb-test, api_url: `+slack.URL+`/api/, channel: "#kant"}
slos:
  - name: nightly
    jobs: ["onprem/*"]
    schedule: "0 1 * * *"
    deadline: "23:59"
`, nil, now)
	for i, state := range []string{"failed", "succeeded"} {
		began := time.Now()
		hour := string(rune('1' + i)) // the re-run starts an hour later
		code, out := s.do(t, "POST", "/v1/runs", "", `{"source":"onprem","job":"export","run_id":"r`+hour+`","state":"`+state+`","max_attempts":1,
			"started_at":"`+today+`T0`+hour+`:00:00Z","finished_at":"`+today+`T0`+hour+`:30:00Z","logical_date":"`+today+`"}`)
		took := time.Since(began)
		if code != 200 {
			t.Fatalf("push: %d %v", code, out)
		}
		if i == 0 {
			select {
			case <-asked: // the alert is being sent, and hangs
			case <-time.After(10 * time.Second):
				t.Fatal("kant never called Slack")
			}
		}
		began = time.Now()
		_, slo := s.do(t, "GET", "/v1/slo?date="+today, "", "")
		_, gate := s.do(t, "GET", "/v1/gate?jobs=onprem/export&date="+today, "", "")
		reads := time.Since(began)
		t.Logf("%s pushed in %s; /v1/slo and /v1/gate answered in %s while Slack hangs", state, took.Round(time.Millisecond), reads.Round(time.Millisecond))
		if took > time.Second || reads > time.Second {
			t.Errorf("with Slack hanging, a push took %s and two reads %s; want each well under a second", took, reads)
		}
		want := map[string]string{"failed": "false", "succeeded": "true"}[state]
		if got := strings.ToLower(strings.TrimSpace(jsonField(gate, "open"))); got != want {
			t.Errorf("after the %s push the gate says open=%s, want %s", state, got, want)
		}
		if rs, _ := slo["results"].([]any); len(rs) != 1 {
			t.Errorf("/v1/slo results %v, want the one occurrence", slo["results"])
		}
	}
}

func jsonField(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case bool:
		if v {
			return "true"
		}
		return "false"
	case nil:
		return ""
	default:
		return "?"
	}
}
