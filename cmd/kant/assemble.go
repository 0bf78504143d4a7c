package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/telemetry"
)

// core is what every command that reads or writes runs works on, built one
// way for all of them (serve, collect, evaluate, import, demo): the
// configured store with its BI views, the exports when configured (Cloud
// Logging, the BigQuery tables beside another store), the evaluator (reporting to metrics and to the export), the
// history that judges dates older than the retention window, and the sink
// through which every observation enters, telling the gate index (when
// given), the evaluator, metrics and the export about the new ones.
type core struct {
	cfg    *config.Config
	logger *slog.Logger
	now    func() time.Time
	db     store.Store // watched by writes
	// follower is the store's log of observations when it keeps one
	// (SQLite, PostgreSQL), nil otherwise.
	follower store.Follower
	// writes says whether the store takes writes (a full disk).
	writes  *store.Writes
	export  *exports // nil unless export.cloud_logging or export.bigquery
	eval    *evaluator.Evaluator
	history *evaluator.History
	sink    *collector.Sink
	// followed are told of the observations other processes store (serve
	// follows them with collector.Follow): the gate index, and the
	// leader's evaluator, exports and alert wake-up.
	followed []collector.Observer
}

// coreOptions are what differs between commands.
type coreOptions struct {
	// metrics records the evaluations and the new observations (serve);
	// nil records nothing.
	metrics *telemetry.Metrics
	// index is told first about new observations (the gate's, in serve).
	index collector.Observer
	// getenv reads the environment of the command (for the Cloud Logging
	// and BigQuery emulators); nil reads nothing.
	getenv func(string) string
	// leading, when set, says whether this replica leads: the evaluator's
	// writes and the exports follow new observations only then (serve;
	// nil: always, a command run once).
	leading func() bool
	// wake, when set, is signalled (on the leader) whenever new
	// observations arrive, to wake the alert engine.
	wake chan<- struct{}
}

// assemble builds the core for cfg. Close releases it.
func assemble(ctx context.Context, cfg *config.Config, logger *slog.Logger, now func() time.Time, opts coreOptions) (c *core, err error) {
	raw, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	writes := store.NewWrites(now)
	db := store.Watch(raw, writes)
	c = &core{cfg: cfg, logger: logger, now: now, db: db, writes: writes}
	c.follower, _ = raw.(store.Follower)
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.export, err = newExports(ctx, cfg, db, now(), opts.getenv, logger); err != nil {
		return nil, err
	}
	ecfg := evaluator.Config{
		SLOs:      cfg.SLOs,
		Store:     db,
		Interval:  cfg.Evaluate.Interval,
		Lookback:  cfg.Evaluate.Lookback,
		Retention: cfg.Evaluate.Retention,
		Now:       now,
		Logger:    logger,
	}
	if c.follower != nil {
		// The evaluator follows the store's log and judges only the dates
		// that can have changed; its checkpoint is kept in the store.
		ecfg.Log = c.follower
	}
	if opts.metrics != nil {
		ecfg.Metrics = opts.metrics.Evaluations(cfg.Evaluate.Lookback)
	}
	if opts.wake != nil {
		ecfg.Judged = opts.wake // a deadline passing wakes the alert engine
	}
	if c.export != nil {
		ecfg.Export = c.export
	}
	if c.eval, err = evaluator.New(ecfg); err != nil {
		return nil, err
	}
	c.history = c.eval.History(db)
	leaderOnly := func(o collector.Observer) collector.Observer {
		if opts.leading == nil {
			return o
		}
		return collector.When(opts.leading, o)
	}
	var followed []collector.Observer
	if opts.index != nil {
		followed = append(followed, opts.index)
	}
	followed = append(followed, leaderOnly(c.eval))
	if c.export != nil {
		followed = append(followed, leaderOnly(c.export))
	}
	if opts.wake != nil {
		followed = append(followed, leaderOnly(collector.Signal(opts.wake)))
	}
	c.followed = followed
	// What this process stores is told at once, in that order, with the
	// metrics of what was ingested here.
	observers := slices.Clone(followed)
	if opts.metrics != nil {
		observers = append(observers, opts.metrics)
	}
	c.sink = collector.NewSink(db, logger, observers...)
	return c, nil
}

// Close flushes the export, then closes the store. Its error says what did
// not get out: a command run once (collect -once, import) exits 1 on it.
func (c *core) Close() error {
	var errs []error
	if c.export != nil {
		if err := c.export.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close the store: %w", err))
	}
	return errors.Join(errs...)
}
