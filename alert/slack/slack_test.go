package slack_test

import (
	"bytes"
	"context"
	"encoding/json"

	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	kslack "github.com/kantproject/kant/alert/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// apiCall is one request the fake Slack received.
type apiCall struct {
	Method string
	Form   url.Values
	JSON   []byte // webhook bodies
}

// fakeSlack is a slacktest server whose chat methods record every request
// and answer like Slack; down, when set, answers instead.
type fakeSlack struct {
	*slacktest.Server
	mu    sync.Mutex
	calls []apiCall
	ts    int
	finds []url.Values
	// historyNoScope makes conversations.history answer missing_scope.
	historyNoScope bool
	down           func(method string) (status int, header http.Header, body string)
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{}
	f.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		for _, m := range []string{"chat.postMessage", "chat.update"} {
			c.Handle("/"+m, f.handler(m))
		}
		c.Handle("/services/", f.handler("webhook"))
		c.Handle("/conversations.history", f.history)
		c.Handle("/conversations.list", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true,"channels":[{"id":"C0OPS","name":"ops"},{"id":"C0DATA","name":"data-alerts"}],"response_metadata":{"next_cursor":""}}`))
		})
	})
	f.Start()
	t.Cleanup(f.Stop)
	return f
}

func (f *fakeSlack) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.down != nil {
			if status, h, b := f.down(method); status != 0 {
				for k, v := range h {
					w.Header()[k] = v
				}
				w.WriteHeader(status)
				io.WriteString(w, b)
				return
			}
		}
		c := apiCall{Method: method}
		if method == "webhook" {
			c.JSON = body
			f.calls = append(f.calls, c)
			io.WriteString(w, "ok")
			return
		}
		c.Form, _ = url.ParseQuery(string(body))
		f.calls = append(f.calls, c)
		ts := c.Form.Get("ts")
		if method == "chat.postMessage" {
			f.ts++
			ts = fmt.Sprintf("1780000000.%06d", f.ts)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0DATA", "ts": ts})
	}
}

// history answers conversations.history with the messages posted so far,
// their metadata included, newest first.
func (f *fakeSlack) history(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.historyNoScope {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":false,"error":"missing_scope","needed":"channels:history"}`))
		return
	}
	f.finds = append(f.finds, r.Form)
	var msgs []map[string]any
	for i, c := range f.calls {
		if c.Method != "chat.postMessage" || c.Form.Get("channel") != r.Form.Get("channel") {
			continue
		}
		m := map[string]any{"type": "message", "text": c.Form.Get("text"), "ts": fmt.Sprintf("1780000000.%06d", i+1)}
		if md := c.Form.Get("metadata"); md != "" && r.Form.Get("include_all_metadata") == "1" {
			m["metadata"] = json.RawMessage(md)
		}
		msgs = append([]map[string]any{m}, msgs...)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
}

func (f *fakeSlack) take() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeSlack) notifier(t *testing.T) *kslack.Notifier {
	t.Helper()
	n, err := kslack.New(kslack.Config{Token: "xoxb-secret-token", APIURL: f.GetAPIURL()})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// render writes calls as text for a golden file: method, the form fields
// that matter, and Block Kit pretty-printed.
func render(calls []apiCall) []byte {
	var b bytes.Buffer
	for _, c := range calls {
		fmt.Fprintf(&b, "%s\n", c.Method)
		if c.JSON != nil {
			var v any
			json.Unmarshal(c.JSON, &v)
			fmt.Fprintf(&b, "%s\n", pretty(v))
			continue
		}
		for _, k := range []string{"channel", "ts", "thread_ts", "text", "metadata"} {
			if v := c.Form.Get(k); v != "" {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		var blocks any
		json.Unmarshal([]byte(c.Form.Get("blocks")), &blocks)
		fmt.Fprintf(&b, "blocks: %s\n", pretty(blocks))
	}
	return b.Bytes()
}

// pretty is indented JSON without HTML escaping, for readable golden files.
func pretty(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}

var failed = alert.Message{
	AlertID: "job/hegel-nightly/hegel/export/2026-06-01T01:00", Kind: alert.KindFailed, Status: kant.AlertOpen,
	Channel: "#data-alerts", Text: "hegel/export failed for 2026-06-01 (attempt 2)", Owner: "<!subteam^S0DATA>",
	Fields: []kant.AlertField{
		{Label: "SLO", Value: "hegel-nightly"}, {Label: "Business date", Value: "2026-06-01"},
		{Label: "Deadline", Value: "2026-06-01 06:00 JST"}, {Label: "Since", Value: "2026-06-01 02:10 JST"},
		{Label: "Run", Value: "jr_1f3a (attempt 2, failed)"},
		{Label: "Error", Value: "An error occurred while calling o112.save: <OutOfMemory> & more"},
		{Label: "Owner", Value: "<!subteam^S0DATA>"},
	},
	Links: []kant.AlertLink{
		{Text: "Glue job run", URL: "https://ap-northeast-1.console.aws.amazon.com/gluestudio/home?region=ap-northeast-1#/job/export/run/jr_1f3a"},
		{Text: "kant status", URL: "https://kant.example.com/jobs/hegel/export"},
	},
}

func TestABotTokenPostsUpdatesAndRepliesInTheThread(t *testing.T) {
	f := newFakeSlack(t)
	n := f.notifier(t)
	ctx := context.Background()
	channel, ts, err := n.Post(ctx, failed)
	if err != nil {
		t.Fatal(err)
	}
	if channel != "C0DATA" || ts != "1780000000.000001" {
		t.Errorf("posted to %q at %q", channel, ts)
	}
	resolved := failed
	resolved.Kind, resolved.Status, resolved.Text = alert.KindRecovered, kant.AlertResolved, "hegel/export recovered for 2026-06-01: succeeded at 2026-06-01 04:00 JST"
	resolved.Fields = slices.DeleteFunc(slices.Clone(failed.Fields), func(f kant.AlertField) bool { return f.Label == "Error" })
	if err := n.Update(ctx, channel, ts, resolved); err != nil {
		t.Fatal(err)
	}
	if err := n.Reply(ctx, channel, ts, alert.Message{AlertID: failed.AlertID, Text: resolved.Text, Reply: true}); err != nil {
		t.Fatal(err)
	}
	calls := f.take()
	if len(calls) != 3 || calls[0].Method != "chat.postMessage" || calls[1].Method != "chat.update" ||
		calls[2].Method != "chat.postMessage" || calls[2].Form.Get("thread_ts") != ts || calls[1].Form.Get("ts") != ts {
		t.Errorf("calls %+v", calls)
	}
	golden(t, "post_update_reply", render(calls))
}

func TestTheDigestRendersLongFieldsAsSections(t *testing.T) {
	f := newFakeSlack(t)
	m := alert.Message{AlertID: "digest/2026-06-02", Kind: alert.KindDigest, Status: kant.AlertResolved, Channel: "#data-digest",
		Text: "Daily digest for 2026-06-01", Fields: []kant.AlertField{
			{Label: "Attainment", Value: "hegel-nightly: 3/4 met (75%), 1 late, 0 missed; 93.3% over 30 days, 0.5 budget days left"},
			{Label: "Late and failed", Value: "hegel/users (hegel-nightly): late by 20m"},
			{Label: "Closest to their deadline", Value: "hegel/users (hegel-nightly): 20m after the deadline\nhegel/export (hegel-nightly): 10m before the deadline"},
		}, Links: []kant.AlertLink{{Text: "kant status", URL: "https://kant.example.com/"}}}
	if _, _, err := f.notifier(t).Post(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	golden(t, "digest", render(f.take()))
}

func TestTheStockSlacktestServerAcceptsThePost(t *testing.T) {
	s := slacktest.NewTestServer()
	s.Start()
	defer s.Stop()
	n, err := kslack.New(kslack.Config{Token: "xoxb-x", APIURL: s.GetAPIURL()})
	if err != nil {
		t.Fatal(err)
	}
	channel, ts, err := n.Post(context.Background(), failed)
	if err != nil || channel != "#data-alerts" || ts == "" {
		t.Errorf("post: %q %q %v", channel, ts, err)
	}
}

func TestAWebhookPostsOnlyAndKeepsItsURLSecret(t *testing.T) {
	f := newFakeSlack(t)
	hook := strings.TrimSuffix(f.GetAPIURL(), "/") + "/services/T000/B000/secretpart"
	n, err := kslack.New(kslack.Config{WebhookURL: hook})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	channel, ts, err := n.Post(ctx, failed)
	if err != nil || channel != "" || ts != "" {
		t.Errorf("webhook post: %q %q %v", channel, ts, err)
	}
	golden(t, "webhook", render(f.take()))
	if err := n.Update(ctx, "C", "1", failed); err == nil {
		t.Error("a webhook updated a message")
	}

	f.Stop() // now unreachable: the error is retryable and does not name the secret
	_, _, err = n.Post(ctx, failed)
	if ok, _ := alert.Retryable(err); err == nil || !ok {
		t.Errorf("post to a stopped server: %v, want a retryable error", err)
	}
	if err != nil && strings.Contains(err.Error(), "secretpart") {
		t.Errorf("error %q reveals the webhook URL", err)
	}
}

func TestErrorsAreClassed(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		retryable bool
		after     time.Duration
	}{
		{"a 429 with Retry-After is retryable after that wait", 429, http.Header{"Retry-After": {"7"}}, "", true, 7 * time.Second},
		{"a ratelimited error is retryable", 200, nil, `{"ok":false,"error":"ratelimited"}`, true, 0},
		{"a 503 is retryable", 503, nil, "<html>down</html>", true, 0},
		{"an internal error is retryable", 200, nil, `{"ok":false,"error":"internal_error"}`, true, 0},
		{"an unknown channel is not retryable", 200, nil, `{"ok":false,"error":"channel_not_found"}`, false, 0},
		{"a bad token pauses delivery rather than giving up every alert", 200, nil, `{"ok":false,"error":"invalid_auth"}`, true, kslack.PauseAfterAuthError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSlack(t)
			f.down = func(string) (int, http.Header, string) {
				h := http.Header{"Content-Type": {"application/json"}}
				for k, v := range tc.header {
					h[k] = v
				}
				return tc.status, h, tc.body
			}
			_, _, err := f.notifier(t).Post(context.Background(), failed)
			ok, after := alert.Retryable(err)
			if err == nil || ok != tc.retryable || after != tc.after {
				t.Errorf("err %v: retryable %v after %s, want %v after %s", err, ok, after, tc.retryable, tc.after)
			}
			if err != nil && strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error %q reveals the token", err)
			}
		})
	}
}

func TestConfigIsValidated(t *testing.T) {
	for _, cfg := range []kslack.Config{{}, {Token: "x", WebhookURL: "https://h/x"}, {WebhookURL: "not a url"}, {Token: "x", APIURL: "ftp://x"}} {
		if _, err := kslack.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if strings.Contains(err.Error(), "not a url") && cfg.WebhookURL != "" {
			t.Errorf("error %q reveals the webhook URL", err)
		}
	}
}

func TestAMessageIsFoundByItsAlertIDInTheChannelHistory(t *testing.T) {
	f := newFakeSlack(t)
	n := f.notifier(t)
	ctx := context.Background()
	other := failed
	other.AlertID, other.Channel = "job/other", "C0DATA"
	mine := failed
	mine.Channel = "C0DATA"
	for _, m := range []alert.Message{other, mine} {
		if _, _, err := n.Post(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	channel, ts, err := n.Find(ctx, "C0DATA", mine.AlertID, since)
	if err != nil || channel != "C0DATA" || ts != "1780000000.000002" {
		t.Errorf("found %q %q %v, want the second post", channel, ts, err)
	}
	if len(f.finds) != 1 || f.finds[0].Get("oldest") != "1780272000.000000" || f.finds[0].Get("include_all_metadata") != "1" {
		t.Errorf("history requests %v", f.finds)
	}
	if _, ts, err := n.Find(ctx, "C0DATA", "job/never-posted", since); err != nil || ts != "" {
		t.Errorf("found %q %v for an alert never posted", ts, err)
	}
	// A bot without channels:history cannot search: that is not worth
	// waiting for (the alert is posted again), unlike a bad token on a post.
	f.historyNoScope = true
	if _, _, err := n.Find(ctx, "C0DATA", mine.AlertID, since); err == nil {
		t.Errorf("a search refused for a missing scope returned no error")
	} else if ok, _ := alert.Retryable(err); ok {
		t.Errorf("a search refused for a missing scope is retryable: %v", err)
	}
	f.historyNoScope = false
	// A channel configured by name is resolved to its ID, then searched.
	if channel, ts, err := n.Find(ctx, "#data-alerts", mine.AlertID, since); err != nil || channel != "C0DATA" || ts != "1780000000.000002" {
		t.Errorf("by channel name: found %q %q %v, want the second post in C0DATA", channel, ts, err)
	}
	if _, ts, err := n.Find(ctx, "#no-such-channel", mine.AlertID, since); err != nil || ts != "" || len(f.finds) != 3 {
		t.Errorf("an unknown channel name: found %q %v after %d history reads, want nothing searched", ts, err, len(f.finds))
	}
}

func TestCheckSaysWhichBotTheTokenIs(t *testing.T) {
	f := newFakeSlack(t)
	got, err := f.notifier(t).Check(context.Background())
	if err != nil || !strings.Contains(got, "in workspace") {
		t.Errorf("Check = %q, %v", got, err)
	}
	bad := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/auth.test", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		})
	})
	bad.Start()
	defer bad.Stop()
	n, err := kslack.New(kslack.Config{Token: "xoxb-revoked-token", APIURL: bad.GetAPIURL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "xoxb-revoked-token") {
		t.Errorf("Check with a revoked token: %v, want invalid_auth without the token", err)
	}
}
