package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Message is what a Notifier sends: an alert's content, or one thread reply.
type Message struct {
	AlertID string
	Kind    string
	Status  string // open, resolved
	Channel string
	Text    string // headline; for a reply, the note
	Owner   string
	Fields  []kant.AlertField
	Links   []kant.AlertLink
	Reply   bool // a thread reply (or, without threads, a follow-up post)
}

// Notifier delivers messages. Errors that a later attempt may fix (rate
// limits, 5xx, network) are *Error with Retryable set.
type Notifier interface {
	// Post sends a new message and returns where it went: the channel ID
	// and the message's ts, both "" when the transport cannot address a
	// message later (an incoming webhook); then updates are posted anew.
	Post(ctx context.Context, m Message) (channel, ts string, err error)
	// Update replaces the message ts in channel with m.
	Update(ctx context.Context, channel, ts string, m Message) error
	// Reply posts m in the thread of message ts in channel.
	Reply(ctx context.Context, channel, ts string, m Message) error
}

// Finder is implemented by a Notifier that can look up the message it posted
// for an alert. The Engine asks it before posting an alert whose previous
// post was interrupted (Posting set, SentAt zero: the process stopped
// between the receiver accepting the post and the store recording it), so
// that the post is not repeated.
type Finder interface {
	// Find returns the channel and ts of a message posted for alertID in
	// channel since the given time; ts is "" when there is none, or when
	// the channel cannot be searched.
	Find(ctx context.Context, channel, alertID string, since time.Time) (foundChannel, ts string, err error)
}

// Error is a delivery error with its class.
type Error struct {
	Retryable  bool
	RetryAfter time.Duration // how long the receiver asked us to wait (429), 0 if unsaid
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether err is worth retrying, and after how long the
// receiver asked to wait (0: unsaid). Unclassed errors are not retryable,
// except context deadlines.
func Retryable(err error) (bool, time.Duration) {
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable, e.RetryAfter
	}
	return errors.Is(err, context.DeadlineExceeded), 0
}

// Metrics is told about every delivery: a post, an update and a thread
// reply each count as one, by the alert's kind, with the error (nil when it
// was delivered). telemetry's *Metrics is one.
type Metrics interface {
	AlertDelivered(ctx context.Context, kind string, err error)
}

// Reader is what the Engine reads to decide.
type Reader interface {
	LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error)
	Results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error)
	Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error)
	SourceHealth(ctx context.Context) ([]kant.SourceHealth, error)
}

// Store keeps alerts and reads silences.
type Store interface {
	PutAlert(ctx context.Context, a kant.Alert) error
	Alerts(ctx context.Context, f kant.AlertFilter) ([]kant.Alert, error)
	Silences(ctx context.Context, endsAfter time.Time) ([]kant.Silence, error)
}

// Config holds the Engine's dependencies and settings.
type Config struct {
	Reader   Reader   // required
	Store    Store    // required
	Notifier Notifier // required; NewLogNotifier when Slack is not configured
	// Senders are the event destinations (PagerDuty, webhooks) by name;
	// kant.DestinationSlack is the Notifier's and may not be used.
	Senders map[string]Sender
	// Deliver routes alerts to destinations (see RouteTo); every name it
	// lists must be kant.DestinationSlack or a key of Senders. Empty: Slack
	// alone.
	Deliver []DeliverRule
	Metrics Metrics // optional
	// Log, when set, is the store's log of observations (store.Follower):
	// the engine then keeps the lookback window's runs from one tick to
	// the next, and a tick reads only the observations stored since the
	// last one rather than all the window's runs again.
	Log    Log
	Policy Policy
	// Maintenance windows from the configuration, silences like posted ones.
	Maintenance []Maintenance

	Interval     time.Duration // between ticks in Run; default 1m
	Lookback     int           // days of verdicts and alerts considered; default 7
	BudgetWindow int           // days of attainment for budget alerts; default 30
	SendTimeout  time.Duration // per Notifier call; default 30s
	Backoff      time.Duration // wait after a retryable error without Retry-After; default 30s
	// MaxBackoff bounds the wait, which doubles with each retryable error
	// of a destination in a row; default 10m.
	MaxBackoff time.Duration

	// Wake, when set, makes Run tick at once whenever it receives: new
	// observations arrived (a push, another replica's write), so that the
	// decision follows the data rather than the next tick.
	Wake <-chan struct{}
	// MayDeliver, when set, is asked right before every send: false stops
	// delivery until the next tick (this replica is no longer sure it
	// leads, e.g. it was paused past its lease, by the wall clock), so that
	// no message goes out from a replica another may have replaced.
	MayDeliver func() bool

	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discards
}

// errMayNotDeliver stops a delivery pass when MayDeliver says no.
var errMayNotDeliver = errors.New("alert: this replica may not deliver now (it is not sure it leads)")

// Engine decides and delivers alerts.
type Engine struct {
	cfg Config
	log *slog.Logger
	*passes
}

// passes is what an Engine shares with its Term engines.
type passes struct {
	// mu serializes Tick and Deliver: two passes at once could both post
	// the same pending alert.
	mu sync.Mutex
	// Per destination: no delivery before retryAt (a rate limit or an
	// outage), after failures retryable errors in a row.
	retryAt  map[string]time.Time
	failures map[string]int
	// runs are the lookback window's runs as of the last tick, kept with
	// Config.Log; nil until the first tick of a term reads them.
	runs *recentRuns
}

// Term is what differs for the engine of one leader's term.
type Term struct {
	Store      Store           // the term's fenced view of the store
	MayDeliver func() bool     // see Config.MayDeliver
	Wake       <-chan struct{} // see Config.Wake
}

// Term returns an engine for one leader's term: e's configuration with the
// term's store, MayDeliver and Wake, sharing e's lock and backoff, so that
// its passes and e's never run at once (one could post what the other is
// posting).
func (e *Engine) Term(t Term) *Engine {
	cfg := e.cfg
	if t.Store != nil {
		cfg.Store = t.Store
	}
	cfg.MayDeliver, cfg.Wake = t.MayDeliver, t.Wake
	// A term reads the window's runs afresh, as the evaluator reads its
	// settled dates again.
	e.mu.Lock()
	e.runs = nil
	e.mu.Unlock()
	return &Engine{cfg: cfg, log: e.log, passes: e.passes}
}

// New validates cfg and returns an Engine. It starts nothing.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Reader == nil:
		return nil, errors.New("alert: Reader is required")
	case cfg.Store == nil:
		return nil, errors.New("alert: Store is required")
	case cfg.Notifier == nil:
		return nil, errors.New("alert: Notifier is required")
	}
	if _, ok := cfg.Senders[kant.DestinationSlack]; ok {
		return nil, fmt.Errorf("alert: sender name %q is Slack's", kant.DestinationSlack)
	}
	for i, r := range cfg.Deliver {
		if len(r.To) == 0 {
			return nil, fmt.Errorf("alert: deliver rule %d: no destinations", i+1)
		}
		for _, d := range r.To {
			if _, ok := cfg.Senders[d]; !ok && d != kant.DestinationSlack {
				return nil, fmt.Errorf("alert: deliver rule %d: unknown destination %q", i+1, d)
			}
		}
	}
	for _, m := range cfg.Maintenance {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("alert: %w", err)
		}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 7
	}
	if cfg.BudgetWindow <= 0 {
		cfg.BudgetWindow = 30
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 30 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 30 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.Backoff)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Policy.Location == nil {
		cfg.Policy.Location = time.UTC
	}
	return &Engine{cfg: cfg, log: cfg.Logger.With("component", "alert"), passes: &passes{retryAt: map[string]time.Time{}, failures: map[string]int{}}}, nil
}

// Run ticks every Interval, and whenever Wake receives, until ctx is
// cancelled. With a Wake, the first tick waits for it (or the Interval):
// in kant serve the evaluator's first evaluation wakes it, so that the
// first decision of a term reads verdicts judged in it, and a start does
// not spend its CPU deciding on stale ones while the gate's index is
// rebuilt and the first evaluation runs. Errors of a tick are logged and
// the next tick tries again, except a fenced write (kant.ErrFenced: this
// replica lost the lease), which ends Run with that error.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	if e.cfg.Wake != nil {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.cfg.Wake:
		}
	}
	for {
		if err := e.Tick(ctx, e.cfg.Now()); err != nil && ctx.Err() == nil {
			if errors.Is(err, kant.ErrFenced) {
				return err
			}
			e.log.Warn("alert tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.cfg.Wake: // a nil channel never receives
		}
	}
}

// Tick reads the current state, decides, stores the changes and delivers
// what is pending, as of now.
func (e *Engine) Tick(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, err := e.input(ctx, now)
	if err != nil {
		return err
	}
	for _, c := range Decide(e.cfg.Policy, in, now) {
		e.route(&c)
		if err := e.cfg.Store.PutAlert(ctx, c.Alert); err != nil {
			return fmt.Errorf("alert store %s: %w", c.Alert.ID, err)
		}
		level := slog.LevelInfo
		if c.Alert.Silenced != "" {
			level = slog.LevelDebug
		}
		e.log.Log(ctx, level, "alert "+string(c.Action), "alert", c.Alert.ID, "kind", c.Alert.Kind,
			"job", string(c.Alert.Job), "silenced", c.Alert.Silenced)
	}
	return e.deliverAll(ctx, now)
}

func (e *Engine) input(ctx context.Context, now time.Time) (Input, error) {
	p := e.cfg.Policy
	today := kant.DateOf(now.In(p.Location))
	from := today.AddDays(-e.cfg.Lookback)
	var in Input
	var err error
	recent, err := e.cfg.Store.Alerts(ctx, kant.AlertFilter{UpdatedFrom: now.AddDate(0, 0, -e.cfg.Lookback)})
	if err != nil {
		return in, fmt.Errorf("alert read alerts: %w", err)
	}
	open, err := e.cfg.Store.Alerts(ctx, kant.AlertFilter{OpenOnly: true})
	if err != nil {
		return in, fmt.Errorf("alert read alerts: %w", err)
	}
	in.Alerts = mergeAlerts(recent, open)
	if in.Results, err = e.results(ctx, in.Alerts, from, today, now); err != nil {
		return in, fmt.Errorf("alert read results: %w", err)
	}
	if in.Days, err = e.cfg.Reader.Days(ctx, kant.ResultFilter{From: from, To: today.AddDays(1)}); err != nil {
		return in, fmt.Errorf("alert read days: %w", err)
	}
	if in.Runs, err = e.recent(ctx, from, today.AddDays(1), now.AddDate(0, 0, -e.cfg.Lookback-1)); err != nil {
		return in, fmt.Errorf("alert read runs: %w", err)
	}
	if in.Health, err = e.cfg.Reader.SourceHealth(ctx); err != nil {
		return in, fmt.Errorf("alert read source health: %w", err)
	}
	// One read of the stored silences serves both what is silenced now and
	// what was silenced over the budget window.
	budgets := p.BudgetBelow > 0 || p.Digest != nil
	silencedFrom := now
	if budgets {
		silencedFrom = now.AddDate(0, 0, -e.cfg.BudgetWindow-1)
	}
	stored, err := e.cfg.Store.Silences(ctx, silencedFrom)
	if err != nil {
		return in, fmt.Errorf("alert read silences: %w", err)
	}
	if budgets {
		days, err := e.cfg.Reader.Days(ctx, kant.ResultFilter{From: today.AddDays(-e.cfg.BudgetWindow), To: today})
		if err != nil {
			return in, fmt.Errorf("alert read days: %w", err)
		}
		past := append(slices.Clone(stored), windows(e.cfg.Maintenance, silencedFrom, now)...)
		for _, def := range p.SLOs {
			in.Budgets = append(in.Budgets, slo.Summarize(def, def.Excluding(days, past)))
		}
	}
	for _, s := range stored {
		if s.End.After(now) {
			in.Silences = append(in.Silences, s)
		}
	}
	in.Silences = append(in.Silences, windows(e.cfg.Maintenance, now, now.Add(time.Nanosecond))...)
	return in, nil
}

// recent returns the newest observation of the runs dated dateFrom..dateTo
// and, without a date, of those that ran from from on: what LatestRuns
// returns for them. With a Log, the engine keeps them between ticks and
// reads only what the log holds since the last tick. The window is read
// again when it begins before what the engine keeps (the clock stepped
// back), and when the log holds more than the window (an import).
func (e *Engine) recent(ctx context.Context, dateFrom, dateTo kant.Date, from time.Time) ([]kant.Run, error) {
	if e.cfg.Log == nil {
		return e.cfg.Reader.LatestRuns(ctx, kant.RunFilter{DateFrom: dateFrom, DateTo: dateTo, From: from})
	}
	c := e.runs
	if c != nil && (dateFrom.Before(c.dateFrom) || from.Before(c.from)) {
		c = nil
	}
	if c != nil {
		caught, err := c.catchUp(ctx, e.cfg.Log)
		if err != nil {
			return nil, err
		}
		if !caught {
			c = nil
		}
	}
	if c == nil {
		e.runs = nil // kept only once read whole
		var err error
		if c, err = primeRuns(ctx, e.cfg.Log, e.cfg.Reader, dateFrom, from); err != nil {
			return nil, err
		}
		e.runs = c
	}
	return c.window(dateFrom, dateTo, from), nil
}

// results reads the verdicts Decide needs of the dates from..tomorrow: every
// one not met; of the jobs of alerts on those dates every one, since an
// incident resolves when its occurrence is met; and, when today's digest
// is due, every one of yesterday, which it summarizes. At 10,000 jobs that
// is a tenth of the window's 80,000 verdicts or less, and what Decide
// decides is the same as from all of them. They are ordered as the store
// orders them.
func (e *Engine) results(ctx context.Context, alerts []kant.Alert, from, today kant.Date, now time.Time) ([]kant.Result, error) {
	to := today.AddDays(1)
	out, err := e.cfg.Reader.Results(ctx, kant.ResultFilter{From: from, To: to, Unmet: true})
	if err != nil {
		return nil, err
	}
	var more []kant.ResultFilter
	var jobs []string
	for _, a := range alerts {
		if a.Job != "" && !a.Date.Before(from) && !a.Date.After(to) && !slices.Contains(jobs, string(a.Job)) {
			jobs = append(jobs, string(a.Job))
		}
	}
	if len(jobs) > 0 {
		more = append(more, kant.ResultFilter{From: from, To: to, Jobs: jobs})
	}
	loc := e.cfg.Policy.Location
	if digestDue(e.cfg.Policy, loc, now, func(id string) bool {
		return slices.ContainsFunc(alerts, func(a kant.Alert) bool { return a.ID == id })
	}) {
		y := kant.DateOf(now.In(loc)).AddDays(-1)
		more = append(more, kant.ResultFilter{From: y, To: y})
	}
	if len(more) == 0 {
		return out, nil
	}
	type key struct {
		slo string
		job kant.JobKey
		at  time.Time
	}
	seen := make(map[key]bool, len(out))
	for _, r := range out {
		seen[key{r.SLO, r.Job, r.ExpectedAt.UTC()}] = true
	}
	for _, f := range more {
		rs, err := e.cfg.Reader.Results(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if k := (key{r.SLO, r.Job, r.ExpectedAt.UTC()}); !seen[k] {
				seen[k] = true
				out = append(out, r)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b kant.Result) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.SLO, b.SLO), strings.Compare(string(a.Job), string(b.Job)),
			a.ExpectedAt.Compare(b.ExpectedAt))
	})
	return out, nil
}

func mergeAlerts(lists ...[]kant.Alert) []kant.Alert {
	seen := map[string]bool{}
	var out []kant.Alert
	for _, l := range lists {
		for _, a := range l {
			if !seen[a.ID] {
				seen[a.ID] = true
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, byCreation)
	return out
}

func byCreation(a, b kant.Alert) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
}

// Deliver brings the notifier up to date with the stored alerts, oldest
// first, one alert at a time, recording each step in the store as soon as
// the notifier accepted it. A retryable error stops the pass, keeping the
// order, and delivery resumes after the wait the receiver asked for (or
// Backoff) on a later call; an error a retry cannot fix is recorded on the
// alert (LastError), which is then given up, and delivery goes on.
func (e *Engine) Deliver(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.deliverAll(ctx, now)
}

func (e *Engine) deliverAll(ctx context.Context, now time.Time) error {
	all, err := e.cfg.Store.Alerts(ctx, kant.AlertFilter{UpdatedFrom: now.AddDate(0, 0, -e.cfg.Lookback)})
	if err != nil {
		return fmt.Errorf("alert read alerts: %w", err)
	}
	// A destination that failed in this pass (or is waiting from an earlier
	// one) gets nothing more in it, keeping its order; the others go on.
	blocked := map[string]bool{}
	for dest, at := range e.retryAt {
		blocked[dest] = now.Before(at)
	}
	for _, a := range all {
		if !a.Pending() {
			continue
		}
		for _, dest := range a.Targets() {
			if blocked[dest] || !a.PendingFor(dest) {
				continue
			}
			if dest == kant.DestinationSlack {
				err = e.deliver(ctx, now, &a)
			} else {
				err = e.send(ctx, now, &a, dest)
			}
			if err == nil {
				delete(e.failures, dest)
				continue
			}
			if errors.Is(err, errMayNotDeliver) {
				e.log.Warn("alert delivery stopped: this replica is no longer sure it leads", "alert", a.ID)
				return nil
			}
			if ok, wait := Retryable(err); ok {
				blocked[dest] = true
				e.failures[dest]++
				e.retryAt[dest] = now.Add(cmp.Or(wait, e.backoff(e.failures[dest])))
				e.log.Warn("alert delivery deferred", "alert", a.ID, "destination", dest, "retry_at", e.retryAt[dest], "err", err)
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
	return nil
}

// backoff is the wait after n retryable errors in a row: Backoff, doubled
// for each error after the first, at most MaxBackoff.
func (e *Engine) backoff(n int) time.Duration {
	d := e.cfg.Backoff
	for i := 1; i < n && d < e.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, e.cfg.MaxBackoff)
}

// deliver brings Slack up to date with a. It returns retryable errors and
// store errors; other notifier errors are recorded on the alert.
func (e *Engine) deliver(ctx context.Context, now time.Time, a *kant.Alert) error {
	put := func() error {
		a.UpdatedAt = now
		if err := e.cfg.Store.PutAlert(ctx, *a); err != nil {
			return fmt.Errorf("alert store %s: %w", a.ID, err)
		}
		return nil
	}
	send := func(f func(ctx context.Context) error) error {
		if e.cfg.MayDeliver != nil && !e.cfg.MayDeliver() {
			return errMayNotDeliver
		}
		ctx, cancel := context.WithTimeout(ctx, e.cfg.SendTimeout)
		defer cancel()
		err := f(ctx)
		if e.cfg.Metrics != nil {
			e.cfg.Metrics.AlertDelivered(ctx, a.Kind, err)
		}
		if err == nil {
			return nil
		}
		if ok, _ := Retryable(err); ok {
			return err
		}
		e.log.Error("alert delivery failed; giving up on this alert", "alert", a.ID, "destination", kant.DestinationSlack, "err", err)
		a.LastError = err.Error()
		a.Delivered, a.NotesSent, a.Posting = a.Revision, len(a.Notes), false
		if perr := put(); perr != nil {
			return perr
		}
		return errGivenUp
	}
	err := e.steps(ctx, now, a, send, put)
	if errors.Is(err, errGivenUp) {
		return nil
	}
	return err
}

var errGivenUp = errors.New("given up")

func (e *Engine) steps(ctx context.Context, now time.Time, a *kant.Alert, send func(func(context.Context) error) error, put func() error) error {
	msg := messageOf(*a)
	if a.SentAt.IsZero() && a.Posting {
		if err := e.find(ctx, now, a, put); err != nil {
			return err
		}
	}
	if a.SentAt.IsZero() {
		a.Posting = true
		if err := put(); err != nil {
			return err
		}
		var channel, ts string
		if err := send(func(ctx context.Context) (err error) {
			channel, ts, err = e.cfg.Notifier.Post(ctx, msg)
			return err
		}); err != nil {
			return err
		}
		a.SentAt, a.Posting = now, false
		if channel != "" {
			a.Channel = channel
		}
		a.MessageTS, a.Delivered, a.NotesSent, a.LastError = ts, a.Revision, len(a.Notes), ""
		return put()
	}
	if a.Delivered < a.Revision {
		if a.MessageTS != "" {
			if err := send(func(ctx context.Context) error {
				return e.cfg.Notifier.Update(ctx, a.Channel, a.MessageTS, msg)
			}); err != nil {
				return err
			}
		}
		a.Delivered = a.Revision
		if err := put(); err != nil {
			return err
		}
	}
	for a.NotesSent < len(a.Notes) {
		note := Message{AlertID: a.ID, Kind: a.Kind, Status: a.Status, Channel: a.Channel, Text: a.Notes[a.NotesSent], Reply: true}
		if err := send(func(ctx context.Context) error {
			if a.MessageTS == "" { // no threads: a follow-up post
				note.Fields, note.Links, note.Owner = msg.Fields, msg.Links, msg.Owner
				_, _, err := e.cfg.Notifier.Post(ctx, note)
				return err
			}
			return e.cfg.Notifier.Reply(ctx, a.Channel, a.MessageTS, note)
		}); err != nil {
			return err
		}
		a.NotesSent++
		if err := put(); err != nil {
			return err
		}
	}
	return nil
}

// find looks for the message of a post that was interrupted, and records it
// when found: the message is then updated to the current revision rather
// than posted again.
func (e *Engine) find(ctx context.Context, now time.Time, a *kant.Alert, put func() error) error {
	f, ok := e.cfg.Notifier.(Finder)
	if !ok {
		e.log.Warn("alert may have been posted before a restart; posting again", "alert", a.ID)
		return nil
	}
	fctx, cancel := context.WithTimeout(ctx, e.cfg.SendTimeout)
	channel, ts, err := f.Find(fctx, a.Channel, a.ID, a.UpdatedAt.Add(-5*time.Minute))
	cancel()
	if err != nil {
		if ok, _ := Retryable(err); ok {
			return err
		}
		// Searching is not possible (a missing scope, say): post again.
		e.log.Warn("alert may have been posted before a restart; cannot search, posting again", "alert", a.ID, "err", err)
		return nil
	}
	if ts == "" {
		e.log.Warn("alert may have been posted before a restart and cannot be found; posting again", "alert", a.ID)
		return nil
	}
	e.log.Info("alert post found after a restart; not posting again", "alert", a.ID)
	a.SentAt, a.Posting, a.MessageTS = now, false, ts
	if channel != "" {
		a.Channel = channel
	}
	// What the found message shows is unknown: update it to the current
	// revision. Notes from before the post are not replayed.
	a.Delivered, a.NotesSent = 0, len(a.Notes)
	return put()
}

func messageOf(a kant.Alert) Message {
	return Message{AlertID: a.ID, Kind: a.Kind, Status: a.Status, Channel: a.Channel, Text: a.Text,
		Owner: a.Owner, Fields: a.Fields, Links: a.Links}
}

// LogNotifier writes messages to a logger: the notifier when neither a Slack
// token nor a webhook is configured. It never fails and has no threads.
type LogNotifier struct{ log *slog.Logger }

// NewLogNotifier returns a LogNotifier writing to logger (nil: discard).
func NewLogNotifier(logger *slog.Logger) *LogNotifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &LogNotifier{log: logger.With("component", "alert")}
}

// Post logs m at warn level (an open incident) or info (anything else).
func (n *LogNotifier) Post(ctx context.Context, m Message) (string, string, error) {
	level := slog.LevelInfo
	if m.Status == kant.AlertOpen && !m.Reply {
		level = slog.LevelWarn
	}
	args := []any{"alert", m.AlertID, "kind", m.Kind, "status", m.Status, "channel", m.Channel}
	for _, f := range m.Fields {
		args = append(args, strings.ToLower(strings.ReplaceAll(f.Label, " ", "_")), f.Value)
	}
	n.log.Log(ctx, level, m.Text, args...)
	return "", "", nil
}

// Update is never called: Post returns no ts.
func (n *LogNotifier) Update(ctx context.Context, channel, ts string, m Message) error { return nil }

// Reply is never called: Post returns no ts.
func (n *LogNotifier) Reply(ctx context.Context, channel, ts string, m Message) error { return nil }
