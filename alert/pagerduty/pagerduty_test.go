package pagerduty_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/alert/pagerduty"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const routingKey = "R0UT1NGKEY0123456789abcdefABCDEF"

var failed = kant.Alert{
	ID: "job/hegel-nightly/hegel/export/2026-06-01T01:00", Kind: alert.KindFailed, SLO: "hegel-nightly",
	Job: "hegel/export", Date: date("2026-06-01"), Status: kant.AlertOpen, Channel: "#data-alerts",
	Text:      "hegel/export failed for 2026-06-01 (attempt 2)",
	CreatedAt: time.Date(2026, 6, 1, 2, 1, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 6, 1, 2, 1, 0, 0, time.UTC),
	Since: time.Date(2026, 6, 1, 11, 0, 0, 0, time.FixedZone("JST", 9*3600)), Owner: "@data-platform",
	Fields: []kant.AlertField{{Label: "SLO", Value: "hegel-nightly"}, {Label: "Deadline", Value: "06:00 UTC"},
		{Label: "Error", Value: "OutOfMemoryError: Java heap space"}},
	Links:    []kant.AlertLink{{Text: "Glue run", URL: "https://console.aws.amazon.com/gluestudio/home#/job/export/run/jr_2"}},
	Revision: 1,
}

func date(s string) kant.Date {
	d, err := kant.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// request is what the Events API server received.
type request struct {
	Method, Path, ContentType string
	Body                      []byte
}

// server speaks the Events API v2: it checks what the API requires of an
// event (400 otherwise, as PagerDuty answers) and records the request.
type server struct {
	mu   sync.Mutex
	reqs []request
	// status, when set, is the answer instead of 202.
	status int
	header http.Header
}

func (s *server) start(t *testing.T) *httptest.Server {
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		s.reqs = append(s.reqs, request{r.Method, r.URL.Path, r.Header.Get("Content-Type"), body})
		if s.status != 0 {
			for k, v := range s.header {
				w.Header()[k] = v
			}
			w.WriteHeader(s.status)
			io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid","errors":["'routing_key' is invalid"]}`)
			return
		}
		if problems := invalid(r, body); len(problems) > 0 {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": problems})
			return
		}
		var e pagerduty.Message
		json.Unmarshal(body, &e)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": e.DedupKey})
	}))
	t.Cleanup(h.Close)
	return h
}

// invalid lists what the Events API v2 would reject in a request.
func invalid(r *http.Request, body []byte) []string {
	var problems []string
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		problems = append(problems, "not POST /v2/enqueue")
	}
	if r.Header.Get("Content-Type") != "application/json" {
		problems = append(problems, "content type "+r.Header.Get("Content-Type"))
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		return append(problems, err.Error())
	}
	if e["routing_key"] != routingKey {
		problems = append(problems, "'routing_key' is invalid")
	}
	action, _ := e["event_action"].(string)
	if !slices.Contains([]string{"trigger", "acknowledge", "resolve"}, action) {
		problems = append(problems, "'event_action' is invalid")
	}
	if key, _ := e["dedup_key"].(string); action != "trigger" && key == "" || len(key) > 255 {
		problems = append(problems, "'dedup_key' is invalid")
	}
	if action == "trigger" {
		p, _ := e["payload"].(map[string]any)
		summary, _ := p["summary"].(string)
		source, _ := p["source"].(string)
		if summary == "" || len([]rune(summary)) > 1024 {
			problems = append(problems, "'payload.summary' is missing or too long")
		}
		if source == "" {
			problems = append(problems, "'payload.source' is missing")
		}
		if sev, _ := p["severity"].(string); !slices.Contains([]string{"critical", "error", "warning", "info"}, sev) {
			problems = append(problems, "'payload.severity' is invalid")
		}
		if ts, ok := p["timestamp"].(string); ok {
			if _, err := time.Parse(time.RFC3339, ts); err != nil {
				problems = append(problems, "'payload.timestamp' is invalid")
			}
		}
	}
	return problems
}

func newSender(t *testing.T, h *httptest.Server) *pagerduty.Sender {
	t.Helper()
	s, err := pagerduty.New(pagerduty.Config{RoutingKey: routingKey, URL: h.URL + "/v2/enqueue",
		ClientURL: "https://kant.example.com", HTTPClient: h.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAnOpenAlertTriggersAnIncidentKeyedByTheAlertID(t *testing.T) {
	var srv server
	s := newSender(t, srv.start(t))
	sent, err := s.Send(context.Background(), failed, kant.Delivery{})
	if err != nil || !sent {
		t.Fatalf("Send = %v, %v; want sent", sent, err)
	}
	if len(srv.reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(srv.reqs))
	}
	var e pagerduty.Message
	if err := json.Unmarshal(srv.reqs[0].Body, &e); err != nil {
		t.Fatal(err)
	}
	if e.EventAction != "trigger" || e.DedupKey != failed.ID || e.Payload.Severity != "error" {
		t.Errorf("event %+v", e)
	}
	golden(t, "trigger", srv.reqs[0].Body)
}

func TestAResolvedAlertResolvesTheIncident(t *testing.T) {
	var srv server
	s := newSender(t, srv.start(t))
	resolved := failed
	resolved.Status, resolved.Kind, resolved.Revision = kant.AlertResolved, alert.KindRecovered, 3
	resolved.Text = "hegel/export recovered for 2026-06-01: succeeded at 2026-06-01 04:00 UTC"
	sent, err := s.Send(context.Background(), resolved, kant.Delivery{Revision: 2, Status: kant.AlertOpen})
	if err != nil || !sent || len(srv.reqs) != 1 {
		t.Fatalf("Send = %v, %v with %d requests; want one sent", sent, err, len(srv.reqs))
	}
	golden(t, "resolve", srv.reqs[0].Body)
}

func TestPagerDutyIsToldOnlyOfOpeningsAndResolutions(t *testing.T) {
	open, resolved := failed, failed
	resolved.Status = kant.AlertResolved
	for _, tc := range []struct {
		name   string
		a      kant.Alert
		last   string
		action string // "" when nothing is sent
	}{
		{"an alert that opens triggers", open, "", "trigger"},
		{"a change of an open alert already triggered sends nothing", open, kant.AlertOpen, ""},
		{"a resolved alert that was triggered resolves", resolved, kant.AlertOpen, "resolve"},
		{"a resolved alert that was never triggered sends nothing", resolved, "", ""},
		{"a resolved alert already resolved sends nothing", resolved, kant.AlertResolved, ""},
		{"an alert that opens again triggers again", open, kant.AlertResolved, "trigger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srv server
			s := newSender(t, srv.start(t))
			sent, err := s.Send(context.Background(), tc.a, kant.Delivery{Revision: 1, Status: tc.last})
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if len(srv.reqs) == 1 {
				var e pagerduty.Message
				json.Unmarshal(srv.reqs[0].Body, &e)
				got = e.EventAction
			}
			if sent != (tc.action != "") || got != tc.action || len(srv.reqs) > 1 {
				t.Errorf("sent %v, action %q in %d requests; want %q", sent, got, len(srv.reqs), tc.action)
			}
		})
	}
}

func TestErrorsSayWhetherARetryCanHelp(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		header    http.Header
		retryable bool
		wait      time.Duration
	}{
		{"an invalid event (400) is not retried", http.StatusBadRequest, nil, false, 0},
		{"a forbidden integration (403) is not retried", http.StatusForbidden, nil, false, 0},
		{"throttling (429) is retried after Retry-After", http.StatusTooManyRequests, http.Header{"Retry-After": {"20"}}, true, 20 * time.Second},
		{"an outage (500) is retried", http.StatusInternalServerError, nil, true, 0},
		{"an unavailable service (503) is retried", http.StatusServiceUnavailable, nil, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := server{status: tc.status, header: tc.header}
			s := newSender(t, srv.start(t))
			_, err := s.Send(context.Background(), failed, kant.Delivery{})
			if err == nil {
				t.Fatal("no error")
			}
			if ok, wait := alert.Retryable(err); ok != tc.retryable || wait != tc.wait {
				t.Errorf("Retryable(%v) = %v, %v; want %v, %v", err, ok, wait, tc.retryable, tc.wait)
			}
			if strings.Contains(err.Error(), routingKey) {
				t.Errorf("the error shows the routing key: %v", err)
			}
			if tc.status == http.StatusBadRequest && !strings.Contains(err.Error(), "Event object is invalid") {
				t.Errorf("the error does not say what PagerDuty said: %v", err)
			}
		})
	}
}

func TestAnUnreachableEndpointIsRetried(t *testing.T) {
	var srv server
	h := srv.start(t)
	s := newSender(t, h)
	h.Close()
	_, err := s.Send(context.Background(), failed, kant.Delivery{})
	if ok, _ := alert.Retryable(err); err == nil || !ok {
		t.Errorf("Send = %v, want a retryable error", err)
	}
	var ae *alert.Error
	if !errors.As(err, &ae) || strings.Contains(err.Error(), routingKey) {
		t.Errorf("error %v", err)
	}
}

func TestALongSummaryAndALongIDAreCutToWhatPagerDutyAccepts(t *testing.T) {
	var srv server
	s := newSender(t, srv.start(t))
	long := failed
	long.ID = "job/" + strings.Repeat("x", 300)
	long.Text = strings.Repeat("é", 2000)
	if _, err := s.Send(context.Background(), long, kant.Delivery{}); err != nil {
		t.Fatalf("Send: %v (the test server checks the limits)", err)
	}
	var e pagerduty.Message
	json.Unmarshal(srv.reqs[0].Body, &e)
	if n := len([]rune(e.Payload.Summary)); n != 1024 || len(e.DedupKey) > 255 || e.DedupKey != pagerduty.DedupKey(long.ID) {
		t.Errorf("summary of %d characters, dedup key %q", n, e.DedupKey)
	}
}

func TestNewRejectsAMissingRoutingKeyOrABadURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  pagerduty.Config
	}{
		{"no routing key", pagerduty.Config{}},
		{"a URL that is not http(s)", pagerduty.Config{RoutingKey: routingKey, URL: "ftp://events.pagerduty.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := pagerduty.New(tc.cfg); err == nil {
				t.Error("New accepted it")
			} else if strings.Contains(err.Error(), routingKey) {
				t.Errorf("the error shows the routing key: %v", err)
			}
		})
	}
}

// golden compares body, indented, with testdata/name.golden.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, b.Bytes())
	}
}
