// Package gate answers downstream pipelines "has upstream finished for this
// date?": an in-memory index of recent runs kept current by ingestion, the
// GET /v1/gate handler with its long-poll, and the client behind
// `kant gate wait`. It never opens on doubt: a stale source, an unknown job
// or a missing run is "not yet" or an error, never "open".
//
// It imports kant, slo (to attribute runs to business dates and know the
// current occurrence of an SLO); the store is behind the Store interface declared here.
package gate

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Source is what the gate needs to know of a configured source.
type Source struct {
	Name string
	// StaleAfter, when positive, is how old the source's last good poll (or,
	// for a push source, its last new observation) may be before every job
	// of the source answers "stale".
	StaleAfter time.Duration
}

// Store is what the index is rebuilt from after a restart.
type Store interface {
	LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error)
	Jobs(ctx context.Context) ([]kant.JobInfo, error)
	SourceHealth(ctx context.Context) ([]kant.SourceHealth, error)
}

// Config configures an Index.
type Config struct {
	SLOs     []slo.Definition
	Sources  []Source
	Location *time.Location // zone of dates for jobs no SLO selects; default UTC
	// Window is how far back runs are kept in memory (default 14 days);
	// older dates are answered from the store.
	Window time.Duration
	Now    func() time.Time // default time.Now
	// Metrics, when set, is told of every answer the Handler gives.
	Metrics Metrics
	// MaxWaiting bounds the long-polls held at once (default
	// DefaultMaxWaiting): a wait= request beyond it is answered at once,
	// as without wait, and its client asks again. Each held poll costs
	// two goroutines and about 17 KiB of heap.
	MaxWaiting int
	// MaxStoreReads bounds the store queries answering dates older than
	// Window in flight at once (default DefaultMaxStoreReads); a request
	// beyond it waits up to StoreReadWait for one to end, then is answered
	// 503 with Retry-After. Each query holds the runs of the jobs asked
	// about over four days.
	MaxStoreReads int
	StoreReadWait time.Duration // default 1s
	// AwaitRebuild makes the Handler answer 503 with Retry-After until
	// Rebuild has run, so that a server may start while its index is
	// rebuilt (kant serve). Without it the index answers from what it was
	// told.
	AwaitRebuild bool
}

// DefaultMaxStoreReads is the default bound of store queries the gate has in
// flight: SQLite's default read pool, max(4, GOMAXPROCS), is about as many.
const DefaultMaxStoreReads = 4

// DefaultMaxWaiting is the default bound of long-polls held at once.
const DefaultMaxWaiting = 20000

// Metrics records the gate's answers; telemetry's *Metrics implements it.
// Its methods must be safe for concurrent use and quick: the gate is the hot
// path.
type Metrics interface {
	// GateRequest records one gate request answered with the HTTP status
	// code (200 open, 404 not yet, 409 failed, 400 bad request, 503 store
	// busy, 500).
	GateRequest(ctx context.Context, code int)
}

// Index holds the newest observation of every recent run, by job and
// business date, and wakes long-polls when it changes. It is safe for
// concurrent use.
type Index struct {
	cfg        Config
	sources    map[string]Source
	staleAfter map[string]time.Duration // of the sources that have a bound
	ready      atomic.Bool
	store      Store         // set by Rebuild; answers dates older than the window
	waiting    atomic.Int64  // long-polls in progress
	storeReads chan struct{} // a slot per store query in flight
	since      time.Time     // Refresh reads what was observed from then on (guarded by refreshing alone)
	gen        atomic.Uint64 // incremented on every change

	mu       sync.RWMutex
	jobs     map[kant.JobKey]*job
	keys     []kant.JobKey            // sorted, for globs and suggestions
	globs    map[string][]kant.JobKey // expansions of glob patterns, cleared when keys change
	lastGood map[string]time.Time     // per source: last good poll or new observation
	changed  chan struct{}            // closed and replaced on every change
	pruned   kant.Date                // the date below which runs were last dropped
}

// job is one job's recent runs, each filed under its business date, in
// the order they were filed. They are kept compact (see kept): at 10,000
// jobs and two weeks, kant.Run values in a map by date took 60 MB, most of
// the index's memory; kept runs in one slice a job take about a quarter.
type job struct {
	key  kant.JobKey
	def  *slo.Definition // the first SLO selecting the job, or nil
	runs []kept
}

// kept is one run as the index keeps it: what an answer reads, its times
// as Unix nanoseconds (0: unknown) and its dates packed (see pack). Its
// source and state strings are shared with every other run's (see slim).
type kept struct {
	runID, source, errorMessage string
	state                       kant.State
	started, finished, observed int64
	date, logical               uint32 // the business date it is filed under; its logical date (0: none)
	attempt, maxAttempts        int32
}

// pack packs d into an integer that orders as dates do (0 for the zero
// date); unpack reverses it.
func pack(d kant.Date) uint32 {
	if d.IsZero() {
		return 0
	}
	return uint32(d.Year)<<9 | uint32(d.Month)<<5 | uint32(d.Day)
}

func unpack(p uint32) kant.Date {
	if p == 0 {
		return kant.Date{}
	}
	return kant.Date{Year: int(p >> 9), Month: time.Month(p >> 5 & 15), Day: int(p & 31)}
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// keep returns r, slimmed, as kept under date d.
func keep(r kant.Run, d kant.Date) kept {
	return kept{runID: r.RunID, source: r.Source, errorMessage: r.ErrorMessage, state: r.State,
		started: nanos(r.StartedAt), finished: nanos(r.FinishedAt), observed: nanos(r.ObservedAt),
		date: pack(d), logical: pack(r.LogicalDate), attempt: int32(r.Attempt), maxAttempts: int32(r.MaxAttempts)}
}

// run returns k as a kant.Run of job (times in UTC).
func (k *kept) run(job kant.JobKey) kant.Run {
	return kant.Run{Source: k.source, Job: job, RunID: k.runID, Attempt: int(k.attempt), MaxAttempts: int(k.maxAttempts),
		State: k.state, LogicalDate: unpack(k.logical), StartedAt: fromNanos(k.started), FinishedAt: fromNanos(k.finished),
		ErrorMessage: k.errorMessage, ObservedAt: fromNanos(k.observed)}
}

// same reports whether k and o say the same of their run but for when
// they were observed (kant.Run.SameObservation of the slimmed runs).
func (k *kept) same(o *kept) bool {
	a, b := *k, *o
	a.observed, b.observed = 0, 0
	return a == b
}

// New returns an empty Index. It is not ready until Rebuild has run.
func New(cfg Config) *Index {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Window <= 0 {
		cfg.Window = 14 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxWaiting <= 0 {
		cfg.MaxWaiting = DefaultMaxWaiting
	}
	if cfg.MaxStoreReads <= 0 {
		cfg.MaxStoreReads = DefaultMaxStoreReads
	}
	if cfg.StoreReadWait <= 0 {
		cfg.StoreReadWait = time.Second
	}
	ix := &Index{
		cfg:        cfg,
		sources:    map[string]Source{},
		staleAfter: map[string]time.Duration{},
		jobs:       map[kant.JobKey]*job{},
		globs:      map[string][]kant.JobKey{},
		lastGood:   map[string]time.Time{},
		changed:    make(chan struct{}),
		storeReads: make(chan struct{}, cfg.MaxStoreReads),
	}
	for _, s := range cfg.Sources {
		ix.sources[s.Name] = s
		if s.StaleAfter > 0 {
			ix.staleAfter[s.Name] = s.StaleAfter
		}
	}
	return ix
}

// Ready reports nil once the index has been rebuilt from the store.
func (ix *Index) Ready() error {
	if !ix.ready.Load() {
		return errors.New("gate index not rebuilt yet")
	}
	return nil
}

// Rebuild loads the jobs, the runs of the window and the source health from
// the store, then marks the index ready. Call it before serving.
func (ix *Index) Rebuild(ctx context.Context, st Store) error {
	ix.store = st
	if err := ix.Refresh(ctx, st); err != nil {
		return err
	}
	ix.ready.Store(true)
	return nil
}

// refreshSlack is how far before the previous refresh a refresh reads.
const refreshSlack = 10 * time.Minute

// Refresh merges what the store holds into the index: what another process
// wrote (a `kant import`, a second replica) and ingestion did not report.
func (ix *Index) Refresh(ctx context.Context, st Store) error {
	now := ix.cfg.Now()
	if err := ix.RefreshHealth(ctx, st); err != nil {
		return err
	}
	from := now.Add(-ix.cfg.Window - 48*time.Hour)
	if ix.since.IsZero() {
		if err := ix.load(ctx, st, from, now); err != nil {
			return fmt.Errorf("gate rebuild: runs: %w", err)
		}
	} else {
		// After the first load, only what was observed since the last
		// refresh, with slack for clocks and for long transactions in
		// flight (an import stamps its runs with the time it started, and
		// commits at the end).
		runs, err := st.LatestRuns(ctx, kant.RunFilter{From: from, DateFrom: kant.DateOf(from.UTC()), ObservedFrom: ix.since})
		if err != nil {
			return fmt.Errorf("gate rebuild: runs: %w", err)
		}
		ix.Observe(ctx, runs)
	}
	ix.since = now.Add(-refreshSlack)
	return nil
}

// RefreshHealth merges the store's jobs and its sources' health into the
// index, and drops the dates that left its window: what Refresh does
// besides reading runs. It is the whole refresh of an index told every
// run stored after its Rebuild began, as kant serve tells it what the
// store's log (store.Follower) holds.
func (ix *Index) RefreshHealth(ctx context.Context, st Store) error {
	jobs, err := st.Jobs(ctx)
	if err != nil {
		return fmt.Errorf("gate rebuild: jobs: %w", err)
	}
	health, err := st.SourceHealth(ctx)
	if err != nil {
		return fmt.Errorf("gate rebuild: source health: %w", err)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, j := range jobs {
		ix.jobLocked(j.Key)
	}
	for _, h := range health {
		if h.LastSuccess.After(ix.lastGood[h.Source]) {
			ix.lastGood[h.Source] = h.LastSuccess
			ix.notifyLocked()
		}
	}
	ix.pruneLocked()
	return nil
}

// loadParts is how many parts, by date, the first load reads the window
// in: each is observed, then dropped, so that the load holds about
// loadWorkers parts of decoded runs at once rather than all of them.
const loadParts = 8

// load reads the runs of the window from from on, in loadParts parts
// read by up to MaxStoreReads (at most GOMAXPROCS) at once, and observes
// them. The parts divide the runs by the date of their newest
// observation: the dated by logical date, the others by when they ran.
func (ix *Index) load(ctx context.Context, st Store, from, now time.Time) error {
	first, last := kant.DateOf(from.UTC()), kant.DateOf(now.UTC()).AddDays(2)
	days := max(1, last.DaysSince(first))
	var parts []kant.RunFilter
	for k := 0; k < loadParts; k++ {
		a, b := first.AddDays(days*k/loadParts), first.AddDays(days*(k+1)/loadParts)
		if k > 0 && a == parts[len(parts)-1].DateFrom {
			continue
		}
		f := kant.RunFilter{DateFrom: a, DateTo: b.AddDays(-1), From: a.In(time.UTC), To: b.In(time.UTC)}
		if k == 0 {
			f.From = from
		}
		parts = append(parts, f)
	}
	// The last part is open: runs dated or run after the window's end.
	parts[len(parts)-1].DateTo, parts[len(parts)-1].To = kant.Date{}, time.Time{}
	workers := max(1, min(ix.cfg.MaxStoreReads, runtime.GOMAXPROCS(0), len(parts)))
	g, gctx := errgroup.WithContext(ctx)
	next := make(chan kant.RunFilter, len(parts))
	for _, f := range parts {
		next <- f
	}
	close(next)
	for range workers {
		g.Go(func() error {
			for f := range next {
				runs, err := st.LatestRuns(gctx, f)
				if err != nil {
					return err
				}
				ix.Observe(gctx, runs)
			}
			return nil
		})
	}
	return g.Wait()
}

// oldest returns the first date the index holds runs for.
func (ix *Index) oldest(now time.Time) kant.Date {
	return kant.DateOf(now.Add(-ix.cfg.Window).In(ix.cfg.Location))
}

// AnswerFromStore computes the answer from a store query instead of the
// index: how dates older than the window are answered (and what the index
// saves, in the benchmarks).
func (ix *Index) AnswerFromStore(ctx context.Context, st Store, keys []kant.JobKey, date kant.Date, now time.Time, def *slo.Definition) (Answer, error) {
	patterns := make([]string, len(keys))
	for i, k := range keys {
		patterns[i] = string(k)
	}
	// Runs with a logical date of date, or that ran within two days of it
	// (attribution to an earlier tick is then done per job, as in Observe).
	runs, err := st.LatestRuns(ctx, kant.RunFilter{
		Jobs: patterns, DateFrom: date, DateTo: date,
		From: date.AddDays(-1).In(ix.cfg.Location), To: date.AddDays(2).In(ix.cfg.Location),
	})
	if err != nil {
		return Answer{}, fmt.Errorf("gate: load runs of %s: %w", date, err)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	byJob := map[kant.JobKey][]kant.Run{}
	for _, r := range runs {
		j := ix.jobs[r.Job]
		if j == nil {
			continue
		}
		under := def
		if under == nil {
			under = j.def
		}
		if dateUnder(under, r, ix.cfg.Location) == date {
			byJob[r.Job] = append(byJob[r.Job], r)
		}
	}
	return ix.decideLocked(keys, date, now, def, func(j *job) []kant.Run { return byJob[j.key] }), nil
}

// Observe adds newly stored observations. It implements collector.Observer.
// An observation older than the one the index holds of the same run is
// ignored; one that moves its run to another date moves it.
func (ix *Index) Observe(_ context.Context, runs []kant.Run) {
	if len(runs) == 0 {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	changed := false
	for _, r := range runs {
		if src, ok := ix.sources[r.Source]; ok && src.StaleAfter > 0 && r.ObservedAt.After(ix.lastGood[r.Source]) {
			// A new observation from a source shows it is alive.
			ix.lastGood[r.Source] = r.ObservedAt
			changed = true
		}
		j := ix.jobLocked(r.Job)
		if j.put(ix.slim(j, r), j.date(r, ix.cfg.Location)) {
			changed = true
		}
	}
	ix.pruneLocked()
	if changed {
		ix.notifyLocked()
	}
}

// slim returns r as the index keeps it: without what no answer reads (its
// source's own state, its attributes), its job key, source and state
// strings shared with every other run's.
func (ix *Index) slim(j *job, r kant.Run) kant.Run {
	r.Job, r.SourceState, r.Attributes = j.key, "", nil
	if s, ok := ix.sources[r.Source]; ok {
		r.Source = s.Name
	} else if src := j.key.Source(); src == r.Source {
		r.Source = src
	}
	for _, st := range states {
		if r.State == st {
			r.State = st
			break
		}
	}
	return r
}

// states are the states runs take, whose strings slim shares.
var states = []kant.State{kant.StateSucceeded, kant.StateFailed, kant.StateRunning, kant.StateQueued}

// filed returns the index in j.runs of the run key, if j holds it.
func (j *job) filed(key kant.RunKey) (int, bool) {
	for i := range j.runs {
		if j.runs[i].runID == key.RunID && int(j.runs[i].attempt) == key.Attempt {
			return i, true
		}
	}
	return 0, false
}

// put files r under date d, unless the job holds a newer observation of the
// same run; it reports whether anything changed. A run that moves to
// another date is filed after the runs already there.
func (j *job) put(r kant.Run, d kant.Date) bool {
	k := keep(r, d)
	if i, ok := j.filed(r.Key()); ok {
		old := &j.runs[i]
		if k.observed < old.observed || (old.date == k.date && old.same(&k)) {
			return false
		}
		if old.date == k.date {
			*old = k
			return true
		}
		j.runs = slices.Delete(j.runs, i, i+1)
	}
	j.runs = append(j.runs, k)
	return true
}

// ObservePoll records a poll of a source: a success moves its last good poll.
func (ix *Index) ObservePoll(source string, at time.Time, pollErr error) {
	if pollErr != nil {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if at.After(ix.lastGood[source]) {
		ix.lastGood[source] = at
		ix.notifyLocked()
	}
}

// Waiting returns the number of long-polls in progress.
func (ix *Index) Waiting() int { return int(ix.waiting.Load()) }

// hold counts one more long-poll held, unless MaxWaiting are: then it
// returns false and counts nothing. A true is undone with release.
func (ix *Index) hold() bool {
	if ix.waiting.Add(1) > int64(ix.cfg.MaxWaiting) {
		ix.waiting.Add(-1)
		return false
	}
	return true
}

func (ix *Index) release() { ix.waiting.Add(-1) }

// acquireStoreRead takes a slot for a store query, waiting up to
// StoreReadWait for one; it fails with EUNAVAILABLE (503, Retry-After 1)
// when none frees in time, or with ctx's error. A nil is undone with
// releaseStoreRead.
func (ix *Index) acquireStoreRead(ctx context.Context) error {
	select {
	case ix.storeReads <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(ix.cfg.StoreReadWait)
	defer t.Stop()
	select {
	case ix.storeReads <- struct{}{}:
		return nil
	case <-t.C:
		return kant.Unavailable(nil, time.Second, "gate: %d store queries in flight, the most it runs at once", cap(ix.storeReads))
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ix *Index) releaseStoreRead() { <-ix.storeReads }

// Changed returns a channel closed at the next change of the index.
func (ix *Index) Changed() <-chan struct{} {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.changed
}

func (ix *Index) notifyLocked() {
	ix.gen.Add(1)
	close(ix.changed)
	ix.changed = make(chan struct{})
}

// jobLocked returns the entry of key, creating it.
func (ix *Index) jobLocked(key kant.JobKey) *job {
	if j, ok := ix.jobs[key]; ok {
		return j
	}
	j := &job{key: key}
	for i := range ix.cfg.SLOs {
		if ix.cfg.SLOs[i].Selects(key) {
			j.def = &ix.cfg.SLOs[i]
			break
		}
	}
	ix.jobs[key] = j
	i, _ := slices.BinarySearch(ix.keys, key)
	ix.keys = slices.Insert(ix.keys, i, key)
	clear(ix.globs)
	return j
}

// pruneLocked drops dates older than the window, at most once a day.
func (ix *Index) pruneLocked() {
	oldest := ix.oldest(ix.cfg.Now())
	if !ix.pruned.Before(oldest) {
		return
	}
	before := pack(oldest)
	for _, j := range ix.jobs {
		j.runs = slices.DeleteFunc(j.runs, func(k kept) bool { return k.date < before })
	}
	ix.pruned = oldest
}

// date returns the business date r counts for: its occurrence under the
// job's SLO, else its logical date, else the date it ran in loc.
func (j *job) date(r kant.Run, loc *time.Location) kant.Date {
	return dateUnder(j.def, r, loc)
}

// dateUnder returns the business date r counts for under def (nil: no SLO).
func dateUnder(def *slo.Definition, r kant.Run, loc *time.Location) kant.Date {
	if def != nil {
		if d, _, ok := def.Attribute(r); ok {
			return d
		}
	}
	if !r.LogicalDate.IsZero() {
		return r.LogicalDate
	}
	return kant.DateOf(r.At().In(loc))
}

// runsOn returns the runs of j that count for date under def: those filed
// under date when def is the job's own SLO, else every kept run attributed
// to date under def.
func (j *job) runsOn(def *slo.Definition, date kant.Date, loc *time.Location) []kant.Run {
	var out []kant.Run
	if def == nil || def == j.def {
		p := pack(date)
		for i := range j.runs {
			if j.runs[i].date == p {
				out = append(out, j.runs[i].run(j.key))
			}
		}
		return out
	}
	for i := range j.runs {
		if r := j.runs[i].run(j.key); dateUnder(def, r, loc) == date {
			out = append(out, r)
		}
	}
	return out
}

// resolve turns job patterns into known job keys. A glob must match at least
// one job; a literal key must be known (seen, or named by an SLO). Unknown
// names are an EINVALID error suggesting close matches.
func (ix *Index) resolve(patterns []string) ([]kant.JobKey, error) {
	var out []kant.JobKey
	for _, p := range patterns {
		keys, err := ix.expand(p)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// maxGlobs bounds the cache of glob expansions (patterns come from clients).
const maxGlobs = 1024

func (ix *Index) expand(p string) ([]kant.JobKey, error) {
	if !kant.IsGlob(p) {
		ix.mu.RLock()
		ok := ix.known(kant.JobKey(p))
		ix.mu.RUnlock()
		if !ok {
			return nil, ix.unknown("job", p, ix.keyStrings())
		}
		return []kant.JobKey{kant.JobKey(p)}, nil
	}
	ix.mu.RLock()
	keys, ok := ix.globs[p]
	ix.mu.RUnlock()
	if !ok {
		ix.mu.Lock()
		keys = nil
		for _, k := range ix.keys {
			if kant.Match(p, k) {
				keys = append(keys, k)
			}
		}
		if len(ix.globs) < maxGlobs {
			ix.globs[p] = keys
		}
		ix.mu.Unlock()
	}
	if len(keys) == 0 {
		return nil, kant.Errorf(kant.EINVALID, "job %q matches no known job", p)
	}
	return keys, nil
}

// known reports whether key has been seen or is named by an SLO.
func (ix *Index) known(key kant.JobKey) bool {
	if _, ok := ix.jobs[key]; ok {
		return true
	}
	for _, d := range ix.cfg.SLOs {
		if slices.Contains(d.Jobs, string(key)) {
			return true
		}
	}
	return false
}

func (ix *Index) keyStrings() []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]string, 0, len(ix.keys))
	for _, k := range ix.keys {
		out = append(out, string(k))
	}
	for _, d := range ix.cfg.SLOs {
		for _, p := range d.Jobs {
			if !kant.IsGlob(p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// unknown returns the error for an unknown name, with up to three close
// matches among candidates.
func (ix *Index) unknown(what, name string, candidates []string) error {
	type scored struct {
		s    string
		dist int
	}
	var close []scored
	limit := max(2, len(name)/3)
	for _, c := range candidates {
		if d := distance(name, c); d <= limit {
			close = append(close, scored{c, d})
		}
	}
	sort.SliceStable(close, func(i, j int) bool { return close[i].dist < close[j].dist })
	var names []string
	for _, c := range close {
		if !slices.Contains(names, c.s) {
			names = append(names, c.s)
		}
		if len(names) == 3 {
			break
		}
	}
	if len(names) == 0 {
		return kant.Errorf(kant.EINVALID, "unknown %s %q", what, name)
	}
	return kant.Errorf(kant.EINVALID, "unknown %s %q (did you mean %s?)", what, name, strings.Join(quoteAll(names), ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
