package alert_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
)

func TestAReplicaNotSureItLeadsSendsNothingUntilItIs(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	leading := false
	w.mayDeliver = func() bool { return leading }
	w.restart()
	w.observe(run(export, "jr_1", 1, 1, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "while not sure it leads", w.tick(at(2, 1)), "")
	leading = true
	expectOps(t, "once it leads", w.tick(at(2, 2)), "post")
	expectOps(t, "after", w.tick(at(2, 3)), "")
}

func TestALeaderWhoseWritesAreFencedStopsAndPostsNothing(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	ctx := context.Background()
	old, err := w.db.AcquireLease(ctx, kant.LeaderLease, "a", at(0, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	w.store = w.db.Fenced(kant.Fence{Lease: kant.LeaderLease, Generation: old.Generation})
	w.restart()
	// Another replica takes over: a's fenced writes are refused.
	if _, err := w.db.AcquireLease(ctx, kant.LeaderLease, "b", at(0, 2), time.Minute); err != nil {
		t.Fatal(err)
	}
	w.observe(run(export, "jr_1", 1, 1, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	w.evaluate(at(2, 1))
	err = w.engine.Tick(ctx, at(2, 1))
	if !errors.Is(err, kant.ErrFenced) {
		t.Errorf("Tick after the lease moved = %v, want fenced", err)
	}
	expectOps(t, "from the fenced replica", w.n.take(), "")
	if a := w.alerts(); len(a) != 0 {
		t.Errorf("the fenced replica stored alerts %+v", a)
	}
}

func TestRunTicksAtOnceWhenWoken(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	wake := make(chan struct{})
	clock := at(2, 1)
	e, err := alert.New(alert.Config{Reader: w.db, Store: w.db, Notifier: w.n, Policy: w.policy,
		Interval: time.Hour, Wake: wake, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	wake <- struct{}{} // Run has made its first tick and waits
	w.observe(run(export, "jr_1", 1, 1, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	w.evaluate(clock)
	wake <- struct{}{} // received: Run ticks
	wake <- struct{}{} // received again: that tick is over
	cancel()
	<-done
	expectOps(t, "after a wake, an hour before the next tick", w.n.take(), "post")
}
