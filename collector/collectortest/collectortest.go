// Package collectortest holds the hand-written test doubles that the tests
// of every polled source and of the collector share: in-memory checkpoints,
// a health record, an ingester that remembers what it was given, a clock
// moved by hand and a sleep that only records. All are safe for concurrent
// use. It imports only kant and collector.
package collectortest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

var (
	_ collector.Checkpoints = (*Checkpoints)(nil)
	_ collector.Health      = (*Health)(nil)
	_ collector.Ingester    = (*Ingester)(nil)
)

// ErrStoreDown is what a failing Ingester returns.
var ErrStoreDown = errors.New("store is down")

// Checkpoints keeps checkpoints in memory. The zero value is empty.
type Checkpoints struct {
	mu   sync.Mutex
	m    map[string]string
	sets int
}

// Checkpoint returns the value saved under (source, key), "" when none.
func (c *Checkpoints) Checkpoint(_ context.Context, source, key string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[source+"\x00"+key], nil
}

// SetCheckpoint saves value under (source, key).
func (c *Checkpoints) SetCheckpoint(_ context.Context, source, key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[source+"\x00"+key] = value
	c.sets++
	return nil
}

// Get returns the value saved under (source, key).
func (c *Checkpoints) Get(source, key string) string {
	v, _ := c.Checkpoint(context.Background(), source, key)
	return v
}

// Sets counts the SetCheckpoint calls so far.
func (c *Checkpoints) Sets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sets
}

// Len is the number of checkpoints saved.
func (c *Checkpoints) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Record is one RecordPoll call.
type Record struct {
	Source string
	At     time.Time
	Err    string // "" for success
}

// Health records each RecordPoll call. OnPoll, when set, is called after
// each, outside the lock.
type Health struct {
	OnPoll func()

	mu      sync.Mutex
	records []Record
}

// RecordPoll records the call.
func (h *Health) RecordPoll(_ context.Context, source string, at time.Time, pollErr string) error {
	h.mu.Lock()
	h.records = append(h.records, Record{Source: source, At: at, Err: pollErr})
	f := h.OnPoll
	h.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

// Records returns the calls so far.
func (h *Health) Records() []Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}

// Last is the error of the last record: "" for a success, "<none>" when
// nothing was recorded.
func (h *Health) Last() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.records) == 0 {
		return "<none>"
	}
	return h.records[len(h.records)-1].Err
}

// Ingester remembers each Ingest call and counts every run as new. While
// FailNext is above zero, a call fails with ErrStoreDown (and decrements it).
type Ingester struct {
	mu       sync.Mutex
	failNext int
	batches  [][]kant.Run
}

// FailNext makes the next n calls fail.
func (in *Ingester) FailNext(n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.failNext = n
}

// Ingest records runs, or fails.
func (in *Ingester) Ingest(_ context.Context, runs []kant.Run) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.failNext > 0 {
		in.failNext--
		return 0, ErrStoreDown
	}
	in.batches = append(in.batches, slices.Clone(runs))
	return len(runs), nil
}

// Take returns and forgets the runs ingested so far, and the number of
// calls that brought them.
func (in *Ingester) Take() ([]kant.Run, int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var all []kant.Run
	for _, b := range in.batches {
		all = append(all, b...)
	}
	n := len(in.batches)
	in.batches = nil
	return all, n
}

// Clock is a fixed clock that tests move by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Sleeps records the waits asked of it instead of sleeping. OnSleep, when
// set, is called with each wait, outside the lock, before Sleep returns
// ctx's error (so OnSleep may cancel ctx to stop a loop).
type Sleeps struct {
	OnSleep func(d time.Duration)

	mu sync.Mutex
	d  []time.Duration
}

// Sleep records d and returns ctx's error.
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	f := s.OnSleep
	s.mu.Unlock()
	if f != nil {
		f(d)
	}
	return ctx.Err()
}

// Durations returns the waits so far.
func (s *Sleeps) Durations() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}
