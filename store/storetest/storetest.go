// Package storetest is the conformance suite of the storage contract: Run
// checks that a backend behaves as the documentation of store.Store says.
// Every backend's tests call Run (store/sqlite on every go test, cloud
// backends behind their integration flag).
//
// It imports only kant, store and the standard library; it must never import
// a backend. The tests use fixed times and never sleep.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
)

// Run runs the conformance suite against the backend that open returns. open
// must return a new, empty store for each call; Run closes it at the end of
// the subtest that opened it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range slices.Concat(tests, alertTests, leaseTests) {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.test(t, s)
		})
	}
}

// The tests, each named by the sentence it checks.
var tests = []struct {
	name string
	test func(t *testing.T, s store.Store)
}{
	// Writing runs.
	{"a new observation is returned and stored", newObservation},
	{"the same observation twice in one batch is stored once", sameInBatch},
	{"the same observation in a later batch is stored once", sameInLaterBatch},
	{"a state change appends an observation that becomes the latest", stateChange},
	{"an older observation replayed after a newer one is stored once and does not become the latest", replayedOlder},
	{"a new observation observed before the latest one does not replace it", observedEarlier},
	{"of two observations observed at the same time the one written later is the latest", sameObservedAt},
	{"a retry with a higher attempt is a run of its own", retryIsARun},
	{"any changed field makes an observation new", changedFieldIsNew},
	{"a batch with an invalid run stores nothing", invalidBatch},
	{"a batch written with a cancelled context stores nothing", cancelledBatch},
	{"an import returns how many observations were new", importCounts},
	{"an import whose sequence fails at the third run stores nothing and returns that error", importSeqError},
	{"an import cancelled midway stores nothing and returns the context's error", importCancelled},
	{"an import with an invalid run stores nothing", importInvalid},
	{"an empty import stores nothing", importEmpty},

	// Reading runs.
	{"an empty store has no runs and no jobs", emptyStore},
	{"runs are selected by job glob", globFilter},
	{"runs are selected by logical date, both bounds included", dateFilter},
	{"runs without a logical date are selected by At in [From, To)", atFilter},
	{"the window and ObservedFrom apply to the latest observation of a run", windowOnLatest},
	{"runs are ordered by At, then job, run ID and attempt", runOrder},
	{"Limit returns the first runs in order", limit},
	{"Jobs lists every job with its earliest At and logical date", jobs},

	// Round trips.
	{"times come back in UTC with nanosecond precision", timesRoundTrip},
	{"zero times and dates come back zero", zeroRoundTrip},
	{"texts and attributes come back unchanged, unicode included", textRoundTrip},

	// Evaluations.
	{"results and days come back with every field", evaluationRoundTrip},
	{"an evaluation replaces the results and days of its dates only", evaluationReplacesRange},
	{"an evaluation restricted to jobs replaces only their results but every day", evaluationRestricted},
	{"an evaluation with open bounds replaces every date of its SLO", evaluationOpenBounds},
	{"an evaluation with a result outside its range is rejected and writes nothing", evaluationInvalid},
	{"results are selected by SLO, job glob, dates and unmet verdicts and ordered by date, SLO, job and expected time", resultsFilter},
	{"days are selected by SLO and dates and ordered by SLO then date", daysFilter},

	// Source health and alerts.
	{"a failed poll counts consecutive failures and a success resets them", pollCounts},
	{"a checkpoint is empty until set, then the last value set, per source and key", checkpoints},
	{"source health is listed by source name", pollOrder},
}

// t0 is the start of every test's day: 2026-06-01 01:00 UTC.
var t0 = time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func date(s string) kant.Date {
	d, err := kant.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// obs returns a valid observation of job's run runID in state, started at t0
// and observed at observed.
func obs(job kant.JobKey, runID string, state kant.State, observed time.Time) kant.Run {
	return kant.Run{
		Source:      job.Source(),
		Job:         job,
		RunID:       runID,
		Attempt:     1,
		State:       state,
		SourceState: string(state),
		StartedAt:   t0,
		ObservedAt:  observed,
	}
}

func with(r kant.Run, f func(*kant.Run)) kant.Run {
	f(&r)
	return r
}

// validated returns runs after kant.Run.Validate, as the store expects them.
func validated(t *testing.T, runs []kant.Run) []kant.Run {
	t.Helper()
	out := make([]kant.Run, len(runs))
	for i, r := range runs {
		if err := r.Validate(); err != nil {
			t.Fatalf("test run %d is invalid: %v", i, err)
		}
		out[i] = r
	}
	return out
}

func write(t *testing.T, s store.Store, runs ...kant.Run) []kant.Run {
	t.Helper()
	got, err := s.WriteRuns(context.Background(), validated(t, runs))
	if err != nil {
		t.Fatalf("WriteRuns: %v", err)
	}
	return got
}

func latest(t *testing.T, s store.Store, f kant.RunFilter) []kant.Run {
	t.Helper()
	got, err := s.LatestRuns(context.Background(), f)
	if err != nil {
		t.Fatalf("LatestRuns(%+v): %v", f, err)
	}
	return got
}

func seq(runs ...kant.Run) iter.Seq2[kant.Run, error] {
	return func(yield func(kant.Run, error) bool) {
		for _, r := range runs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// sameRun reports how got differs from want, or "" when it does not: every
// field equal (times as instants, attributes as sets), times in UTC.
func sameRun(got, want kant.Run) string {
	if !got.SameObservation(want) {
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	if !got.ObservedAt.Equal(want.ObservedAt) {
		return fmt.Sprintf("observed at %v, want %v", got.ObservedAt, want.ObservedAt)
	}
	for name, tm := range map[string]time.Time{"started_at": got.StartedAt, "finished_at": got.FinishedAt, "observed_at": got.ObservedAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			return fmt.Sprintf("%s in %v, want UTC", name, tm.Location())
		}
	}
	return ""
}

func checkRuns(t *testing.T, what string, got, want []kant.Run) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d runs %s, want %d %s", what, len(got), keys(got), len(want), keys(want))
	}
	for i := range got {
		if d := sameRun(got[i], want[i]); d != "" {
			t.Errorf("%s [%d]: %s", what, i, d)
		}
	}
}

func keys(runs []kant.Run) string {
	var s []string
	for _, r := range runs {
		s = append(s, fmt.Sprintf("%s/%s#%d", r.Job, r.RunID, r.Attempt))
	}
	return fmt.Sprint(s)
}

func newObservation(t *testing.T, s store.Store) {
	r := obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))
	got := write(t, s, r)
	checkRuns(t, "returned", got, []kant.Run{r})
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), []kant.Run{r})
}

func sameInBatch(t *testing.T, s store.Store) {
	a := obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))
	again := with(a, func(r *kant.Run) { r.ObservedAt = at(2 * time.Minute) })
	got := write(t, s, a, again, a)
	checkRuns(t, "returned", got, []kant.Run{a})
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), []kant.Run{a})
}

func sameInLaterBatch(t *testing.T, s store.Store) {
	a := obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))
	write(t, s, a)
	again := with(a, func(r *kant.Run) { r.ObservedAt = at(2 * time.Minute) })
	if got := write(t, s, again); len(got) != 0 {
		t.Errorf("a repeat was returned as new: %s", keys(got))
	}
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), []kant.Run{a})
}

func stateChange(t *testing.T, s store.Store) {
	running := obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))
	done := with(running, func(r *kant.Run) {
		r.State, r.SourceState = kant.StateSucceeded, "SUCCEEDED"
		r.FinishedAt = at(10 * time.Minute)
		r.ObservedAt = at(11 * time.Minute)
	})
	write(t, s, running)
	got := write(t, s, done)
	checkRuns(t, "returned", got, []kant.Run{done})
	checkRuns(t, "latest", latest(t, s, kant.RunFilter{}), []kant.Run{done})
}

func replayedOlder(t *testing.T, s store.Store) {
	queued := with(obs("hegel/export", "jr_1", kant.StateQueued, at(time.Minute)), func(r *kant.Run) { r.StartedAt = time.Time{} })
	running := obs("hegel/export", "jr_1", kant.StateRunning, at(2*time.Minute))
	write(t, s, queued, running)
	replay := with(queued, func(r *kant.Run) { r.ObservedAt = at(3 * time.Minute) })
	if got := write(t, s, replay); len(got) != 0 {
		t.Errorf("a replayed observation was returned as new: %s", keys(got))
	}
	checkRuns(t, "latest", latest(t, s, kant.RunFilter{}), []kant.Run{running})
	n, err := s.ImportRuns(context.Background(), seq(replay, running), nil)
	if err != nil || n != 0 {
		t.Errorf("import of replays = %d, %v; want 0, nil", n, err)
	}
	checkRuns(t, "latest after import", latest(t, s, kant.RunFilter{}), []kant.Run{running})
}

func observedEarlier(t *testing.T, s store.Store) {
	running := obs("hegel/export", "jr_1", kant.StateRunning, at(5*time.Minute))
	late := with(running, func(r *kant.Run) { r.State, r.ObservedAt = kant.StateQueued, at(time.Minute) })
	write(t, s, running)
	got := write(t, s, late)
	checkRuns(t, "returned", got, []kant.Run{late})
	checkRuns(t, "latest", latest(t, s, kant.RunFilter{}), []kant.Run{running})
}

func sameObservedAt(t *testing.T, s store.Store) {
	a := obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))
	b := with(a, func(r *kant.Run) { r.State = kant.StateFailed })
	write(t, s, a)
	write(t, s, b)
	checkRuns(t, "latest", latest(t, s, kant.RunFilter{}), []kant.Run{b})
	c := with(a, func(r *kant.Run) { r.State = kant.StateSucceeded })
	write(t, s, c, with(c, func(r *kant.Run) { r.State = kant.StateTimeout }))
	checkRuns(t, "latest after a batch", latest(t, s, kant.RunFilter{}),
		[]kant.Run{with(c, func(r *kant.Run) { r.State = kant.StateTimeout })})
}

func retryIsARun(t *testing.T, s store.Store) {
	first := obs("hegel/export", "jr_1", kant.StateFailed, at(time.Minute))
	retry := with(first, func(r *kant.Run) {
		r.Attempt, r.State, r.StartedAt, r.ObservedAt = 2, kant.StateRunning, at(2*time.Minute), at(3*time.Minute)
	})
	write(t, s, first, retry)
	checkRuns(t, "latest", latest(t, s, kant.RunFilter{}), []kant.Run{first, retry})
}

func changedFieldIsNew(t *testing.T, s store.Store) {
	base := with(obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute)), func(r *kant.Run) {
		r.LogicalDate = date("2026-06-01")
		r.Attributes = map[string]string{"--target_date": "2026-05-31"}
	})
	write(t, s, base)
	changes := map[string]func(*kant.Run){
		"source_state":  func(r *kant.Run) { r.SourceState = "RUNNING_AGAIN" },
		"logical_date":  func(r *kant.Run) { r.LogicalDate = date("2026-06-02") },
		"started_at":    func(r *kant.Run) { r.StartedAt = r.StartedAt.Add(time.Nanosecond) },
		"finished_at":   func(r *kant.Run) { r.FinishedAt = at(time.Hour) },
		"error_message": func(r *kant.Run) { r.ErrorMessage = "boom" },
		"max_attempts":  func(r *kant.Run) { r.MaxAttempts = 3 },
		"attribute":     func(r *kant.Run) { r.Attributes = map[string]string{"--target_date": "2026-06-01"} },
		"attribute key": func(r *kant.Run) { r.Attributes = map[string]string{"--target-date": "2026-05-31"} },
		"no attributes": func(r *kant.Run) { r.Attributes = nil },
	}
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		r := with(base, changes[name])
		r.ObservedAt = at(2 * time.Minute)
		if got := write(t, s, r); len(got) != 1 {
			t.Errorf("a change of %s was not stored", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		r := with(base, changes[name])
		r.ObservedAt = at(3 * time.Minute)
		if got := write(t, s, r); len(got) != 0 {
			t.Errorf("a repeat of the change of %s was stored again", name)
		}
	}
}

func invalidBatch(t *testing.T, s store.Store) {
	good := obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))
	bad := obs("hegel/export", "jr_2", "exploded", at(time.Minute))
	_, err := s.WriteRuns(context.Background(), []kant.Run{good, bad})
	if kant.ErrorCode(err) != kant.EINVALID {
		t.Errorf("WriteRuns with an invalid run: error %v, want an EINVALID error", err)
	}
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), nil)
}

func cancelledBatch(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	runs := validated(t, []kant.Run{obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))})
	if _, err := s.WriteRuns(ctx, runs); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteRuns with a cancelled context: error %v, want context.Canceled", err)
	}
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), nil)
}

func importCounts(t *testing.T, s store.Store) {
	a := obs("hegel/export", "jr_1", kant.StateRunning, at(time.Minute))
	write(t, s, a)
	b := obs("hegel/export", "jr_2", kant.StateRunning, at(time.Minute))
	bDone := with(b, func(r *kant.Run) {
		r.State, r.FinishedAt, r.ObservedAt = kant.StateSucceeded, at(5*time.Minute), at(6*time.Minute)
	})
	bAgain := with(b, func(r *kant.Run) { r.ObservedAt = at(7 * time.Minute) })
	var fresh []int
	n, err := s.ImportRuns(context.Background(), seq(validated(t, []kant.Run{a, b, bDone, bAgain, b})...), func(i int) { fresh = append(fresh, i) })
	if err != nil || n != 2 {
		t.Fatalf("ImportRuns = %d, %v; want 2 new, nil", n, err)
	}
	// a was stored before; bAgain repeats bDone, and the last b repeats b.
	if !slices.Equal(fresh, []int{1, 2}) {
		t.Errorf("ImportRuns told of new observations at %v, want [1 2]", fresh)
	}
	checkRuns(t, "latest", latest(t, s, kant.RunFilter{}), []kant.Run{a, bDone})
}

// runs returns n distinct valid observations, one run each.
func runs(n int) []kant.Run {
	out := make([]kant.Run, n)
	for i := range out {
		out[i] = obs(kant.JobKey(fmt.Sprintf("hegel/job_%d", i%7)), fmt.Sprintf("jr_%d", i), kant.StateRunning, at(time.Minute))
	}
	return out
}

func importSeqError(t *testing.T, s store.Store) {
	boom := errors.New("line 3: bad JSON")
	rs := runs(5)
	failing := func(yield func(kant.Run, error) bool) {
		for i, r := range rs {
			if i == 2 {
				yield(kant.Run{}, boom)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	n, err := s.ImportRuns(context.Background(), failing, nil)
	if !errors.Is(err, boom) || n != 0 {
		t.Errorf("ImportRuns = %d, %v; want 0, %v", n, err, boom)
	}
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), nil)
}

func importCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rs := runs(3000)
	cancelling := func(yield func(kant.Run, error) bool) {
		for i, r := range rs {
			if i == 2 {
				cancel()
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	n, err := s.ImportRuns(ctx, cancelling, nil)
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("ImportRuns = %d, %v; want 0, context.Canceled", n, err)
	}
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), nil)
}

func importInvalid(t *testing.T, s store.Store) {
	rs := runs(40)
	rs[30].State = "exploded"
	n, err := s.ImportRuns(context.Background(), seq(rs...), nil)
	if kant.ErrorCode(err) != kant.EINVALID || n != 0 {
		t.Errorf("ImportRuns = %d, %v; want 0 and an EINVALID error", n, err)
	}
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), nil)
}

func importEmpty(t *testing.T, s store.Store) {
	n, err := s.ImportRuns(context.Background(), seq(), nil)
	if err != nil || n != 0 {
		t.Errorf("ImportRuns of nothing = %d, %v; want 0, nil", n, err)
	}
	checkRuns(t, "stored", latest(t, s, kant.RunFilter{}), nil)
}

func emptyStore(t *testing.T, s store.Store) {
	checkRuns(t, "runs", latest(t, s, kant.RunFilter{Jobs: []string{"*"}, DateFrom: date("2026-06-01")}), nil)
	jobs, err := s.Jobs(context.Background())
	if err != nil || len(jobs) != 0 {
		t.Errorf("Jobs = %v, %v; want none", jobs, err)
	}
}

func globFilter(t *testing.T, s store.Store) {
	var all []kant.Run
	for i, job := range []kant.JobKey{
		"hegel/export", "hegel/import", "hegelx/export", "Hegel/upper",
		"socrates/daily.load_1", "socrates/daily.load_22", "onprem/a[1]", "onprem/ünï/cødé",
	} {
		r := obs(job, "r", kant.StateRunning, at(time.Minute))
		r.StartedAt = at(time.Duration(i) * time.Second) // At orders them as listed
		all = append(all, r)
	}
	write(t, s, all...)
	pick := func(idx ...int) []kant.Run {
		var out []kant.Run
		for _, i := range idx {
			out = append(out, all[i])
		}
		return out
	}
	for _, tc := range []struct {
		jobs []string
		want []kant.Run
	}{
		{nil, all},
		{[]string{"*"}, all},
		{[]string{"hegel/*"}, pick(0, 1)},
		{[]string{"hegel*"}, pick(0, 1, 2)},
		{[]string{"*/export"}, pick(0, 2)},
		{[]string{"hegel/export"}, pick(0)},
		{[]string{"hegel/export", "socrates/*"}, pick(0, 4, 5)},
		{[]string{"socrates/daily.load_?"}, pick(4)},
		{[]string{"socrates/daily.load_??"}, pick(5)},
		{[]string{"socrates/daily.*_2*"}, pick(5)},
		{[]string{"Hegel/*"}, pick(3)},
		{[]string{"HEGEL/*"}, nil},
		{[]string{"onprem/a[1]"}, pick(6)},
		{[]string{"onprem/a[*"}, pick(6)},
		{[]string{"onprem/ünï/*"}, pick(7)},
		{[]string{"hegel/exp"}, nil},
		{[]string{"nobody/*"}, nil},
	} {
		checkRuns(t, fmt.Sprint(tc.jobs), latest(t, s, kant.RunFilter{Jobs: tc.jobs}), tc.want)
	}
}

func dateFilter(t *testing.T, s store.Store) {
	var dated []kant.Run
	for i, d := range []string{"2026-05-31", "2026-06-01", "2026-06-02", "2026-06-03"} {
		r := obs("hegel/export", "jr_"+d, kant.StateSucceeded, at(time.Duration(i)*time.Hour))
		r.StartedAt, r.LogicalDate = at(time.Duration(i)*time.Hour), date(d)
		dated = append(dated, r)
	}
	undated := obs("hegel/export", "jr_undated", kant.StateSucceeded, at(30*time.Minute))
	undated.StartedAt = at(30 * time.Minute)
	write(t, s, append([]kant.Run{undated}, dated...)...)
	// Zero bounds are open: with no At window every undated run matches.
	checkRuns(t, "dates only", latest(t, s, kant.RunFilter{DateFrom: date("2026-06-01"), DateTo: date("2026-06-02")}),
		[]kant.Run{undated, dated[1], dated[2]})
	noUndated := kant.RunFilter{DateFrom: date("2026-06-01"), DateTo: date("2026-06-02"), From: at(-48 * time.Hour), To: at(-47 * time.Hour)}
	checkRuns(t, "dates and an empty At window", latest(t, s, noUndated), dated[1:3])
	checkRuns(t, "from only", latest(t, s, kant.RunFilter{DateFrom: date("2026-06-02"), To: at(-47 * time.Hour)}), dated[2:])
	checkRuns(t, "to only", latest(t, s, kant.RunFilter{DateTo: date("2026-05-31"), To: at(-47 * time.Hour)}), dated[:1])
	checkRuns(t, "one day", latest(t, s, kant.RunFilter{DateFrom: date("2026-06-03"), DateTo: date("2026-06-03"), To: at(-47 * time.Hour)}), dated[3:])
}

func atFilter(t *testing.T, s store.Store) {
	started := obs("hegel/a", "started", kant.StateRunning, at(time.Hour))
	started.StartedAt = at(10 * time.Minute)
	finished := obs("hegel/b", "finished", kant.StateFailed, at(time.Hour))
	finished.StartedAt, finished.FinishedAt = time.Time{}, at(20*time.Minute)
	seen := obs("hegel/c", "seen", kant.StateQueued, at(30*time.Minute))
	seen.StartedAt = time.Time{}
	dated := obs("hegel/d", "dated", kant.StateRunning, at(time.Hour))
	dated.StartedAt, dated.LogicalDate = at(15*time.Minute), date("2026-06-01")
	write(t, s, started, finished, seen, dated)
	noDated := date("1999-01-01")
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []kant.Run
	}{
		{"all", time.Time{}, time.Time{}, []kant.Run{started, finished, seen}},
		{"From is included", at(10 * time.Minute), time.Time{}, []kant.Run{started, finished, seen}},
		{"To is excluded", time.Time{}, at(20 * time.Minute), []kant.Run{started}},
		{"by finish when not started", at(15 * time.Minute), at(25 * time.Minute), []kant.Run{finished}},
		{"by observation when neither", at(30 * time.Minute), at(31 * time.Minute), []kant.Run{seen}},
		{"nothing", at(31 * time.Minute), at(2 * time.Hour), nil},
	} {
		f := kant.RunFilter{From: tc.from, To: tc.to, DateFrom: noDated, DateTo: noDated}
		checkRuns(t, tc.name, latest(t, s, f), tc.want)
	}
	// The At window does not apply to runs with a logical date.
	checkRuns(t, "dated", latest(t, s, kant.RunFilter{From: at(time.Hour), DateFrom: date("2026-06-01")}), []kant.Run{dated})
}

func windowOnLatest(t *testing.T, s store.Store) {
	first := obs("hegel/export", "jr_1", kant.StateQueued, at(time.Minute))
	first.StartedAt = time.Time{}
	later := obs("hegel/export", "jr_1", kant.StateRunning, at(time.Hour))
	later.StartedAt, later.LogicalDate = at(50*time.Minute), date("2026-06-05")
	write(t, s, first, later)
	checkRuns(t, "by the latest date", latest(t, s, kant.RunFilter{DateFrom: date("2026-06-05"), From: at(2 * time.Hour)}), []kant.Run{later})
	checkRuns(t, "not by an older At", latest(t, s, kant.RunFilter{DateFrom: date("2026-06-06"), From: at(0), To: at(2 * time.Minute)}), nil)
	checkRuns(t, "observed from the latest observation", latest(t, s, kant.RunFilter{ObservedFrom: at(time.Hour)}), []kant.Run{later})
	checkRuns(t, "not observed since", latest(t, s, kant.RunFilter{ObservedFrom: at(time.Hour + time.Nanosecond)}), nil)
}

func runOrder(t *testing.T, s store.Store) {
	mk := func(job kant.JobKey, id string, attempt int, start time.Duration) kant.Run {
		r := obs(job, id, kant.StateRunning, at(time.Hour))
		r.Attempt, r.StartedAt = attempt, at(start)
		return r
	}
	want := []kant.Run{
		mk("socrates/z", "r1", 1, -time.Hour),
		mk("hegel/a", "r1", 1, 0),
		mk("hegel/a", "r1", 2, 0),
		mk("hegel/a", "r2", 1, 0),
		mk("hegel/b", "r0", 1, 0),
		mk("hegel/a", "r0", 1, time.Nanosecond),
	}
	shuffled := []kant.Run{want[4], want[2], want[5], want[0], want[3], want[1]}
	write(t, s, shuffled...)
	checkRuns(t, "order", latest(t, s, kant.RunFilter{}), want)
	checkRuns(t, "order with a glob", latest(t, s, kant.RunFilter{Jobs: []string{"hegel/?"}}), want[1:])
}

func limit(t *testing.T, s store.Store) {
	var all []kant.Run
	for i := range 10 {
		r := obs(kant.JobKey(fmt.Sprintf("hegel/j%d", i%3)), fmt.Sprint("r", i), kant.StateRunning, at(time.Hour))
		r.StartedAt = at(time.Duration(i) * time.Minute)
		all = append(all, r)
	}
	write(t, s, all...)
	checkRuns(t, "limit 3", latest(t, s, kant.RunFilter{Limit: 3}), all[:3])
	checkRuns(t, "limit over all", latest(t, s, kant.RunFilter{Limit: 20}), all)
	checkRuns(t, "limit with a glob", latest(t, s, kant.RunFilter{Jobs: []string{"*/j1"}, Limit: 2}), []kant.Run{all[1], all[4]})
	checkRuns(t, "limit with a prefix", latest(t, s, kant.RunFilter{Jobs: []string{"hegel/j2*"}, Limit: 2}), []kant.Run{all[2], all[5]})
}

func jobs(t *testing.T, s store.Store) {
	// hegel/a: its first observation, queued, is its earliest At although
	// the run's latest observation starts later.
	queued := obs("hegel/a", "r1", kant.StateQueued, at(-10*time.Minute))
	queued.StartedAt = time.Time{}
	running := obs("hegel/a", "r1", kant.StateRunning, at(time.Minute))
	running.LogicalDate = date("2026-06-01")
	older := obs("hegel/a", "r0", kant.StateSucceeded, at(2*time.Minute))
	older.StartedAt, older.LogicalDate = at(5*time.Minute), date("2026-05-31")
	// socrates/b: no logical dates; its earliest At is a finish time.
	finished := obs("socrates/b", "r1", kant.StateFailed, at(time.Hour))
	finished.StartedAt, finished.FinishedAt = time.Time{}, at(30*time.Minute)
	write(t, s, running, finished)
	write(t, s, queued, older)
	got, err := s.Jobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []kant.JobInfo{
		{Key: "hegel/a", FirstAt: at(-10 * time.Minute), FirstDate: date("2026-05-31")},
		{Key: "socrates/b", FirstAt: at(30 * time.Minute)},
	}
	if len(got) != len(want) {
		t.Fatalf("Jobs = %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i].Key != want[i].Key || !got[i].FirstAt.Equal(want[i].FirstAt) || got[i].FirstDate != want[i].FirstDate ||
			got[i].FirstAt.Location() != time.UTC {
			t.Errorf("Jobs[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func timesRoundTrip(t *testing.T, s store.Store) {
	tokyo := time.FixedZone("JST", 9*60*60)
	r := obs("hegel/export", "jr_1", kant.StateSucceeded, time.Date(2026, 6, 1, 10, 5, 0, 999_999_999, tokyo))
	r.StartedAt = time.Date(2026, 6, 1, 10, 0, 0, 1, tokyo)
	r.FinishedAt = time.Date(2026, 6, 1, 10, 4, 59, 123_456_789, tokyo)
	got := latest(t, s, kant.RunFilter{})
	if len(got) != 0 {
		t.Fatal("store not empty")
	}
	write(t, s, r)
	got = latest(t, s, kant.RunFilter{})
	if len(got) != 1 {
		t.Fatalf("got %d runs, want 1", len(got))
	}
	for name, pair := range map[string][2]time.Time{
		"started_at":  {got[0].StartedAt, r.StartedAt},
		"finished_at": {got[0].FinishedAt, r.FinishedAt},
		"observed_at": {got[0].ObservedAt, r.ObservedAt},
	} {
		if !pair[0].Equal(pair[1]) || pair[0].Location() != time.UTC || pair[0].Nanosecond() != pair[1].Nanosecond() {
			t.Errorf("%s = %v, want %v in UTC", name, pair[0], pair[1].UTC())
		}
	}
	// A window bound one nanosecond after the start excludes the run.
	if got := latest(t, s, kant.RunFilter{From: r.StartedAt.Add(time.Nanosecond)}); len(got) != 0 {
		t.Errorf("From a nanosecond after the start still selects the run")
	}
	if got := latest(t, s, kant.RunFilter{From: r.StartedAt, To: r.StartedAt.Add(time.Nanosecond)}); len(got) != 1 {
		t.Errorf("a one-nanosecond window at the start does not select the run")
	}
}

func zeroRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := obs("hegel/export", "jr_1", kant.StateQueued, at(time.Minute))
	r.StartedAt, r.SourceState = time.Time{}, ""
	write(t, s, r)
	got := latest(t, s, kant.RunFilter{})
	if len(got) != 1 || !got[0].StartedAt.IsZero() || !got[0].FinishedAt.IsZero() || !got[0].LogicalDate.IsZero() ||
		got[0].SourceState != "" || got[0].ErrorMessage != "" || len(got[0].Attributes) != 0 {
		t.Errorf("run with zero fields came back as %+v", got)
	}

	res := result("slo", "hegel/export", "2026-06-01", 0)
	res.SucceededAt, res.Reason, res.Lateness = time.Time{}, kant.ReasonNone, 0
	if err := s.WriteEvaluation(ctx, kant.Evaluation{SLO: "slo", From: res.Date, To: res.Date, Results: []kant.Result{res}}); err != nil {
		t.Fatal(err)
	}
	results, err := s.Results(ctx, kant.ResultFilter{})
	if err != nil || len(results) != 1 || !results[0].SucceededAt.IsZero() || results[0].Reason != "" || results[0].Lateness != 0 {
		t.Errorf("result with zero fields came back as %+v, %v", results, err)
	}

	a := kant.Alert{ID: "stale/hegel", Kind: "stale", Status: "open", Channel: "#c", Text: "t", CreatedAt: t0, UpdatedAt: t0}
	if err := s.PutAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	alerts, err := s.Alerts(ctx, kant.AlertFilter{})
	if err != nil || len(alerts) != 1 || !alerts[0].SentAt.IsZero() || !alerts[0].Date.IsZero() || alerts[0].Job != "" || alerts[0].SLO != "" {
		t.Errorf("alert with zero fields came back as %+v, %v", alerts, err)
	}

	if err := s.RecordPoll(ctx, "hegel", t0, "unreachable"); err != nil {
		t.Fatal(err)
	}
	health, err := s.SourceHealth(ctx)
	if err != nil || len(health) != 1 || !health[0].LastSuccess.IsZero() {
		t.Errorf("health of a source never polled successfully came back as %+v, %v", health, err)
	}
}

func textRoundTrip(t *testing.T, s store.Store) {
	r := obs("onprem/レポート", "実行-1", kant.StateFailed, at(time.Minute))
	r.SourceState = "ÉCHEC"
	r.MaxAttempts = 4
	r.ErrorMessage = "Traceback (most recent call last):\n\t\"quoted\" \\ back-slash, tab\t, emoji 🚀, NUL-free, 日本語"
	r.Attributes = map[string]string{
		"--target_date": "2026-05-31",
		"ключ":          "значение \"в кавычках\"",
		"empty":         "",
		"json":          `{"a":[1,2]}`,
		"ctl":           "\x01\x1f",
	}
	write(t, s, r)
	got := latest(t, s, kant.RunFilter{Jobs: []string{"onprem/レ*"}})
	checkRuns(t, "stored", got, []kant.Run{r})
	if len(got) == 1 && !maps.Equal(got[0].Attributes, r.Attributes) {
		t.Errorf("attributes = %q, want %q", got[0].Attributes, r.Attributes)
	}
}

// result returns a result of job under slo on day, its deadline at 06:00
// UTC and its expected time hour hours after midnight.
func result(slo string, job kant.JobKey, day string, hour int) kant.Result {
	d := date(day)
	mid := d.In(time.UTC)
	return kant.Result{
		Occurrence: kant.Occurrence{
			SLO: slo, Job: job, Date: d,
			ExpectedAt: mid.Add(time.Duration(hour) * time.Hour),
			Deadline:   mid.Add(6 * time.Hour),
			RecoverBy:  mid.Add(23*time.Hour + 59*time.Minute),
		},
		Verdict:     kant.VerdictLate,
		SucceededAt: mid.Add(6*time.Hour + 30*time.Minute + 250*time.Millisecond),
		Lateness:    30*time.Minute + 250*time.Millisecond,
		Runs:        2,
		EvaluatedAt: mid.Add(7 * time.Hour),
	}
}

func day(slo, d string) kant.Day {
	return kant.Day{
		SLO: slo, Date: date(d), Occurrences: 4, Met: 2, Late: 1, Missed: 1, Pending: 0,
		SLOMet: false, SLAMet: true, Final: true, EvaluatedAt: date(d).In(time.UTC).Add(7*time.Hour + time.Nanosecond),
	}
}

func evaluate(t *testing.T, s store.Store, e kant.Evaluation) {
	t.Helper()
	if err := s.WriteEvaluation(context.Background(), e); err != nil {
		t.Fatalf("WriteEvaluation: %v", err)
	}
}

func results(t *testing.T, s store.Store, f kant.ResultFilter) []kant.Result {
	t.Helper()
	got, err := s.Results(context.Background(), f)
	if err != nil {
		t.Fatalf("Results(%+v): %v", f, err)
	}
	return got
}

func days(t *testing.T, s store.Store, f kant.ResultFilter) []kant.Day {
	t.Helper()
	got, err := s.Days(context.Background(), f)
	if err != nil {
		t.Fatalf("Days(%+v): %v", f, err)
	}
	return got
}

func sameResult(a, b kant.Result) bool {
	return a.SLO == b.SLO && a.Job == b.Job && a.Date == b.Date &&
		a.ExpectedAt.Equal(b.ExpectedAt) && a.Deadline.Equal(b.Deadline) && a.RecoverBy.Equal(b.RecoverBy) &&
		a.Verdict == b.Verdict && a.Reason == b.Reason && a.SucceededAt.Equal(b.SucceededAt) &&
		a.Lateness == b.Lateness && a.Runs == b.Runs && a.EvaluatedAt.Equal(b.EvaluatedAt)
}

func checkResults(t *testing.T, what string, got, want []kant.Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d results, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if !sameResult(got[i], want[i]) {
			t.Errorf("%s [%d]:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
		for _, tm := range []time.Time{got[i].ExpectedAt, got[i].Deadline, got[i].RecoverBy, got[i].SucceededAt, got[i].EvaluatedAt} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("%s [%d]: time %v not in UTC", what, i, tm)
			}
		}
	}
}

func sameDay(a, b kant.Day) bool {
	ea, eb := a.EvaluatedAt, b.EvaluatedAt
	a.EvaluatedAt, b.EvaluatedAt = time.Time{}, time.Time{}
	return a == b && ea.Equal(eb)
}

func checkDays(t *testing.T, what string, got, want []kant.Day) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d days, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if !sameDay(got[i], want[i]) {
			t.Errorf("%s [%d]:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

func evaluationRoundTrip(t *testing.T, s store.Store) {
	missed := result("hegel-nightly", "hegel/export", "2026-06-01", 1)
	missed.Verdict, missed.Reason, missed.SucceededAt, missed.Runs = kant.VerdictMissed, kant.ReasonFailed, time.Time{}, 0
	late := result("hegel-nightly", "hegel/import", "2026-06-01", 1)
	d := day("hegel-nightly", "2026-06-01")
	evaluate(t, s, kant.Evaluation{SLO: "hegel-nightly", From: d.Date, To: d.Date, Results: []kant.Result{missed, late}, Days: []kant.Day{d}})
	checkResults(t, "results", results(t, s, kant.ResultFilter{}), []kant.Result{missed, late})
	checkDays(t, "days", days(t, s, kant.ResultFilter{}), []kant.Day{d})
	other := day("hegel-nightly", "2026-06-02")
	other.SLOMet, other.SLAMet, other.Final, other.Met, other.Late, other.Missed, other.Pending = true, false, false, 0, 0, 0, 4
	evaluate(t, s, kant.Evaluation{SLO: "hegel-nightly", From: other.Date, To: other.Date, Days: []kant.Day{other}})
	checkDays(t, "days", days(t, s, kant.ResultFilter{}), []kant.Day{d, other})
}

func evaluationReplacesRange(t *testing.T, s store.Store) {
	var first []kant.Result
	var firstDays []kant.Day
	for _, d := range []string{"2026-06-01", "2026-06-02", "2026-06-03"} {
		first = append(first, result("a", "hegel/x", d, 1), result("a", "hegel/y", d, 1))
		firstDays = append(firstDays, day("a", d))
	}
	evaluate(t, s, kant.Evaluation{SLO: "a", From: date("2026-06-01"), To: date("2026-06-03"), Results: first, Days: firstDays})
	otherSLO := result("b", "hegel/x", "2026-06-02", 1)
	evaluate(t, s, kant.Evaluation{SLO: "b", From: date("2026-06-02"), To: date("2026-06-02"),
		Results: []kant.Result{otherSLO}, Days: []kant.Day{day("b", "2026-06-02")}})

	// Re-evaluating 06-02..06-03: hegel/y no longer has occurrences there,
	// hegel/x became met.
	met2 := result("a", "hegel/x", "2026-06-02", 1)
	met2.Verdict, met2.Lateness = kant.VerdictMet, 0
	met3 := result("a", "hegel/x", "2026-06-03", 1)
	met3.Verdict, met3.Lateness = kant.VerdictMet, 0
	d2, d3 := day("a", "2026-06-02"), day("a", "2026-06-03")
	d2.SLOMet, d3.SLOMet = true, true
	evaluate(t, s, kant.Evaluation{SLO: "a", From: date("2026-06-02"), To: date("2026-06-03"),
		Results: []kant.Result{met2, met3}, Days: []kant.Day{d2, d3}})

	checkResults(t, "results", results(t, s, kant.ResultFilter{}),
		[]kant.Result{first[0], first[1], met2, otherSLO, met3})
	checkDays(t, "days", days(t, s, kant.ResultFilter{}),
		[]kant.Day{firstDays[0], d2, d3, day("b", "2026-06-02")})

	// An evaluation with no results empties its range.
	evaluate(t, s, kant.Evaluation{SLO: "a", From: date("2026-06-03"), To: date("2026-06-03")})
	checkResults(t, "after an empty evaluation", results(t, s, kant.ResultFilter{SLO: "a"}), []kant.Result{first[0], first[1], met2})
	checkDays(t, "days after an empty evaluation", days(t, s, kant.ResultFilter{SLO: "a"}), []kant.Day{firstDays[0], d2})
}

func evaluationRestricted(t *testing.T, s store.Store) {
	x := result("a", "hegel/x", "2026-06-01", 1)
	y := result("a", "hegel/y", "2026-06-01", 1)
	z := result("a", "hegel/z", "2026-06-01", 1)
	evaluate(t, s, kant.Evaluation{SLO: "a", From: x.Date, To: x.Date, Results: []kant.Result{x, y, z}, Days: []kant.Day{day("a", "2026-06-01")}})
	x2 := x
	x2.Verdict, x2.Lateness = kant.VerdictMet, 0
	d := day("a", "2026-06-01")
	d.Met, d.Late = 3, 0
	// y is re-evaluated and has no occurrence any more; z is not touched.
	evaluate(t, s, kant.Evaluation{SLO: "a", From: x.Date, To: x.Date, Jobs: []kant.JobKey{"hegel/x", "hegel/y"},
		Results: []kant.Result{x2}, Days: []kant.Day{d}})
	checkResults(t, "results", results(t, s, kant.ResultFilter{}), []kant.Result{x2, z})
	checkDays(t, "days", days(t, s, kant.ResultFilter{}), []kant.Day{d})
}

func evaluationOpenBounds(t *testing.T, s store.Store) {
	a1 := result("a", "hegel/x", "2026-06-01", 1)
	a2 := result("a", "hegel/x", "2026-07-01", 1)
	b1 := result("b", "hegel/x", "2026-06-01", 1)
	evaluate(t, s, kant.Evaluation{SLO: "a", Results: []kant.Result{a1, a2}, Days: []kant.Day{day("a", "2026-06-01"), day("a", "2026-07-01")}})
	evaluate(t, s, kant.Evaluation{SLO: "b", Results: []kant.Result{b1}})
	evaluate(t, s, kant.Evaluation{SLO: "a", From: date("2026-06-15"), Results: nil})
	checkResults(t, "after From only", results(t, s, kant.ResultFilter{}), []kant.Result{a1, b1})
	checkDays(t, "days after From only", days(t, s, kant.ResultFilter{}), []kant.Day{day("a", "2026-06-01")})
	evaluate(t, s, kant.Evaluation{SLO: "a"})
	checkResults(t, "after no bounds", results(t, s, kant.ResultFilter{}), []kant.Result{b1})
	checkDays(t, "days after no bounds", days(t, s, kant.ResultFilter{}), nil)
}

func evaluationInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	in := result("a", "hegel/x", "2026-06-01", 1)
	evaluate(t, s, kant.Evaluation{SLO: "a", From: in.Date, To: in.Date, Results: []kant.Result{in}})
	out := result("a", "hegel/x", "2026-06-02", 1)
	otherSLO := result("b", "hegel/x", "2026-06-01", 2)
	otherJob := result("a", "hegel/y", "2026-06-01", 2)
	for name, e := range map[string]kant.Evaluation{
		"a result after To":          {SLO: "a", From: in.Date, To: in.Date, Results: []kant.Result{in, out}},
		"a result of another SLO":    {SLO: "a", From: in.Date, To: in.Date, Results: []kant.Result{otherSLO}},
		"a result of another job":    {SLO: "a", From: in.Date, To: in.Date, Jobs: []kant.JobKey{"hegel/x"}, Results: []kant.Result{otherJob}},
		"a day before From":          {SLO: "a", From: out.Date, To: out.Date, Days: []kant.Day{day("a", "2026-06-01")}},
		"a day of another SLO":       {SLO: "a", From: in.Date, To: in.Date, Days: []kant.Day{day("b", "2026-06-01")}},
		"no SLO":                     {From: in.Date, To: in.Date},
		"From after To":              {SLO: "a", From: out.Date, To: in.Date},
		"a result without a date":    {SLO: "a", Results: []kant.Result{{Occurrence: kant.Occurrence{SLO: "a", Job: "hegel/x", ExpectedAt: t0}, Verdict: kant.VerdictMet}}},
		"a result without a job":     {SLO: "a", Results: []kant.Result{{Occurrence: kant.Occurrence{SLO: "a", Date: in.Date, ExpectedAt: t0}, Verdict: kant.VerdictMet}}},
		"a result without expected":  {SLO: "a", Results: []kant.Result{{Occurrence: kant.Occurrence{SLO: "a", Job: "hegel/x", Date: in.Date}, Verdict: kant.VerdictMet}}},
		"a result without a verdict": {SLO: "a", Results: []kant.Result{{Occurrence: kant.Occurrence{SLO: "a", Job: "hegel/x", Date: in.Date, ExpectedAt: t0}}}},
	} {
		if err := s.WriteEvaluation(ctx, e); kant.ErrorCode(err) != kant.EINVALID {
			t.Errorf("%s: error %v, want an EINVALID error", name, err)
		}
	}
	checkResults(t, "results", results(t, s, kant.ResultFilter{}), []kant.Result{in})
}

func resultsFilter(t *testing.T, s store.Store) {
	var all []kant.Result
	for _, slo := range []string{"b", "a"} {
		var rs []kant.Result
		for _, d := range []string{"2026-06-02", "2026-06-01", "2026-06-03"} {
			for _, job := range []kant.JobKey{"socrates/z", "hegel/y", "hegel/x"} {
				early := result(slo, job, d, 1)
				if job == "hegel/y" { // met: the others are late
					early.Verdict, early.SucceededAt, early.Lateness = kant.VerdictMet, early.Deadline.Add(-time.Hour), 0
				}
				rs = append(rs, result(slo, job, d, 5), early)
			}
		}
		evaluate(t, s, kant.Evaluation{SLO: slo, Results: rs})
		all = append(all, rs...)
	}
	want := func(keep func(kant.Result) bool) []kant.Result {
		var out []kant.Result
		for _, r := range all {
			if keep(r) {
				out = append(out, r)
			}
		}
		slices.SortFunc(out, func(a, b kant.Result) int {
			if c := a.Date.Compare(b.Date); c != 0 {
				return c
			}
			if a.SLO != b.SLO {
				return strings.Compare(a.SLO, b.SLO)
			}
			if a.Job != b.Job {
				return strings.Compare(string(a.Job), string(b.Job))
			}
			return a.ExpectedAt.Compare(b.ExpectedAt)
		})
		return out
	}
	for _, tc := range []struct {
		name string
		f    kant.ResultFilter
		keep func(kant.Result) bool
	}{
		{"all", kant.ResultFilter{}, func(kant.Result) bool { return true }},
		{"one SLO", kant.ResultFilter{SLO: "a"}, func(r kant.Result) bool { return r.SLO == "a" }},
		{"one date", kant.ResultFilter{From: date("2026-06-02"), To: date("2026-06-02")}, func(r kant.Result) bool { return r.Date == date("2026-06-02") }},
		{"from", kant.ResultFilter{From: date("2026-06-02")}, func(r kant.Result) bool { return !r.Date.Before(date("2026-06-02")) }},
		{"to", kant.ResultFilter{To: date("2026-06-02")}, func(r kant.Result) bool { return !r.Date.After(date("2026-06-02")) }},
		{"job glob", kant.ResultFilter{Jobs: []string{"hegel/*"}}, func(r kant.Result) bool { return r.Job.Source() == "hegel" }},
		{"exact job and SLO", kant.ResultFilter{SLO: "b", Jobs: []string{"hegel/x"}}, func(r kant.Result) bool { return r.SLO == "b" && r.Job == "hegel/x" }},
		{"jobs by ?", kant.ResultFilter{Jobs: []string{"*/?"}, To: date("2026-06-01")}, func(r kant.Result) bool { return r.Date == date("2026-06-01") }},
		{"no such SLO", kant.ResultFilter{SLO: "c"}, func(kant.Result) bool { return false }},
		{"not met", kant.ResultFilter{Unmet: true}, func(r kant.Result) bool { return r.Verdict != kant.VerdictMet }},
		{"not met, one job, one date", kant.ResultFilter{Unmet: true, Jobs: []string{"hegel/y"}, From: date("2026-06-02"), To: date("2026-06-02")},
			func(r kant.Result) bool {
				return r.Verdict != kant.VerdictMet && r.Job == "hegel/y" && r.Date == date("2026-06-02")
			}},
	} {
		checkResults(t, tc.name, results(t, s, tc.f), want(tc.keep))
	}
}

func daysFilter(t *testing.T, s store.Store) {
	for _, slo := range []string{"b", "a"} {
		evaluate(t, s, kant.Evaluation{SLO: slo, Days: []kant.Day{day(slo, "2026-06-03"), day(slo, "2026-06-01"), day(slo, "2026-06-02")}})
	}
	checkDays(t, "all", days(t, s, kant.ResultFilter{}), []kant.Day{
		day("a", "2026-06-01"), day("a", "2026-06-02"), day("a", "2026-06-03"),
		day("b", "2026-06-01"), day("b", "2026-06-02"), day("b", "2026-06-03"),
	})
	checkDays(t, "one SLO, dates", days(t, s, kant.ResultFilter{SLO: "b", From: date("2026-06-02"), To: date("2026-06-03")}),
		[]kant.Day{day("b", "2026-06-02"), day("b", "2026-06-03")})
	checkDays(t, "to", days(t, s, kant.ResultFilter{To: date("2026-06-01")}), []kant.Day{day("a", "2026-06-01"), day("b", "2026-06-01")})
	checkDays(t, "jobs do not apply to days", days(t, s, kant.ResultFilter{SLO: "a", From: date("2026-06-03"), Jobs: []string{"nobody/*"}}),
		[]kant.Day{day("a", "2026-06-03")})
}

func health(t *testing.T, s store.Store) []kant.SourceHealth {
	t.Helper()
	h, err := s.SourceHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sameHealth(a, b kant.SourceHealth) bool {
	return a.Source == b.Source && a.LastSuccess.Equal(b.LastSuccess) && a.LastAttempt.Equal(b.LastAttempt) &&
		a.LastError == b.LastError && a.ConsecutiveFailures == b.ConsecutiveFailures &&
		(a.LastAttempt.IsZero() || a.LastAttempt.Location() == time.UTC)
}

func pollCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	steps := []struct {
		at   time.Time
		err  string
		want kant.SourceHealth
	}{
		{at(0), "", kant.SourceHealth{Source: "hegel", LastSuccess: at(0), LastAttempt: at(0)}},
		{at(time.Minute), "throttled", kant.SourceHealth{Source: "hegel", LastSuccess: at(0), LastAttempt: at(time.Minute), LastError: "throttled", ConsecutiveFailures: 1}},
		{at(2 * time.Minute), "timeout: 日本", kant.SourceHealth{Source: "hegel", LastSuccess: at(0), LastAttempt: at(2 * time.Minute), LastError: "timeout: 日本", ConsecutiveFailures: 2}},
		{at(3*time.Minute + 5), "", kant.SourceHealth{Source: "hegel", LastSuccess: at(3*time.Minute + 5), LastAttempt: at(3*time.Minute + 5)}},
		{at(4 * time.Minute), "again", kant.SourceHealth{Source: "hegel", LastSuccess: at(3*time.Minute + 5), LastAttempt: at(4 * time.Minute), LastError: "again", ConsecutiveFailures: 1}},
	}
	for i, step := range steps {
		if err := s.RecordPoll(ctx, "hegel", step.at, step.err); err != nil {
			t.Fatal(err)
		}
		if h := health(t, s); len(h) != 1 || !sameHealth(h[0], step.want) {
			t.Errorf("after poll %d: %+v, want %+v", i, h, step.want)
		}
	}
	// The first poll of a source can fail.
	if err := s.RecordPoll(ctx, "socrates", at(0), "403"); err != nil {
		t.Fatal(err)
	}
	want := kant.SourceHealth{Source: "socrates", LastAttempt: at(0), LastError: "403", ConsecutiveFailures: 1}
	if h := health(t, s); len(h) != 2 || !sameHealth(h[1], want) {
		t.Errorf("a first failed poll: %+v, want %+v", h, want)
	}
}

func checkpoints(t *testing.T, s store.Store) {
	ctx := context.Background()
	get := func(source, key string) string {
		t.Helper()
		v, err := s.Checkpoint(ctx, source, key)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := get("hegel", "export"); v != "" {
		t.Errorf("unset checkpoint = %q, want empty", v)
	}
	for _, v := range []string{`{"run":"jr_1"}`, `{"run":"jr_2"}`} {
		if err := s.SetCheckpoint(ctx, "hegel", "export", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetCheckpoint(ctx, "socrates", "export", "other"); err != nil {
		t.Fatal(err)
	}
	if v := get("hegel", "export"); v != `{"run":"jr_2"}` {
		t.Errorf("checkpoint = %q, want the last value set", v)
	}
	if v := get("socrates", "export"); v != "other" {
		t.Errorf("another source's checkpoint = %q", v)
	}
	if err := s.SetCheckpoint(ctx, "", "export", "x"); kant.ErrorCode(err) != kant.EINVALID {
		t.Errorf("a checkpoint without a source: %v, want EINVALID", err)
	}
}

func pollOrder(t *testing.T, s store.Store) {
	for _, src := range []string{"socrates", "hegel", "onprem"} {
		if err := s.RecordPoll(context.Background(), src, t0, ""); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, h := range health(t, s) {
		names = append(names, h.Source)
	}
	if !slices.Equal(names, []string{"hegel", "onprem", "socrates"}) {
		t.Errorf("sources %v, want them by name", names)
	}
}
