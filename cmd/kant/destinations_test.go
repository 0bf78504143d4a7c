package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant/alert/pagerduty"
	"github.com/kantproject/kant/alert/webhook"
)

// TestAFinalFailureReachesPagerDutyAndAWebhookAsConfigured wires kant serve
// to a local Events API and a local webhook receiver through alerts.pagerduty
// and alerts.webhooks, secrets from the environment: a pushed final failure
// triggers one incident with the routing key and reaches the receiver once,
// signed, and judging again sends nothing new.
func TestAFinalFailureReachesPagerDutyAndAWebhookAsConfigured(t *testing.T) {
	var mu sync.Mutex
	var events []pagerduty.Message
	var bodies []webhook.Body
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m pagerduty.Message
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		events = append(events, m)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	}))
	defer pd.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify("hook-secret", body, r.Header.Get(webhook.HeaderSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var b webhook.Body
		json.Unmarshal(body, &b)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	s := start(t, `
alerts:
  pagerduty:
    - name: oncall
      routing_key: ${PAGERDUTY_ROUTING_KEY}
      url: `+pd.URL+`/v2/enqueue
  webhooks:
    - name: incidents
      url: `+hook.URL+`/kant
      secret: ${KANT_WEBHOOK_SECRET}
  deliver:
    - {kinds: [failed, missed], to: [slack, oncall, incidents]}
slos:
  - name: nightly
    jobs: ["onprem/*"]
    schedule: "0 1 * * *"
    deadline: "06:00"
`, map[string]string{"PAGERDUTY_ROUTING_KEY": "pd-routing-key", "KANT_WEBHOOK_SECRET": "hook-secret"}, now)
	if code, out := s.do(t, "POST", "/v1/runs", "", `{"source":"onprem","job":"export","run_id":"r1","state":"failed",
		"started_at":"2026-11-21T01:00:00Z","finished_at":"2026-11-21T02:00:00Z","logical_date":"2026-11-21",
		"error_message":"disk full"}`); code != 200 {
		t.Fatalf("push: %d %v", code, out)
	}
	for range 2 {
		if err := s.app.alerts.Tick(context.Background(), now); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].RoutingKey != "pd-routing-key" || events[0].EventAction != "trigger" ||
		events[0].Payload == nil || events[0].Payload.Component != "onprem/export" {
		t.Errorf("PagerDuty received %+v, want one trigger for onprem/export with the routing key", events)
	}
	if len(bodies) != 1 || bodies[0].Alert.Job != "onprem/export" || bodies[0].Alert.Revision != 1 || bodies[0].Alert.Kind != "failed" {
		t.Errorf("the webhook received %+v, want one signed body for onprem/export", bodies)
	}
}
