package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/store/postgres/pgtest"
)

// The replica tests run real `kant serve` processes on one store, with a
// local Slack, and kill or pause the leader. They wait for conditions (a
// leader elected, a post received), each bounded by a deadline; they never
// sleep for a fixed time to let something happen.

// buildKant builds the kant binary once per test and returns its path.
func buildKant(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kant")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// fakeSlack is a local Slack Web API: chat.postMessage is recorded with the
// token that sent it (each replica has its own) and the alert ID of its
// metadata; conversations.history lists the recorded posts, as kant's
// search for an interrupted post asks it.
type fakeSlack struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []slackPost
	new chan struct{} // a token per post
	// hold, when set, holds the answer to the first post (recorded: Slack
	// has it) until it is closed; held is closed when that post arrives.
	hold, held chan struct{}
	holding    sync.Once
	// noHistory answers conversations.history as to a bot without the
	// channels:history scope; onPost, when set, is called with the alert
	// ID of every post once Slack has it, before it answers.
	noHistory bool
	onPost    func(alertID string)
}

type slackPost struct {
	at      time.Time
	token   string // the replica's
	alertID string
	ts      string
	text    string
	thread  string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{new: make(chan struct{}, 10000)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = r.Form.Get("token")
	}
	switch path := strings.TrimPrefix(r.URL.Path, "/api"); path {
	case "/chat.postMessage":
		var md struct {
			Payload map[string]any `json:"event_payload"`
		}
		json.Unmarshal([]byte(r.Form.Get("metadata")), &md)
		id, _ := md.Payload["alert_id"].(string)
		f.mu.Lock()
		ts := fmt.Sprintf("1700000000.%06d", len(f.got)+1)
		f.got = append(f.got, slackPost{at: time.Now(), token: token, alertID: id, ts: ts, text: r.Form.Get("text"), thread: r.Form.Get("thread_ts")})
		f.mu.Unlock()
		f.new <- struct{}{}
		if f.onPost != nil {
			f.onPost(id)
		}
		if f.hold != nil {
			first := false
			f.holding.Do(func() { first = true })
			if first {
				close(f.held)
				<-f.hold
			}
		}
		fmt.Fprintf(w, `{"ok":true,"channel":"C0KANT","ts":%q}`, ts)
	case "/conversations.list":
		// How a channel name is resolved to the ID the history is read by.
		fmt.Fprint(w, `{"ok":true,"channels":[{"id":"C0KANT","name":"kant"},{"id":"C0DATA","name":"data-alerts"}],"response_metadata":{"next_cursor":""}}`)
	case "/conversations.history":
		if f.noHistory {
			fmt.Fprint(w, `{"ok":false,"error":"missing_scope","needed":"channels:history","provided":"chat:write"}`)
			return
		}
		f.mu.Lock()
		var msgs []map[string]any
		for i := len(f.got) - 1; i >= 0; i-- {
			p := f.got[i]
			if p.thread != "" {
				continue
			}
			msgs = append(msgs, map[string]any{"type": "message", "ts": p.ts, "text": p.text,
				"metadata": map[string]any{"event_type": "kant_alert", "event_payload": map[string]any{"alert_id": p.alertID}}})
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
	default:
		fmt.Fprint(w, `{"ok":true,"channel":"C0KANT","ts":"1700000000.000000"}`)
	}
}

// posts returns the new-message posts (not thread replies) by alert ID.
func (f *fakeSlack) posts() map[string][]slackPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]slackPost{}
	for _, p := range f.got {
		if p.thread == "" && p.alertID != "" {
			out[p.alertID] = append(out[p.alertID], p)
		}
	}
	return out
}

// proc is one running kant serve.
type proc struct {
	id   string
	cmd  *exec.Cmd
	url  string
	log  *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

var servingAddr = regexp.MustCompile(`msg="kant serving".* addr=(127\.0\.0\.1:\d+)`)

// startReplica runs `kant serve` as replica id and waits for its address.
func startReplica(t *testing.T, bin, cfgPath, id string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-config", cfgPath, "-listen", "127.0.0.1:0", "-replica-id", id, "-lease-ttl", "1s")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "SLACK_BOT_TOKEN=xoxb-"+id)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{id: id, cmd: cmd, log: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := servingAddr.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-p.done:
		t.Fatalf("replica %s exited before serving:\n%s", id, p.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %s did not start serving:\n%s", id, p.logs())
	}
	return p
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

func (p *proc) signal(sig syscall.Signal) {
	if p.alive() {
		p.cmd.Process.Signal(sig)
	}
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// status reads /v1/status; ok is false when the replica does not answer.
func (p *proc) status() (map[string]any, bool) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(p.url + "/v1/status")
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var s map[string]any
	if json.NewDecoder(resp.Body).Decode(&s) != nil {
		return nil, false
	}
	return s, true
}

func (p *proc) push(body string) error {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(p.url+"/v1/runs", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("push to %s: %d %s", p.id, resp.StatusCode, b)
	}
	return nil
}

// eventually polls cond every 20 ms until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leaderOf returns the replica that says it leads, and its generation.
func leaderOf(procs []*proc) (*proc, float64) {
	for _, p := range procs {
		if !p.alive() {
			continue
		}
		if s, ok := p.status(); ok && s["role"] == "leader" {
			return p, s["generation"].(float64)
		}
	}
	return nil, 0
}

// today is the business date the pushed runs are for (UTC): the alert
// engine considers recent days only.
var today = time.Now().UTC().Format("2006-01-02")

func failure(job string) string {
	return `{"source":"onprem","job":"` + job + `","run_id":"r1","state":"failed","max_attempts":1,
		"started_at":"` + today + `T01:00:00Z","finished_at":"` + today + `T02:00:00Z","logical_date":"` + today + `","error_message":"disk full"}`
}

// alertID is the ID of the failure alert of job.
func alertID(job string) string { return "job/nightly/onprem/" + job + "/" + today + "T01:00" }

// replicaConfig is the configuration every replica shares: store is its
// store block.
func replicaConfig(t *testing.T, store, slackURL string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kant.yaml")
	yaml := store + `
evaluate: {interval: 1s, lookback: 3d, retention: 7d}
alerts:
  slack:
    token: ${SLACK_BOT_TOKEN}
    api_url: ` + slackURL + `/api/
    channel: "#kant"
slos:
  - name: nightly
    jobs: ["onprem/*"]
    schedule: "0 1 * * *"
    deadline: "06:00"
    channel: "#data-alerts"
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// chaos runs three replicas on one store, pushes final failures to them in
// turn and SIGKILLs the leader kills times at random moments, restarting
// each killed replica. Every failure must be posted exactly once.
func chaos(t *testing.T, storeYAML string, kills int, env ...string) {
	bin := buildKant(t)
	slack := newFakeSlack(t)
	cfg := replicaConfig(t, storeYAML, slack.srv.URL)
	rng := rand.New(rand.NewPCG(12, 2026))
	next := 0
	newReplica := func() *proc {
		next++
		return startReplica(t, bin, cfg, fmt.Sprintf("r%d", next), env...)
	}
	procs := []*proc{newReplica(), newReplica(), newReplica()}
	var leader *proc
	eventually(t, 20*time.Second, "a leader elected", func() bool { leader, _ = leaderOf(procs); return leader != nil })

	var (
		jobs      []string
		failovers []time.Duration
		lags      []time.Duration
	)
	pushTo := func(job string) {
		t.Helper()
		jobs = append(jobs, job)
		for i := range len(procs) {
			p := procs[(len(jobs)+i)%len(procs)]
			if p.alive() && p.push(failure(job)) == nil {
				return
			}
		}
		t.Fatalf("no replica took the push of %s", job)
	}
	for k := range kills {
		// A few pushes spread across the replicas, then the leader dies at
		// a random moment: right away, or after some of them.
		n := 1 + rng.IntN(3)
		killAt := rng.IntN(n + 1)
		var killed *proc
		var killedAt time.Time
		for i := range n {
			if i == killAt {
				leader, _ = leaderOf(procs)
				if leader != nil {
					killed, killedAt = leader, time.Now()
					leader.kill()
				}
			}
			pushTo(fmt.Sprintf("job%02d_%d", k, i))
		}
		if killed == nil {
			leader, _ = leaderOf(procs)
			if leader != nil {
				killed, killedAt = leader, time.Now()
				leader.kill()
			}
		}
		// One more failure after the kill: the new leader's first delivery
		// is its post.
		job := fmt.Sprintf("job%02d_after", k)
		pushTo(job)
		eventually(t, 20*time.Second, "the failure pushed after kill "+fmt.Sprint(k)+" is posted", func() bool {
			return len(slack.posts()[alertID(job)]) > 0
		})
		if killed != nil {
			first := time.Time{}
			for _, ps := range slack.posts() {
				for _, p := range ps {
					if p.at.After(killedAt) && p.token != "xoxb-"+killed.id && (first.IsZero() || p.at.Before(first)) {
						first = p.at
					}
				}
			}
			failovers = append(failovers, first.Sub(killedAt))
		}
		// The killed replica comes back as a new process.
		for i, p := range procs {
			if !p.alive() {
				procs[i] = newReplica()
			}
		}
	}
	// Every failure is posted, once.
	eventually(t, 30*time.Second, "every failure posted", func() bool {
		posts := slack.posts()
		for _, j := range jobs {
			if len(posts[alertID(j)]) == 0 {
				return false
			}
		}
		return true
	})
	// The lag between a push on one replica and the gate of another.
	for i := range 5 {
		a, b := procs[i%3], procs[(i+1)%3]
		job := fmt.Sprintf("gate%d", i)
		done := make(chan time.Time, 1)
		q := url.Values{"jobs": {"onprem/" + job}, "date": {today}, "wait": {"20s"}}
		go func() {
			c := http.Client{Timeout: 30 * time.Second}
			for {
				resp, err := c.Get(b.url + "/v1/gate?" + q.Encode())
				if err == nil {
					code := resp.StatusCode
					resp.Body.Close()
					if code == 200 {
						done <- time.Now()
						return
					}
				}
			}
		}()
		pushed := time.Now()
		if err := a.push(`{"source":"onprem","job":"` + job + `","run_id":"g","state":"succeeded",
			"started_at":"` + today + `T01:00:00Z","finished_at":"` + today + `T02:00:00Z","logical_date":"` + today + `"}`); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-done:
			lags = append(lags, at.Sub(pushed))
		case <-time.After(20 * time.Second):
			t.Fatalf("replica %s's gate did not open for a push to %s", b.id, a.id)
		}
	}
	// The alert decision for a failure pushed to a follower: from the
	// push's answer to the leader's post.
	var decisions []time.Duration
	for i := range 5 {
		l, _ := leaderOf(procs)
		var follower *proc
		for _, p := range procs {
			if p != l && p.alive() {
				follower = p
				break
			}
		}
		job := fmt.Sprintf("decide%d", i)
		jobs = append(jobs, job)
		if err := follower.push(failure(job)); err != nil {
			t.Fatal(err)
		}
		pushed := time.Now()
		eventually(t, 10*time.Second, "the leader posts a failure pushed to a follower", func() bool {
			return len(slack.posts()[alertID(job)]) > 0
		})
		decisions = append(decisions, slack.posts()[alertID(job)][0].at.Sub(pushed))
	}
	// Let the leader deliver what it may still be delivering, then count.
	leader, _ = leaderOf(procs)
	quiet := len(slack.got)
	eventually(t, 10*time.Second, "deliveries settle", func() bool {
		slack.mu.Lock()
		defer slack.mu.Unlock()
		n := len(slack.got)
		settled := n == quiet
		quiet = n
		return settled
	})
	dups := 0
	for id, ps := range slack.posts() {
		if len(ps) != 1 {
			dups += len(ps) - 1
			t.Errorf("alert %s posted %d times (by %v)", id, len(ps), tokens(ps))
		}
	}
	slices.Sort(failovers)
	slices.Sort(lags)
	slices.Sort(decisions)
	t.Logf("%d failures pushed, %d kills, %d duplicate posts; failover (kill → new leader's first post): median %s, max %s; "+
		"push on one replica → gate of another: median %s, max %s; failure pushed to a follower → leader's post: median %s, max %s",
		len(jobs), kills, dups, median(failovers), last(failovers), median(lags), last(lags), median(decisions), last(decisions))
	if last(decisions) > time.Second {
		t.Errorf("a failure pushed to a follower was posted %s later, want within 1 s", last(decisions))
	}
	if len(lags) > 0 && last(lags) > time.Second {
		t.Errorf("a push reached another replica's gate after %s, want within 1 s", last(lags))
	}
}

func tokens(ps []slackPost) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.token)
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)/2].Round(time.Millisecond)
}

func last(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)-1].Round(time.Millisecond)
}

func TestThreeReplicasOnOnePostgreSQLPostEveryFailureOnceThroughLeaderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real kant serve processes; skipped with -short")
	}
	t.Parallel() // real processes waiting on real timeouts: they overlap
	chaos(t, "store:\n  postgres: {dsn: \"${KANT_POSTGRES_DSN}\"}\n", 20, "KANT_POSTGRES_DSN="+pgtest.Start(t))
}

func TestALeaderOnPostgreSQLPausedPastItsTTLNeitherPostsTwiceNorMovesACheckpointBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real kant serve processes; skipped with -short")
	}
	t.Parallel() // real processes waiting on real timeouts: they overlap
	paused(t, "store:\n  postgres: {dsn: \"${KANT_POSTGRES_DSN}\"}\n", "KANT_POSTGRES_DSN="+pgtest.Start(t))
}

func TestThreeReplicasOnOneSQLiteFilePostEveryFailureOnceThroughLeaderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real kant serve processes; skipped with -short")
	}
	t.Parallel() // real processes waiting on real timeouts: they overlap
	db := filepath.Join(t.TempDir(), "kant.db")
	chaos(t, "store:\n  sqlite: {path: "+db+"}\n", 20)
}

// TestALeaderPausedPastItsTTLNeitherPostsTwiceNorMovesACheckpointBack
// pauses the leader (SIGSTOP) while its post to Slack is in flight and its
// poll of Airflow is unanswered, lets another replica take over, then
// resumes it: the post is not repeated, and the checkpoint it would write
// with its older poll is refused.
func TestALeaderPausedPastItsTTLNeitherPostsTwiceNorMovesACheckpointBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real kant serve processes; skipped with -short")
	}
	t.Parallel() // real processes waiting on real timeouts: they overlap
	dir := t.TempDir()
	db := filepath.Join(dir, "kant.db")
	paused(t, "store:\n  sqlite: {path: "+db+"}\n")
}

// paused runs the SIGSTOP scenario on the store storeYAML configures;
// checkpoint reads the Airflow source's stored checkpoint.
func paused(t *testing.T, storeYAML string, env ...string) {
	bin := buildKant(t)
	slack := newFakeSlack(t)
	slack.hold, slack.held = make(chan struct{}), make(chan struct{})
	airflow := newHeldAirflow(t)
	cfg := replicaConfig(t, storeYAML+`sources:
  - name: onprem
    type: push
  - name: socrates
    type: airflow
    url: `+airflow.srv.URL+`
    auth: none
    dags: ["daily_*"]
    interval: 1s
`, slack.srv.URL)
	checkpoint := func() (string, error) { return storedCheckpoint(cfg, env) }
	a := startReplica(t, bin, cfg, "a", env...)
	eventually(t, 20*time.Second, "a leads", func() bool { l, _ := leaderOf([]*proc{a}); return l == a })
	b := startReplica(t, bin, cfg, "b", env...)

	// a's post is in flight (Slack has it, a has no answer) and its poll
	// is unanswered when it is paused.
	if err := a.push(failure("export")); err != nil {
		t.Fatal(err)
	}
	<-slack.held
	eventually(t, 20*time.Second, "a's poll is in flight", airflow.isHeld)
	a.signal(syscall.SIGSTOP)
	pausedAt := time.Now()
	airflow.release() // the answer waits in a's socket

	// b takes over once a's lease expires, finds a's post in the channel
	// instead of posting again, and polls on its own.
	eventually(t, 20*time.Second, "b leads", func() bool { l, _ := leaderOf([]*proc{b}); return l == b })
	tookOver := time.Since(pausedAt)
	eventually(t, 20*time.Second, "b polls Airflow", func() bool { cp, _ := checkpoint(); return cp != "" })
	before, err := checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	close(slack.hold) // Slack answers a's post, to a paused process
	if err := b.push(failure("report")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "b posts the failure pushed after the takeover", func() bool {
		return len(slack.posts()[alertID("report")]) > 0
	})

	// a wakes up: it learns it lost the lease and stops.
	a.signal(syscall.SIGCONT)
	eventually(t, 20*time.Second, "a sees b lead", func() bool {
		s, ok := a.status()
		return ok && s["leader"] == "b" && s["role"] == "candidate"
	})
	after, err := checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	posts := slack.posts()
	if n := len(posts[alertID("export")]); n != 1 {
		t.Errorf("the failure a was posting reached Slack %d times, want 1 (by %v)\nb:\n%s", n, tokens(posts[alertID("export")]), b.logs())
	}
	if n := len(posts[alertID("report")]); n != 1 {
		t.Errorf("the failure b posted reached Slack %d times, want 1", n)
	}
	if since(t, after) < since(t, before) {
		t.Errorf("the checkpoint went back from %s to %s after a resumed", before, after)
	}
	if !strings.Contains(a.logs(), "fenced") && !strings.Contains(a.logs(), "stopped leading") {
		t.Errorf("a's log does not say it stopped leading:\n%s", a.logs())
	}
	t.Logf("b took over %s after a was paused; checkpoint %s → %s; posts of a's failure: %d", tookOver.Round(time.Millisecond),
		before, after, len(posts[alertID("export")]))
	for _, line := range strings.Split(a.logs(), "\n") {
		if strings.Contains(line, "fenced") || strings.Contains(line, "leading") || strings.Contains(line, "leader") {
			t.Logf("a: %s", line)
		}
	}
}

// since reads the "since" of an Airflow checkpoint.
func since(t *testing.T, cp string) int64 {
	t.Helper()
	var v struct {
		Since int64 `json:"since"`
	}
	if err := json.Unmarshal([]byte(cp), &v); err != nil {
		t.Fatalf("checkpoint %q: %v", cp, err)
	}
	return v.Since
}

// storedCheckpoint reads the Airflow source's checkpoint from the store
// the replicas share, as kant would open it.
func storedCheckpoint(cfgPath string, env []string) (string, error) {
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	vars["SLACK_BOT_TOKEN"] = "xoxb-reader"
	cfg, err := config.Load(cfgPath, func(k string) string { return vars[k] })
	if err != nil {
		return "", err
	}
	db, err := openStore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	defer db.Close()
	return db.Checkpoint(context.Background(), "socrates", "task_instances")
}

// heldAirflow is an Airflow 3 API whose first task-instance list is held
// until release.
type heldAirflow struct {
	srv     *httptest.Server
	mu      sync.Mutex
	held    bool
	hold    chan struct{}
	first   sync.Once
	release func()
}

func newHeldAirflow(t *testing.T) *heldAirflow {
	h := &heldAirflow{hold: make(chan struct{})}
	var once sync.Once
	h.release = func() { once.Do(func() { close(h.hold) }) }
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v2/version":
			w.Write([]byte(`{"version":"3.0.2","git_version":null}`))
		case r.URL.Path == "/api/v2/dags":
			w.Write([]byte(`{"dags":[{"dag_id":"daily_load"}],"total_entries":1}`))
		case strings.HasSuffix(r.URL.Path, "/taskInstances/list"):
			first := false
			h.first.Do(func() { first = true })
			if first {
				h.mu.Lock()
				h.held = true
				h.mu.Unlock()
				<-h.hold
			}
			w.Write([]byte(`{"total_entries":0,"task_instances":[]}`))
		default:
			w.WriteHeader(404)
			w.Write([]byte(`{"detail":"Not Found"}`))
		}
	}))
	t.Cleanup(func() { h.release(); h.srv.Close() })
	return h
}

func (h *heldAirflow) isHeld() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held
}
