package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
)

// GateChecks are the moments of the night the player asks the gate, as a
// downstream sensor would.
var GateChecks = []string{"02:00", "03:00", "05:00", "07:00", "08:00"}

// AlertChecks are the moments, besides every observation, the alerts are
// judged: at 03:30, when hegel/export_legacy, which has not started, is at
// risk of missing its 04:00 deadline (its recent runs take 30 to 55
// minutes), and just after each deadline. Alerts follow the simulated
// clock, not the engine's wall-clock ticks, so the demo tells the same
// story at any speed.
var AlertChecks = []string{"03:30", "04:01", "06:01"}

// Player plays the night against a running kant: it pushes each
// observation through the push API when the clock reaches it, asks the gate
// at GateChecks, and has kant judge and alert at each step, printing what
// happens to Out.
type Player struct {
	Base   string       // kant's base URL, e.g. http://127.0.0.1:8080
	Client *http.Client // default: a client with a 10 s timeout
	Out    io.Writer
	Clock  Clock         // the fast clock the night plays on
	Kant   *SteppedClock // kant's clock, set to each step as it plays
	Date   kant.Date
	Loc    *time.Location

	// Evaluate judges the SLOs as of now over window (the evaluator).
	Evaluate func(ctx context.Context, now time.Time, window time.Duration) error
	// Alert decides and sends the alerts as of now (the alert engine).
	Alert func(ctx context.Context, now time.Time) error
	// Sleep waits for d, or returns ctx's error when ctx ends first
	// (collector.Sleep). Required.
	Sleep func(ctx context.Context, d time.Duration) error
	// History is how far back the past nights' runs go. When set, the
	// player judges them once before the night, as kant serve's first
	// evaluation would, so that what kant has learnt of its jobs' usual
	// durations (the at-risk warnings) does not depend on whether that
	// first evaluation has run yet.
	History time.Duration
}

// Play plays the night; it returns nil when ctx ends first.
func (p Player) Play(ctx context.Context) error {
	type step struct {
		at    time.Time
		event *Event
		gate  bool
		alert bool
	}
	var steps []step
	events := Night(p.Date, p.Loc)
	for i := range events {
		steps = append(steps, step{at: events[i].At, event: &events[i]})
	}
	for _, c := range GateChecks {
		steps = append(steps, step{at: At(p.Date, c, p.Loc), gate: true})
	}
	for _, c := range AlertChecks {
		steps = append(steps, step{at: At(p.Date, c, p.Loc), alert: true})
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.at.Compare(b.at) })
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	sleep := p.Sleep
	if p.History > 0 {
		p.Kant.Set(p.Clock.Begin)
		if err := p.Evaluate(ctx, p.Clock.Begin, p.History); err != nil {
			return err
		}
	}
	for _, s := range steps {
		if err := sleep(ctx, p.Clock.RealAt(s.at).Sub(p.Clock.Real())); err != nil {
			return nil
		}
		local := s.at.In(p.Loc).Format("15:04")
		p.Kant.Set(s.at)
		switch {
		case s.alert:
			if err := p.Evaluate(ctx, s.at, 48*time.Hour); err != nil {
				return err
			}
			if err := p.Alert(ctx, s.at); err != nil {
				return err
			}
		case s.gate:
			status, summary, err := askGate(ctx, client, p.Base, "hegel-nightly", p.Date, p.Loc)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.Out, "%s  gate  hegel-nightly %s → %d %s\n", local, p.Date, status, summary)
		default:
			r := s.event.Run
			if err := pushRun(ctx, client, p.Base, r); err != nil {
				return err
			}
			fmt.Fprintf(p.Out, "%s  run   %-29s %s%s\n", local, r.Job, describeRun(r), errorSuffix(r))
			if err := p.Alert(ctx, s.at); err != nil {
				return err
			}
		}
	}
	// The deadlines of the night have all passed: judge it once more so the
	// page shows the final verdicts without waiting for the next tick.
	if err := p.Evaluate(ctx, p.Clock.Now(), 48*time.Hour); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// SteppedClock is kant's clock in the demo: while the night plays it shows
// the moment of the step being played, so that every part (evaluator, gate,
// alerts) judges the same instant whatever the speed; once released it
// runs freely on Free.
type SteppedClock struct {
	mu      sync.Mutex
	t       time.Time
	free    func() time.Time
	running bool
}

// NewSteppedClock returns a clock showing t until Release, then free.
func NewSteppedClock(t time.Time, free func() time.Time) *SteppedClock {
	return &SteppedClock{t: t, free: free}
}

// Now returns the time shown.
func (c *SteppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return c.free()
	}
	return c.t
}

// Set shows t until the next Set or Release.
func (c *SteppedClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Release lets the clock run freely.
func (c *SteppedClock) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = true
}

// Printer is the demo's alert.Notifier: it prints alerts as Slack would
// show them, a post per incident, then edits and thread replies, stamped
// with the local time of Clock.
type Printer struct {
	mu    sync.Mutex
	out   io.Writer
	loc   *time.Location
	clock func() time.Time
	n     int
}

var _ alert.Notifier = (*Printer)(nil)

// NewPrinter returns a Printer writing to out, in loc, by clock.
func NewPrinter(out io.Writer, loc *time.Location, clock func() time.Time) *Printer {
	return &Printer{out: out, loc: loc, clock: clock}
}

func (p *Printer) stamp() string { return p.clock().In(p.loc).Format("15:04") }

// Post prints a new alert.
func (p *Printer) Post(_ context.Context, m alert.Message) (string, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.print("alert", m.Channel, m.Text, m)
	return m.Channel, fmt.Sprintf("%d", p.n), nil
}

// Update prints an edit of an alert.
func (p *Printer) Update(_ context.Context, channel, ts string, m alert.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.print("edit", channel, m.Text, m)
	return nil
}

// Reply prints a reply in an alert's thread.
func (p *Printer) Reply(_ context.Context, channel, ts string, m alert.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "%s  ↳     %s  (thread of alert %s)\n", p.stamp(), m.Text, ts)
	return nil
}

func (p *Printer) print(what, channel, text string, m alert.Message) {
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
	} else if r.Attempt > 1 {
		s += fmt.Sprintf(" (attempt %d)", r.Attempt) // a redrive, a manual retry
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

// wireRun is a run in the push format of DESIGN.md (POST /v1/runs): the
// demo speaks kant's public API as any other pushing scheduler would.
type wireRun struct {
	Source       string            `json:"source"`
	Job          string            `json:"job"`
	RunID        string            `json:"run_id"`
	Attempt      int               `json:"attempt"`
	MaxAttempts  int               `json:"max_attempts,omitempty"`
	State        string            `json:"state"`
	SourceState  string            `json:"source_state,omitempty"`
	LogicalDate  string            `json:"logical_date,omitempty"`
	StartedAt    string            `json:"started_at,omitempty"`
	FinishedAt   string            `json:"finished_at,omitempty"`
	ErrorMessage string            `json:"error_message,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
}

func pushRun(ctx context.Context, client *http.Client, base string, r kant.Run) error {
	w := wireRun{Source: r.Source, Job: string(r.Job), RunID: r.RunID, Attempt: r.Attempt, MaxAttempts: r.MaxAttempts,
		State: string(r.State), SourceState: r.SourceState, ErrorMessage: r.ErrorMessage, Attributes: r.Attributes}
	if !r.LogicalDate.IsZero() {
		w.LogicalDate = r.LogicalDate.String()
	}
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
func askGate(ctx context.Context, client *http.Client, base, slo string, date kant.Date, loc *time.Location) (int, string, error) {
	q := url.Values{"slo": {slo}, "date": {date.String()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/gate?"+q.Encode(), nil)
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
			Job      string     `json:"job"`
			Reason   string     `json:"reason"`
			OpenedAt *time.Time `json:"opened_at"`
			RerunAt  *time.Time `json:"rerun_at"`
		} `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return 0, "", fmt.Errorf("gate: %w", err)
	}
	var waiting, rerun []string
	for _, j := range ans.Jobs {
		name := strings.TrimPrefix(j.Job, "hegel/")
		if j.Reason != "succeeded" {
			waiting = append(waiting, name+" "+j.Reason)
		}
		if j.OpenedAt != nil && j.RerunAt != nil {
			rerun = append(rerun, fmt.Sprintf("%s re-run at %s, after it opened at %s", name,
				j.RerunAt.In(loc).Format("15:04"), j.OpenedAt.In(loc).Format("15:04")))
		}
	}
	summary := "open: every job succeeded"
	if !ans.Open {
		summary = "not yet: " + strings.Join(waiting, ", ")
	}
	if len(rerun) > 0 {
		summary += "; changed since open: " + strings.Join(rerun, ", ")
	}
	return resp.StatusCode, summary, nil
}
