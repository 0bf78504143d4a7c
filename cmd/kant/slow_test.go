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

// hungAirflow is an Airflow 3 API that accepts every connection and, while
// hung, never answers.
type hungAirflow struct {
	srv  *httptest.Server
	hung chan struct{} // closed when it answers again
}

func newHungAirflow(t *testing.T) *hungAirflow {
	h := &hungAirflow{hung: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-h.hung:
		case <-r.Context().Done(): // the poll gave up
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v2/version":
			w.Write([]byte(`{"version":"3.0.2","git_version":null}`))
		case r.URL.Path == "/api/v2/dags":
			w.Write([]byte(`{"dags":[{"dag_id":"daily_load"}],"total_entries":1}`))
		case strings.HasSuffix(r.URL.Path, "/taskInstances/list"):
			w.Write([]byte(`{"total_entries":0,"task_instances":[]}`))
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(func() {
		select {
		case <-h.hung:
		default:
			close(h.hung)
		}
		h.srv.Close()
	})
	return h
}

// TestAHungSourceGivesUpAtItsTimeoutAlertsOnceAndRecoversOnce polls an
// Airflow that never answers next to one that does: each cycle of the hung
// one ends at its poll_timeout and says so in its health, the other keeps
// its schedule, one stale alert is posted, and one recovery once the hung
// one answers again.
func TestAHungSourceGivesUpAtItsTimeoutAlertsOnceAndRecoversOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real poll timeouts; skipped with -short")
	}
	t.Parallel() // real processes waiting on real timeouts: they overlap
	const token = "s3cr3t-airflow-token"
	good := fakeAirflow3(t, token)
	hung := newHungAirflow(t)
	slack := newFakeSlack(t)
	s := startClock(t, t.TempDir()+"/kant.db", `
evaluate: {interval: 1s}
alerts:
  slack: {token: xoxb-test, api_url: `+slack.srv.URL+`/api/, channel: "#kant"}
sources:
  - name: hung
    type: airflow
    url: `+hung.srv.URL+`
    auth: none
    dags: ["daily_*"]
    interval: 1s
    poll_timeout: 1s
    stale_after: 2s
  - name: good
    type: airflow
    url: `+good.URL+`
    auth: bearer
    token: ${AIRFLOW_TOKEN}
    dags: ["daily_*"]
    interval: 1s
`, map[string]string{"AIRFLOW_TOKEN": token}, time.Now)
	health := func(source string) (lastSuccess time.Time, lastErr string, failures int) {
		hs, err := s.app.db.SourceHealth(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			if h.Source == source {
				return h.LastSuccess, h.LastError, h.ConsecutiveFailures
			}
		}
		return time.Time{}, "", 0
	}
	stalePosts := func() (opened, back int) {
		slack.mu.Lock()
		defer slack.mu.Unlock()
		for _, p := range slack.got {
			switch {
			case p.thread == "" && strings.Contains(p.text, "Source hung is"):
				opened++
			case p.thread != "" && strings.Contains(p.text, "Source hung is back"):
				back++
			}
		}
		return opened, back
	}
	eventually(t, 20*time.Second, "three timed-out cycles of the hung source", func() bool {
		_, err, n := health("hung")
		return n >= 3 && strings.Contains(err, "timed out")
	})
	_, lastErr, _ := health("hung")
	goodAt, _, _ := health("good")
	eventually(t, 10*time.Second, "the good source keeps its schedule", func() bool {
		at, _, _ := health("good")
		return at.After(goodAt)
	})
	eventually(t, 20*time.Second, "a stale alert", func() bool { n, _ := stalePosts(); return n == 1 })
	close(hung.hung)
	eventually(t, 20*time.Second, "one recovery in the alert's thread", func() bool { _, b := stalePosts(); return b == 1 })
	opened, back := stalePosts()
	if opened != 1 || back != 1 {
		t.Errorf("%d stale alerts and %d recoveries, want 1 and 1", opened, back)
	}
	t.Logf("hung source's health: %q; stale alerts %d, recoveries %d", lastErr, opened, back)
}
