package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// DefaultCycleTimeout bounds one poll cycle when EngineConfig.CycleTimeout
// is zero.
const DefaultCycleTimeout = 5 * time.Minute

// maxHealthMessage caps the error recorded in a source's health.
const maxHealthMessage = 1024

// Metrics records poll cycles; *telemetry.Metrics is one. It is told of
// every cycle once it is over: when it started, how long it took, and its
// error (nil: success).
type Metrics interface {
	Polled(ctx context.Context, source string, start time.Time, took time.Duration, err error)
}

// PollObserver is told of every cycle once its health is recorded: the
// gate's index learns from it which sources are fresh. It must not block.
type PollObserver interface {
	ObservePoll(source string, at time.Time, pollErr error)
}

// EngineConfig configures the Engine of one Source.
type EngineConfig struct {
	// Source is what is polled. Required.
	Source Source
	// Ingester stores the runs of each unit. Required.
	Ingester Ingester
	// Checkpoints keeps the source's checkpoints. Required.
	Checkpoints Checkpoints
	// Health records each cycle. Required.
	Health Health
	// Interval is Run's period. Required.
	Interval time.Duration
	// CycleTimeout bounds one cycle: Poll's context ends then, and the
	// cycle fails as retryable. Default DefaultCycleTimeout.
	CycleTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits between cycles and returns ctx's error when ctx ends
	// first. Default Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives a warning per failed cycle and debug lines for the
	// others. Default: discard.
	Logger *slog.Logger
	// Metrics, when set, is told of every cycle.
	Metrics Metrics
	// Observers are told of every cycle, in order, after Health.
	Observers []PollObserver
}

// Engine polls one Source: it owns the loop, each cycle's timeout, the
// order "store the runs, then save their checkpoint", the source's health
// and the backoff after failures. Its methods are for one caller at a time.
type Engine struct {
	cfg  EngineConfig
	name string
	log  *slog.Logger
}

// NewEngine validates cfg and returns an Engine. It starts nothing.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	var problems []string
	if cfg.Source == nil {
		problems = append(problems, "source required")
	} else if cfg.Source.Name() == "" {
		problems = append(problems, "source name required")
	}
	if cfg.Ingester == nil {
		problems = append(problems, "ingester required")
	}
	if cfg.Checkpoints == nil {
		problems = append(problems, "checkpoints required")
	}
	if cfg.Health == nil {
		problems = append(problems, "health required")
	}
	if cfg.Interval <= 0 {
		problems = append(problems, "interval must be positive")
	}
	if cfg.CycleTimeout < 0 {
		problems = append(problems, "cycle timeout must not be negative")
	}
	if len(problems) > 0 {
		return nil, kant.Errorf(kant.EINVALID, "poll engine: %s", strings.Join(problems, "; "))
	}
	if cfg.CycleTimeout == 0 {
		cfg.CycleTimeout = DefaultCycleTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = Sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	name := cfg.Source.Name()
	return &Engine{cfg: cfg, name: name, log: cfg.Logger.With("component", "collector", "source", name)}, nil
}

// Name is the source's name.
func (e *Engine) Name() string { return e.name }

// PollOnce runs one cycle: Poll within CycleTimeout, each unit stored then
// checkpointed, and the cycle recorded once in the source's health with
// its start time. It returns how many new observations were stored and the
// cycle's errors, joined; IsRetryable tells whether trying again soon can
// help. Units that were stored keep their progress either way.
func (e *Engine) PollOnce(ctx context.Context) (int, error) {
	start := e.cfg.Now()
	n, err := e.cycle(ctx)
	took := e.cfg.Now().Sub(start)
	msg := ""
	if err != nil {
		msg = HealthMessage(err, maxHealthMessage)
	}
	pollErr := err
	if herr := e.cfg.Health.RecordPoll(ctx, e.name, start, msg); herr != nil {
		err = errors.Join(err, fmt.Errorf("source %q: record health: %w", e.name, herr))
	}
	for _, o := range e.cfg.Observers {
		o.ObservePoll(e.name, start, pollErr)
	}
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.Polled(ctx, e.name, start, took, pollErr)
	}
	if err != nil {
		e.log.Warn("poll failed", "error", msg, "retryable", IsRetryable(err), "stored", n)
	} else {
		e.log.Debug("polled", "stored", n, "took", took)
	}
	return n, err
}

func (e *Engine) cycle(ctx context.Context) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, e.cfg.CycleTimeout)
	defer cancel()
	c := &Cycle{e: e}
	err := e.cfg.Source.Poll(cctx, c)
	if errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		// The cycle's own deadline, not the caller's: try again soon.
		if err == nil {
			err = cctx.Err()
		}
		err = Retryable(fmt.Errorf("poll cycle timed out after %s: %w", e.cfg.CycleTimeout, err), 0)
	}
	return c.result(err)
}

// commit stores u.Runs, then saves u.Next: the only order, so that a
// checkpoint never covers runs that were not stored.
func (e *Engine) commit(ctx context.Context, u Unit, count func(int)) error {
	if len(u.Runs) > 0 {
		n, err := e.cfg.Ingester.Ingest(ctx, u.Runs)
		if err != nil {
			return fmt.Errorf("store %d runs of %q: %w", len(u.Runs), u.Key, err)
		}
		count(n)
		e.log.Debug("runs stored", "key", u.Key, "read", len(u.Runs), "stored", n)
	}
	if u.Next == "" {
		return nil
	}
	if u.Key == "" {
		return fmt.Errorf("save checkpoint: a unit without a key")
	}
	if err := e.cfg.Checkpoints.SetCheckpoint(ctx, e.name, u.Key, u.Next); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", u.Key, err)
	}
	return nil
}

// Run polls every Interval until ctx is done, and returns ctx's error.
// After a cycle that failed in a way a retry can help (IsRetryable:
// throttling, 5xx, timeouts, network errors), the next cycle comes sooner,
// after a jittered exponential backoff capped at Interval, but never
// sooner than the failure's RetryAfterOf; other failures (access denied,
// unknown jobs) wait the full interval, so they are reported every cycle
// but never retried in a loop. A fenced checkpoint (kant.ErrFenced: this
// replica lost the lease) ends Run with that error.
func (e *Engine) Run(ctx context.Context) error {
	failures := 0
	for {
		_, err := e.PollOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, kant.ErrFenced) {
			return err // this replica lost the lease: its term is over
		}
		delay := e.cfg.Interval
		if err != nil && IsRetryable(err) {
			failures++
			delay = max(NextDelay(e.cfg.Interval, failures, rand.Float64()), min(RetryAfterOf(err), e.cfg.Interval))
		} else {
			failures = 0
		}
		if err := e.cfg.Sleep(ctx, delay); err != nil {
			return err
		}
	}
}
