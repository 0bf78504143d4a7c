package collector_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

// logOf is an in-memory observation log: the cursor is the count read.
type logOf struct {
	mu    sync.Mutex
	runs  []kant.Run
	fails int // the next reads that fail
}

func (l *logOf) ObservationsAfter(_ context.Context, cursor string, limit int) ([]kant.Run, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails > 0 {
		l.fails--
		return nil, "", errors.New("connection reset")
	}
	if cursor == "" {
		return nil, fmt.Sprint(len(l.runs)), nil
	}
	var from int
	fmt.Sscan(cursor, &from)
	to := min(from+limit, len(l.runs))
	return append([]kant.Run(nil), l.runs[from:to]...), fmt.Sprint(to), nil
}

func (l *logOf) add(ids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		l.runs = append(l.runs, kant.Run{Source: "s", Job: "s/j", RunID: id})
	}
}

type seen struct {
	mu  sync.Mutex
	ids []string
}

func (s *seen) Observe(_ context.Context, runs []kant.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range runs {
		s.ids = append(s.ids, r.RunID)
	}
}

func TestFollowTellsObserversOfWhatIsStoredFromNowOnOnceEach(t *testing.T) {
	l := &logOf{}
	l.add("before")
	obs := &seen{}
	ctx, cancel := context.WithCancel(context.Background())
	steps := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- collector.Follow(ctx, collector.FollowConfig{Log: l, Batch: 2, Observers: []collector.Observer{obs},
			Sleep: func(ctx context.Context, d time.Duration) error {
				select {
				case steps <- struct{}{}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}})
	}()
	<-steps // the first read: the cursor of now
	l.add("a", "b", "c")
	l.mu.Lock()
	l.fails = 1
	l.mu.Unlock()
	<-steps // a failed read: nothing is lost
	<-steps // a, b then c: a full batch is followed by another read at once
	l.add("d")
	<-steps
	<-steps
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(obs.ids); got != "[a b c d]" {
		t.Errorf("observed %s, want [a b c d]: each new observation once, none from before", got)
	}
}
