package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/airflow"
	"github.com/kantproject/kant/collector/glue"
	"github.com/kantproject/kant/collector/stepfunctions"
	"github.com/kantproject/kant/config"
)

// polled is a polled source with its poll period and cycle bound.
type polled struct {
	source   collector.Source
	interval time.Duration
	timeout  time.Duration // 0: the collector's default
}

// poller is a polled source in the engine that polls it.
type poller struct {
	source string
	engine *collector.Engine
}

// newSources builds the collector.Source of every polled source of cfg.
func newSources(ctx context.Context, cfg *config.Config, logger *slog.Logger, now func() time.Time) ([]polled, error) {
	var out []polled
	for _, s := range cfg.Sources {
		if a := s.Airflow; a != nil {
			if (a.Auth == "basic" || a.Auth == "bearer" || a.Auth == "google") && cleartext(a.URL) {
				logger.Warn("credentials will cross the network unencrypted: the Airflow url is http://", "component", "collector", "source", s.Name)
			}
			p, err := airflow.New(ctx, airflow.Config{
				Source: s.Name, URL: a.URL, API: a.API, DAGs: a.DAGs, Level: a.Level,
				Auth: a.Auth, Username: a.Username, Password: string(a.Password), Token: string(a.Token),
				Environment: a.Environment, Region: a.Region, Endpoint: a.Endpoint,
				Location: cfg.Location, Backfill: a.Backfill, Now: now,
				Logger: logger.With("component", "collector", "source", s.Name),
			}, airflow.Deps{})
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			out = append(out, polled{source: p, interval: a.Interval, timeout: s.PollTimeout})
			continue
		}
		if sf := s.StepFunctions; sf != nil {
			p, err := stepfunctions.New(ctx, stepfunctions.Config{
				Source: s.Name, Region: sf.Region, StateMachines: sf.StateMachines, Endpoint: sf.Endpoint, RoleARN: sf.RoleARN,
				WebIdentityAudience: sf.WebIdentityAudience, LogicalDatePath: sf.LogicalDatePath,
				LogicalDateOffset: sf.LogicalDateOffset, Backfill: sf.Backfill, Now: now,
				Logger: logger.With("component", "collector", "source", s.Name),
			}, stepfunctions.Deps{})
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			out = append(out, polled{source: p, interval: sf.Interval, timeout: s.PollTimeout})
			continue
		}
		if s.Glue == nil {
			continue
		}
		g := s.Glue
		p, err := glue.New(ctx, glue.Config{
			Source: s.Name, Region: g.Region, Jobs: g.Jobs, Workflows: g.Workflows, Endpoint: g.Endpoint, RoleARN: g.RoleARN,
			WebIdentityAudience: g.WebIdentityAudience, LogicalDateArgument: g.LogicalDateArgument,
			LogicalDateOffset: g.LogicalDateOffset, Backfill: g.Backfill, Now: now,
			Logger: logger.With("component", "collector", "source", s.Name),
		}, glue.Deps{})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		out = append(out, polled{source: p, interval: g.Interval, timeout: s.PollTimeout})
	}
	return out, nil
}

// pollDeps are what the poll engines of a command share.
type pollDeps struct {
	runs      collector.Ingester       // the core's sink
	store     pollStore                // checkpoints and health
	metrics   collector.Metrics        // nil: none
	observers []collector.PollObserver // told of every cycle (the gate's index)
}

// pollStore keeps the sources' checkpoints and health: the store.
type pollStore interface {
	collector.Checkpoints
	collector.Health
}

// newPollers builds a poll engine for every polled source of cfg.
func newPollers(ctx context.Context, cfg *config.Config, deps pollDeps, logger *slog.Logger, now func() time.Time) ([]poller, error) {
	sources, err := newSources(ctx, cfg, logger, now)
	if err != nil {
		return nil, err
	}
	out := make([]poller, 0, len(sources))
	for _, s := range sources {
		e, err := collector.NewEngine(collector.EngineConfig{
			Source: s.source, Ingester: deps.runs, Checkpoints: deps.store, Health: deps.store,
			Interval: s.interval, CycleTimeout: s.timeout, Now: now, Logger: logger, Metrics: deps.metrics, Observers: deps.observers,
		})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.source.Name(), err)
		}
		out = append(out, poller{source: s.source.Name(), engine: e})
	}
	return out, nil
}

// cleartext reports whether rawURL is plain http to a host other than the
// loopback interface.
func cleartext(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// run polls until ctx is done; a cancelled context is a clean stop.
func (p poller) run(ctx context.Context) error {
	if err := p.engine.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("source %s: %w", p.source, err)
	}
	return nil
}

// cmdCollect polls every source once (-once), stores what is new, and
// re-evaluates; exit 1 when a source failed.
func cmdCollect(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (code int) {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	var c common
	c.register(fs)
	once := fs.Bool("once", false, "poll every source once and exit (required: `kant serve` polls continuously)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return exitConfig
	}
	if !*once {
		fmt.Fprintln(stderr, "kant: collect needs -once (kant serve polls continuously)")
		return exitConfig
	}
	cfg, logger, ok := c.setup(getenv, stderr)
	if !ok {
		return exitConfig
	}
	k, err := assemble(ctx, cfg, logger, time.Now, coreOptions{getenv: getenv})
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitFail
	}
	defer func() {
		// A cron job must see an export that did not get out.
		if err := k.Close(); err != nil {
			fmt.Fprintf(stderr, "kant: %v\n", err)
			code = exitFail
		}
	}()
	pollers, err := newPollers(ctx, cfg, pollDeps{runs: k.sink, store: k.db}, logger, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitConfig
	}
	if len(pollers) == 0 {
		fmt.Fprintln(stdout, "no polled sources configured")
		return exitOK
	}
	code = exitOK
	for _, p := range pollers {
		start := time.Now()
		n, err := p.engine.PollOnce(ctx)
		if err != nil {
			fmt.Fprintf(stdout, "%s: failed after %s: %v\n", p.source, time.Since(start).Round(time.Millisecond), err)
			code = exitFail
			continue
		}
		fmt.Fprintf(stdout, "%s: ok in %s, %d new observation(s)\n", p.source, time.Since(start).Round(time.Millisecond), n)
	}
	return code
}
