// Package collector owns the way observations enter kant: every source, pushed
// or polled, hands its runs to a Sink, which stores what is new and tells the
// observers (the gate index, the evaluator, metrics, exports) about exactly
// those runs. For polled sources it owns the contract a source implements
// (Source, Unit, Cycle, the optional Checker; source.go), the one error type
// that says whether a retry can help (Error), and the Engine that polls a
// Source: the loop, each cycle's timeout, the order "store, then
// checkpoint", the source's health and the backoff (engine.go).
//
// Source adapters live in subpackages (collector/push, collector/glue,
// collector/airflow) and only fetch and map; collector/collectortest holds
// the test doubles they share. This package imports only kant.
package collector

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kantproject/kant"
)

// RunWriter stores observations and returns those that were new; it writes
// all or nothing (see store.Store.WriteRuns).
type RunWriter interface {
	WriteRuns(ctx context.Context, runs []kant.Run) ([]kant.Run, error)
}

// Observer is told about newly stored observations, after they are durable.
// Observe must not fail the write: it logs its own errors.
type Observer interface {
	Observe(ctx context.Context, runs []kant.Run)
}

// What the Engine of a polled source is given.

// Ingester stores run observations and returns how many were new. It writes
// all or nothing: on error nothing of runs was stored. Sink is one.
type Ingester interface {
	Ingest(ctx context.Context, runs []kant.Run) (int, error)
}

var _ Ingester = (*Sink)(nil)

// Checkpoints keeps one opaque string per (source, key). Checkpoint returns ""
// when none was saved. SetCheckpoint replaces the earlier value; the Engine
// calls it only after the runs the checkpoint covers were stored.
type Checkpoints interface {
	Checkpoint(ctx context.Context, source, key string) (string, error)
	SetCheckpoint(ctx context.Context, source, key, value string) error
}

// Health records the outcome of each poll cycle of a source: success when
// pollErr is empty, otherwise a failure with that message. Calls for one
// source are made in the order the polls happened.
type Health interface {
	RecordPoll(ctx context.Context, source string, at time.Time, pollErr string) error
}

// Sink writes observations and notifies observers of the new ones.
type Sink struct {
	writer    RunWriter
	observers []Observer
	logger    *slog.Logger
}

// NewSink returns a Sink writing to w and notifying observers in order.
func NewSink(w RunWriter, logger *slog.Logger, observers ...Observer) *Sink {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sink{writer: w, observers: observers, logger: logger}
}

// Ingest stores runs atomically and returns how many were new. Observers run
// synchronously, so that when Ingest returns, verdicts reflect the runs.
func (s *Sink) Ingest(ctx context.Context, runs []kant.Run) (int, error) {
	if len(runs) == 0 {
		return 0, nil
	}
	written, err := s.writer.WriteRuns(ctx, runs)
	if err != nil {
		return 0, fmt.Errorf("store runs: %w", err)
	}
	if len(written) > 0 {
		s.logger.Debug("runs stored", "component", "collector", "received", len(runs), "stored", len(written))
		for _, o := range s.observers {
			o.Observe(ctx, written)
		}
	}
	return len(written), nil
}

// When returns an Observer that tells o only while cond holds: the
// leader's observers (the evaluator's writes, exports) on a replica that
// may or may not lead.
func When(cond func() bool, o Observer) Observer { return when{cond, o} }

type when struct {
	cond func() bool
	o    Observer
}

func (w when) Observe(ctx context.Context, runs []kant.Run) {
	if w.cond() {
		w.o.Observe(ctx, runs)
	}
}

// Signal returns an Observer that, for every batch, sends on ch without
// waiting: it wakes whoever decides on new data (the alert engine) without
// making the write wait for that decision.
func Signal(ch chan<- struct{}) Observer { return signal(ch) }

type signal chan<- struct{}

func (s signal) Observe(context.Context, []kant.Run) {
	select {
	case s <- struct{}{}:
	default: // already signalled: the next decision sees these runs too
	}
}
