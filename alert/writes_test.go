package alert_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/store/sqlite"
)

// writeState is a store whose writes the test fails and restores.
type writeState struct {
	mu      sync.Mutex
	err     error
	since   time.Time
	changed chan struct{}
}

func (w *writeState) Failure() (error, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err, w.since
}
func (w *writeState) Changed() <-chan struct{} { return w.changed }
func (w *writeState) set(err error, at time.Time) {
	w.mu.Lock()
	w.err, w.since = err, at
	w.mu.Unlock()
	w.changed <- struct{}{}
}

// signalling is a fakeNotifier that says when it was called.
type signalling struct {
	*fakeNotifier
	called chan string
}

func (s signalling) Post(ctx context.Context, m alert.Message) (string, string, error) {
	ch, ts, err := s.fakeNotifier.Post(ctx, m)
	s.called <- "post"
	return ch, ts, err
}
func (s signalling) Update(ctx context.Context, ch, ts string, m alert.Message) error {
	err := s.fakeNotifier.Update(ctx, ch, ts, m)
	s.called <- "update"
	return err
}
func (s signalling) Reply(ctx context.Context, ch, ts string, m alert.Message) error {
	err := s.fakeNotifier.Reply(ctx, ch, ts, m)
	s.called <- "reply"
	return err
}

// A store that cannot write cannot keep the outbox either: the message about
// it is posted from memory, once, retried while Slack is down, and resolved
// with a reply saying how long it lasted.
func TestAStoreThatStopsWritingIsPostedOnceAndResolvedInItsThread(t *testing.T) {
	slackDown := true
	var mu sync.Mutex
	fake := &fakeNotifier{fail: func(op string) error {
		mu.Lock()
		defer mu.Unlock()
		if slackDown {
			return &alert.Error{Retryable: true, Err: errors.New("slack unreachable")}
		}
		return nil
	}}
	n := signalling{fake, make(chan string, 10)}
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := alert.New(alert.Config{Reader: db, Store: db, Notifier: n, Backoff: time.Millisecond,
		Policy: alert.Policy{Channel: "#kant", Location: time.UTC}})
	if err != nil {
		t.Fatal(err)
	}
	w := &writeState{changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- e.WatchWrites(ctx, w) }()

	full := fmt.Errorf("sqlite write runs: %w", kant.ErrStoreFull)
	w.set(full, at(3, 0))
	// Slack is down: the post fails, and is tried again after the backoff.
	for range 2 {
		if op := <-n.called; op != "post" {
			t.Fatalf("first call %q, want a post", op)
		}
	}
	mu.Lock()
	slackDown = false
	mu.Unlock()
	if op := <-n.called; op != "post" {
		t.Fatalf("call %q once Slack is back, want the post", op)
	}
	// More failing writes change nothing: no second post.
	w.set(full, at(3, 0))
	w.set(nil, at(3, 25))
	for _, want := range []string{"update", "reply"} {
		if op := <-n.called; op != want {
			t.Fatalf("call %q after the store writes again, want %s", op, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	calls := fake.take()
	if got := ops(calls); got != "post,update,reply" {
		t.Fatalf("calls %s, want post,update,reply", got)
	}
	if !strings.Contains(calls[0].Text, "cannot write to its store") || calls[0].Channel != "Ckant" {
		t.Errorf("post %v, want the full disk said in #kant", calls[0])
	}
	if !strings.Contains(calls[2].Text, "again, after 25m") {
		t.Errorf("reply %q, want how long it lasted", calls[2].Text)
	}
}
