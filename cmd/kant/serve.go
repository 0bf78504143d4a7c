package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kantproject/kant/api"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/gate"
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
	if err := serve(ctx, cfg, ln, logger, time.Now); err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitFail
	}
	return exitOK
}

// serve runs kant on ln until ctx is cancelled, reading the clock through
// now (tests pass a fixed clock).
func serve(ctx context.Context, cfg *config.Config, ln net.Listener, logger *slog.Logger, now func() time.Time) error {
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer db.Close()
	eval, err := newEvaluator(cfg, db, logger, now)
	if err != nil {
		ln.Close()
		return err
	}
	index := gate.New(gate.Config{
		SLOs:     cfg.SLOs,
		Sources:  gateSources(cfg),
		Location: cfg.Location,
		Window:   cfg.Evaluate.Lookback + 7*24*time.Hour,
		Now:      now,
	})
	sink := collector.NewSink(db, logger, index, eval) // the gate first: it is the cheaper
	srv, err := api.New(api.Config{
		Runs:        db,
		Results:     db,
		Ingester:    sink,
		Push:        pushDecoder(cfg),
		SLOs:        cfg.SLOs,
		Location:    cfg.Location,
		WriteTokens: cfg.Tokens.Write,
		ReadTokens:  cfg.Tokens.Read,
		Ready:       func() error { return errors.Join(index.Ready(), eval.Ready()) },
		Now:         now,
		Logger:      logger,
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv.HandleRead("GET /v1/gate", gate.NewHandler(index, logger))
	logger.Info("kant serving", "component", "main", "addr", ln.Addr().String(),
		"store", cfg.Store.SQLitePath, "slos", len(cfg.SLOs), "sources", len(cfg.Sources))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// The gate answers only once it knows what the store knows.
		if err := index.Rebuild(gctx, db); err != nil {
			return err
		}
		logger.Debug("gate index rebuilt", "component", "gate")
		return nil
	})
	g.Go(func() error { return eval.Run(gctx) })
	g.Go(func() error { return srv.Serve(gctx, ln) })
	err = g.Wait()
	logger.Info("kant stopped", "component", "main")
	return err
}

// gateSources tells the gate each source's staleness bound.
func gateSources(cfg *config.Config) []gate.Source {
	out := make([]gate.Source, len(cfg.Sources))
	for i, s := range cfg.Sources {
		out[i] = gate.Source{Name: s.Name, StaleAfter: s.StaleAfter}
	}
	return out
}
