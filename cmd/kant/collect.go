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

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/airflow"
	"github.com/kantproject/kant/collector/glue"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/store"
)

// source is what cmd needs of a polled source's poller.
type source interface {
	PollOnce(ctx context.Context) error
	Run(ctx context.Context, interval time.Duration) error
	Check(ctx context.Context) (string, error)
}

var (
	_ source = (*glue.Poller)(nil)
	_ source = airflowSource{}
)

// airflowSource adapts airflow.Poller, which counts what it stored and keeps
// its own interval.
type airflowSource struct{ p *airflow.Poller }

func (a airflowSource) PollOnce(ctx context.Context) error {
	_, err := a.p.PollOnce(ctx)
	return err
}
func (a airflowSource) Run(ctx context.Context, _ time.Duration) error { return a.p.Run(ctx) }
func (a airflowSource) Check(ctx context.Context) (string, error)      { return a.p.Check(ctx) }

// poller is a polled source.
type poller struct {
	source   string
	interval time.Duration
	poller   source
}

// pollHealth records polls in the store and tells the gate about them, so
// that it knows which sources are fresh.
type pollHealth struct {
	db   store.Store
	gate interface {
		ObservePoll(source string, at time.Time, pollErr error)
	}
}

func (h pollHealth) RecordPoll(ctx context.Context, source string, at time.Time, pollErr string) error {
	if h.gate != nil {
		var err error
		if pollErr != "" {
			err = errors.New(pollErr)
		}
		h.gate.ObservePoll(source, at, err)
	}
	return h.db.RecordPoll(ctx, source, at, pollErr)
}

// newPollers builds a poller for every polled source of cfg, writing through
// runs and recording health through health.
func newPollers(ctx context.Context, cfg *config.Config, runs collector.Ingester, cps collector.Checkpoints, health collector.Health, logger *slog.Logger, now func() time.Time) ([]poller, error) {
	var out []poller
	for _, s := range cfg.Sources {
		if a := s.Airflow; a != nil {
			if (a.Auth == "basic" || a.Auth == "bearer" || a.Auth == "google") && cleartext(a.URL) {
				logger.Warn("credentials will cross the network unencrypted: the Airflow url is http://", "component", "collector", "source", s.Name)
			}
			p, err := airflow.New(ctx, airflow.Config{
				Source: s.Name, URL: a.URL, API: a.API, DAGs: a.DAGs, Level: a.Level, Interval: a.Interval,
				Auth: a.Auth, Username: a.Username, Password: string(a.Password), Token: string(a.Token),
				Environment: a.Environment, Region: a.Region, Endpoint: a.Endpoint,
				Location: cfg.Location, Backfill: a.Backfill, Now: now,
				Logger: logger.With("component", "collector", "source", s.Name),
			}, airflow.Deps{Runs: runs, Checkpoints: cps, Health: health})
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			out = append(out, poller{source: s.Name, interval: a.Interval, poller: airflowSource{p}})
			continue
		}
		if s.Glue == nil {
			continue
		}
		g := s.Glue
		p, err := glue.New(ctx, glue.Config{
			Source: s.Name, Region: g.Region, Jobs: g.Jobs, Endpoint: g.Endpoint, RoleARN: g.RoleARN,
			WebIdentityAudience: g.WebIdentityAudience, LogicalDateArgument: g.LogicalDateArgument,
			LogicalDateOffset: g.LogicalDateOffset, Backfill: g.Backfill, Now: now,
			Logger: logger.With("component", "collector", "source", s.Name),
		}, glue.Deps{Runs: runs, Checkpoints: cps, Health: health})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		out = append(out, poller{source: s.Name, interval: g.Interval, poller: p})
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
	if err := p.poller.Run(ctx, p.interval); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("source %s: %w", p.source, err)
	}
	return nil
}

// countingWriter counts the new observations written per source.
type countingWriter struct {
	next  collector.Ingester
	count map[string]int
}

func (w *countingWriter) Ingest(ctx context.Context, runs []kant.Run) (int, error) {
	n, err := w.next.Ingest(ctx, runs)
	if len(runs) > 0 {
		w.count[runs[0].Source] += n
	}
	return n, err
}

// cmdCollect polls every source once (-once), stores what is new, and
// re-evaluates; exit 1 when a source failed.
func cmdCollect(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
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
	o, ok := storeAndEvaluator(ctx, cfg, logger, stderr)
	if !ok {
		return exitFail
	}
	defer o.Close()
	counter := &countingWriter{next: o.sink(logger), count: map[string]int{}}
	pollers, err := newPollers(ctx, cfg, counter, o.db, pollHealth{db: o.db}, logger, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitConfig
	}
	if len(pollers) == 0 {
		fmt.Fprintln(stdout, "no polled sources configured")
		return exitOK
	}
	code := exitOK
	for _, p := range pollers {
		start := time.Now()
		if err := p.poller.PollOnce(ctx); err != nil {
			fmt.Fprintf(stdout, "%s: failed after %s: %v\n", p.source, time.Since(start).Round(time.Millisecond), err)
			code = exitFail
			continue
		}
		fmt.Fprintf(stdout, "%s: ok in %s, %d new observation(s)\n", p.source, time.Since(start).Round(time.Millisecond), counter.count[p.source])
	}
	return code
}

// readOnly stands in for the store when sources are only probed: anything
// that would write fails.
type readOnly struct{}

var errReadOnly = errors.New("kant check writes nothing")

func (readOnly) Ingest(context.Context, []kant.Run) (int, error)            { return 0, errReadOnly }
func (readOnly) Checkpoint(context.Context, string, string) (string, error) { return "", nil }
func (readOnly) SetCheckpoint(context.Context, string, string, string) error {
	return errReadOnly
}
func (readOnly) RecordPoll(context.Context, string, time.Time, string) error { return errReadOnly }
