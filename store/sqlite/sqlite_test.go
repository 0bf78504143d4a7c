package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/internal/backend"
	"github.com/kantproject/kant/store/storetest"
)

func openTemp(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTemp(t, filepath.Join(t.TempDir(), "kant.db"))
	})
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTemp(t, ":memory:")
	})
}

// TestTwoProcessesOnOneFileFollowEachOther checks store.Follower with two
// handles on one file, as two kant serve processes on one host have.
func TestTwoProcessesOnOneFileFollowEachOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kant.db")
	a := openTemp(t, path)
	b := openTemp(t, path)
	t.Cleanup(func() { a.Close(); b.Close() })
	storetest.RunFollower(t, a, b)
}

// TestTwoProcessesOnOneFileShareOneLease checks that the lease is one for
// every handle on the file: two processes racing get one leader.
func TestTwoProcessesOnOneFileShareOneLease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kant.db")
	a := openTemp(t, path)
	b := openTemp(t, path)
	t.Cleanup(func() { a.Close(); b.Close() })
	ctx := context.Background()
	la, err := a.AcquireLease(ctx, kant.LeaderLease, "a", t0, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.AcquireLease(ctx, kant.LeaderLease, "b", t0.Add(time.Second), 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !la.HeldBy("a", t0) || lb.HeldBy("b", t0.Add(time.Second)) || lb.Holder != "a" {
		t.Errorf("a got %+v, b got %+v: want a alone", la, lb)
	}
	// b's fenced write, with a generation it never held, is refused once
	// b takes over and a tries to write with its old one.
	lb, _ = b.AcquireLease(ctx, kant.LeaderLease, "b", t0.Add(20*time.Second), 15*time.Second)
	if err := a.Fenced(kant.Fence{Lease: kant.LeaderLease, Generation: la.Generation}).SetCheckpoint(ctx, "s", "k", "v"); !errors.Is(err, kant.ErrFenced) {
		t.Errorf("a's write after b took over (generation %d): %v, want fenced", lb.Generation, err)
	}
}

var t0 = time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)

func run(job kant.JobKey, runID string, state kant.State, observed time.Time) kant.Run {
	return kant.Run{Source: job.Source(), Job: job, RunID: runID, Attempt: 1, State: state, StartedAt: t0, ObservedAt: observed}
}

func count(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, path := range []string{"", "kant.db?mode=ro", "file:kant.db"} {
		if db, err := Open(context.Background(), Config{Path: path}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestOpenSetsPragmas(t *testing.T) {
	db := openTemp(t, filepath.Join(t.TempDir(), "kant.db"))
	defer db.Close()
	for _, tc := range []struct {
		conn  *sql.DB
		query string
		want  string
	}{
		{db.write, "PRAGMA journal_mode", "wal"},
		{db.write, "PRAGMA busy_timeout", "5000"},
		{db.write, "PRAGMA foreign_keys", "1"},
		{db.write, "PRAGMA synchronous", "1"},
		{db.read, "PRAGMA journal_mode", "wal"},
		{db.read, "PRAGMA busy_timeout", "5000"},
		{db.read, "PRAGMA query_only", "1"},
	} {
		var got string
		if err := tc.conn.QueryRowContext(context.Background(), tc.query).Scan(&got); err != nil || got != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.query, got, err, tc.want)
		}
	}
}

func TestMigrationsAreNumberedFromOne(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("migrations = %v", ms)
	}
}

func TestMigrationsAreAppliedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kant.db")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		logs.Reset()
		db, err := Open(context.Background(), Config{Path: path, Logger: logger, Now: func() time.Time { return t0 }})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		applied := strings.Count(logs.String(), "applied schema migration")
		if want := map[bool]int{true: len(ms), false: 0}[i == 0]; applied != want {
			t.Errorf("open %d applied %d migrations, want %d; log:\n%s", i, applied, want, logs.String())
		}
		if n := count(t, db, `SELECT count(*) FROM schema_migrations`); n != len(ms) {
			t.Errorf("open %d: schema_migrations has %d rows, want %d", i, n, len(ms))
		}
		var at string
		if err := db.read.QueryRow(`SELECT applied_at FROM schema_migrations WHERE version = 1`).Scan(&at); err != nil || at != "2026-06-01T01:00:00.000000000Z" {
			t.Errorf("applied_at = %q, %v; want the injected clock's time", at, err)
		}
		db.Close()
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kant.db")
	db := openTemp(t, path)
	if _, err := db.write.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', '2030-01-01T00:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), Config{Path: path})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer database: %v, want ErrNewerSchema", err)
	}
	if !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the version and the file", err)
	}
}

func TestDataSurvivesReopening(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kant.db")
	db := openTemp(t, path)
	r := run("hegel/export", "jr_1", kant.StateSucceeded, t0.Add(time.Hour))
	r.LogicalDate = kant.Date{Year: 2026, Month: 6, Day: 1}
	if _, err := db.WriteRuns(ctx, []kant.Run{r}); err != nil {
		t.Fatal(err)
	}
	res := kant.Result{Occurrence: kant.Occurrence{SLO: "s", Job: r.Job, Date: r.LogicalDate, ExpectedAt: t0, Deadline: t0.Add(5 * time.Hour)}, Verdict: kant.VerdictMet}
	if err := db.WriteEvaluation(ctx, kant.Evaluation{SLO: "s", Results: []kant.Result{res}, Days: []kant.Day{{SLO: "s", Date: r.LogicalDate, Occurrences: 1, Met: 1, SLOMet: true}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutAlert(ctx, kant.Alert{ID: "a", Status: "open", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordPoll(ctx, "hegel", t0, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openTemp(t, path)
	defer db.Close()
	runs, err := db.LatestRuns(ctx, kant.RunFilter{})
	if err != nil || len(runs) != 1 || !runs[0].SameObservation(r) {
		t.Errorf("runs after reopening: %+v, %v", runs, err)
	}
	results, err := db.Results(ctx, kant.ResultFilter{})
	if err != nil || len(results) != 1 {
		t.Errorf("results after reopening: %+v, %v", results, err)
	}
	days, err := db.Days(ctx, kant.ResultFilter{})
	if err != nil || len(days) != 1 || !days[0].SLOMet {
		t.Errorf("days after reopening: %+v, %v", days, err)
	}
	alerts, err := db.Alerts(ctx, kant.AlertFilter{OpenOnly: true})
	if err != nil || len(alerts) != 1 {
		t.Errorf("alerts after reopening: %+v, %v", alerts, err)
	}
	health, err := db.SourceHealth(ctx)
	if err != nil || len(health) != 1 || !health[0].LastSuccess.Equal(t0) {
		t.Errorf("source health after reopening: %+v, %v", health, err)
	}
	jobs, err := db.Jobs(ctx)
	if err != nil || len(jobs) != 1 {
		t.Errorf("jobs after reopening: %+v, %v", jobs, err)
	}
}

// TestConcurrentWritesAndReads writes from several goroutines and a second
// handle on the same file (as kant import beside kant serve would) while
// others read: nothing may fail with SQLITE_BUSY.
func TestConcurrentWritesAndReads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kant.db")
	db := openTemp(t, path)
	defer db.Close()
	other := openTemp(t, path)
	defer other.Close()

	const writers, batches, perBatch = 4, 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			s := db
			if w == 0 {
				s = other
			}
			for b := range batches {
				var batch []kant.Run
				for i := range perBatch {
					r := run(kant.JobKey(fmt.Sprintf("hegel/job_%d", i%5)), fmt.Sprintf("w%d-b%d-r%d", w, b, i), kant.StateRunning, t0.Add(time.Duration(b)*time.Minute))
					batch = append(batch, r)
				}
				if w == 1 && b%2 == 0 {
					seq := func(yield func(kant.Run, error) bool) {
						for _, r := range batch {
							if !yield(r, nil) {
								return
							}
						}
					}
					if _, err := s.ImportRuns(ctx, seq, nil); err != nil {
						errs <- fmt.Errorf("import: %w", err)
					}
				} else if _, err := s.WriteRuns(ctx, batch); err != nil {
					errs <- fmt.Errorf("write: %w", err)
				}
				if err := s.RecordPoll(ctx, fmt.Sprint("source", w), t0, ""); err != nil {
					errs <- fmt.Errorf("poll: %w", err)
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 3 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.LatestRuns(ctx, kant.RunFilter{Jobs: []string{"hegel/*"}, Limit: 50}); err != nil {
					errs <- fmt.Errorf("read: %w", err)
					return
				}
				if _, err := other.Jobs(ctx); err != nil {
					errs <- fmt.Errorf("jobs: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(t, db, `SELECT count(*) FROM job_runs`); n != writers*batches*perBatch {
		t.Errorf("stored %d observations, want %d", n, writers*batches*perBatch)
	}
	if n := count(t, db, `SELECT count(*) FROM run_current`); n != writers*batches*perBatch {
		t.Errorf("run_current has %d runs, want %d", n, writers*batches*perBatch)
	}
}

// TestLatestView checks the job_runs_latest view against its definition:
// the newest observation of every run by observed_at, then id.
func TestLatestView(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, filepath.Join(t.TempDir(), "kant.db"))
	defer db.Close()
	var runs []kant.Run
	for i := range 60 {
		r := run(kant.JobKey(fmt.Sprintf("hegel/job_%d", i%4)), fmt.Sprint("r", i%15), kant.StateRunning, t0.Add(time.Duration(i%7)*time.Minute))
		r.Attempt = 1 + i%2
		r.SourceState = fmt.Sprint("S", i) // every observation differs
		runs = append(runs, r)
	}
	// In several transactions, some observed before what is already stored.
	for b := range 3 {
		if _, err := db.WriteRuns(ctx, runs[b*20:(b+1)*20]); err != nil {
			t.Fatal(err)
		}
	}
	const byDefinition = `SELECT id FROM (
	SELECT id, row_number() OVER (PARTITION BY job, run_id, attempt ORDER BY observed_at DESC, id DESC) AS rn
	FROM job_runs
) WHERE rn = 1 ORDER BY id`
	ids := func(q string) []int64 {
		rows, err := db.read.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	want := ids(byDefinition)
	got := ids(`SELECT id FROM job_runs_latest ORDER BY id`)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("job_runs_latest ids %v, want %v", got, want)
	}
	latest, err := db.LatestRuns(ctx, kant.RunFilter{})
	if err != nil || len(latest) != len(want) {
		t.Fatalf("LatestRuns returned %d runs, %v; want %d", len(latest), err, len(want))
	}
	var n int
	if err := db.read.QueryRow(`SELECT count(*) FROM job_runs_latest l JOIN job_runs r USING (id) WHERE l.state = r.state AND l.observed_at = r.observed_at`).Scan(&n); err != nil || n != len(want) {
		t.Errorf("view rows matching their observation: %d, %v", n, err)
	}
}

// TestBatchesWithRepeats writes batches long enough for multi-row
// statements, with repeats inside them and of stored observations.
func TestBatchesWithRepeats(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, filepath.Join(t.TempDir(), "kant.db"))
	defer db.Close()
	mk := func(i int) kant.Run {
		return run("hegel/export", fmt.Sprint("r", i), kant.StateRunning, t0.Add(time.Duration(i)*time.Second))
	}
	var first []kant.Run
	for i := range 20 {
		first = append(first, mk(i*3)) // r0, r3, r6, ...
	}
	if got, err := db.WriteRuns(ctx, first); err != nil || len(got) != 20 {
		t.Fatalf("first batch: %d new, %v", len(got), err)
	}
	var batch, want []kant.Run
	for i := range 60 {
		r := mk(i)
		batch = append(batch, r)
		if i%3 != 0 {
			want = append(want, r)
		}
		if i%5 == 0 {
			batch = append(batch, r) // a repeat within the batch
		}
	}
	got, err := db.WriteRuns(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(keysOf(got)) != fmt.Sprint(keysOf(want)) {
		t.Errorf("new observations %v, want %v", keysOf(got), keysOf(want))
	}
	if n := count(t, db, `SELECT count(*) FROM job_runs`); n != 60 {
		t.Errorf("stored %d observations, want 60", n)
	}
	latest, err := db.LatestRuns(ctx, kant.RunFilter{})
	if err != nil || len(latest) != 60 {
		t.Fatalf("LatestRuns: %d runs, %v", len(latest), err)
	}
	// Every run's current row points at its own observation.
	if n := count(t, db, `SELECT count(*) FROM job_runs_latest l JOIN job_runs r USING (id)`); n != 60 {
		t.Errorf("job_runs_latest has %d rows, want 60", n)
	}
	// The same, streamed.
	n, err := db.ImportRuns(ctx, func(yield func(kant.Run, error) bool) {
		for i := range 90 {
			if !yield(mk(i), nil) {
				return
			}
		}
	}, nil)
	if err != nil || n != 30 {
		t.Errorf("import: %d new, %v; want 30", n, err)
	}
}

func keysOf(runs []kant.Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.RunID)
	}
	return out
}

// TestImportPanicRollsBack checks that a panic in the sequence leaves no
// transaction open: the panic reaches the caller and the store still works.
func TestImportPanicRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, filepath.Join(t.TempDir(), "kant.db"))
	defer db.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		db.ImportRuns(ctx, func(yield func(kant.Run, error) bool) {
			for i := range 600 {
				if i == 500 {
					panic("boom")
				}
				if !yield(run("hegel/export", fmt.Sprint("r", i), kant.StateRunning, t0), nil) {
					return
				}
			}
		}, nil)
	}()
	if got, err := db.WriteRuns(ctx, []kant.Run{run("hegel/export", "after", kant.StateRunning, t0)}); err != nil || len(got) != 1 {
		t.Fatalf("write after the panic: %v, %v", got, err)
	}
	if n := count(t, db, `SELECT count(*) FROM job_runs`); n != 1 {
		t.Errorf("stored %d observations, want only the one written after the panic", n)
	}
}

// TestObservationHashIsStable pins the dedup hash: stored rows carry it, so
// a change would store every repeated observation again.
func TestObservationHashIsStable(t *testing.T) {
	r := kant.Run{
		Source: "hegel", Job: "hegel/export", RunID: "jr_1", Attempt: 2, MaxAttempts: 3, State: kant.StateFailed,
		SourceState: "FAILED", LogicalDate: kant.Date{Year: 2026, Month: 6, Day: 1},
		StartedAt: t0, FinishedAt: t0.Add(90*time.Second + 5), ErrorMessage: "boom",
		ObservedAt: t0.Add(time.Hour), Attributes: map[string]string{"b": "2", "a": "1"},
	}
	var e runEncoder
	x, err := e.encode(0, r)
	if err != nil {
		t.Fatal(err)
	}
	const wantHash, wantKey = int64(-8588024227229540925), int64(95997509214350297)
	if x.hash != wantHash || x.ref.key != wantKey || x.args[runArgs-1] != x.hash {
		t.Errorf("obs_hash = %d, run_key = %d; want %d, %d", x.hash, x.ref.key, wantHash, wantKey)
	}
	// ObservedAt and the time zone do not count; the attribute order cannot.
	r2 := r
	r2.ObservedAt = t0
	r2.StartedAt = r.StartedAt.In(time.FixedZone("JST", 9*3600))
	r2.Attributes = map[string]string{"a": "1", "b": "2"}
	x2, err := e.encode(1, r2)
	if err != nil {
		t.Fatal(err)
	}
	if x2.hash != x.hash {
		t.Error("the same observation hashes differently")
	}
}

func TestTimeText(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want any
	}{
		{time.Time{}, nil},
		{time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC), "2026-06-01T01:00:00.000000000Z"},
		{time.Date(2026, 6, 1, 10, 0, 0, 5, time.FixedZone("JST", 9*3600)), "2026-06-01T01:00:00.000000005Z"},
		{time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), "1999-12-31T23:59:59.999999999Z"},
	} {
		if got := formatTime(tc.t); got != tc.want {
			t.Errorf("formatTime(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	if err := backend.CheckTime("t", time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)); kant.ErrorCode(err) != kant.EINVALID {
		t.Errorf("a time in 1500: %v, want EINVALID", err)
	}
}

func TestJobFilter(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		where    string
		exact    bool
	}{
		{nil, "", true},
		{[]string{"*"}, "", true},
		{[]string{"*x"}, "", false},
		{[]string{"a/b"}, "(job = ?)", true},
		{[]string{"a/*"}, "((job >= ? AND job < ?))", true},
		{[]string{"a/*b"}, "((job >= ? AND job < ?))", false},
		{[]string{"a/?"}, "((job >= ? AND job < ?))", false},
		{[]string{"a/b", "c*"}, "((job >= ? AND job < ?) OR job = ?)", true},
		{[]string{"a/b", "a/c", "d"}, "(job IN (SELECT value FROM json_each(?)))", true},
		{[]string{"a/b", "*c"}, "", false},
	} {
		where, _, exact := jobFilter("job", tc.patterns)
		if where != tc.where || exact != tc.exact {
			t.Errorf("jobFilter(%q) = %q, %v; want %q, %v", tc.patterns, where, exact, tc.where, tc.exact)
		}
	}
}

// TestImportKeepsTheNewestAcrossFlushes imports more runs than the writer
// collects before it writes them to run_current, then observes some of
// them again while those are being written: later, earlier and at the same
// time as before. The newest observation of every run is current, a tie
// going to the later one.
func TestImportKeepsTheNewestAcrossFlushes(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, filepath.Join(t.TempDir(), "kant.db"))
	defer db.Close()
	const runs = flushRuns + 3000
	mk := func(i int, state kant.State, observed time.Duration) kant.Run {
		r := run(kant.JobKey(fmt.Sprintf("hegel/job_%d", i%500)), fmt.Sprint("r", i), state, t0.Add(observed))
		r.SourceState = string(state)
		return r
	}
	var all []kant.Run
	for i := range runs {
		all = append(all, mk(i, kant.StateRunning, time.Hour))
	}
	want := map[string]kant.State{}
	for i := range 9000 {
		var r kant.Run
		switch i % 3 {
		case 0: // observed later: current
			r = mk(i*7, kant.StateSucceeded, 2*time.Hour)
		case 1: // observed earlier: not current
			r = mk(i*7, kant.StateFailed, time.Minute)
		case 2: // observed at the same time, inserted later: current
			r = mk(i*7, kant.StateQueued, time.Hour)
		}
		if r.State != kant.StateFailed {
			want[r.RunID] = r.State
		}
		all = append(all, r)
	}
	n, err := db.ImportRuns(ctx, func(yield func(kant.Run, error) bool) {
		for _, r := range all {
			if !yield(r, nil) {
				return
			}
		}
	}, nil)
	if err != nil || n != len(all) {
		t.Fatalf("import: %d new, %v; want %d", n, err, len(all))
	}
	latest, err := db.LatestRuns(ctx, kant.RunFilter{})
	if err != nil || len(latest) != runs {
		t.Fatalf("LatestRuns: %d runs, %v; want %d", len(latest), err, runs)
	}
	wrong := 0
	for _, r := range latest {
		w, ok := want[r.RunID]
		if !ok {
			w = kant.StateRunning
		}
		if r.State != w {
			if wrong++; wrong <= 5 {
				t.Errorf("run %s is %s, want %s", r.RunID, r.State, w)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d runs have the wrong current observation", wrong)
	}
}
