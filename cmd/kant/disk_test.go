package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAFullDiskAnswers503SaysWhyAlertsOnceAndRecoversByItself runs the real
// kant serve on SQLite and fills its disk: a file-size limit set on the
// running process (prlimit), under which every write SQLite makes to its
// files fails as on a full disk. Pushes then answer 503 with Retry-After
// and store nothing, /readyz says why, Slack gets one message however many
// writes fail; when the limit is lifted (space returns) kant writes again
// by itself and resolves that message.
func TestAFullDiskAnswers503SaysWhyAlertsOnceAndRecoversByItself(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real kant serve; skipped with -short")
	}
	t.Parallel()
	bin := buildKant(t)
	slack := newFakeSlack(t)
	db := t.TempDir() + "/kant.db"
	cfg := replicaConfig(t, "store:\n  sqlite: {path: "+db+"}\n", slack.srv.URL)
	p := startReplica(t, bin, cfg, "disk")
	eventually(t, 20*time.Second, "a leader", func() bool { l, _ := leaderOf([]*proc{p}); return l != nil })
	if err := p.push(failure("before")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the alert of the push before", func() bool { return len(slack.posts()[alertID("before")]) == 1 })

	setFileSizeLimit(t, p, 1024) // the disk is full
	const pushes = 20
	for i := range pushes {
		resp, body := post(t, p.url+"/v1/runs", failure(fmt.Sprintf("full%02d", i)))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("push %d on a full disk: %d Retry-After %q %s, want 503 with Retry-After", i, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		var e struct{ Error string }
		if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, "cannot write") {
			t.Fatalf("push %d on a full disk answered %s, want a JSON error saying the store cannot write", i, body)
		}
	}
	ready := readyz(t, p)
	if ready["status"] != "degraded" || !strings.Contains(ready["reason"], "cannot write") {
		t.Errorf("/readyz on a full disk = %v, want status degraded and the reason", ready)
	}
	eventually(t, 20*time.Second, "the full disk is posted to Slack", func() bool { return len(storePosts(slack)) == 1 })
	if got := runsOf(t, p); strings.Contains(got, "onprem/full") {
		t.Errorf("a push refused on a full disk is visible: %s", got)
	}

	setFileSizeLimit(t, p, unix.RLIM_INFINITY) // space returns
	eventually(t, 20*time.Second, "a push is taken again", func() bool { return p.push(failure("after")) == nil })
	eventually(t, 20*time.Second, "/readyz is ready again", func() bool { return readyz(t, p)["status"] == "ready" })
	eventually(t, 20*time.Second, "the recovery is replied in the thread", func() bool {
		for _, r := range slackReplies(slack) {
			if strings.Contains(r, "writes to its store again") {
				return true
			}
		}
		return false
	})
	eventually(t, 20*time.Second, "the alert of the push after", func() bool { return len(slack.posts()[alertID("after")]) == 1 })
	if n := len(storePosts(slack)); n != 1 {
		t.Errorf("%d messages about the full disk after %d refused pushes, want 1", n, pushes)
	}
	t.Logf("full disk: %d pushes answered 503 with Retry-After, 0 stored, %d Slack message, recovered by itself", pushes, len(storePosts(slack)))
}

// setFileSizeLimit sets the soft RLIMIT_FSIZE of the running process p,
// leaving its hard limit (unlimited) so that it can be lifted again.
func setFileSizeLimit(t *testing.T, p *proc, soft uint64) {
	t.Helper()
	lim := unix.Rlimit{Cur: soft, Max: unix.RLIM_INFINITY}
	if err := unix.Prlimit(p.cmd.Process.Pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
}

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func readyz(t *testing.T, p *proc) map[string]string {
	t.Helper()
	resp, err := http.Get(p.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func runsOf(t *testing.T, p *proc) string {
	t.Helper()
	resp, err := http.Get(p.url + "/v1/runs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// storePosts are the new messages about the store.
func storePosts(f *fakeSlack) []slackPost {
	var out []slackPost
	for id, ps := range f.posts() {
		if strings.HasPrefix(id, "store/") {
			out = append(out, ps...)
		}
	}
	return out
}

// slackReplies are the texts of the thread replies.
func slackReplies(f *fakeSlack) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.got {
		if p.thread != "" {
			out = append(out, p.text)
		}
	}
	return out
}
