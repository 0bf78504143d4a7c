// Package leader elects one leader among the kant serve replicas that share
// a store, through a lease kept in the store (store.Store's AcquireLease),
// and runs the leader's work (pollers, the evaluator's periodic writes,
// alert delivery, exports) only while this replica holds the lease. Each
// term carries the lease generation as a kant.Fence, so that the store
// refuses the writes of a leader that lost the lease without knowing it.
//
// It imports only kant: the store is behind the LeaseStore interface
// declared here, and the leader's work is a function cmd/kant gives.
package leader

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kantproject/kant"
)

// LeaseStore keeps the lease (the store).
type LeaseStore interface {
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (kant.Lease, error)
	ReleaseLease(ctx context.Context, name, holder string, generation int64, now time.Time) error
	Lease(ctx context.Context, name string) (kant.Lease, error)
}

// Metrics is told whether this replica leads, at every change.
type Metrics interface {
	Leading(ctx context.Context, leading bool)
}

// Roles a replica can have (kant.ReplicaStatus.Role).
const (
	RoleLeader    = kant.RoleLeader
	RoleCandidate = kant.RoleCandidate
	RoleFollower  = kant.RoleFollower
)

// DefaultTTL is how long a lease lasts unless renewed; it is renewed every
// TTL/3.
const DefaultTTL = 15 * time.Second

// Work is the leader's work for one term: it runs until ctx ends (the term
// is over) and must then return promptly. fence is the term's fencing
// token, which its leader-only writes carry.
type Work func(ctx context.Context, fence kant.Fence) error

// Config configures an Elector.
type Config struct {
	Store LeaseStore // required
	// ID names this replica; required and unique among the replicas.
	ID string
	// Follower, when set, never takes the lease: the replica only serves.
	Follower bool
	// Lease is the lease's name. Default kant.LeaderLease.
	Lease string
	// TTL is the lease's length. Default DefaultTTL.
	TTL time.Duration
	// Work is run for each term this replica leads. Required unless
	// Follower.
	Work Work
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits between renewals, returning ctx's error when ctx ends
	// first. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Metrics, when set, is told when this replica starts and stops
	// leading.
	Metrics Metrics
	// Logger receives leadership changes at INFO. Default: discard.
	Logger *slog.Logger
}

// Elector takes, renews and gives up the lease, and runs Work while it
// holds it.
type Elector struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	status kant.ReplicaStatus
	// deadline is when this replica's hold on the lease ends by its own
	// clock unless renewed; zero when it does not lead.
	deadline time.Time
}

// New validates cfg and returns an Elector. It starts nothing.
func New(cfg Config) (*Elector, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("leader: Store is required")
	case cfg.ID == "":
		return nil, errors.New("leader: ID is required")
	case cfg.Work == nil && !cfg.Follower:
		return nil, errors.New("leader: Work is required")
	case cfg.TTL < 0:
		return nil, errors.New("leader: TTL must not be negative")
	}
	if cfg.Lease == "" {
		cfg.Lease = kant.LeaderLease
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	role := RoleCandidate
	if cfg.Follower {
		role = RoleFollower
	}
	e := &Elector{cfg: cfg, log: cfg.Logger.With("component", "leader", "replica", cfg.ID)}
	e.status = kant.ReplicaStatus{Replica: cfg.ID, Role: role, LeaseTTL: cfg.TTL.Seconds()}
	return e, nil
}

// Status returns what this replica knows of the leadership.
func (e *Elector) Status() kant.ReplicaStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}

// Leading reports whether this replica holds the lease at now by its own
// clock, with a margin of a tenth of the TTL: the alert engine asks it
// right before every delivery, so that a leader paused past its TTL (a
// SIGSTOP, a long GC) does not post once it wakes up.
func (e *Elector) Leading(now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.deadline.IsZero() && now.Before(e.deadline.Add(-e.cfg.TTL/10))
}

// Run takes part in the election until ctx ends: every TTL/3 it tries to
// take or renew the lease, starts Work when it gets it, and stops Work at
// once when it loses it, when the store cannot be reached for so long that
// the lease may have expired, or when ctx ends (then it releases the lease
// so that another replica takes over without waiting for the TTL).
func (e *Elector) Run(ctx context.Context) error {
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.Leading(ctx, false)
	}
	var term *term
	defer func() {
		if term != nil {
			e.end(term, "shutting down")
			// Another replica may take over at once.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.TTL/3)
			if err := e.cfg.Store.ReleaseLease(rctx, e.cfg.Lease, e.cfg.ID, term.fence.Generation, e.cfg.Now()); err != nil {
				e.log.Warn("lease not released; another replica takes over when it expires", "err", err)
			}
			cancel()
		}
	}()
	for {
		l, err := e.check(ctx)
		now := e.cfg.Now()
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			e.log.Warn("lease check failed", "err", err)
			if term != nil && !e.Leading(now) {
				e.end(term, "the lease could not be renewed before it expired")
				term = nil
			}
		default:
			if term != nil && (!l.HeldBy(e.cfg.ID, now) || l.Generation != term.fence.Generation) {
				e.end(term, "the lease moved to "+l.Holder)
				term = nil
			}
			if term == nil && l.HeldBy(e.cfg.ID, now) {
				term = e.start(ctx, l)
			}
		}
		if term != nil {
			select {
			case <-term.stopped:
				// The work ended on its own: a fenced write told it the
				// lease moved, or it failed. The next check starts a new
				// term if this replica still holds the lease.
				e.log.Warn("leader work ended", "err", term.err)
				e.end(term, "the leader work ended")
				term = nil
			default:
			}
		}
		if err := e.cfg.Sleep(ctx, e.cfg.TTL/3); err != nil {
			return nil
		}
	}
}

// check takes or renews the lease (or, as a follower, reads it) and
// records what it found.
func (e *Elector) check(ctx context.Context) (kant.Lease, error) {
	asked := e.cfg.Now()
	var (
		l   kant.Lease
		err error
	)
	cctx, cancel := context.WithTimeout(ctx, e.cfg.TTL/3)
	defer cancel()
	if e.cfg.Follower {
		l, err = e.cfg.Store.Lease(cctx, e.cfg.Lease)
	} else {
		l, err = e.cfg.Store.AcquireLease(cctx, e.cfg.Lease, e.cfg.ID, asked, e.cfg.TTL)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.status.LastLeaseErr = err.Error()
		return l, err
	}
	e.status.LastLeaseErr = ""
	e.status.CheckedAt = asked
	if l.Held(asked) {
		e.status.Leader, e.status.LeaderSince = l.Holder, l.Since
	} else {
		e.status.Leader, e.status.LeaderSince = "", time.Time{}
	}
	e.status.Generation, e.status.LeaseExpires = l.Generation, l.Expires
	if l.HeldBy(e.cfg.ID, asked) {
		// By this replica's own clock the hold ends TTL after it asked:
		// the store's expiry is reckoned from the same moment.
		e.deadline = asked.Add(e.cfg.TTL)
	}
	return l, nil
}

// term is one period of leadership.
type term struct {
	fence   kant.Fence
	cancel  context.CancelFunc
	stopped chan struct{} // closed when the work has returned
	err     error         // what it returned, once stopped is closed
}

func (e *Elector) start(ctx context.Context, l kant.Lease) *term {
	wctx, cancel := context.WithCancel(ctx)
	t := &term{fence: kant.Fence{Lease: l.Name, Generation: l.Generation}, cancel: cancel, stopped: make(chan struct{})}
	e.mu.Lock()
	e.status.Role = RoleLeader
	e.status.TermsStarted++
	e.mu.Unlock()
	e.log.Info("became the leader", "generation", l.Generation, "lease_expires", l.Expires)
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.Leading(ctx, true)
	}
	go func() {
		defer close(t.stopped)
		t.err = e.cfg.Work(wctx, t.fence)
	}()
	return t
}

// end stops the term's work and waits for it.
func (e *Elector) end(t *term, why string) {
	t.cancel()
	e.mu.Lock()
	e.deadline = time.Time{}
	e.status.Role = RoleCandidate
	e.mu.Unlock()
	select {
	case <-t.stopped:
	case <-time.After(e.cfg.TTL):
		e.log.Warn("leader work did not stop within the TTL")
	}
	e.log.Info("stopped leading", "generation", t.fence.Generation, "why", why)
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.Leading(context.Background(), false)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
