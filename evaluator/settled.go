package evaluator

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// A date is settled for an SLO when its day is final (every occurrence met
// or past its SLA bound: time alone changes nothing more) and no
// observation stored since it was judged can change it. An evaluation
// judges only the dates that are not settled, so that a platform with 90
// days of history reloads and rewrites today and tomorrow, not the 88 days
// before them. What can unsettle a date is an observation: the evaluator
// reads the store's log of observations (Log) from where its last
// evaluation began, and every date an observation is attributed to is
// judged again, and with it every later date of a job whose first date
// moved. Observations pass through Observe too, at once; the log is what
// makes it exact whatever Observe was told, whichever process stored them
// and across restarts. Across restarts the evaluator keeps a checkpoint in
// the store (State): the log cursor its last complete evaluation began at
// and each SLO's definition (slo.Definition.Fingerprint). A new term (Run)
// or process starts from it: the final days the store holds under an
// unchanged definition are settled, the observations after the cursor are
// replayed, and everything else is judged. Without a Log or a State (the
// BigQuery store), every evaluation judges its whole window, as before.

// Log is the store's log of observations (store.Follower): every
// observation any process stored, read after a cursor.
type Log interface {
	ObservationsAfter(ctx context.Context, cursor string, limit int) ([]kant.Run, string, error)
}

// State keeps the evaluator's checkpoint (the store's checkpoints).
type State interface {
	Checkpoint(ctx context.Context, source, key string) (string, error)
	SetCheckpoint(ctx context.Context, source, key, value string) error
}

// checkpointSource and checkpointKey name the evaluator's checkpoint.
const checkpointSource, checkpointKey = "kant-evaluator", "settled"

// stateVersion changes when judging changes in a way that makes stored
// verdicts stale: a checkpoint of another version settles nothing.
const stateVersion = 1

// saveEvery is how often at most the checkpoint is written after the
// evaluations that follow the first: a restart replays at most that much of
// the log besides what was stored while it was down.
const saveEvery = time.Minute

// logBatch is how many observations one read of the log returns.
const logBatch = 5000

// checkpoint is what the evaluator keeps in the store.
type checkpoint struct {
	Version int       `json:"version"`
	Cursor  string    `json:"cursor"` // the log cursor the evaluation began at
	At      time.Time `json:"at"`     // the evaluation's now
	// SLOs are, by name, the definitions it judged by and the dates it
	// covered.
	SLOs map[string]sloCheckpoint `json:"slos"`
}

// sloCheckpoint is what the checkpoint says of one SLO: the fingerprint of
// its definition, and the first date judged under it: every date from it
// on was judged, so a date from it on that has no day has no occurrence.
type sloCheckpoint struct {
	Fingerprint string    `json:"fingerprint"`
	From        kant.Date `json:"from"`
	// Written are the dates not settled and what the evaluator last wrote
	// of them: a new term that finds the store still holding it (the day
	// evaluated at the same instant) does not write it again.
	Written []writtenDate `json:"written,omitempty"`
}

// writtenDate is what an evaluator wrote of one date: the digest of its
// results and day, and the day's evaluated_at.
type writtenDate struct {
	Date   kant.Date `json:"date"`
	Digest uint64    `json:"digest"`
	At     time.Time `json:"at"`
}

// settledState is what the evaluator knows of the store's log, under e.mu.
type settledState struct {
	// started is set once the checkpoint was read in this term.
	started bool
	// cursor is where the next read of the log begins ("" with no Log).
	cursor  string
	savedAt time.Time
	// dirty are, per SLO, the dates an evaluation must judge whatever its
	// window: observations touched them, or judging them failed.
	dirty map[string]map[kant.Date]bool
	// covered is, per SLO, the first date judged under its definition
	// (sloCheckpoint.From).
	covered map[string]kant.Date
	// resumed is set when the term began from a checkpoint: dates were
	// settled from the store rather than judged, and the at-risk durations
	// are refilled once (refillDurations).
	resumed bool
}

// restart forgets everything known of the log: the next evaluation reads
// the checkpoint again. Run calls it at the start of every term, since a
// replica that did not lead was told nothing by Observe.
func (e *Evaluator) restart() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settled.started = false
}

// catchUp brings the settled dates up to date with the log before an
// evaluation: it reads the log to its end, marks dirty what the
// observations there touch, and returns the jobs in the store (read after
// the log, so that they include every job of the observations before the
// cursor) and the cursor the evaluation begins at, which its checkpoint
// records once it succeeded. Called with e.mu held.
func (e *Evaluator) catchUp(ctx context.Context, now time.Time) ([]kant.JobInfo, string, error) {
	s := &e.settled
	if !e.tracks() {
		// Nothing tells what changed: no date settles, and every date in
		// the window is judged.
		all, err := e.jobs(ctx)
		return all, "", err
	}
	if !s.started {
		cursor, err := e.resume(ctx, now)
		if err != nil {
			return nil, "", err
		}
		s.cursor, s.started, s.savedAt = cursor, true, time.Time{}
	}
	// earliest is, per job of the observations read, the earliest
	// Run.At() and logical date among them: a job whose first observation
	// is among them may be judged on other dates than before.
	type firsts struct {
		at   time.Time
		date kant.Date
	}
	earliest := map[kant.JobKey]firsts{}
	cursor := s.cursor
	for {
		runs, next, err := e.cfg.Log.ObservationsAfter(ctx, cursor, logBatch)
		if err != nil {
			return nil, "", fmt.Errorf("read the log of observations: %w", err)
		}
		cursor = next
		for _, r := range runs {
			selected := false
			for _, def := range e.cfg.SLOs {
				if !def.Selects(r.Job) {
					continue
				}
				selected = true
				if d, _, ok := def.Attribute(r); ok {
					e.dirtyOf(def.Name)[d] = true
				}
			}
			if !selected {
				continue
			}
			f, seen := earliest[r.Job]
			if at := r.At(); !seen || at.Before(f.at) {
				f.at = at
			}
			if !r.LogicalDate.IsZero() && (f.date.IsZero() || r.LogicalDate.Before(f.date)) {
				f.date = r.LogicalDate
			}
			earliest[r.Job] = f
		}
		if len(runs) < logBatch {
			break
		}
	}
	all, err := e.jobs(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, j := range all {
		f, ok := earliest[j.Key]
		if !ok || (!f.at.Equal(j.FirstAt) && (f.date.IsZero() || f.date != j.FirstDate)) {
			continue
		}
		// Its first date may have moved: every date from it on is judged.
		for _, def := range e.cfg.SLOs {
			if !def.Selects(j.Key) {
				continue
			}
			dirty := e.dirtyOf(def.Name)
			tomorrow := kant.DateOf(now.In(def.Location)).AddDays(1)
			for d := Jobs(def, []kant.JobInfo{j}, now)[0].Since; !d.After(tomorrow); d = d.AddDays(1) {
				dirty[d] = true
			}
		}
	}
	return all, cursor, nil
}

// jobs lists the jobs in the store.
func (e *Evaluator) jobs(ctx context.Context) ([]kant.JobInfo, error) {
	all, err := e.cfg.Store.Jobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return all, nil
}

// tracks reports whether the evaluator follows the store's log, and so
// settles dates.
func (e *Evaluator) tracks() bool { return e.cfg.Log != nil && e.cfg.State != nil }

// dirtyOf returns the dirty dates of slo, creating the set.
func (e *Evaluator) dirtyOf(name string) map[kant.Date]bool {
	d := e.settled.dirty[name]
	if d == nil {
		d = map[kant.Date]bool{}
		e.settled.dirty[name] = d
	}
	return d
}

// resume reads the checkpoint and settles the final days the store holds
// of every SLO whose definition it judged by, and returns the cursor to
// replay the log from. Without a usable checkpoint nothing is settled and
// the cursor is the log's end: the evaluation that follows judges every
// date, reading everything stored before it. Called with e.mu held.
func (e *Evaluator) resume(ctx context.Context, now time.Time) (string, error) {
	// Nothing kept from an earlier term is trusted: Observe was not told
	// what was stored while another replica led.
	clear(e.written)
	clear(e.cache)
	clear(e.settled.dirty)
	e.settled.covered = map[string]kant.Date{}
	e.settled.resumed = false
	// The log's end is taken before the checkpoint is read: anything
	// stored after it is replayed whichever way this goes.
	_, end, err := e.cfg.Log.ObservationsAfter(ctx, "", 0)
	if err != nil {
		return "", fmt.Errorf("read the log of observations: %w", err)
	}
	raw, err := e.cfg.State.Checkpoint(ctx, checkpointSource, checkpointKey)
	if err != nil {
		return "", fmt.Errorf("read the evaluator's checkpoint: %w", err)
	}
	var cp checkpoint
	if raw == "" {
		return end, nil
	}
	if err := json.Unmarshal([]byte(raw), &cp); err != nil || cp.Version != stateVersion || cp.Cursor == "" {
		e.logger.Info("evaluator checkpoint not usable: judging every date", "version", cp.Version, "err", err)
		return end, nil
	}
	retention := int(e.cfg.Retention / (24 * time.Hour))
	for _, def := range e.cfg.SLOs {
		st, ok := cp.SLOs[def.Name]
		if !ok || st.Fingerprint != def.Fingerprint() || st.From.IsZero() {
			continue // a new or changed SLO is judged on every date
		}
		e.settled.covered[def.Name] = st.From
		today := kant.DateOf(now.In(def.Location))
		// A date with no day was judged to have no occurrence when the
		// checkpoint's evaluation covered it and it was already past then.
		emptyBefore := kant.DateOf(cp.At.In(def.Location)).AddDays(-1)
		from := today.AddDays(-retention)
		if from.Before(st.From) {
			from = st.From // the dates before were never judged under it
		}
		days, err := e.days(ctx, def.Name, from, today.AddDays(1))
		if err != nil {
			return "", err
		}
		w := e.writtenOf(def.Name)
		held := map[kant.Date]*kant.Day{}
		for i := range days {
			held[days[i].Date] = &days[i]
		}
		var restored []kant.Day
		for d := from; d.Before(emptyBefore); d = d.AddDays(1) {
			day := held[d]
			if day != nil && !day.Final {
				continue
			}
			w[d] = written{settled: true, at: dayAt(day)}
			if day != nil && !d.Before(today.AddDays(-int(e.cfg.Lookback/(24*time.Hour)))) {
				restored = append(restored, *day)
			}
		}
		for d, day := range held {
			if day.Final && !d.Before(emptyBefore) && !d.Before(from) {
				w[d] = written{settled: true, at: day.EvaluatedAt}
			}
		}
		for _, wd := range st.Written {
			if !w[wd.Date].settled && !wd.Date.Before(from) {
				w[wd.Date] = written{digest: wd.Digest, known: true, at: wd.At}
			}
		}
		if r, ok := e.cfg.Metrics.(Restorer); ok && len(restored) > 0 {
			r.Restored(ctx, def.Name, restored)
		}
		e.settled.resumed = true
	}
	return cp.Cursor, nil
}

// Restorer is what Metrics may also do: take the final days of the
// lookback window that a new term settled from the store instead of
// judging them, so that gauges over the window count them.
type Restorer interface {
	Restored(ctx context.Context, slo string, days []kant.Day)
}

func dayAt(d *kant.Day) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.EvaluatedAt
}

// days reads the stored days of slo over [from, to].
func (e *Evaluator) days(ctx context.Context, name string, from, to kant.Date) ([]kant.Day, error) {
	dr, ok := e.cfg.Store.(DayReader)
	if !ok {
		return nil, nil
	}
	days, err := dr.Days(ctx, kant.ResultFilter{SLO: name, From: from, To: to})
	if err != nil {
		return nil, fmt.Errorf("read the days of %s: %w", name, err)
	}
	return days, nil
}

// cover records that an evaluation of def judged every date from from on.
// Called with e.mu held.
func (e *Evaluator) cover(def slo.Definition, from kant.Date) {
	if e.settled.covered == nil {
		e.settled.covered = map[string]kant.Date{}
	}
	if c, ok := e.settled.covered[def.Name]; !ok || from.Before(c) {
		e.settled.covered[def.Name] = from
	}
}

// saved records, after an evaluation that began at cursor succeeded for
// every SLO, that everything before cursor is judged: the next reads of
// the log begin there, and the checkpoint says so when saveEvery has
// passed since it last did (at once after a term's first evaluation).
// Called with e.mu held.
func (e *Evaluator) saved(ctx context.Context, cursor string, now time.Time) {
	s := &e.settled
	if !e.tracks() {
		return
	}
	s.cursor = cursor
	if !s.savedAt.IsZero() && now.Sub(s.savedAt) < saveEvery {
		return
	}
	cp := checkpoint{Version: stateVersion, Cursor: cursor, At: now.UTC(), SLOs: map[string]sloCheckpoint{}}
	for _, def := range e.cfg.SLOs {
		st := sloCheckpoint{Fingerprint: def.Fingerprint(), From: s.covered[def.Name]}
		for d, w := range e.written[def.Name] {
			if w.known && !w.settled {
				st.Written = append(st.Written, writtenDate{Date: d, Digest: w.digest, At: w.at.UTC()})
			}
		}
		slices.SortFunc(st.Written, func(a, b writtenDate) int { return a.Date.Compare(b.Date) })
		cp.SLOs[def.Name] = st
	}
	raw, err := json.Marshal(cp)
	if err == nil {
		err = e.cfg.State.SetCheckpoint(ctx, checkpointSource, checkpointKey, string(raw))
	}
	if err != nil {
		// Not fatal: the next start replays more of the log, or judges
		// every date.
		e.logger.Warn("could not save the evaluator's checkpoint", "err", err)
		return
	}
	s.savedAt = now
}

// toJudge returns the dates of def in [from, to] that are not settled or
// are dirty, and, when all is set, the dirty dates outside it still within
// the retention window, as contiguous ranges in order. Called with e.mu
// held.
func (e *Evaluator) toJudge(def slo.Definition, from, to kant.Date, now time.Time, all bool) []dateRange {
	w := e.written[def.Name]
	dirty := e.settled.dirty[def.Name]
	var dates []kant.Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		if !w[d].settled || dirty[d] {
			dates = append(dates, d)
		}
	}
	if all {
		oldest := kant.DateOf(now.In(def.Location)).AddDays(-int(e.cfg.Retention / (24 * time.Hour)))
		for d := range dirty {
			switch {
			case d.Before(oldest):
				delete(dirty, d) // judged on demand, never stored
			case d.Before(from) || d.After(to):
				dates = append(dates, d)
			}
		}
	}
	return ranges(dates)
}

// judged records that def's dates in r were judged and written: they are
// no longer dirty. Called with e.mu held.
func (e *Evaluator) judgedRange(def slo.Definition, r dateRange) {
	dirty := e.settled.dirty[def.Name]
	for d := r.from; !d.After(r.to); d = d.AddDays(1) {
		delete(dirty, d)
	}
}

// settles reports whether a date of def judged as of now, with day (nil:
// no occurrence), is settled: its day is final, or it has no occurrence
// and is past.
func settles(def slo.Definition, d kant.Date, day *kant.Day, now time.Time) bool {
	if day != nil {
		return day.Final
	}
	return d.Before(kant.DateOf(now.In(def.Location)).AddDays(-1))
}

// refillDurations loads, once per term that resumed from a checkpoint,
// the successful runs the at-risk estimates need (the newest Runs
// successes of every job: about Runs business days back), since the
// settled dates were not loaded. Run calls it after the term's first
// periodic evaluation, so a restarted kant warns of risk from one Interval
// after its start. The SLOs are read one at a time, outside
// the lock, so that memory stays bounded and nothing waits on it.
func (e *Evaluator) refillDurations(ctx context.Context, now time.Time) {
	e.mu.Lock()
	resumed := e.settled.resumed
	e.settled.resumed = false
	keep := e.durations.keep
	e.mu.Unlock()
	if !resumed || keep == 0 {
		return
	}
	back := keep*7/5 + 3
	for _, def := range e.cfg.SLOs {
		if def.AtRisk.Off {
			continue
		}
		today := kant.DateOf(now.In(def.Location))
		runs, err := e.load(ctx, def, today.AddDays(-back), today)
		if err != nil {
			if ctx.Err() == nil {
				e.logger.Warn("could not load recent durations", "slo", def.Name, "err", err)
			}
			return
		}
		runs = slices.DeleteFunc(runs, func(r kant.Run) bool { return r.State != kant.StateSucceeded })
		e.mu.Lock()
		e.durations.add(runs, now)
		e.mu.Unlock()
	}
}
