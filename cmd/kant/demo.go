package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/push"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/demo"
	"github.com/kantproject/kant/store/sqlite"
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
	now := &steppedClock{free: clock.Now, t: clock.Begin}
	printer := &demoNotifier{out: d.stdout, loc: loc, clock: now.Now}
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
	playErr := d.play(ctx, a, now, base, clock, date, loc)
	now.release()
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
	db, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.Store.SQLitePath, Logger: d.logger})
	if err != nil {
		return err
	}
	defer db.Close()
	runs := demo.History(date, d.history, cfg.Location)
	_, err = db.ImportRuns(ctx, func(yield func(kant.Run, error) bool) {
		for _, r := range runs {
			if !yield(r, nil) {
				return
			}
		}
	})
	if err != nil {
		return fmt.Errorf("load history: %w", err)
	}
	fmt.Fprintf(d.stdout, "Loaded %d runs of the %d nights before.\n", len(runs), d.history)
	return nil
}

// gateChecks are the moments of the night the demo asks the gate, as a
// downstream sensor would.
var gateChecks = []string{"02:00", "03:00", "05:00", "07:00", "08:00"}

// alertChecks are the moments, besides every observation, the alerts are
// judged: just after each deadline. Alerts follow the simulated clock, not
// the engine's wall-clock ticks, so the demo tells the same story at any
// speed.
var alertChecks = []string{"04:01", "06:01"}

// play pushes the night's observations as the clock reaches them and asks
// the gate at gateChecks.
func (d demoRun) play(ctx context.Context, a *app, now *steppedClock, base string, clock demo.Clock, date kant.Date, loc *time.Location) error {
	type step struct {
		at    time.Time
		event *demo.Event
		gate  bool
		alert bool
	}
	var steps []step
	events := demo.Night(date, loc)
	for i := range events {
		steps = append(steps, step{at: events[i].At, event: &events[i]})
	}
	for _, c := range gateChecks {
		steps = append(steps, step{at: demo.At(date, c, loc), gate: true})
	}
	for _, c := range alertChecks {
		steps = append(steps, step{at: demo.At(date, c, loc), alert: true})
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.at.Compare(b.at) })
	client := &http.Client{Timeout: 10 * time.Second}
	for _, s := range steps {
		if err := collector.Sleep(ctx, clock.RealAt(s.at).Sub(d.real())); err != nil {
			return nil
		}
		local := s.at.In(loc).Format("15:04")
		now.set(s.at)
		if s.alert {
			if err := a.eval.Evaluate(ctx, s.at, 48*time.Hour); err != nil {
				return err
			}
			if err := a.alerts.Tick(ctx, s.at); err != nil {
				return err
			}
			continue
		}
		if s.gate {
			status, summary, err := askGate(ctx, client, base, "hegel-nightly", date)
			if err != nil {
				return err
			}
			fmt.Fprintf(d.stdout, "%s  gate  hegel-nightly %s → %d %s\n", local, date, status, summary)
			continue
		}
		r := s.event.Run
		if err := pushRun(ctx, client, base, r); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "%s  run   %-29s %s%s\n", local, r.Job, describeRun(r), errorSuffix(r))
		if err := a.alerts.Tick(ctx, s.at); err != nil {
			return err
		}
	}
	// The deadlines of the night have all passed: judge it once more so the
	// page shows the final verdicts without waiting for the next tick.
	if err := a.eval.Evaluate(ctx, clock.Now(), 48*time.Hour); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// demoNotifier prints alerts as Slack would show them: a post per incident,
// then edits and thread replies.
type demoNotifier struct {
	mu    sync.Mutex
	out   io.Writer
	loc   *time.Location
	clock func() time.Time
	n     int
}

func (p *demoNotifier) stamp() string { return p.clock().In(p.loc).Format("15:04") }

// steppedClock is kant's clock in the demo: while the night plays it shows
// the moment of the step being played, so that every part (evaluator, gate,
// alerts) judges the same instant whatever the speed; afterwards it runs
// freely.
type steppedClock struct {
	mu      sync.Mutex
	t       time.Time
	free    func() time.Time
	running bool
}

func (c *steppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return c.free()
	}
	return c.t
}

func (c *steppedClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *steppedClock) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = true
}

var _ alert.Notifier = (*demoNotifier)(nil)

func (p *demoNotifier) Post(_ context.Context, m alert.Message) (string, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.print("alert", m.Channel, m.Text, m)
	return m.Channel, fmt.Sprintf("%d", p.n), nil
}

func (p *demoNotifier) Update(_ context.Context, channel, ts string, m alert.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.print("edit", channel, m.Text, m)
	return nil
}

func (p *demoNotifier) Reply(_ context.Context, channel, ts string, m alert.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "%s  ↳     %s  (thread of alert %s)\n", p.stamp(), m.Text, ts)
	return nil
}

func (p *demoNotifier) print(what, channel, text string, m alert.Message) {
	owner := ""
	if m.Owner != "" {
		owner = " " + m.Owner
	}
	fmt.Fprintf(p.out, "%s  %-5s %s%s: %s\n", p.stamp(), what, channel, owner, text)
}

func describeRun(r kant.Run) string {
	s := string(r.State)
	if r.MaxAttempts > 1 {
		s += fmt.Sprintf(" (attempt %d of %d)", r.Attempt, r.MaxAttempts)
	}
	if r.RetryPending() {
		s += ", retry pending"
	}
	return s
}

func errorSuffix(r kant.Run) string {
	if r.ErrorMessage == "" {
		return ""
	}
	return ": " + r.ErrorMessage
}

func pushRun(ctx context.Context, client *http.Client, base string, r kant.Run) error {
	attempt := r.Attempt
	w := push.Wire{Source: r.Source, Job: string(r.Job), RunID: r.RunID, State: string(r.State), SourceState: r.SourceState,
		LogicalDate: r.LogicalDate.String(), Attempt: &attempt, MaxAttempts: r.MaxAttempts, ErrorMessage: r.ErrorMessage,
		Attributes: r.Attributes}
	if !r.StartedAt.IsZero() {
		w.StartedAt = r.StartedAt.Format(time.RFC3339)
	}
	if !r.FinishedAt.IsZero() {
		w.FinishedAt = r.FinishedAt.Format(time.RFC3339)
	}
	body, err := json.Marshal(w)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/runs", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("push %s: %w", r.Job, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("push %s: %s: %s", r.Job, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// askGate asks the gate about an SLO's date and summarizes the answer.
func askGate(ctx context.Context, client *http.Client, base, slo string, date kant.Date) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/gate?slo=%s&date=%s", base, slo, date), nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("gate: %w", err)
	}
	defer resp.Body.Close()
	var ans struct {
		Open bool `json:"open"`
		Jobs []struct {
			Job    string `json:"job"`
			Reason string `json:"reason"`
		} `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return 0, "", fmt.Errorf("gate: %w", err)
	}
	if ans.Open {
		return resp.StatusCode, "open: every job succeeded", nil
	}
	var waiting []string
	for _, j := range ans.Jobs {
		if j.Reason != "succeeded" {
			waiting = append(waiting, strings.TrimPrefix(j.Job, "hegel/")+" "+j.Reason)
		}
	}
	return resp.StatusCode, "not yet: " + strings.Join(waiting, ", "), nil
}
