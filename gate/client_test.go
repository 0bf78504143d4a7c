package gate_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/gate"
)

// steppingClock returns a clock that starts at t0 and moves by step at every
// reading, so that a client's timeout passes without waiting for it.
func steppingClock(t0 time.Time, step time.Duration) func() time.Time {
	now := t0
	return func() time.Time {
		t := now
		now = now.Add(step)
		return t
	}
}

func TestWaitExitStatuses(t *testing.T) {
	ok := run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")
	failed := run("hegel/export_users", "jr_1", 1, kant.StateFailed, "2026-06-01T03:00:00+09:00")
	failed.ErrorMessage = "OutOfMemory"
	running := run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00")
	tests := []struct {
		name    string
		runs    []kant.Run
		jobs    string
		sloName string
		code    int
		out     string // in the progress or error output
	}{
		{name: "an open gate exits 0", runs: []kant.Run{ok}, jobs: "hegel/export_users", code: gate.ExitOpen},
		{name: "a glob whose jobs all succeeded exits 0", runs: []kant.Run{ok}, jobs: "hegel/export_*", code: gate.ExitOpen},
		{name: "an upstream failure exits 1 naming the job and its error", runs: []kant.Run{failed}, jobs: "hegel/export_users",
			code: gate.ExitFailed, out: "hegel/export_users (OutOfMemory)"},
		{name: "a gate still closed at the timeout exits 2", runs: []kant.Run{running}, jobs: "hegel/export_users",
			code: gate.ExitTimeout, out: "hegel/export_users running"},
		{name: "an unknown job exits 3", runs: []kant.Run{ok}, jobs: "hegel/export_user", code: gate.ExitError,
			out: `unknown job "hegel/export_user"`},
		{name: "both jobs and slo is a usage error", jobs: "hegel/x", sloName: "hegel-nightly", code: gate.ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, at("2026-06-01T07:00:00+09:00"), tt.runs...)
			var out bytes.Buffer
			c := &gate.Client{URL: f.srv.URL, Output: &out, Now: steppingClock(time.Now(), 100*time.Millisecond), MinInterval: time.Millisecond}
			code, _, err := c.Wait(context.Background(), tt.jobs, tt.sloName, "2026-06-01", 150*time.Millisecond)
			if err != nil {
				out.WriteString(err.Error())
			}
			if code != tt.code || !strings.Contains(out.String(), tt.out) {
				t.Errorf("exit %d, output %q; want exit %d and %q", code, out.String(), tt.code, tt.out)
			}
		})
	}
}

// inProcess is a RoundTripper that answers with a handler on the calling
// goroutine, without a network, so that a client and the gate share a
// synctest bubble.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

func TestWaitFollowsTheGateUntilItOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := at("2026-06-01T02:00:00+09:00")
		ix := newIndex(t, &now, run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00"))
		var out bytes.Buffer
		c := &gate.Client{URL: "http://kant", Output: &out, HTTP: &http.Client{Transport: inProcess{gate.NewHandler(ix, nil)}}}
		done := make(chan int, 1)
		go func() {
			code, _, _ := c.Wait(context.Background(), "hegel/export_users", "", "2026-06-01", time.Hour)
			done <- code
		}()
		synctest.Wait() // the client's request is parked in the gate's long-poll
		if ix.Waiting() != 1 {
			t.Fatalf("%d long-polls waiting, want the client's", ix.Waiting())
		}
		ix.Observe(context.Background(), []kant.Run{
			run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00")})
		synctest.Wait()
		select {
		case code := <-done:
			if code != gate.ExitOpen {
				t.Errorf("exit %d, want 0; output %q", code, out.String())
			}
		default:
			t.Fatal("the client did not return once the gate opened")
		}
	})
}

func TestWaitKeepsAskingAcrossLongPollsUntilItsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := at("2026-06-01T02:00:00+09:00")
		ix := newIndex(t, &now, run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00"))
		var out bytes.Buffer
		c := &gate.Client{URL: "http://kant", Output: &out, HTTP: &http.Client{Transport: inProcess{gate.NewHandler(ix, nil)}}}
		// Three minutes of the bubble's clock: three long-polls of at most
		// a minute each, then the timeout.
		code, _, err := c.Wait(context.Background(), "hegel/export_users", "", "2026-06-01", 3*time.Minute)
		if code != gate.ExitTimeout || err == nil || strings.Count(out.String(), "not open yet") != 3 {
			t.Errorf("exit %d, err %v, output %q; want 2 after three not-yet answers", code, err, out.String())
		}
	})
}

func TestWaitGivesUpWhenKantIsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var out bytes.Buffer
	c := &gate.Client{URL: "http://" + addr, Output: &out, MaxConnErrors: 2, Backoff: time.Millisecond}
	code, _, err := c.Wait(context.Background(), "hegel/x", "", "2026-06-01", time.Hour)
	if code != gate.ExitError || err == nil || !strings.Contains(err.Error(), "giving up after 2 errors") {
		t.Errorf("exit %d, err %v; want 3 after two connection errors", code, err)
	}
}

func TestWaitOnAURLThatIsNotKantsExits3(t *testing.T) {
	f := newFixture(t, at("2026-06-01T07:00:00+09:00"),
		run("hegel/export_users", "jr_1", 1, kant.StateRunning, "2026-06-01T01:00:00+09:00"))
	// A server with the gate at /v1/gate and a JSON 404 everywhere else,
	// as kant serve has; the client is pointed under a wrong prefix.
	mux := http.NewServeMux()
	mux.Handle("GET /v1/gate", gate.NewHandler(f.ix, nil))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"no such endpoint: GET ` + r.URL.Path + `"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var out bytes.Buffer
	c := &gate.Client{URL: srv.URL + "/kant", Output: &out}
	code, _, err := c.Wait(context.Background(), "hegel/export_users", "", "2026-06-01", time.Hour)
	if code != gate.ExitError || err == nil || !strings.Contains(err.Error(), "kant's base URL") {
		t.Errorf("exit %d, err %v; want 3 naming the URL", code, err)
	}
}

func TestOneClientSharedByConcurrentWaitsIsOnlyRead(t *testing.T) {
	f := newFixture(t, at("2026-06-01T07:00:00+09:00"),
		run("hegel/export_users", "jr_1", 1, kant.StateSucceeded, "2026-06-01T03:00:00+09:00"))
	// Every setting but the URL left to its default: Wait must default them
	// on its own copy, not by writing into the shared Client (under -race,
	// two Waits writing them is a data race).
	c := &gate.Client{URL: f.srv.URL}
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Go(func() {
			codes[i], _, _ = c.Wait(context.Background(), "hegel/export_users", "", "2026-06-01", time.Minute)
		})
	}
	wg.Wait()
	for i, code := range codes {
		if code != gate.ExitOpen {
			t.Errorf("wait %d: exit %d, want 0", i, code)
		}
	}
	if c.HTTP != nil || c.Now != nil || c.Output != nil || c.MaxConnErrors != 0 || c.Backoff != 0 || c.MinInterval != 0 {
		t.Errorf("Wait wrote defaults into the shared Client: %+v", *c)
	}
}

func TestWaitPausesAsLongAsABusyKantsRetryAfterSays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var asked []time.Time
		busy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked = append(asked, time.Now())
			w.Header().Set("Content-Type", "application/json")
			if len(asked) == 1 {
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte(`{"error":"store busy"}`))
				return
			}
			w.Write([]byte(`{"open":true,"date":"2026-06-01","jobs":[]}`))
		})
		var out bytes.Buffer
		c := &gate.Client{URL: "http://kant.test", HTTP: &http.Client{Transport: inProcess{busy}}, Output: &out, Backoff: time.Second}
		code, _, err := c.Wait(context.Background(), "hegel/export_users", "", "2026-06-01", time.Minute)
		if code != gate.ExitOpen || err != nil {
			t.Fatalf("Wait = %d, %v; want open (output %q)", code, err, out.String())
		}
		if len(asked) != 2 || asked[1].Sub(asked[0]) != 7*time.Second {
			t.Errorf("asked at %v: want a second ask 7 s (the Retry-After) after the first, not the 1 s backoff", asked)
		}
		if !strings.Contains(out.String(), "retrying in 7s") {
			t.Errorf("output %q does not say when it asks again", out.String())
		}
	})
}
