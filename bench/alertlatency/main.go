// Command alertlatency measures how long kant takes from the data to the
// Slack post: it runs the real kant serve (the binary given by -kant) on
// a fresh SQLite file against a local Slack Web API, then
//
//   - pushes final failures one at a time and times each from the push to
//     the chat.postMessage that carries its alert;
//   - pushes running runs of as many jobs, with an SLO whose deadline is
//     the next whole minute at least 20 s away, and times each "missed"
//     post from that deadline.
//
// It prints the median and the maximum of each. Run it with
// bench/alertlatency.sh, which builds kant first.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	bin := flag.String("kant", "kant", "the kant binary")
	n := flag.Int("n", 20, "alerts of each kind")
	flag.Parse()
	if err := run(*bin, *n); err != nil {
		fmt.Fprintln(os.Stderr, "alertlatency:", err)
		os.Exit(1)
	}
}

// slack is a local Slack Web API that notes when each alert's first post
// arrived.
type slack struct {
	mu     sync.Mutex
	posted map[string]time.Time
	n      int
}

func (s *slack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, "/api") {
	case "/chat.postMessage":
		at := time.Now()
		var md struct {
			Payload map[string]any `json:"event_payload"`
		}
		json.Unmarshal([]byte(r.Form.Get("metadata")), &md)
		id, _ := md.Payload["alert_id"].(string)
		s.mu.Lock()
		s.n++
		if _, ok := s.posted[id]; !ok && r.Form.Get("thread_ts") == "" {
			s.posted[id] = at
		}
		ts := fmt.Sprintf("1700000000.%06d", s.n)
		s.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"channel":"C0KANT","ts":%q}`, ts)
	case "/conversations.list":
		fmt.Fprint(w, `{"ok":true,"channels":[{"id":"C0KANT","name":"kant"}],"response_metadata":{"next_cursor":""}}`)
	case "/conversations.history":
		fmt.Fprint(w, `{"ok":true,"messages":[],"has_more":false}`)
	default:
		fmt.Fprint(w, `{"ok":true}`)
	}
}

func (s *slack) at(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.posted[id]
	return t, ok
}

func run(bin string, n int) error {
	sl := &slack{posted: map[string]time.Time{}}
	srv := httptest.NewServer(sl)
	defer srv.Close()

	now := time.Now().UTC()
	today := now.Format("2006-01-02")
	deadline := now.Add(20 * time.Second).Truncate(time.Minute).Add(time.Minute)
	if deadline.Format("2006-01-02") != today {
		return fmt.Errorf("too close to midnight UTC: run it again in a few minutes")
	}
	dir, err := os.MkdirTemp("", "alertlatency")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "kant.yaml")
	yaml := fmt.Sprintf(`store:
  sqlite: {path: %s}
timezone: UTC
alerts:
  slack:
    token: xoxb-bench
    api_url: %s/api/
    channel: "#kant"
slos:
  - name: pushed
    jobs: ["onprem/fail*"]
    schedule: "0 0 * * *"
    deadline: "23:59"
  - name: deadline
    jobs: ["onprem/late*"]
    schedule: "0 0 * * *"
    deadline: %q
`, filepath.Join(dir, "kant.db"), srv.URL, deadline.Format("15:04"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", "-config", cfg, "-listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe() // its "kant serving" line names the address
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil && strings.Contains(sc.Text(), "kant serving") {
				addr <- "http://" + m[1]
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	var base string
	select {
	case base = <-addr:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("kant serve did not start")
	}
	if err := waitFor(30*time.Second, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}); err != nil {
		return fmt.Errorf("kant serve not ready: %w", err)
	}

	push := func(body string) error {
		resp, err := http.Post(base+"/v1/runs", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("push: %d %s", resp.StatusCode, b)
		}
		return nil
	}
	alertID := func(slo, job string) string { return "job/" + slo + "/onprem/" + job + "/" + today + "T00:00" }

	// Running runs of the jobs that will miss the deadline, pushed first.
	for i := range n {
		job := fmt.Sprintf("late%02d", i)
		if err := push(fmt.Sprintf(`{"source":"onprem","job":%q,"run_id":"r1","state":"running","started_at":"%sT00:00:05Z","logical_date":%q}`, job, today, today)); err != nil {
			return err
		}
	}

	var pushed []time.Duration
	for i := range n {
		job := fmt.Sprintf("fail%02d", i)
		start := time.Now()
		if err := push(fmt.Sprintf(`{"source":"onprem","job":%q,"run_id":"r1","state":"failed","max_attempts":1,"started_at":"%sT00:00:05Z","finished_at":"%sT00:10:00Z","logical_date":%q,"error_message":"boom"}`,
			job, today, today, today)); err != nil {
			return err
		}
		id := alertID("pushed", job)
		if err := waitFor(30*time.Second, func() bool { _, ok := sl.at(id); return ok }); err != nil {
			return fmt.Errorf("no post for %s: %w", id, err)
		}
		at, _ := sl.at(id)
		pushed = append(pushed, at.Sub(start))
	}

	var missed []time.Duration
	if err := waitFor(time.Until(deadline)+30*time.Second, func() bool {
		for i := range n {
			if _, ok := sl.at(alertID("deadline", fmt.Sprintf("late%02d", i))); !ok {
				return false
			}
		}
		return true
	}); err != nil {
		return fmt.Errorf("not every missed deadline was posted: %w", err)
	}
	for i := range n {
		at, _ := sl.at(alertID("deadline", fmt.Sprintf("late%02d", i)))
		missed = append(missed, at.Sub(deadline))
	}

	fmt.Printf("%-44s %6s %10s %10s\n", "alert latency (kant serve, SQLite, local Slack)", "n", "median", "max")
	for _, row := range []struct {
		what string
		d    []time.Duration
	}{{"pushed final failure -> Slack post", pushed}, {"deadline -> \"missed\" post", missed}} {
		slices.Sort(row.d)
		fmt.Printf("%-44s %6d %10s %10s\n", row.what, len(row.d), row.d[len(row.d)/2].Round(time.Millisecond), row.d[len(row.d)-1].Round(time.Millisecond))
	}
	return nil
}

// waitFor polls cond every 5 ms until it holds or within passes.
func waitFor(within time.Duration, cond func() bool) error {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", within)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
