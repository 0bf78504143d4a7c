package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/kantproject/kant"
)

// Source is one polled source (collector/glue, collector/airflow): it only
// fetches and maps. Poll reads what changed since the checkpoints it finds
// in c, maps it to kant.Runs, and hands each unit of progress (runs and the
// checkpoint that covers them) to c.Emit. It stores nothing itself: the
// Engine owns the loop, the cycle's timeout, storing, checkpoints, health
// and backoff.
//
// Poll returns the errors of what it could not read, joined; it must return
// when ctx is done. It classifies its own failures with Retryable when
// trying again soon can help (throttling, 5xx); network errors and
// timeouts are retryable without that (see IsRetryable). Poll is never
// called concurrently with itself; it may call c's methods concurrently.
type Source interface {
	// Name is the kant source name, the first half of every job key.
	Name() string
	Poll(ctx context.Context, c *Cycle) error
}

// Checker is implemented by a Source that can tell whether it is reachable
// and readable, storing nothing: what `kant check` reports per source.
type Checker interface {
	Check(ctx context.Context) (report string, err error)
}

// Unit is one piece of a cycle's progress: the runs read for one checkpoint
// key and the checkpoint to save once they are stored.
type Unit struct {
	// Key names the checkpoint within the source (a Glue job name, an
	// Airflow level). Required when Next is set.
	Key string
	// Runs are the observations read; they may be none.
	Runs []kant.Run
	// Next is the checkpoint to save under Key after Runs are stored; ""
	// keeps the saved one (nothing changed, or the read was incomplete).
	Next string
}

// Cycle is what one poll cycle gives its Source: the saved checkpoints and
// the one way to store progress. Its methods are safe for concurrent use.
type Cycle struct {
	e *Engine

	mu     sync.Mutex
	stored int
	errs   []error // what Emit returned, reported even if Poll drops them
}

// Checkpoint returns the checkpoint saved under key, "" when there is none.
func (c *Cycle) Checkpoint(ctx context.Context, key string) (string, error) {
	v, err := c.e.cfg.Checkpoints.Checkpoint(ctx, c.e.name, key)
	if err != nil {
		return "", fmt.Errorf("read checkpoint %q: %w", key, err)
	}
	return v, nil
}

// Emit stores u.Runs, then, only when they were stored, saves u.Next under
// u.Key. A unit whose runs could not be stored keeps the old checkpoint, so
// the next cycle reads them again; other units keep their progress. The
// error, if any, is the cycle's: the Engine reports it whether or not Poll
// returns it too.
func (c *Cycle) Emit(ctx context.Context, u Unit) error {
	err := c.e.commit(ctx, u, c.count)
	if err != nil {
		c.mu.Lock()
		c.errs = append(c.errs, err)
		c.mu.Unlock()
	}
	return err
}

func (c *Cycle) count(n int) {
	c.mu.Lock()
	c.stored += n
	c.mu.Unlock()
}

// result is the cycle's stored count and pollErr joined with the errors of
// Emit that pollErr does not already hold.
func (c *Cycle) result(pollErr error) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := pollErr
	for _, e := range c.errs {
		if !errors.Is(pollErr, e) {
			err = errors.Join(err, e)
		}
	}
	return c.stored, err
}

// Error is a source's failure classified: whether trying again soon can
// help, and how long the source asked to be left alone (a 429's
// Retry-After), 0 when it did not say.
type Error struct {
	Err        error
	Retryable  bool
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the classified error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable marks err as one that trying again soon can help with, after
// at least after (0: no wish). A nil err stays nil.
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Retryable: true, RetryAfter: after}
}

// IsRetryable reports whether any error in err's tree of joined errors
// (LeafErrors) is one that trying again soon can help with: an *Error that
// says so, or, when the leaf carries no *Error, a kant EUNAVAILABLE error
// (the store busy) or a net.Error (a refused or reset connection, a
// timeout, context.DeadlineExceeded). Everything else
// (access denied, unknown jobs, invalid input) waits for the next regular
// cycle.
func IsRetryable(err error) bool {
	for _, leaf := range LeafErrors(err) {
		if retryable(leaf) {
			return true
		}
	}
	return false
}

func retryable(err error) bool {
	if ce, ok := errors.AsType[*Error](err); ok {
		return ce.Retryable
	}
	if kant.ErrorCode(err) == kant.EUNAVAILABLE {
		return true // the store is busy or unreachable for now
	}
	_, ok := errors.AsType[net.Error](err)
	return ok
}

// RetryAfterOf returns the longest RetryAfter of the retryable errors in
// err's tree, 0 when none asks for one.
func RetryAfterOf(err error) time.Duration {
	var d time.Duration
	for _, leaf := range LeafErrors(err) {
		if ce, ok := errors.AsType[*Error](leaf); ok {
			if ce.Retryable {
				d = max(d, ce.RetryAfter)
			}
		} else if kant.ErrorCode(leaf) == kant.EUNAVAILABLE {
			d = max(d, kant.RetryAfter(leaf))
		}
	}
	return d
}
