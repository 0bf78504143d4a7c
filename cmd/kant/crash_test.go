package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/sqlite"
)

// TestAKilledKantServeLosesNoAcknowledgedPush SIGKILLs the real kant serve
// binary 50 times at random moments while four clients push, restarting it
// on the same SQLite file each time, then counts the acknowledged
// observations the store does not hold. The promise: 0.
func TestAKilledKantServeLosesNoAcknowledgedPush(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real kant serve 50 times; skipped with -short")
	}
	t.Parallel() // real processes waiting on real timeouts: they overlap
	const kills, clients = 50, 4
	bin := buildKant(t)
	db := filepath.Join(t.TempDir(), "kant.db")
	cfg := filepath.Join(t.TempDir(), "kant.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: {path: "+db+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(17, 50))
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		seq   atomic.Int64
		sent  atomic.Int64
	)
	var current atomic.Pointer[proc]
	push := func() {
		p := current.Load()
		id := fmt.Sprintf("run-%06d", seq.Add(1))
		body := `{"source":"onprem","job":"load","run_id":"` + id + `","state":"succeeded","started_at":"` + today +
			`T01:00:00Z","finished_at":"` + today + `T01:30:00Z"}`
		sent.Add(1)
		if p.push(body) == nil {
			mu.Lock()
			acked[id] = true
			mu.Unlock()
		}
	}
	for k := range kills {
		p := startReplica(t, bin, cfg, fmt.Sprintf("crash%d", k))
		current.Store(p)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						push()
					}
				}
			})
		}
		// Kill after a random number of acknowledged pushes, so the kill
		// lands anywhere in a write.
		mu.Lock()
		target := len(acked) + 5 + rng.IntN(60)
		mu.Unlock()
		eventually(t, 20*time.Second, "pushes acknowledged", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= target
		})
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		close(stop)
		wg.Wait()
	}
	p := startReplica(t, bin, cfg, "check")
	resp, err := http.Get(p.url + "/v1/runs?job=onprem/load&limit=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Runs []struct {
			RunID string `json:"run_id"`
		} `json:"runs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, r := range out.Runs {
		stored[r.RunID] = true
	}
	var lost []string
	for id := range acked {
		if !stored[id] {
			lost = append(lost, id)
		}
	}
	t.Logf("%d kills of kant serve under %d pushing clients: %d pushes sent, %d acknowledged, %d stored, %d acknowledged and lost",
		kills, clients, sent.Load(), len(acked), len(stored), len(lost))
	if len(lost) > 0 {
		t.Errorf("acknowledged pushes lost: %s", strings.Join(lost[:min(len(lost), 10)], ", "))
	}
}

// TestAKillBetweenSlackTakingAPostAndKantRecordingItRepeatsNoPost kills
// the real kant serve 50 times at the worst moment for an alert: Slack has
// the post, kant has not recorded it. With the bot's history scope the
// restarted kant finds the post and repeats nothing; without it, it may
// post again, at most once per kill, and the test counts how often.
func TestAKillBetweenSlackTakingAPostAndKantRecordingItRepeatsNoPost(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real kant serve 100 times; skipped with -short")
	}
	t.Parallel() // real processes waiting on real timeouts: they overlap
	bin := buildKant(t)
	for _, tc := range []struct {
		name    string
		history bool
	}{{"with the history scope no post is repeated", true}, {"without it a post is repeated at most once per kill", false}} {
		t.Run(tc.name, func(t *testing.T) {
			const kills = 50
			slack := newFakeSlack(t)
			slack.noHistory = !tc.history
			dir := t.TempDir()
			db := filepath.Join(dir, "kant.db")
			cfg := replicaConfig(t, "store:\n  sqlite: {path: "+db+"}\n", slack.srv.URL)
			var current atomic.Pointer[proc]
			var killedMu sync.Mutex
			killed := map[string]bool{}
			// Slack takes the first post of each alert, then kant dies
			// before it hears back.
			slack.onPost = func(alertID string) {
				killedMu.Lock()
				first := !killed[alertID]
				killed[alertID] = true
				killedMu.Unlock()
				if p := current.Load(); p != nil && strings.Contains(alertID, "/kill") && first {
					p.cmd.Process.Signal(syscall.SIGKILL)
					<-p.done
				}
			}
			n := 0
			start := func() {
				n++
				p := startReplica(t, bin, cfg, fmt.Sprintf("k%d", n))
				current.Store(p)
			}
			start()
			for k := range kills {
				job := fmt.Sprintf("kill%02d", k) // its alert ID holds "/kill"
				eventually(t, 20*time.Second, "a leader", func() bool { l, _ := leaderOf([]*proc{current.Load()}); return l != nil })
				p := current.Load()
				if err := p.push(failure(job)); err != nil {
					// The push commits, wakes the alert engine and Slack
					// kills kant as the post lands: the kill can beat the
					// answer to the push. Then the post proves the write.
					eventually(t, 20*time.Second, "kant dies after an unanswered push", func() bool { return !p.alive() })
					if len(slack.posts()[alertID(job)]) == 0 {
						t.Fatalf("push of %s failed and Slack has no post for it: %v", job, err)
					}
				}
				eventually(t, 20*time.Second, "the post reaches Slack and kant dies", func() bool { return !p.alive() })
				current.Store(nil)
				start()
				// The restarted kant settles the interrupted post: found,
				// or posted again.
				eventually(t, 20*time.Second, "the interrupted post is settled", func() bool { return alertSent(t, db, alertID(job)) })
			}
			dups := 0
			for id, ps := range slack.posts() {
				dups += len(ps) - 1
				if len(ps) > 2 {
					t.Errorf("alert %s posted %d times: more than once again after one kill", id, len(ps))
				}
			}
			t.Logf("%d kills between Slack taking a post and kant recording it, history scope %v: %d posts repeated", kills, tc.history, dups)
			if tc.history && dups != 0 {
				t.Errorf("%d posts repeated with the history scope, want 0", dups)
			}
		})
	}
}

// alertSent reads from the SQLite file whether the alert is recorded as
// sent.
func alertSent(t *testing.T, path, id string) bool {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return false
	}
	defer st.Close()
	as, err := st.Alerts(context.Background(), kant.AlertFilter{})
	if err != nil {
		return false
	}
	for _, a := range as {
		if a.ID == id {
			return !a.SentAt.IsZero() && !a.Posting
		}
	}
	return false
}
