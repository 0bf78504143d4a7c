// Package collector owns the way observations enter kant: every source, pushed
// or polled, hands its runs to a Sink, which stores what is new and tells the
// observers (the evaluator, later the gate index) about exactly those runs.
// Source adapters live in subpackages (collector/push, and later glue and
// airflow); this package imports only kant.
package collector

import (
	"context"
	"fmt"
	"log/slog"

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
