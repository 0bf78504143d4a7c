package store

import (
	"context"
	"errors"
	"iter"
	"sync"
	"time"

	"github.com/kantproject/kant"
)

// Writes follows whether a store takes writes: the first write that fails
// with kant.ErrStoreFull (a full or failing disk) marks it failing, the
// next write that succeeds marks it writing again. Reads say nothing
// either way. The zero value is not usable: make one with NewWrites.
type Writes struct {
	now     func() time.Time
	mu      sync.Mutex
	err     error     // the failure, nil while writes succeed
	since   time.Time // when err began
	changed chan struct{}
}

// NewWrites returns a Writes reading the time from now.
func NewWrites(now func() time.Time) *Writes {
	return &Writes{now: now, changed: make(chan struct{}, 1)}
}

// Failure returns the error that writes fail with and since when; nil
// while they succeed.
func (w *Writes) Failure() (error, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err, w.since
}

// Changed receives after the state changed (failing, or writing again);
// one signal may stand for several changes, so read Failure after it.
func (w *Writes) Changed() <-chan struct{} { return w.changed }

// observe records the outcome of one write.
func (w *Writes) observe(err error) {
	full := errors.Is(err, kant.ErrStoreFull)
	if err != nil && !full {
		return // a bad request, a fence, a busy lock: not about the disk
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case full && w.err == nil:
		w.err, w.since = err, w.now()
	case !full && w.err != nil:
		w.err, w.since = nil, w.now()
	default:
		return
	}
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// Watch returns s with the outcome of each of its writes observed by w.
// What s offers beyond Store (Follower) is not passed on: ask s.
func Watch(s Store, w *Writes) Store { return &watched{Store: s, w: w} }

type watched struct {
	Store
	w *Writes
}

func (s *watched) WriteRuns(ctx context.Context, runs []kant.Run) ([]kant.Run, error) {
	out, err := s.Store.WriteRuns(ctx, runs)
	s.w.observe(err)
	return out, err
}

func (s *watched) ImportRuns(ctx context.Context, runs iter.Seq2[kant.Run, error], fresh func(index int)) (int, error) {
	n, err := s.Store.ImportRuns(ctx, runs, fresh)
	s.w.observe(err)
	return n, err
}

func (s *watched) WriteEvaluation(ctx context.Context, e kant.Evaluation) error {
	return s.observed(s.Store.WriteEvaluation(ctx, e))
}

func (s *watched) RecordPoll(ctx context.Context, source string, at time.Time, pollErr string) error {
	return s.observed(s.Store.RecordPoll(ctx, source, at, pollErr))
}

func (s *watched) SetCheckpoint(ctx context.Context, source, key, value string) error {
	return s.observed(s.Store.SetCheckpoint(ctx, source, key, value))
}

func (s *watched) PutAlert(ctx context.Context, a kant.Alert) error {
	return s.observed(s.Store.PutAlert(ctx, a))
}

func (s *watched) PutSilence(ctx context.Context, sl kant.Silence) error {
	return s.observed(s.Store.PutSilence(ctx, sl))
}

func (s *watched) DeleteSilence(ctx context.Context, id string) error {
	return s.observed(s.Store.DeleteSilence(ctx, id))
}

func (s *watched) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (kant.Lease, error) {
	l, err := s.Store.AcquireLease(ctx, name, holder, now, ttl)
	s.w.observe(err)
	return l, err
}

func (s *watched) ReleaseLease(ctx context.Context, name, holder string, generation int64, now time.Time) error {
	return s.observed(s.Store.ReleaseLease(ctx, name, holder, generation, now))
}

func (s *watched) Fenced(f kant.Fence) Store { return &watched{Store: s.Store.Fenced(f), w: s.w} }

func (s *watched) observed(err error) error {
	s.w.observe(err)
	return err
}
