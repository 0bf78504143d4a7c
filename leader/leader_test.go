package leader_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/leader"
	"github.com/kantproject/kant/store/sqlite"
)

var t0 = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// replica is an Elector whose loop the test steps: each renewal waits for
// step, and asleep says the loop is waiting.
type replica struct {
	e       *leader.Elector
	clock   *clock
	asleep  chan struct{}
	wake    chan struct{}
	cancel  context.CancelFunc
	done    chan error
	mu      sync.Mutex
	fences  []kant.Fence // the fence of each term, in order
	running int          // terms whose work is running
	began   chan kant.Fence
}

// awaitTerm waits for the work of a term to begin and returns its fence.
func (r *replica) awaitTerm(t *testing.T) kant.Fence {
	t.Helper()
	select {
	case f := <-r.began:
		return f
	case <-time.After(10 * time.Second): // a hang guard, not a timing assumption
		t.Fatal("no term began")
		return kant.Fence{}
	}
}

func newReplica(t *testing.T, st leader.LeaseStore, id string, follower bool, c *clock) *replica {
	t.Helper()
	r := &replica{clock: c, asleep: make(chan struct{}), wake: make(chan struct{}), done: make(chan error, 1), began: make(chan kant.Fence, 10)}
	e, err := leader.New(leader.Config{
		Store: st, ID: id, Follower: follower, TTL: 15 * time.Second, Now: c.now,
		Work: func(ctx context.Context, f kant.Fence) error {
			r.mu.Lock()
			r.fences = append(r.fences, f)
			r.running++
			r.mu.Unlock()
			r.began <- f
			<-ctx.Done()
			r.mu.Lock()
			r.running--
			r.mu.Unlock()
			return nil
		},
		Sleep: func(ctx context.Context, _ time.Duration) error {
			select {
			case r.asleep <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-r.wake:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- e.Run(ctx) }()
	<-r.asleep // the first check is done
	t.Cleanup(r.stop)
	return r
}

// step lets the replica make its next check at now and waits for it.
func (r *replica) step(now time.Time) {
	r.clock.set(now)
	r.wake <- struct{}{}
	<-r.asleep
}

func (r *replica) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.cancel = nil
}

func (r *replica) terms() ([]kant.Fence, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]kant.Fence(nil), r.fences...), r.running
}

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "kant.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOneOfTwoReplicasLeadsAndTheOtherTakesOverWhenItStops(t *testing.T) {
	db := open(t)
	ca, cb := &clock{t: t0}, &clock{t: t0.Add(time.Second)}
	a := newReplica(t, db, "a", false, ca)
	a.awaitTerm(t)
	b := newReplica(t, db, "b", false, cb)
	if fences, running := a.terms(); len(fences) != 1 || fences[0].Generation != 1 || running != 1 {
		t.Fatalf("a: terms %v, running %d; want one term at generation 1", fences, running)
	}
	if fences, _ := b.terms(); len(fences) != 0 {
		t.Fatalf("b leads too: %v", fences)
	}
	if s := b.e.Status(); s.Role != leader.RoleCandidate || s.Leader != "a" || s.Generation != 1 {
		t.Errorf("b's status %+v, want a candidate seeing a lead at generation 1", s)
	}
	if s := a.e.Status(); s.Role != leader.RoleLeader || s.Leader != "a" {
		t.Errorf("a's status %+v, want the leader", s)
	}
	// a renews; b still does not lead.
	a.step(t0.Add(5 * time.Second))
	b.step(t0.Add(6 * time.Second))
	if fences, _ := b.terms(); len(fences) != 0 {
		t.Fatalf("b leads while a renews: %v", fences)
	}
	// a shuts down: its work stops and it releases the lease, so b takes
	// over at its next check, long before the TTL would have run out.
	a.stop()
	if _, running := a.terms(); running != 0 {
		t.Errorf("a's work still runs after it stopped")
	}
	b.step(t0.Add(7 * time.Second))
	b.awaitTerm(t)
	if fences, running := b.terms(); len(fences) != 1 || fences[0].Generation != 2 || running != 1 {
		t.Errorf("b: terms %v, running %d; want one term at generation 2", fences, running)
	}
}

func TestALeaderPausedPastItsTTLStopsItsWorkWhenItWakesUp(t *testing.T) {
	db := open(t)
	ca, cb := &clock{t: t0}, &clock{t: t0}
	a := newReplica(t, db, "a", false, ca)
	a.awaitTerm(t)
	if !a.e.Leading(t0.Add(time.Second)) {
		t.Fatal("a does not lead")
	}
	// a is paused (SIGSTOP): its clock goes on, it does not renew.
	if a.e.Leading(t0.Add(14 * time.Second)) {
		t.Error("a thinks it may still deliver within a tenth of the TTL of its lease's end")
	}
	b := newReplica(t, db, "b", false, cb)
	b.step(t0.Add(16 * time.Second))
	b.awaitTerm(t)
	if fences, _ := b.terms(); len(fences) != 1 || fences[0].Generation != 2 {
		t.Fatalf("b did not take over the expired lease: %v (status %+v)", fences, b.e.Status())
	}
	// a wakes up: its next check finds b's lease and stops a's work.
	a.step(t0.Add(17 * time.Second))
	if _, running := a.terms(); running != 0 {
		t.Error("a's work still runs after b took over")
	}
	if s := a.e.Status(); s.Role != leader.RoleCandidate || s.Leader != "b" || s.Generation != 2 {
		t.Errorf("a's status %+v, want a candidate seeing b at generation 2", s)
	}
	// a's writes of its old term are fenced by the store.
	err := db.Fenced(kant.Fence{Lease: kant.LeaderLease, Generation: 1}).SetCheckpoint(context.Background(), "s", "k", "v")
	if !errors.Is(err, kant.ErrFenced) {
		t.Errorf("a write of generation 1 after b took over: %v, want fenced", err)
	}
}

func TestAFollowerNeverLeadsButKnowsTheLeader(t *testing.T) {
	db := open(t)
	c := &clock{t: t0}
	f := newReplica(t, db, "f", true, c)
	if s := f.e.Status(); s.Role != leader.RoleFollower || s.Leader != "" {
		t.Errorf("a follower alone: %+v, want follower, no leader", s)
	}
	a := newReplica(t, db, "a", false, &clock{t: t0})
	a.awaitTerm(t)
	f.step(t0.Add(time.Second))
	if s := f.e.Status(); s.Role != leader.RoleFollower || s.Leader != "a" || s.Generation != 1 {
		t.Errorf("the follower's status %+v, want a as the leader", s)
	}
	// Even with the lease free, the follower does not take it.
	a.stop()
	f.step(t0.Add(time.Hour))
	if fences, _ := f.terms(); len(fences) != 0 {
		t.Errorf("the follower led: %v", fences)
	}
}

// failing is a lease store that fails while down is set.
type failing struct {
	leader.LeaseStore
	mu   sync.Mutex
	down bool
}

func (f *failing) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (kant.Lease, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return kant.Lease{}, errors.New("connection refused")
	}
	return f.LeaseStore.AcquireLease(ctx, name, holder, now, ttl)
}

func TestALeaderThatCannotReachTheStoreStopsBeforeItsLeaseCouldHaveExpired(t *testing.T) {
	st := &failing{LeaseStore: open(t)}
	a := newReplica(t, st, "a", false, &clock{t: t0})
	a.awaitTerm(t)
	st.mu.Lock()
	st.down = true
	st.mu.Unlock()
	a.step(t0.Add(5 * time.Second))
	if _, running := a.terms(); running != 1 {
		t.Fatal("a stopped leading at the first failed renewal, with most of its lease left")
	}
	a.step(t0.Add(14 * time.Second))
	if _, running := a.terms(); running != 0 {
		t.Error("a still leads 14 s into a 15 s lease it could not renew")
	}
	if s := a.e.Status(); s.LastLeaseErr == "" {
		t.Error("the status does not say the lease check failed")
	}
}
