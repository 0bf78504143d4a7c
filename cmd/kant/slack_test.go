package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/kantproject/kant"
)

// TestAFinalFailureReachesSlackOnce wires kant serve to a local Slack (the
// slack-go test server, its chat.postMessage recorded) through
// alerts.slack.api_url: a pushed final failure is posted once to the SLO's
// channel, and judging again sends nothing new.
func TestAFinalFailureReachesSlackOnce(t *testing.T) {
	var mu sync.Mutex
	var posts []url.Values
	slack := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			mu.Lock()
			posts = append(posts, r.Form)
			n := len(posts)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"channel":"C0KANT","ts":"1700000000.%06d"}`, n)
		})
	})
	slack.Start()
	defer slack.Stop()
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	s := start(t, `
alerts:
  slack:
    token: ${SLACK_BOT_TOKEN}
    api_url: `+slack.GetAPIURL()+`
    channel: "#kant"
slos:
  - name: nightly
    jobs: ["onprem/*"]
    schedule: "0 1 * * *"
    deadline: "06:00"
    owner: "@here"
    channel: "#data-alerts"
`, map[string]string{"SLACK_BOT_TOKEN": "xoxb-test-token"}, now)
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
	if len(posts) != 1 {
		t.Fatalf("%d posts reached Slack, want 1: %v", len(posts), posts)
	}
	p := posts[0]
	if p.Get("channel") != "#data-alerts" {
		t.Errorf("post to channel %q, want the SLO's #data-alerts", p.Get("channel"))
	}
	for _, want := range []string{"onprem/export", "disk full", "<!here>"} {
		if !strings.Contains(p.Get("blocks")+p.Get("text"), want) {
			t.Errorf("the post lacks %q: text %q, blocks %s", want, p.Get("text"), p.Get("blocks"))
		}
	}
}

// TestAPostInterruptedByARestartIsFoundNotRepeated: the process stopped
// after Slack accepted a post but before the store recorded it. On the next
// pass kant finds the message in the channel's history (the channel
// configured by name is resolved to its ID) instead of posting again.
func TestAPostInterruptedByARestartIsFoundNotRepeated(t *testing.T) {
	var mu sync.Mutex
	var posts, histories []url.Values
	slack := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			mu.Lock()
			posts = append(posts, r.Form)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true,"channel":"C0DATA","ts":"1700000000.000001"}`))
		})
		c.Handle("/conversations.list", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true,"channels":[{"id":"C0DATA","name":"data-alerts"}],"response_metadata":{"next_cursor":""}}`))
		})
		c.Handle("/conversations.history", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			mu.Lock()
			defer mu.Unlock()
			histories = append(histories, r.Form)
			var msgs []string
			if r.Form.Get("channel") == "C0DATA" {
				for _, p := range posts {
					msgs = append(msgs, fmt.Sprintf(`{"type":"message","ts":"1700000000.000001","text":"x","metadata":%s}`, p.Get("metadata")))
				}
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"messages":[%s],"has_more":false}`, strings.Join(msgs, ","))
		})
	})
	slack.Start()
	defer slack.Stop()
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	s := start(t, `
alerts:
  slack: {token: xoxb-test-token, api_url: `+slack.GetAPIURL()+`, channel: "#data-alerts"}
slos:
  - {name: nightly, jobs: ["onprem/*"], schedule: "0 1 * * *", deadline: "06:00"}
`, nil, now)
	if code, out := s.do(t, "POST", "/v1/runs", "", `{"source":"onprem","job":"export","run_id":"r1","state":"failed",
		"started_at":"2026-11-21T01:00:00Z","finished_at":"2026-11-21T02:00:00Z","logical_date":"2026-11-21"}`); code != 200 {
		t.Fatalf("push: %d %v", code, out)
	}
	ctx := context.Background()
	if err := s.app.alerts.Tick(ctx, now); err != nil {
		t.Fatal(err)
	}
	// Make the stored alert look as if the process had stopped right after
	// Slack accepted the post.
	all, err := s.app.db.Alerts(ctx, kant.AlertFilter{})
	if err != nil || len(all) != 1 {
		t.Fatalf("alerts %v %v", all, err)
	}
	a := all[0]
	a.Posting, a.SentAt, a.MessageTS, a.Delivered, a.Channel = true, time.Time{}, "", 0, "#data-alerts"
	if err := s.app.db.PutAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.app.alerts.Tick(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 {
		t.Errorf("%d posts, want 1: the interrupted post was repeated", len(posts))
	}
	if len(histories) == 0 || histories[0].Get("channel") != "C0DATA" {
		t.Errorf("history reads %v, want one of C0DATA", histories)
	}
	after, _ := s.app.db.Alerts(ctx, kant.AlertFilter{})
	if len(after) != 1 || after[0].MessageTS != "1700000000.000001" || after[0].Posting {
		t.Errorf("alert after the pass: %+v, want the found message recorded", after)
	}
}

func TestCheckReportsWhetherSlackAcceptsTheToken(t *testing.T) {
	slack := slacktest.NewTestServer()
	slack.Start()
	defer slack.Stop()
	dir := t.TempDir()
	path := dir + "/kant.yaml"
	if err := os.WriteFile(path, []byte(`alerts:
  slack: {token: "${SLACK_BOT_TOKEN}", api_url: "`+slack.GetAPIURL()+`", channel: "#kant"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check", "-config", path}, env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-check-token"}), nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "slack: ok: bot ") {
		t.Errorf("check: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), "xoxb-check-token") {
		t.Errorf("check shows the token")
	}
}
