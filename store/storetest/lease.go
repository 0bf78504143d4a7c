package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
)

// leaseTests check leases and fenced writes.
var leaseTests = []struct {
	name string
	test func(t *testing.T, s store.Store)
}{
	{"a lease never taken is free, and the first holder gets generation 1", leaseFirst},
	{"a held lease is not taken by another holder and keeps its generation when renewed", leaseRenew},
	{"an expired lease is taken by another holder with a newer generation", leaseExpiry},
	{"a holder that lost the lease gets it back only with a newer generation", leaseRetake},
	{"a released lease is free at once; a release by a stale holder does nothing", leaseRelease},
	{"of holders racing for a free lease exactly one gets it", leaseRace},
	{"a fenced write with the current generation is stored", fencedCurrent},
	{"a fenced write with a stale generation is refused and changes nothing", fencedStale},
	{"leases are independent by name", leaseNames},
	{"bad lease arguments are EINVALID", leaseInvalid},
}

// RunLeases runs only the lease cases: for a backend whose full suite is
// slow (BigQuery), or a test that focuses on them.
func RunLeases(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range leaseTests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.test(t, s)
		})
	}
}

var leaseT0 = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)

const ttl = 15 * time.Second

func acquire(t *testing.T, s store.Store, holder string, now time.Time) kant.Lease {
	t.Helper()
	l, err := s.AcquireLease(context.Background(), kant.LeaderLease, holder, now, ttl)
	if err != nil {
		t.Fatalf("AcquireLease(%s): %v", holder, err)
	}
	return l
}

func wantLease(t *testing.T, what string, got kant.Lease, holder string, gen int64, since, expires time.Time) {
	t.Helper()
	if got.Name != kant.LeaderLease || got.Holder != holder || got.Generation != gen || !got.Since.Equal(since) || !got.Expires.Equal(expires) {
		t.Errorf("%s: lease %+v, want holder %q, generation %d, since %v, expires %v", what, got, holder, gen, since, expires)
	}
}

func leaseFirst(t *testing.T, s store.Store) {
	l, err := s.Lease(context.Background(), kant.LeaderLease)
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != kant.LeaderLease || l.Holder != "" || l.Generation != 0 || l.Held(leaseT0) {
		t.Errorf("a lease never taken reads %+v", l)
	}
	got := acquire(t, s, "a", leaseT0)
	wantLease(t, "first acquire", got, "a", 1, leaseT0, leaseT0.Add(ttl))
	if !got.HeldBy("a", leaseT0) {
		t.Error("the first holder does not hold the lease")
	}
	read, err := s.Lease(context.Background(), kant.LeaderLease)
	if err != nil {
		t.Fatal(err)
	}
	wantLease(t, "read back", read, "a", 1, leaseT0, leaseT0.Add(ttl))
}

func leaseRenew(t *testing.T, s store.Store) {
	acquire(t, s, "a", leaseT0)
	other := acquire(t, s, "b", leaseT0.Add(5*time.Second))
	wantLease(t, "another holder while held", other, "a", 1, leaseT0, leaseT0.Add(ttl))
	if other.HeldBy("b", leaseT0.Add(5*time.Second)) {
		t.Error("b holds a lease a holds")
	}
	renewed := acquire(t, s, "a", leaseT0.Add(10*time.Second))
	wantLease(t, "renewed", renewed, "a", 1, leaseT0, leaseT0.Add(10*time.Second+ttl))
	// Within the renewed term, b still does not get it.
	late := acquire(t, s, "b", leaseT0.Add(ttl+time.Second))
	if late.Holder != "a" || late.Generation != 1 {
		t.Errorf("after a's renewal b got %+v", late)
	}
}

func leaseExpiry(t *testing.T, s store.Store) {
	acquire(t, s, "a", leaseT0)
	at := leaseT0.Add(ttl) // Expires is not "before" itself: expired
	got := acquire(t, s, "b", at)
	wantLease(t, "taken after expiry", got, "b", 2, at, at.Add(ttl))
}

func leaseRetake(t *testing.T, s store.Store) {
	acquire(t, s, "a", leaseT0)
	acquire(t, s, "b", leaseT0.Add(ttl))
	// a, paused past its TTL, wakes up and tries to renew: b holds it.
	got := acquire(t, s, "a", leaseT0.Add(ttl+time.Second))
	if got.Holder != "b" || got.Generation != 2 {
		t.Errorf("a's renewal after losing the lease: %+v, want b's at generation 2", got)
	}
	// Once b's lease expires a gets it again, with generation 3.
	at := leaseT0.Add(3 * ttl)
	got = acquire(t, s, "a", at)
	wantLease(t, "retaken", got, "a", 3, at, at.Add(ttl))
	// An expired lease taken again by its own last holder is a new term too.
	at2 := at.Add(2 * ttl)
	got = acquire(t, s, "a", at2)
	wantLease(t, "taken again by the same holder after expiry", got, "a", 4, at2, at2.Add(ttl))
}

func leaseRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	acquire(t, s, "a", leaseT0)
	// A stale release (wrong generation, or not the holder) does nothing.
	if err := s.ReleaseLease(ctx, kant.LeaderLease, "a", 7, leaseT0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseLease(ctx, kant.LeaderLease, "b", 1, leaseT0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := acquire(t, s, "b", leaseT0.Add(2*time.Second)); got.Holder != "a" {
		t.Fatalf("after stale releases b got %+v", got)
	}
	if err := s.ReleaseLease(ctx, kant.LeaderLease, "a", 1, leaseT0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	at := leaseT0.Add(3 * time.Second)
	l, err := s.Lease(ctx, kant.LeaderLease)
	if err != nil {
		t.Fatal(err)
	}
	if l.Held(at) {
		t.Errorf("a released lease is still held: %+v", l)
	}
	got := acquire(t, s, "b", at)
	wantLease(t, "taken after release", got, "b", 2, at, at.Add(ttl))
}

func leaseRace(t *testing.T, s store.Store) {
	const holders = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []string
		errs []error
	)
	start := make(chan struct{})
	for i := range holders {
		holder := fmt.Sprintf("replica-%d", i)
		wg.Go(func() {
			<-start
			l, err := s.AcquireLease(context.Background(), kant.LeaderLease, holder, leaseT0, ttl)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if l.HeldBy(holder, leaseT0) {
				won = append(won, holder)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("racing acquires failed: %v", errors.Join(errs...))
	}
	if len(won) != 1 {
		t.Fatalf("%d holders got the lease (%v), want exactly 1", len(won), won)
	}
	l, err := s.Lease(context.Background(), kant.LeaderLease)
	if err != nil {
		t.Fatal(err)
	}
	if l.Holder != won[0] || l.Generation != 1 {
		t.Errorf("stored lease %+v, want %s at generation 1", l, won[0])
	}
}

func fencedCurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	l := acquire(t, s, "a", leaseT0)
	f := s.Fenced(kant.Fence{Lease: kant.LeaderLease, Generation: l.Generation})
	if err := f.SetCheckpoint(ctx, "hegel", "export", "cp-1"); err != nil {
		t.Fatalf("fenced SetCheckpoint with the current generation: %v", err)
	}
	a := alert("a1", leaseT0)
	if err := f.PutAlert(ctx, a); err != nil {
		t.Fatalf("fenced PutAlert with the current generation: %v", err)
	}
	if cp, err := s.Checkpoint(ctx, "hegel", "export"); err != nil || cp != "cp-1" {
		t.Errorf("checkpoint = %q, %v; want cp-1", cp, err)
	}
	if got, err := s.Alerts(ctx, kant.AlertFilter{}); err != nil || len(got) != 1 || got[0].ID != "a1" {
		t.Errorf("alerts = %+v, %v; want a1", got, err)
	}
	// Reads through the fenced view are the store's.
	if cp, err := f.Checkpoint(ctx, "hegel", "export"); err != nil || cp != "cp-1" {
		t.Errorf("fenced Checkpoint = %q, %v", cp, err)
	}
}

func fencedStale(t *testing.T, s store.Store) {
	ctx := context.Background()
	old := acquire(t, s, "a", leaseT0)
	stale := s.Fenced(kant.Fence{Lease: kant.LeaderLease, Generation: old.Generation})
	if err := stale.SetCheckpoint(ctx, "hegel", "export", "cp-1"); err != nil {
		t.Fatal(err)
	}
	if err := stale.PutAlert(ctx, alert("a1", leaseT0)); err != nil {
		t.Fatal(err)
	}
	// a is paused past its TTL; b takes over.
	acquire(t, s, "b", leaseT0.Add(ttl))
	err := stale.SetCheckpoint(ctx, "hegel", "export", "cp-2")
	if kant.ErrorCode(err) != kant.ECONFLICT || !errors.Is(err, kant.ErrFenced) {
		t.Errorf("stale SetCheckpoint = %v (code %s), want ECONFLICT wrapping ErrFenced", err, kant.ErrorCode(err))
	}
	moved := alert("a1", leaseT0)
	moved.Posting = true
	err = stale.PutAlert(ctx, moved)
	if kant.ErrorCode(err) != kant.ECONFLICT || !errors.Is(err, kant.ErrFenced) {
		t.Errorf("stale PutAlert = %v (code %s), want ECONFLICT wrapping ErrFenced", err, kant.ErrorCode(err))
	}
	if err := stale.PutAlert(ctx, alert("a2", leaseT0)); !errors.Is(err, kant.ErrFenced) {
		t.Errorf("stale PutAlert of a new alert = %v, want refused", err)
	}
	if cp, _ := s.Checkpoint(ctx, "hegel", "export"); cp != "cp-1" {
		t.Errorf("checkpoint = %q after a refused write, want cp-1 (no regression, no change)", cp)
	}
	got, err := s.Alerts(ctx, kant.AlertFilter{})
	if err != nil || len(got) != 1 || got[0].Posting {
		t.Errorf("alerts after refused writes = %+v, %v; want a1 unchanged", got, err)
	}
	// The new holder's fenced writes go through.
	cur, _ := s.Lease(ctx, kant.LeaderLease)
	fresh := s.Fenced(kant.Fence{Lease: kant.LeaderLease, Generation: cur.Generation})
	if err := fresh.SetCheckpoint(ctx, "hegel", "export", "cp-3"); err != nil {
		t.Errorf("the new holder's SetCheckpoint: %v", err)
	}
	// Unfenced writes of everyone else are not affected by the lease.
	if _, err := stale.WriteRuns(ctx, validated(t, []kant.Run{obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))})); err != nil {
		t.Errorf("WriteRuns through a stale fenced view: %v; runs are written by every replica", err)
	}
}

func leaseNames(t *testing.T, s store.Store) {
	ctx := context.Background()
	acquire(t, s, "a", leaseT0)
	other, err := s.AcquireLease(ctx, "exporter", "b", leaseT0, ttl)
	if err != nil {
		t.Fatal(err)
	}
	wantLease(t, "another name", kant.Lease{Name: kant.LeaderLease, Holder: other.Holder, Generation: other.Generation,
		Since: other.Since, Expires: other.Expires}, "b", 1, leaseT0, leaseT0.Add(ttl))
	if other.Name != "exporter" {
		t.Errorf("lease name %q, want exporter", other.Name)
	}
}

func leaseInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, holder string
		ttl          time.Duration
	}{{"", "a", ttl}, {kant.LeaderLease, "", ttl}, {kant.LeaderLease, "a", 0}} {
		if _, err := s.AcquireLease(ctx, tc.name, tc.holder, leaseT0, tc.ttl); kant.ErrorCode(err) != kant.EINVALID {
			t.Errorf("AcquireLease(%q, %q, %s) = %v, want EINVALID", tc.name, tc.holder, tc.ttl, err)
		}
	}
}

// RunFollower checks store.Follower: every observation seen exactly once,
// in the order stored, across batches and from a second handle on the
// same store (another process) when open2 is given.
func RunFollower(t *testing.T, s store.Store, other store.Store) {
	t.Helper()
	f, ok := s.(store.Follower)
	if !ok {
		t.Fatalf("%T is not a store.Follower", s)
	}
	ctx := context.Background()
	write(t, s, obs("hegel/a", "before", kant.StateRunning, at(time.Minute)))
	_, cursor, err := f.ObservationsAfter(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	got, cursor, err := f.ObservationsAfter(ctx, cursor, 100)
	if err != nil || len(got) != 0 {
		t.Fatalf("after the empty cursor: %d observations, %v; want none (the empty cursor means now)", len(got), err)
	}
	writers := []store.Store{s}
	if other != nil {
		writers = append(writers, other)
	}
	var want []string
	for i := range 7 {
		w := writers[i%len(writers)]
		r := obs("hegel/a", fmt.Sprintf("r%d", i), kant.StateSucceeded, at(time.Duration(i+2)*time.Minute))
		write(t, w, r)
		want = append(want, r.RunID)
	}
	var seen []string
	for range 10 {
		var batch []kant.Run
		batch, cursor, err = f.ObservationsAfter(ctx, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) > 3 {
			t.Fatalf("a batch of %d, over the limit 3", len(batch))
		}
		for _, r := range batch {
			seen = append(seen, r.RunID)
		}
		if len(batch) == 0 {
			break
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("followed %v, want %v", seen, want)
	}
}

// alert is a minimal valid alert with that ID, created at created.
func alert(id string, created time.Time) kant.Alert {
	return kant.Alert{ID: id, Kind: "failed", SLO: "hegel-nightly", Job: "hegel/export", Date: date("2026-06-01"),
		Status: "open", Channel: "#data-alerts", Text: "hegel/export failed", CreatedAt: created, UpdatedAt: created, Revision: 1}
}
