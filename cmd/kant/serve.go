package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/api"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/lineage"
	"github.com/kantproject/kant/collector/push"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/dashboards/statuspage"
	"github.com/kantproject/kant/gate"
	"github.com/kantproject/kant/leader"
	"github.com/kantproject/kant/store/bigquery"
	"github.com/kantproject/kant/telemetry"
)

// cmdServe runs the push API, the evaluator and the HTTP server until ctx is
// cancelled (SIGINT, SIGTERM), then shuts down gracefully.
func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	listen := fs.String("listen", "", "address to listen on (default from config, :8080)")
	role := fs.String("role", "", "follower: never lead (serve only); default: may lead")
	replica := fs.String("replica-id", "", "this replica's name in the lease and /v1/status (default: host name and process ID)")
	ttl := fs.Duration("lease-ttl", 0, "how long the leader's lease lasts unless renewed, renewed every third of it (default 15s; 60s on BigQuery, whose DML is slow)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return exitConfig
	}
	if *role != "" && *role != leader.RoleFollower {
		fmt.Fprintf(stderr, "kant: -role: %q is not follower (without -role a replica may lead)\n", *role)
		return exitConfig
	}
	if *ttl != 0 && *ttl < time.Second {
		fmt.Fprintln(stderr, "kant: -lease-ttl must be at least 1s")
		return exitConfig
	}
	cfg, logger, ok := c.setup(getenv, stderr)
	if !ok {
		return exitConfig
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "kant: listen %s: %v\n", cfg.Listen, err)
		return exitFail
	}
	id := *replica
	if id == "" {
		id = defaultReplicaID()
	}
	if *ttl == 0 {
		*ttl = leader.DefaultTTL
		if cfg.Store.BigQuery != nil {
			*ttl = bigquery.DefaultLeaseTTL
		}
	}
	if addr := getenv("KANT_PPROF_ADDR"); addr != "" {
		servePprof(addr, logger)
	}
	setMemoryLimit(getenv, logger)
	deps := appDeps{logger: logger, now: time.Now, getenv: getenv, replica: id, follower: *role == leader.RoleFollower, leaseTTL: *ttl}
	if err := serve(ctx, cfg, ln, deps); err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitFail
	}
	return exitOK
}

// appDeps are what the app takes from its environment.
type appDeps struct {
	logger *slog.Logger
	now    func() time.Time // tests and the demo pass their own clock
	getenv func(string) string
	// notifier, when set, receives alerts instead of Slack or the log (the
	// demo prints them).
	notifier alert.Notifier
	// manualAlerts leaves ticking the alert engine to the caller (the demo
	// ticks it on its simulated clock).
	manualAlerts bool
	// replica names this process in the lease (default: host and PID);
	// follower keeps it from ever leading; leaseTTL is the lease's length
	// (default leader.DefaultTTL).
	replica  string
	follower bool
	leaseTTL time.Duration
}

// defaultReplicaID names a replica by its host and process.
func defaultReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "kant"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// serve runs kant on ln until ctx is cancelled.
func serve(ctx context.Context, cfg *config.Config, ln net.Listener, deps appDeps) error {
	defer ln.Close()
	a, err := newApp(ctx, cfg, deps)
	if err != nil {
		return err
	}
	defer a.close()
	return a.run(ctx, ln)
}

// app is kant serve: the shared core, and what only serve runs.
type app struct {
	*core
	deps  appDeps
	index *gate.Index
	// rebuilt is closed once the gate's index is rebuilt.
	rebuilt chan struct{}
	srv     *api.Server
	tel     *telemetry.Telemetry
	metrics *telemetry.Metrics
	elector *leader.Elector
	// alerts reads silences for the API and the status page, and the demo
	// ticks it; the leader's terms (lead) deliver through its Term engines,
	// which share its lock.
	alerts *alert.Engine
	// wake is signalled when new observations arrive: the leader's alert
	// engine decides at once.
	wake chan struct{}
	// leading says whether this replica leads now (by the wall clock).
	leading func() bool
	// followFrom is the store's cursor taken before the index was rebuilt.
	followFrom string
}

// newApp assembles kant serve: the core every command shares (the gate's
// index told first about new runs, the evaluator and exports following new
// runs only on the leader), the elector, and the one HTTP surface. Every
// replica serves the whole HTTP surface; the leader's work (pollers, the
// evaluator's periodic writes, alert delivery) runs in lead. It starts
// nothing.
func newApp(ctx context.Context, cfg *config.Config, deps appDeps) (a *app, err error) {
	logger, now := deps.logger, deps.now
	if deps.replica == "" {
		deps.replica = defaultReplicaID()
	}
	tel, err := telemetry.New(ctx, telemetry.Config{ServiceName: "kant", Getenv: deps.getenv, Logger: logger, Now: now})
	if err != nil {
		return nil, err
	}
	metrics := tel.Metrics()
	index := gate.New(gate.Config{
		SLOs:     cfg.SLOs,
		Sources:  gateSources(cfg),
		Location: cfg.Location,
		Window:   cfg.Evaluate.Lookback + 7*24*time.Hour,
		Now:      now,
		Metrics:  metrics, // counts every answer; GateMiddleware below only traces
		// run rebuilds it while the server starts and the evaluator judges.
		AwaitRebuild: true,
	})
	if err := metrics.GateWaiting(index.Waiting); err != nil {
		return nil, err
	}
	a = &app{deps: deps, index: index, rebuilt: make(chan struct{}), tel: tel, metrics: metrics, wake: make(chan struct{}, 1)}
	// The lease is reckoned by the wall clock, whatever clock the app
	// judges by (the demo's runs fast).
	leading := func() bool { return a.elector != nil && a.elector.Leading(time.Now()) }
	a.leading = leading
	k, err := assemble(ctx, cfg, logger, now, coreOptions{metrics: metrics, index: index, getenv: deps.getenv,
		leading: leading, wake: a.wake})
	if err != nil {
		tel.Shutdown(ctx)
		return nil, err
	}
	a.core = k
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	db := k.db
	if a.elector, err = leader.New(leader.Config{Store: db, ID: deps.replica, Follower: deps.follower, TTL: deps.leaseTTL,
		Work: a.lead, Metrics: metrics, Logger: logger}); err != nil {
		return nil, err
	}
	// What other replicas store is followed from before the index is
	// rebuilt, so that nothing written in between is missed.
	if log := k.follower; log != nil {
		if _, a.followFrom, err = log.ObservationsAfter(ctx, "", 0); err != nil {
			return nil, fmt.Errorf("follow the store: %w", err)
		}
	}
	// The gate answers only once it knows what the store knows: its index
	// is rebuilt by run while the evaluator's first evaluation runs, and
	// until then the gate answers 503 with Retry-After and /readyz is not
	// ready.
	gateHandler := gate.NewHandler(index, logger)
	if a.alerts, err = newAlerts(cfg, db, k.follower, metrics, deps); err != nil {
		return nil, err
	}
	silenced := a.alerts.Silences
	sil, err := api.NewSilences(api.SilencesConfig{Store: db, SLOs: sloNames(cfg), Now: now, Logger: logger})
	if err != nil {
		return nil, err
	}
	var page http.Handler // nil: not served
	if len(cfg.Tokens.Read) > 0 {
		// Browsers send no bearer token: with read tokens the page would
		// show to anyone what the API shows only to token holders.
		logger.Info("status page off: read tokens are configured", "component", "main")
	} else {
		if page, err = statuspage.New(statuspage.Config{
			Runs: db, Results: k.history, Health: db,
			SLOs: cfg.SLOs, Location: cfg.Location,
			StaleAfter:  staleAfter(cfg),
			ConsoleLink: consoleLinks(cfg),
			Silences:    silenced,
			Replica:     a.elector.Status,
			Now:         now, Logger: logger,
		}); err != nil {
			return nil, err
		}
	}
	events, err := newEvents(ctx, cfg, logger, now)
	if err != nil {
		return nil, err
	}
	var eventDecoder api.EventDecoder // nil: not served
	if events != nil {
		eventDecoder = events
	}
	sources := cfg.PushSources()
	a.srv, err = api.New(api.Config{
		Silences:       silenced,
		Runs:           db,
		Results:        k.history,
		Kept:           k.history.Kept,
		Ingester:       k.sink,
		Push:           push.Decoder{Sources: sources},
		Lineage:        lineage.Decoder{Sources: sources, Location: cfg.Location},
		Events:         eventDecoder,
		SLOs:           cfg.SLOs,
		Location:       cfg.Location,
		WriteTokens:    cfg.Tokens.Write,
		ReadTokens:     cfg.Tokens.Read,
		Gate:           metrics.GateMiddleware(gateHandler),
		StatusPage:     page,
		SilenceHandler: sil,
		Metrics:        tel.Handler(),
		Status:         a.elector.Status,
		Ready:          a.ready,
		Degraded:       a.degraded,
		OnShutdown:     gateHandler.Close, // long-polls answer at once instead of holding shutdown
		Now:            now,
		Logger:         logger,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ready says whether this replica answers correctly: once its gate's index
// is rebuilt and its evaluator
// wrote its first evaluation as the leader, or once it sees another replica
// lead (which keeps the verdicts current).
func (a *app) ready() error {
	if err := a.index.Ready(); err != nil {
		return err
	}
	s := a.elector.Status()
	if s.Leader != "" && s.Leader != s.Replica {
		return nil
	}
	if err := a.eval.Ready(); err != nil {
		if s.Role == leader.RoleFollower {
			return errors.New("no replica leads: the verdicts are not kept current")
		}
		return err
	}
	return nil
}

// degraded says what this replica cannot do though it answers: write to
// its store (a full or failing disk).
func (a *app) degraded() error {
	if err, since := a.writes.Failure(); err != nil {
		return fmt.Errorf("the store cannot write since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// lead is the leader's work for one term: the pollers, the evaluator's
// periodic evaluation, and alert delivery, their leader-only writes fenced
// by the term's generation. It runs until ctx ends (the term is over) or a
// fenced write says the lease moved.
func (a *app) lead(ctx context.Context, fence kant.Fence) error {
	cfg, logger, now := a.cfg, a.logger, a.deps.now
	fenced := a.db.Fenced(fence)
	pollers, err := newPollers(ctx, cfg, pollDeps{runs: a.sink, store: fenced, metrics: a.metrics,
		observers: []collector.PollObserver{a.index}}, logger, now)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.eval.Run(gctx) })
	if !a.deps.manualAlerts {
		alerts := a.alerts.Term(alert.Term{Store: fenced, MayDeliver: a.leading, Wake: a.wake})
		g.Go(func() error {
			// Deciding starts once the replica is ready: at a start the
			// CPU goes to the gate's rebuild and the first evaluation.
			select {
			case <-gctx.Done():
				return nil
			case <-a.rebuilt:
			}
			return alerts.Run(gctx)
		})
		g.Go(func() error { return alerts.WatchWrites(gctx, a.writes) })
	}
	for _, p := range pollers {
		g.Go(func() error { return p.run(gctx) })
	}
	return g.Wait()
}

// run serves on ln, takes part in the election, follows what other
// replicas store, and keeps the gate's index fresh until ctx is cancelled,
// then shuts down gracefully.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	a.logger.Info("kant serving", "component", "main", "addr", ln.Addr().String(), "replica", a.deps.replica,
		"store", storeName(a.cfg), "slos", len(a.cfg.SLOs), "sources", len(a.cfg.Sources))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.elector.Run(gctx) })
	g.Go(func() error {
		began := a.deps.now()
		if err := a.index.Rebuild(gctx, a.db); err != nil {
			if gctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("rebuild the gate's index: %w", err)
		}
		a.logger.Info("gate index rebuilt", "component", "gate", "took", a.deps.now().Sub(began).Round(time.Millisecond).String())
		close(a.rebuilt)
		return refreshGate(gctx, a.index, a.db, 2*a.cfg.Evaluate.Interval, a.follower != nil, a.logger)
	})
	if log := a.follower; log != nil {
		g.Go(func() error {
			return collector.Follow(gctx, collector.FollowConfig{Log: log, From: a.followFrom, Observers: a.followed, Logger: a.logger})
		})
	}
	g.Go(func() error { return a.srv.Serve(gctx, ln) })
	err := g.Wait()
	a.logger.Info("kant stopped", "component", "main")
	return err
}

// close flushes telemetry and the export and closes the store.
func (a *app) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.tel.Shutdown(ctx); err != nil {
		a.logger.Warn("telemetry shutdown", "component", "main", "err", err)
	}
	if a.core == nil {
		return nil
	}
	err := a.core.Close()
	if err != nil {
		a.logger.Error("shutdown", "component", "main", "err", err)
	}
	return err
}

// refreshGate merges into the gate's index, every interval, what other
// processes wrote to the store (a `kant import`, another replica). When
// the store's log is followed into the index (followed), the runs come
// from it and the refresh reads only jobs and source health: reading again
// the runs observed in the last minutes (10,000 jobs' worth after an
// import) would only give the index what it already holds.
func refreshGate(ctx context.Context, index *gate.Index, st gate.Store, interval time.Duration, followed bool, logger *slog.Logger) error {
	refresh := index.Refresh
	if followed {
		refresh = index.RefreshHealth
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := refresh(ctx, st); err != nil && ctx.Err() == nil {
			logger.Warn("gate refresh failed", "component", "gate", "err", err)
		}
	}
}

func sloNames(cfg *config.Config) []string {
	out := make([]string, len(cfg.SLOs))
	for i, s := range cfg.SLOs {
		out[i] = s.Name
	}
	return out
}

// staleAfter maps each source to its staleness bound.
func staleAfter(cfg *config.Config) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, s := range cfg.Sources {
		if s.StaleAfter > 0 {
			out[s.Name] = s.StaleAfter
		}
	}
	return out
}

// gateSources tells the gate each source's staleness bound.
func gateSources(cfg *config.Config) []gate.Source {
	out := make([]gate.Source, len(cfg.Sources))
	for i, s := range cfg.Sources {
		out[i] = gate.Source{Name: s.Name, StaleAfter: s.StaleAfter}
	}
	return out
}
