package collector

import (
	"context"
	"log/slog"
	"time"

	"github.com/kantproject/kant"
)

// ObservationLog is the store's log of observations, read incrementally
// (store.Follower): the observations every process stored, in an order in
// which none is skipped.
type ObservationLog interface {
	ObservationsAfter(ctx context.Context, cursor string, limit int) ([]kant.Run, string, error)
}

// FollowConfig configures Follow.
type FollowConfig struct {
	// Log is read. Required.
	Log ObservationLog
	// From is the cursor to start after: one taken before the observers
	// loaded what was stored (the gate index's rebuild), so that nothing
	// stored in between is missed. "" starts from now.
	From string
	// Every is the pause between reads that found nothing new. Default
	// 200 ms, so that a push to another replica reaches this one within a
	// second.
	Every time.Duration
	// Batch caps the observations read at once. Default 1,000.
	Batch int
	// Observers are told of every observation read, in order; they must
	// take observations they have seen already (this process's own
	// writes) as no change.
	Observers []Observer
	// Sleep waits (default Sleep); Logger receives read failures (default
	// discard).
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// Follow tells the observers, until ctx ends, about the observations that
// are stored from now on, by any process sharing the store: a push that
// another replica acknowledged reaches this replica's gate (and, on the
// leader, its evaluator and alerts) without a full reload. A failed read is
// logged and tried again; no observation is skipped.
func Follow(ctx context.Context, cfg FollowConfig) error {
	if cfg.Every <= 0 {
		cfg.Every = 200 * time.Millisecond
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.Sleep == nil {
		cfg.Sleep = Sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger.With("component", "collector")
	cursor := cfg.From
	for {
		runs, next, err := cfg.Log.ObservationsAfter(ctx, cursor, cfg.Batch)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn("reading new observations failed; trying again", "err", err)
		default:
			cursor = next
			if len(runs) > 0 {
				for _, o := range cfg.Observers {
					o.Observe(ctx, runs)
				}
				if len(runs) == cfg.Batch {
					continue // more to read at once
				}
			}
		}
		if err := cfg.Sleep(ctx, cfg.Every); err != nil {
			return nil
		}
	}
}
