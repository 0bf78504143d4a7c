package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// demoServer plays the demo's night as fast as it can and returns the
// server's base URL once the night has been played and judged.
func demoServer(t *testing.T) (base string, out *lockedBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out = &lockedBuffer{}
	d := demoRun{
		speed: 1e6, history: 30, dir: t.TempDir(), getenv: env(nil), stdout: out,
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)), real: time.Now, played: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	select {
	case <-d.played:
	case err := <-done:
		done <- err
		t.Fatalf("demo stopped before the night was played: %v\n%s", err, out)
	case <-time.After(60 * time.Second):
		t.Fatalf("the night was not played within a minute:\n%s", out)
	}
	return "http://" + ln.Addr().String(), out
}

// demoDate is the date of the night the demo played, as it printed it.
func demoDate(t *testing.T, out *lockedBuffer) kant.Date {
	t.Helper()
	_, rest, ok := strings.Cut(out.String(), "Playing the night of ")
	if !ok || len(rest) < 10 {
		t.Fatalf("the demo did not say which night it plays:\n%s", out)
	}
	d, err := kant.ParseDate(rest[:10])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTheDemoPlaysTheNightAndJudgesIt(t *testing.T) {
	base, out := demoServer(t)
	date := demoDate(t, out)

	resp, err := http.Get(base + "/v1/slo?date=" + date.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Results []struct {
			SLO, Job, Verdict, Reason string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range body.Results {
		got[r.Job] = r.Verdict + "/" + r.Reason
	}
	want := map[string]string{
		"hegel/export_users":            "met/",
		"hegel/export_items":            "met/", // failed, retried, succeeded in time
		"hegel/export_orders":           "late/",
		"hegel/export_legacy":           "missed/not_started",
		"socrates/daily_load.extract":   "met/",
		"socrates/daily_load.transform": "met/",
		"socrates/daily_load.load":      "late/",
		"socrates/daily_load.report":    "late/", // failed for good, then recovered by a manual re-run
		"spinoza/nightly_billing":       "met/",  // a Step Functions execution failed, redriven, succeeded in time
	}
	for job, v := range want {
		if got[job] != v {
			t.Errorf("%s: verdict %q, want %q", job, got[job], v)
		}
	}
	for _, line := range []string{
		"hegel/export_items", "failed (attempt 1 of 2), retry pending: java.lang.OutOfMemoryError",
		// Warned at risk before its deadline, then the same message says it missed.
		"03:30  alert #data-alerts @data-platform: hegel/export_legacy is at risk of missing its deadline",
		"04:01  edit  #data-alerts @data-platform: hegel/export_legacy missed its deadline",
		"Downstream folded into this incident: socrates/daily_load.load",
		"edit  #analytics-alerts @analytics: socrates/daily_load.report succeeded late",
		"run   spinoza/nightly_billing       failed: States.TaskFailed: Lambda billing-export",
		"alert #billing-alerts @billing: spinoza/nightly_billing",
		"gate  hegel-nightly " + date.String() + " → 404 not yet: export_items running, export_legacy not_started, export_orders running",
		// A re-run after socrates-daily went ahead: told in its incident's
		// thread, and by the gate.
		"↳     hegel/export_users re-ran for " + date.String() + " at 07:10 (run jr_users_rerun, attempt 1), after its gate opened at 01:42: socrates-daily may have read it before",
		"gate  hegel-nightly " + date.String() + " → 404 not yet: export_legacy not_started; changed since open: export_users re-run at 07:10, after it opened at 01:42",
		"recovered for " + date.String() + " after 1h15m",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("demo output lacks %q:\n%s", line, out)
		}
	}
}
