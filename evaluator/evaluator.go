// Package evaluator keeps verdicts current: it loads runs from the store,
// judges them with package slo, and writes results and daily summaries back.
// It runs on a ticker inside `kant serve` (deadlines pass without any new
// run), once for `kant evaluate -once`, and immediately for the occurrences
// that newly stored runs touch. Pending occurrences are marked at risk from
// each job's recent successful durations, kept as runs are loaded
// (atrisk.go), and an evaluation is also made at each at-risk moment. It
// imports kant and slo; the storage backend is behind the Store interface declared here.
package evaluator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Store is what the evaluator reads and writes.
type Store interface {
	LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error)
	Jobs(ctx context.Context) ([]kant.JobInfo, error)
	WriteEvaluation(ctx context.Context, e kant.Evaluation) error
}

// DayReader is what a Store may also do: read back the days it holds. With
// it, an evaluation writes only the dates whose verdicts changed since this
// evaluator wrote them, and rewrites any date another process wrote since
// (its days then carry another evaluated_at); without it, every evaluation
// writes every date.
type DayReader interface {
	Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error)
}

// Metrics is told about every evaluation the evaluator writes: what it
// wrote (or tried to), how long loading, judging and writing took, and the
// error, if any. Calls come after the write, one at a time. telemetry's
// *Metrics is one.
type Metrics interface {
	Evaluated(ctx context.Context, e kant.Evaluation, took time.Duration, err error)
}

// Exporter is given every evaluation once the store holds it (the Cloud
// Logging export, the BigQuery tables kept beside another store): its
// results and days, and the range they replace. It is called from the
// evaluator's goroutine after a successful WriteEvaluation, must not block
// for long, and logs its own errors: an export never fails an evaluation.
type Exporter interface {
	ExportEvaluation(ctx context.Context, e kant.Evaluation)
}

// Config configures an Evaluator.
type Config struct {
	SLOs  []slo.Definition
	Store Store // required

	Interval  time.Duration // between evaluations of the recent window; default 30s
	Lookback  time.Duration // the recent window; default 7 days
	Retention time.Duration // the window evaluated at start; default 90 days

	// Log and State, when both are set, let an evaluation judge only the
	// dates that can have changed (see settled.go): Log is the store's log
	// of observations, State keeps the evaluator's checkpoint (by default
	// the Store, when it keeps checkpoints).
	Log   Log
	State State

	Metrics Metrics  // optional
	Export  Exporter // optional
	// Judged, when set, is signalled (without blocking) after each
	// evaluation Run makes: the alert engine's wake-up, so that a deadline
	// passing turns into a "missed" alert at once.
	Judged chan<- struct{}
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discards
}

// Evaluator evaluates SLOs against stored runs.
type Evaluator struct {
	cfg    Config
	logger *slog.Logger
	ready  atomic.Bool

	mu    sync.Mutex           // serializes evaluations and guards cache, written and durations
	cache map[string]*verdicts // per SLO: the results of the last periodic evaluation, at most its lookback window
	// durations are, per job, its recent successes, for the at-risk marks.
	durations *durations
	// written is, per SLO and date, a digest of the results and day last
	// written: an evaluation writes only the dates whose digest changed.
	written map[string]map[kant.Date]written
	// settled is what is known of the store's log: which dates are dirty
	// and where the next read of it begins.
	settled settledState
}

// written is what an evaluator last wrote of one SLO and date: a digest of
// the results and day (when known: a date settled from the store has none),
// the day's evaluated_at (zero without a day), and whether the date is
// settled (settles).
type written struct {
	digest  uint64
	known   bool
	settled bool
	at      time.Time
}

// verdicts are the results of one SLO over [from, to], by date, kept so that
// a new run is judged by re-evaluating its job alone. Only the dates in held
// are kept: a settled date that was not judged in this term is not.
type verdicts struct {
	from, to kant.Date
	byDate   map[kant.Date][]kant.Result
	held     map[kant.Date]bool
}

// New validates cfg and returns an Evaluator. It starts nothing.
func New(cfg Config) (*Evaluator, error) {
	if cfg.Store == nil {
		return nil, errors.New("evaluator: Store is required")
	}
	for _, d := range cfg.SLOs {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("evaluator: slo %q: %w", d.Name, err)
		}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 7 * 24 * time.Hour
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 90 * 24 * time.Hour
	}
	if cfg.Retention < cfg.Lookback {
		cfg.Retention = cfg.Lookback
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.State == nil {
		cfg.State, _ = cfg.Store.(State)
	}
	return &Evaluator{cfg: cfg, logger: cfg.Logger.With("component", "evaluator"), cache: map[string]*verdicts{},
		written: map[string]map[kant.Date]written{}, settled: settledState{dirty: map[string]map[kant.Date]bool{}}, durations: newDurations(cfg.SLOs)}, nil
}

// Ready reports nil once the first full evaluation has been written.
func (e *Evaluator) Ready() error {
	if !e.ready.Load() {
		return errors.New("first evaluation not finished")
	}
	return nil
}

// Run evaluates the retention window once, then the lookback window every
// Interval and at every deadline and SLA bound of its SLOs, until ctx is
// cancelled; it signals Judged after each. A failed evaluation is logged and retried
// at the next tick.
func (e *Evaluator) Run(ctx context.Context) error {
	// A new term: what Observe was told while another replica led is not
	// all there is, so the settled dates are read again from the store.
	e.restart()
	if err := e.Evaluate(ctx, e.cfg.Now(), e.cfg.Retention); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		e.logger.Error("evaluation failed", "err", err)
	} else {
		e.ready.Store(true)
	}
	e.judged()
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	// Besides the ticker, an evaluation at the next deadline or SLA bound
	// of any SLO: a verdict that turns by the clock alone turns then.
	change := time.NewTimer(time.Hour)
	defer change.Stop()
	for {
		change.Reset(e.untilNextChange(e.cfg.Now()))
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-change.C:
		}
		window := e.cfg.Lookback
		if !e.ready.Load() {
			window = e.cfg.Retention
		}
		if err := e.Evaluate(ctx, e.cfg.Now(), window); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			e.logger.Error("evaluation failed", "err", err)
			continue
		}
		e.ready.Store(true)
		e.judged()
		// Once, after the first tick of a term that resumed: not at the
		// start, where it would compete with the gate's rebuild and the
		// first evaluation for the CPU.
		e.refillDurations(ctx, e.cfg.Now())
	}
}

// judged signals Config.Judged, if set, without blocking.
func (e *Evaluator) judged() {
	if e.cfg.Judged == nil {
		return
	}
	select {
	case e.cfg.Judged <- struct{}{}:
	default:
	}
}

// untilNextChange is how long from now until the first deadline, SLA
// bound or at-risk moment of any SLO (a millisecond past it, so that now
// is past it when the timer fires); an hour when none is near.
func (e *Evaluator) untilNextChange(now time.Time) time.Duration {
	wait := time.Hour
	for _, d := range e.cfg.SLOs {
		if next, ok := slo.NextChange(d, now); ok {
			wait = min(wait, next.Sub(now)+time.Millisecond)
		}
	}
	if next, ok := e.nextAtRisk(now); ok {
		wait = min(wait, next.Sub(now)+time.Millisecond)
	}
	return max(wait, time.Millisecond)
}

// Evaluate judges every SLO as of now over the occurrence dates from
// (today − window) to tomorrow, in each SLO's zone, and writes the outcome.
// Only the dates that are not settled are loaded and judged, and the dirty
// ones outside the window too (see settled.go).
func (e *Evaluator) Evaluate(ctx context.Context, now time.Time, window time.Duration) error {
	e.mu.Lock()
	jobs, cursor, err := e.catchUp(ctx, now)
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	days := int(window / (24 * time.Hour))
	stored, err := e.storedDays(ctx, now, days)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	var errs []error
	for _, def := range e.cfg.SLOs {
		today := kant.DateOf(now.In(def.Location))
		if err := e.evaluate(ctx, def, jobs, today.AddDays(-days), today.AddDays(1), now, true, stored); err != nil {
			errs = append(errs, err)
			continue
		}
		e.mu.Lock()
		e.cover(def, today.AddDays(-days))
		e.mu.Unlock()
	}
	if len(errs) == 0 {
		e.mu.Lock()
		e.saved(ctx, cursor, now)
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// storedDays reads, in one query, when the evaluator wrote before, when
// the store's days of every SLO over the window of days before today
// through tomorrow were evaluated (see writeChanged); nil when there is
// nothing to compare with.
func (e *Evaluator) storedDays(ctx context.Context, now time.Time, days int) (map[string]map[kant.Date]time.Time, error) {
	dr, ok := e.cfg.Store.(DayReader)
	e.mu.Lock()
	wrote := len(e.written) > 0
	e.mu.Unlock()
	if !ok || !wrote || len(e.cfg.SLOs) == 0 {
		return nil, nil
	}
	var from, to kant.Date
	for i, def := range e.cfg.SLOs {
		today := kant.DateOf(now.In(def.Location))
		if i == 0 || today.AddDays(-days).Before(from) {
			from = today.AddDays(-days)
		}
		if i == 0 || today.AddDays(1).After(to) {
			to = today.AddDays(1)
		}
	}
	held, err := dr.Days(ctx, kant.ResultFilter{From: from, To: to})
	if err != nil {
		return nil, fmt.Errorf("read back days: %w", err)
	}
	out := map[string]map[kant.Date]time.Time{}
	for _, d := range held {
		if out[d.SLO] == nil {
			out[d.SLO] = map[kant.Date]time.Time{}
		}
		out[d.SLO][d.Date] = d.EvaluatedAt
	}
	return out, nil
}

// Observe re-evaluates, at once, the occurrences that newly stored runs may
// change. A job whose dates lie in the window of the last periodic
// evaluation is re-evaluated alone, and its days re-summarized from the kept
// results of the other jobs; anything else (a backfill of older dates)
// re-evaluates the whole SLO on the dates touched, one contiguous range at a
// time. It implements collector.Observer; errors are logged.
func (e *Evaluator) Observe(ctx context.Context, runs []kant.Run) {
	for _, def := range e.cfg.SLOs {
		touched := map[kant.JobKey]dateRange{}
		var dates []kant.Date
		for _, r := range runs {
			if !def.Selects(r.Job) {
				continue
			}
			d, _, ok := def.Attribute(r)
			if !ok {
				continue
			}
			touched[r.Job] = touched[r.Job].add(d)
			dates = append(dates, d)
		}
		if len(touched) == 0 {
			continue
		}
		if err := e.observe(ctx, def, touched, dates); err != nil {
			e.logger.Error("evaluation after ingest failed", "slo", def.Name, "err", err)
		}
	}
}

// dateRange is an inclusive range of dates; the zero value is empty.
type dateRange struct{ from, to kant.Date }

func (r dateRange) add(d kant.Date) dateRange {
	if r.from.IsZero() || d.Before(r.from) {
		r.from = d
	}
	if r.to.IsZero() || d.After(r.to) {
		r.to = d
	}
	return r
}

// ranges returns the distinct dates as contiguous ranges, in order.
func ranges(dates []kant.Date) []dateRange {
	slices.SortFunc(dates, kant.Date.Compare)
	dates = slices.Compact(dates)
	var out []dateRange
	for _, d := range dates {
		if n := len(out); n > 0 && out[n-1].to.AddDays(1) == d {
			out[n-1].to = d
			continue
		}
		out = append(out, dateRange{d, d})
	}
	return out
}

func (e *Evaluator) observe(ctx context.Context, def slo.Definition, touched map[kant.JobKey]dateRange, dates []kant.Date) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now() // under the lock: no evaluation with an older clock writes after one with a newer
	// Until judged and written, the dates are dirty: a failure here leaves
	// them to the next evaluation.
	dirty := e.dirtyOf(def.Name)
	for _, d := range dates {
		dirty[d] = true
	}
	if c := e.cache[def.Name]; c != nil && c.covers(dates) {
		for job, r := range touched {
			if err := e.evaluateJobLocked(ctx, def, c, job, r, now); err != nil {
				return err
			}
		}
		for _, d := range dates {
			delete(dirty, d)
		}
		return nil
	}
	all, err := e.jobs(ctx)
	if err != nil {
		return err
	}
	for _, r := range ranges(dates) {
		if err := e.evaluateLocked(ctx, def, all, r.from, r.to, now, false, nil); err != nil {
			return err
		}
	}
	return nil
}

// covers reports whether every date is in the kept window and held.
func (v *verdicts) covers(dates []kant.Date) bool {
	for _, d := range dates {
		if d.Before(v.from) || d.After(v.to) || !v.held[d] {
			return false
		}
	}
	return true
}

// evaluateJobLocked re-evaluates one job of def over r, which lies in the
// kept window c, and rewrites its results and the summaries of those days.
func (e *Evaluator) evaluateJobLocked(ctx context.Context, def slo.Definition, c *verdicts, job kant.JobKey, r dateRange, now time.Time) error {
	began := e.cfg.Now()
	start, end := def.RunWindow(r.from, r.to)
	loaded, err := e.cfg.Store.LatestRuns(ctx, kant.RunFilter{
		Jobs: []string{string(job)}, DateFrom: r.from, DateTo: r.to, From: start, To: end,
	})
	if err != nil {
		return fmt.Errorf("evaluate %s %s: load runs: %w", def.Name, job, err)
	}
	// The job has runs on these dates, so it is judged on all of them.
	results, _ := slo.Evaluate(def, []slo.Job{{Key: job}}, loaded, r.from, r.to, now)
	e.markAtRisk(def, results, loaded, now)
	byDate := map[kant.Date][]kant.Result{}
	for _, res := range results {
		byDate[res.Date] = append(byDate[res.Date], res)
	}
	var days []kant.Day
	merged := map[kant.Date][]kant.Result{}
	for d := r.from; !d.After(r.to); d = d.AddDays(1) {
		m := make([]kant.Result, 0, len(c.byDate[d])+len(byDate[d]))
		for _, res := range c.byDate[d] {
			if res.Job != job {
				m = append(m, res)
			}
		}
		m = append(m, byDate[d]...)
		merged[d] = m
		if len(m) > 0 {
			days = append(days, slo.DayOf(def.Name, d, m, now))
		}
	}
	if err := e.write(ctx, kant.Evaluation{
		SLO: def.Name, From: r.from, To: r.to, Jobs: []kant.JobKey{job}, Results: results, Days: days,
	}, began); err != nil {
		return fmt.Errorf("evaluate %s %s: write: %w", def.Name, job, err)
	}
	maps.Copy(c.byDate, merged)
	dayOf := map[kant.Date]*kant.Day{}
	for i := range days {
		dayOf[days[i].Date] = &days[i]
	}
	w := e.writtenOf(def.Name)
	for d, m := range merged {
		w[d] = e.written1(def, d, m, dayOf[d], now)
	}
	return nil
}

// evaluate judges one SLO over [from, to] as of now and writes the outcome.
func (e *Evaluator) evaluate(ctx context.Context, def slo.Definition, all []kant.JobInfo, from, to kant.Date, now time.Time, periodic bool, stored map[string]map[kant.Date]time.Time) error {
	// Loading, judging and writing happen under one lock, so an evaluation
	// that read older runs can never overwrite one that read newer runs.
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.evaluateLocked(ctx, def, all, from, to, now, periodic, stored)
}

// evaluateLocked is evaluate with e.mu held: it judges the dates of
// [from, to] that are not settled or are dirty (and, periodic, the dirty
// dates outside it), one contiguous range at a time, and writes what
// changed. A periodic evaluation becomes the kept window of verdicts; any
// other updates the dates of it it covers. stored, when not nil, is what
// storedDays read before (else writeChanged reads it).
func (e *Evaluator) evaluateLocked(ctx context.Context, def slo.Definition, all []kant.JobInfo, from, to kant.Date, now time.Time, periodic bool, stored map[string]map[kant.Date]time.Time) error {
	began := e.cfg.Now()
	jobs := Jobs(def, all, now)
	judged := map[kant.Date][]kant.Result{}
	held := map[kant.Date]bool{}
	occurrences, judgedDays := 0, 0
	for _, r := range e.toJudge(def, from, to, now, periodic) {
		runs, err := e.load(ctx, def, r.from, r.to)
		if err != nil {
			return err
		}
		results, days := slo.Evaluate(def, jobs, runs, r.from, r.to, now)
		e.markAtRisk(def, results, runs, now)
		byDate := map[kant.Date][]kant.Result{}
		for _, res := range results {
			byDate[res.Date] = append(byDate[res.Date], res)
		}
		if err := e.writeChanged(ctx, def, kant.Evaluation{
			SLO: def.Name, From: r.from, To: r.to, Results: results, Days: days,
		}, byDate, began, now, stored); err != nil {
			return fmt.Errorf("evaluate %s: write: %w", def.Name, err)
		}
		e.judgedRange(def, r)
		for d := r.from; !d.After(r.to); d = d.AddDays(1) {
			judged[d], held[d] = byDate[d], true
		}
		occurrences, judgedDays = occurrences+len(results), judgedDays+len(days)
	}
	c := e.cache[def.Name]
	switch {
	case periodic:
		// Only the lookback window is kept: a run for an older date is a
		// backfill, which re-evaluates the whole SLO on its dates. Of the
		// dates not judged now, those kept before and settled since are
		// kept on.
		keep := to.AddDays(-1 - int(e.cfg.Lookback/(24*time.Hour)))
		if keep.Before(from) {
			keep = from
		}
		next := &verdicts{from: keep, to: to, byDate: map[kant.Date][]kant.Result{}, held: map[kant.Date]bool{}}
		w := e.written[def.Name]
		for d := keep; !d.After(to); d = d.AddDays(1) {
			switch {
			case held[d]:
				next.byDate[d], next.held[d] = judged[d], true
			case c != nil && c.held[d] && w[d].settled:
				next.byDate[d], next.held[d] = c.byDate[d], true
			}
			if len(next.byDate[d]) == 0 {
				delete(next.byDate, d)
			}
		}
		e.cache[def.Name] = next
	case c != nil:
		for d := range held {
			if !d.Before(c.from) && !d.After(c.to) {
				c.byDate[d], c.held[d] = judged[d], true
			}
		}
	}
	e.logger.Debug("evaluated", "slo", def.Name, "from", from.String(), "to", to.String(),
		"judged_dates", len(held), "occurrences", occurrences, "days", judgedDays)
	return nil
}

// judge loads the runs of def's occurrences dated from..to and judges them
// as of now. It writes nothing.
// It marks nothing at risk: that needs the kept durations (see markAtRisk),
// and the dates it judges on demand are long past.
func (e *Evaluator) judge(ctx context.Context, def slo.Definition, all []kant.JobInfo, from, to kant.Date, now time.Time) ([]kant.Result, []kant.Day, error) {
	runs, err := e.load(ctx, def, from, to)
	if err != nil {
		return nil, nil, err
	}
	results, days := slo.Evaluate(def, Jobs(def, all, now), runs, from, to, now)
	return results, days, nil
}

// load reads the runs of def's occurrences dated from..to.
func (e *Evaluator) load(ctx context.Context, def slo.Definition, from, to kant.Date) ([]kant.Run, error) {
	start, end := def.RunWindow(from, to)
	runs, err := e.cfg.Store.LatestRuns(ctx, kant.RunFilter{
		Jobs: def.Jobs, DateFrom: from, DateTo: to, From: start, To: end,
	})
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: load runs: %w", def.Name, err)
	}
	return runs, nil
}

// writeChanged writes of ev only the dates whose results or day differ from
// what this evaluator last wrote, as one evaluation per contiguous range of
// them; byDate is ev's results by date; pre, when not nil, is what the
// store held of every SLO's days when the evaluation began (storedDays).
// Metrics is told of ev whole.
func (e *Evaluator) writeChanged(ctx context.Context, def slo.Definition, ev kant.Evaluation, byDate map[kant.Date][]kant.Result, began, now time.Time, pre map[string]map[kant.Date]time.Time) error {
	dayOf := map[kant.Date]*kant.Day{}
	for i := range ev.Days {
		dayOf[ev.Days[i].Date] = &ev.Days[i]
	}
	w := e.writtenOf(ev.SLO)
	// What the store holds now: a date another process wrote is written again.
	var stored map[kant.Date]time.Time
	if dr, ok := e.cfg.Store.(DayReader); ok && len(w) > 0 && pre != nil {
		if stored = pre[ev.SLO]; stored == nil {
			stored = map[kant.Date]time.Time{}
		}
	} else if ok && len(w) > 0 {
		held, err := dr.Days(ctx, kant.ResultFilter{SLO: ev.SLO, From: ev.From, To: ev.To})
		if err != nil {
			return fmt.Errorf("read back days: %w", err)
		}
		stored = make(map[kant.Date]time.Time, len(held))
		for _, d := range held {
			stored[d.Date] = d.EvaluatedAt
		}
	}
	digests := map[kant.Date]written{}
	var changed []kant.Date
	for d := ev.From; !d.After(ev.To); d = d.AddDays(1) {
		h := e.written1(def, d, byDate[d], dayOf[d], now)
		digests[d] = h
		old, ok := w[d]
		if !ok || !old.known || stored == nil || old.digest != h.digest || !sameInstant(old.at, stored[d]) {
			changed = append(changed, d)
		} else {
			w[d] = written{digest: old.digest, known: true, settled: h.settled, at: old.at}
		}
	}
	if len(changed) == 0 {
		if e.cfg.Metrics != nil {
			e.cfg.Metrics.Evaluated(ctx, ev, e.cfg.Now().Sub(began), nil)
		}
		return nil
	}
	if len(changed) == len(digests) {
		if err := e.write(ctx, ev, began); err != nil {
			return err
		}
		maps.Copy(w, digests)
		return nil
	}
	for _, r := range ranges(changed) {
		part := kant.Evaluation{SLO: ev.SLO, From: r.from, To: r.to}
		for d := r.from; !d.After(r.to); d = d.AddDays(1) {
			part.Results = append(part.Results, byDate[d]...)
			if day := dayOf[d]; day != nil {
				part.Days = append(part.Days, *day)
			}
		}
		// Metrics is told once, of the whole evaluation, below.
		if err := e.cfg.Store.WriteEvaluation(ctx, part); err != nil {
			if e.cfg.Metrics != nil {
				e.cfg.Metrics.Evaluated(ctx, part, e.cfg.Now().Sub(began), err)
			}
			return err
		}
		if e.cfg.Export != nil {
			e.cfg.Export.ExportEvaluation(ctx, part)
		}
		for d := r.from; !d.After(r.to); d = d.AddDays(1) {
			w[d] = digests[d]
		}
	}
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.Evaluated(ctx, ev, e.cfg.Now().Sub(began), nil)
	}
	return nil
}

// writtenOf returns the digests written of slo, creating the map; dates that
// fell out of the retention window are dropped from it.
func (e *Evaluator) writtenOf(name string) map[kant.Date]written {
	w := e.written[name]
	if w == nil {
		w = map[kant.Date]written{}
		e.written[name] = w
	}
	if len(w) > 2*int(e.cfg.Retention/(24*time.Hour))+8 {
		oldest := kant.DateOf(e.cfg.Now().UTC()).AddDays(-int(e.cfg.Retention/(24*time.Hour)) - 2)
		for d := range w {
			if d.Before(oldest) {
				delete(w, d)
			}
		}
	}
	return w
}

// written1 is what writing results and day (nil: none) of date d of def,
// judged as of now, leaves.
func (e *Evaluator) written1(def slo.Definition, d kant.Date, results []kant.Result, day *kant.Day, now time.Time) written {
	w := written{digest: e.digest(results, day), known: true, settled: e.tracks() && settles(def, d, day, now)}
	if day != nil {
		w.at = day.EvaluatedAt
	}
	return w
}

// sameInstant compares times as stores keep them: to the millisecond.
func sameInstant(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

// digest is a hash of the results of one date and its day (nil: none),
// but for when they were evaluated, in any order of the results: equal
// digests mean the store would be rewritten with what it holds. It is the
// same in every process (FNV-1a), so that a checkpoint can carry it.
func (e *Evaluator) digest(results []kant.Result, day *kant.Day) uint64 {
	var sum uint64
	h := fnv.New64a()
	for _, r := range results {
		h.Reset()
		r.EvaluatedAt = time.Time{}
		fmt.Fprintf(h, "%s|%s|%s|%d|%d|%d|%s|%s|%d|%d|%d", r.SLO, r.Job, r.Date,
			r.ExpectedAt.UnixNano(), r.Deadline.UnixNano(), r.RecoverBy.UnixNano(),
			r.Verdict, r.Reason, r.SucceededAt.UnixNano(), r.Lateness, r.Runs)
		sum += h.Sum64()
	}
	h.Reset()
	if day != nil {
		d := *day
		d.EvaluatedAt = time.Time{}
		fmt.Fprintf(h, "%+v", d)
	}
	return sum ^ h.Sum64()*0x9e3779b97f4a7c15 ^ uint64(len(results))
}

// write stores ev, tells Metrics (with the time since began) and, once it
// is stored, gives it to Export.
func (e *Evaluator) write(ctx context.Context, ev kant.Evaluation, began time.Time) error {
	err := e.cfg.Store.WriteEvaluation(ctx, ev)
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.Evaluated(ctx, ev, e.cfg.Now().Sub(began), err)
	}
	if err == nil && e.cfg.Export != nil {
		e.cfg.Export.ExportEvaluation(ctx, ev)
	}
	return err
}

// Jobs returns the jobs def judges and the first date each can have an
// occurrence: jobs seen in the store that match its patterns, from the first
// date they were seen (by logical date, or the occurrence their earliest run
// is attributed to); and jobs the SLO
// names literally but that were never seen, from the date of the earliest
// observation in the store (or today when it is empty), so that a job whose
// trigger never fired is judged "not started" rather than ignored.
func Jobs(def slo.Definition, all []kant.JobInfo, now time.Time) []slo.Job {
	var out []slo.Job
	seen := map[kant.JobKey]bool{}
	earliest := kant.DateOf(now.In(def.Location))
	for _, j := range all {
		// The first run counts for the occurrence it is attributed to, which
		// may be dated the day before it ran (a 23:00 tick, a run at 00:30).
		since := kant.DateOf(j.FirstAt.In(def.Location))
		if d, _, ok := def.Attribute(kant.Run{StartedAt: j.FirstAt}); ok && d.Before(since) {
			since = d
		}
		if !j.FirstDate.IsZero() && j.FirstDate.Before(since) {
			since = j.FirstDate
		}
		if since.Before(earliest) {
			earliest = since
		}
		if kant.MatchAny(def.Jobs, j.Key) {
			out = append(out, slo.Job{Key: j.Key, Since: since})
			seen[j.Key] = true
		}
	}
	for _, p := range def.Jobs {
		k := kant.JobKey(p)
		if !kant.IsGlob(p) && !seen[k] {
			out = append(out, slo.Job{Key: k, Since: earliest})
			seen[k] = true
		}
	}
	return out
}
