package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/demo"
)

// DefaultDemoSpeed plays the 7¼-hour night in under a minute.
const DefaultDemoSpeed = 480

// cmdDemo runs kant on a temporary store with the demo's SLOs and plays a
// simulated night of runs through its push API, printing what happens.
func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	speed := fs.Float64("speed", DefaultDemoSpeed, "how many times faster than real time the night plays")
	history := fs.Int("history", 89, "days of past runs to load first, for the attainment calendar")
	logLevel := fs.String("log-level", "warn", "log level of kant's own log (on stderr)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	if err := parseFlags(fs, args, stderr); err != nil {
		return exitConfig
	}
	if *speed < 1 || *history < 0 || *history > 366 {
		fmt.Fprintln(stderr, "kant: demo: -speed must be at least 1 and -history within 0..366")
		return exitConfig
	}
	c := common{logLevel: *logLevel, logFormat: *logFormat}
	logger, err := c.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitConfig
	}
	dir, err := os.MkdirTemp("", "kant-demo-*")
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitFail
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "kant: listen %s: %v (try -listen 127.0.0.1:0)\n", *listen, err)
		return exitFail
	}
	d := demoRun{speed: *speed, history: *history, dir: dir, getenv: getenv, stdout: stdout, logger: logger, real: time.Now}
	if err := d.run(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "kant: demo: %v\n", err)
		return exitFail
	}
	return exitOK
}

// demoRun is one run of the demo.
type demoRun struct {
	speed   float64
	history int
	dir     string
	getenv  func(string) string
	stdout  io.Writer
	logger  *slog.Logger
	real    func() time.Time
	// played, when set, is closed once the night has been played and
	// judged (tests wait on it).
	played chan struct{}
}

func (d demoRun) run(ctx context.Context, ln net.Listener) error {
	defer ln.Close()
	cfg, err := config.Parse("demo/kant.yaml", strings.NewReader(demo.ConfigYAML), d.getenv)
	if err != nil {
		return err
	}
	cfg.Store.SQLitePath = filepath.Join(d.dir, "kant.db")
	loc := cfg.Location
	start := d.real()
	date := kant.DateOf(start.In(loc))
	clock := demo.Clock{
		Begin:   demo.At(date, demo.Start, loc),
		End:     demo.At(date, demo.End, loc),
		Started: start,
		Speed:   d.speed,
		Real:    d.real,
	}
	if err := d.loadHistory(ctx, cfg, date); err != nil {
		return err
	}
	now := demo.NewSteppedClock(clock.Begin, clock.Now)
	printer := demo.NewPrinter(d.stdout, loc, now.Now)
	a, err := newApp(ctx, cfg, appDeps{logger: d.logger, now: now.Now, getenv: d.getenv, notifier: printer, manualAlerts: true})
	if err != nil {
		return err
	}
	defer a.close()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(d.stdout, "kant demo: serving %s on a temporary store (%s)\n", base, d.dir)
	fmt.Fprintf(d.stdout, "  status page  %s/\n  calendar     %s/calendar\n  gate         %s/v1/gate?slo=hegel-nightly&date=%s\n",
		base, base, base, date)
	fmt.Fprintf(d.stdout, "Playing the night of %s (%s) %g× faster: %s to %s.\n\n", date, loc, d.speed, demo.Start, demo.End)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- a.run(ctx, ln) }()
	player := demo.Player{Base: base, Out: d.stdout, Clock: clock, Kant: now, Date: date, Loc: loc,
		Evaluate: a.eval.Evaluate, Alert: a.alerts.Tick, Sleep: collector.Sleep,
		History: time.Duration(d.history+1) * 24 * time.Hour}
	playErr := player.Play(ctx)
	now.Release()
	if playErr != nil && ctx.Err() == nil {
		cancel()
		<-errc
		return playErr
	}
	if d.played != nil {
		close(d.played)
	}
	// From now on the alert engine ticks on its own, as in kant serve; it
	// stops before the store is closed.
	alertsDone := make(chan struct{})
	go func() {
		defer close(alertsDone)
		a.alerts.Run(ctx)
	}()
	if ctx.Err() == nil {
		fmt.Fprintf(d.stdout, "\nThe night is over; kant keeps serving %s/ until Ctrl-C.\n", base)
	}
	err = <-errc
	cancel()
	<-alertsDone
	return err
}

// loadHistory imports the past days' runs before kant starts, as `kant
// import` would.
func (d demoRun) loadHistory(ctx context.Context, cfg *config.Config, date kant.Date) error {
	if d.history == 0 {
		return nil
	}
	k, err := assemble(ctx, cfg, d.logger, d.real, coreOptions{getenv: d.getenv})
	if err != nil {
		return err
	}
	runs := demo.History(date, d.history, cfg.Location)
	_, err = k.db.ImportRuns(ctx, func(yield func(kant.Run, error) bool) {
		for _, r := range runs {
			if !yield(r, nil) {
				return
			}
		}
	}, nil)
	if cerr := k.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("load history: %w", err)
	}
	fmt.Fprintf(d.stdout, "Loaded %d runs of the %d nights before.\n", len(runs), d.history)
	return nil
}
