package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTenThousandGateLongPollsAreHeldInBoundedMemoryAndAllAnswered holds
// 10,000 gate long-polls (wait=60s) on one real kant serve for a job that
// is running, reads the server's goroutines and memory from its /metrics
// while they wait, then pushes the job's success: every poll must be
// answered 200, and the server's goroutines must come back down.
func TestTenThousandGateLongPollsAreHeldInBoundedMemoryAndAllAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 10,000 connections to a real kant serve; skipped with -short")
	}
	const polls = 10000
	bin := buildKant(t)
	slack := newFakeSlack(t)
	db := t.TempDir() + "/kant.db"
	cfg := replicaConfig(t, "store:\n  sqlite: {path: "+db+"}\n", slack.srv.URL)
	p := startReplica(t, bin, cfg, "lp")
	eventually(t, 20*time.Second, "a leader", func() bool { l, _ := leaderOf([]*proc{p}); return l != nil })
	if err := p.push(running("lp")); err != nil {
		t.Fatal(err)
	}
	idle := scrape(t, p)

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: -1, // every poll its own connection, closed after
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
	}, Timeout: 90 * time.Second}
	url := p.url + "/v1/gate?jobs=onprem/lp&date=" + today + "&wait=60s"
	var (
		wg       sync.WaitGroup
		open     atomic.Int64 // answered 200
		other    sync.Map     // anything else, by what
		answered = make(chan time.Time, polls)
	)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dial := make(chan struct{}, 256) // connections being set up at once
	for range polls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dial <- struct{}{}
			var release sync.Once
			done := func() { release.Do(func() { <-dial }) }
			defer done()
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { done() }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET", url, nil)
			resp, err := client.Do(req)
			if err != nil {
				other.Store(err.Error(), true)
				return
			}
			resp.Body.Close()
			answered <- time.Now()
			if resp.StatusCode == http.StatusOK {
				open.Add(1)
			} else {
				other.Store(strconv.Itoa(resp.StatusCode), true)
			}
		}()
	}
	// A poll is held once the server has its request: count them there.
	eventually(t, 60*time.Second, "10,000 long-polls held", func() bool { return scrape(t, p)["kant_gate_waiting"] >= polls })
	held := scrape(t, p)
	if len(answered) > 0 {
		t.Fatalf("%d polls answered before the job ran", len(answered))
	}

	pushed := time.Now()
	if err := p.push(success("lp")); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(answered)
	var last time.Time
	for at := range answered {
		if at.After(last) {
			last = at
		}
	}
	other.Range(func(k, _ any) bool { t.Errorf("a poll answered %v", k); return true })
	if open.Load() != polls {
		t.Fatalf("%d of %d polls answered 200 after the job succeeded", open.Load(), polls)
	}
	eventually(t, 30*time.Second, "the goroutines come back down", func() bool {
		return scrape(t, p)["go_goroutines"] < idle["go_goroutines"]+100
	})
	after := scrape(t, p)
	perPoll := (held["go_goroutines"] - idle["go_goroutines"]) / polls
	t.Logf("%d long-polls held: kant serve goroutines %.0f idle, %.0f held (%.1f per poll), %.0f after; RSS %.0f MiB idle, %.0f MiB held, %.0f MiB after; heap in use %.0f MiB held; all %d answered 200 within %s of the push",
		polls, idle["go_goroutines"], held["go_goroutines"], perPoll, after["go_goroutines"],
		idle["process_resident_memory_bytes"]/(1<<20), held["process_resident_memory_bytes"]/(1<<20), after["process_resident_memory_bytes"]/(1<<20),
		held["go_memstats_heap_inuse_bytes"]/(1<<20), polls, last.Sub(pushed).Round(time.Millisecond))
	// net/http holds a poll in its connection's goroutine and a background
	// read that notices the client leaving: two per poll, and nothing else.
	if perPoll > 2.5 {
		t.Errorf("%.1f goroutines per held poll, want at most 2.5", perPoll)
	}
}

// running is a pushed run of job for today, still running.
func running(job string) string {
	return `{"source":"onprem","job":"` + job + `","run_id":"r1","state":"running",
		"started_at":"` + today + `T01:00:00Z","logical_date":"` + today + `"}`
}

// success is a pushed success of job for today.
func success(job string) string {
	return `{"source":"onprem","job":"` + job + `","run_id":"r1","state":"succeeded",
		"started_at":"` + today + `T01:00:00Z","finished_at":"` + today + `T02:00:00Z","logical_date":"` + today + `"}`
}

// scrape reads the unlabelled samples of p's /metrics.
func scrape(t *testing.T, p *proc) map[string]float64 {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			if !strings.HasPrefix(name[i:], "{otel_scope") && name[i:] != "{}" {
				continue
			}
			name = name[:i]
		}
		var v float64
		if _, err := fmt.Sscan(value, &v); err == nil {
			out[name] = v
		}
	}
	return out
}
