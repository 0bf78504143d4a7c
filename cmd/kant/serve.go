package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/api"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/lineage"
	"github.com/kantproject/kant/collector/push"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/dashboards/statuspage"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/gate"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/cloudlogging"
	"github.com/kantproject/kant/telemetry"
)

// cmdServe runs the push API, the evaluator and the HTTP server until ctx is
// cancelled (SIGINT, SIGTERM), then shuts down gracefully.
func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	listen := fs.String("listen", "", "address to listen on (default from config, :8080)")
	if err := parseFlags(fs, args, stderr); err != nil {
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
	if err := serve(ctx, cfg, ln, appDeps{logger: logger, now: time.Now, getenv: getenv}); err != nil {
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

// app is kant serve's parts, wired.
type app struct {
	cfg          *config.Config
	logger       *slog.Logger
	db           store.Store
	eval         *evaluator.Evaluator
	index        *gate.Index
	srv          *api.Server
	tel          *telemetry.Telemetry
	export       *cloudlogging.Exporter // nil unless export.cloud_logging
	alerts       *alert.Engine
	manualAlerts bool
	pollers      []poller
}

// newApp opens the store, rebuilds the gate's index from it and wires the
// HTTP API. It starts nothing.
func newApp(ctx context.Context, cfg *config.Config, deps appDeps) (a *app, err error) {
	logger, now := deps.logger, deps.now
	tel, err := telemetry.New(ctx, telemetry.Config{ServiceName: "kant", Getenv: deps.getenv, Logger: logger, Now: now})
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		tel.Shutdown(ctx)
		return nil, err
	}
	a = &app{cfg: cfg, logger: logger, db: db, tel: tel, manualAlerts: deps.manualAlerts}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	metrics := tel.Metrics()
	if a.export, err = newExporter(ctx, cfg, db, now(), logger); err != nil {
		return nil, err
	}
	var evalStore evaluator.Store = metrics.WrapEvaluatorStore(db, cfg.Evaluate.Lookback)
	observers := []collector.Observer{nil, nil, metrics} // the gate and the evaluator, set below
	if a.export != nil {
		evalStore = exportingStore{Store: evalStore, exp: a.export}
		observers = append(observers, a.export)
	}
	if a.eval, err = newEvaluator(cfg, evalStore, logger, now); err != nil {
		return nil, err
	}
	a.index = gate.New(gate.Config{
		SLOs:     cfg.SLOs,
		Sources:  gateSources(cfg),
		Location: cfg.Location,
		Window:   cfg.Evaluate.Lookback + 7*24*time.Hour,
		Now:      now,
	})
	// The gate answers only once it knows what the store knows: its index is
	// rebuilt before the server starts, so no request sees it half-built.
	if err := a.index.Rebuild(ctx, db); err != nil {
		return nil, err
	}
	gateHandler := gate.NewHandler(a.index, logger)
	observers[0], observers[1] = a.index, a.eval
	sink := collector.NewSink(db, logger, observers...)
	health := pollHealth{db: db, gate: a.index}
	if a.pollers, err = newPollers(ctx, cfg, sink, db, health, metrics, logger, now); err != nil {
		return nil, err
	}
	if a.alerts, err = newAlerts(cfg, db, metrics, deps); err != nil {
		return nil, err
	}
	silenced := a.alerts.Silences
	sources := pushSources(cfg)
	a.srv, err = api.New(api.Config{
		Silences:    silenced,
		Runs:        db,
		Results:     db,
		Ingester:    sink,
		Push:        push.Decoder{Sources: sources},
		Lineage:     lineage.Decoder{Sources: sources, Location: cfg.Location},
		SLOs:        cfg.SLOs,
		Location:    cfg.Location,
		WriteTokens: cfg.Tokens.Write,
		ReadTokens:  cfg.Tokens.Read,
		Ready:       a.eval.Ready,
		OnShutdown:  gateHandler.Close, // long-polls answer at once instead of holding shutdown
		Now:         now,
		Logger:      logger,
	})
	if err != nil {
		return nil, err
	}
	a.srv.HandleRead("GET /v1/gate", metrics.GateMiddleware(gateHandler))
	a.srv.Handle("GET /metrics", tel.Handler())
	sil, err := api.NewSilences(api.SilencesConfig{Store: db, SLOs: sloNames(cfg), Now: now, Logger: logger})
	if err != nil {
		return nil, err
	}
	a.srv.HandleWrite("POST /v1/silences", sil.Post())
	a.srv.HandleWrite("DELETE /v1/silences/{id}", sil.Delete())
	a.srv.HandleRead("GET /v1/silences", sil.List())
	if len(cfg.Tokens.Read) > 0 {
		// Browsers send no bearer token: with read tokens the page would
		// show to anyone what the API shows only to token holders.
		logger.Info("status page off: read tokens are configured", "component", "main")
	} else {
		page, err := statuspage.New(statuspage.Config{
			Runs: db, Results: db, Health: db,
			SLOs: cfg.SLOs, Location: cfg.Location,
			StaleAfter:  staleAfter(cfg),
			ConsoleLink: consoleLinks(cfg),
			Silences:    silenced,
			Now:         now, Logger: logger,
		})
		if err != nil {
			return nil, err
		}
		page.Register(a.srv)
	}
	return a, nil
}

// run serves on ln and runs the evaluator and the gate's refresh until ctx
// is cancelled, then shuts down gracefully.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	a.logger.Info("kant serving", "component", "main", "addr", ln.Addr().String(),
		"store", storeName(a.cfg), "slos", len(a.cfg.SLOs), "sources", len(a.cfg.Sources))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.eval.Run(gctx) })
	if !a.manualAlerts {
		g.Go(func() error { return a.alerts.Run(gctx) })
	}
	g.Go(func() error { return refreshGate(gctx, a.index, a.db, 2*a.cfg.Evaluate.Interval, a.logger) })
	g.Go(func() error { return a.srv.Serve(gctx, ln) })
	for _, p := range a.pollers {
		g.Go(func() error { return p.run(gctx) })
	}
	err := g.Wait()
	a.logger.Info("kant stopped", "component", "main")
	return err
}

// close flushes telemetry and closes the store.
func (a *app) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if a.export != nil {
		if err := a.export.Close(); err != nil {
			a.logger.Warn("cloud logging flush", "component", "main", "err", err)
		}
	}
	if err := a.tel.Shutdown(ctx); err != nil {
		a.logger.Warn("telemetry shutdown", "component", "main", "err", err)
	}
	return a.db.Close()
}

// refreshGate merges into the gate's index, every interval, what other
// processes wrote to the store (a `kant import`, another replica).
func refreshGate(ctx context.Context, index *gate.Index, st gate.Store, interval time.Duration, logger *slog.Logger) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := index.Refresh(ctx, st); err != nil && ctx.Err() == nil {
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
