package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/store/sqlite"
)

// alertIDOf returns the alert ID a call carries in its message metadata.
func alertIDOf(c apiCall) string {
	var m struct {
		Payload struct {
			ID string `json:"alert_id"`
		} `json:"event_payload"`
	}
	json.Unmarshal([]byte(c.Form.Get("metadata")), &m)
	return m.Payload.ID
}

func TestAnHourLongOutageDeliversEveryAlertOnceInOrder(t *testing.T) {
	ctx := context.Background()
	f := newFakeSlack(t)
	db, err := sqlite.Open(ctx, sqlite.Config{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := alert.New(alert.Config{Reader: db, Store: db, Notifier: f.notifier(t)})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	f.down = func(string) (int, http.Header, string) {
		refused++
		return http.StatusServiceUnavailable, nil, "<html>down</html>"
	}
	start := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	var want []string
	// Slack is down from 02:00 to 03:00; an alert is recorded every 72s.
	for i := range 50 {
		now := start.Add(time.Duration(i) * 72 * time.Second)
		a := kant.Alert{ID: fmt.Sprintf("job/nightly/hegel/job%02d/2026-06-01T01:00", 49-i), Kind: alert.KindFailed,
			Status: kant.AlertOpen, Channel: "#data-alerts", Text: fmt.Sprintf("hegel/job%02d failed", 49-i),
			CreatedAt: now, UpdatedAt: now, Revision: 1}
		if err := db.PutAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
		want = append(want, a.ID)
		if err := e.Deliver(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	for now := start; now.Before(start.Add(time.Hour)); now = now.Add(time.Minute) {
		if err := e.Deliver(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.take(); len(got) != 0 {
		t.Fatalf("%d calls accepted during the outage", len(got))
	}
	if refused == 0 || refused > 60 {
		t.Errorf("%d refused calls during the outage, want one per attempt, at most one a minute", refused)
	}
	pending, err := db.Alerts(ctx, kant.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range pending {
		if !a.Pending() || !a.SentAt.IsZero() {
			t.Fatalf("alert %s is not waiting in the table: %+v", a.ID, a)
		}
	}

	f.down = nil
	for now := start.Add(time.Hour); now.Before(start.Add(time.Hour + 5*time.Minute)); now = now.Add(time.Minute) {
		if err := e.Deliver(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	calls := f.take()
	if len(calls) != len(want) {
		t.Fatalf("%d calls after the outage, want %d", len(calls), len(want))
	}
	for i, c := range calls {
		if c.Method != "chat.postMessage" || alertIDOf(c) != want[i] {
			t.Errorf("call %d: %s of %q, want a post of %q", i, c.Method, alertIDOf(c), want[i])
		}
	}
	delivered, err := db.Alerts(ctx, kant.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range delivered {
		if a.Pending() || a.MessageTS == "" || seen[a.MessageTS] {
			t.Errorf("alert %s after the outage: pending %v, ts %q", a.ID, a.Pending(), a.MessageTS)
		}
		seen[a.MessageTS] = true
	}
}

func TestARateLimitedPostIsRetriedAfterRetryAfterOnly(t *testing.T) {
	ctx := context.Background()
	f := newFakeSlack(t)
	db, err := sqlite.Open(ctx, sqlite.Config{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := alert.New(alert.Config{Reader: db, Store: db, Notifier: f.notifier(t)})
	if err != nil {
		t.Fatal(err)
	}
	limited := 0
	f.down = func(string) (int, http.Header, string) {
		if limited == 0 {
			limited++
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"90"}}, ""
		}
		return 0, nil, ""
	}
	now := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	a := kant.Alert{ID: "a", Kind: alert.KindFailed, Status: kant.AlertOpen, Channel: "#c", Text: "t", CreatedAt: now, UpdatedAt: now, Revision: 1}
	if err := db.PutAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		after time.Duration
		posts int
	}{{0, 0}, {60 * time.Second, 0}, {89 * time.Second, 0}, {90 * time.Second, 1}, {120 * time.Second, 0}} {
		if err := e.Deliver(ctx, now.Add(step.after)); err != nil {
			t.Fatal(err)
		}
		if got := len(f.take()); got != step.posts {
			t.Errorf("%s after the 429: %d posts, want %d", step.after, got, step.posts)
		}
	}
	if limited != 1 {
		t.Errorf("Slack was asked %d times while rate limited, want 1", limited)
	}
}
