package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/postgres"
	"github.com/kantproject/kant/store/postgres/pgtest"
	"github.com/kantproject/kant/store/storetest"
)

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{DSN: dsn})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, pgtest.Start(t))
	})
}

// TestTwoReplicasOnOneDatabaseFollowEachOther checks store.Follower with
// two Stores on one database, as two kant serve replicas have.
func TestTwoReplicasOnOneDatabaseFollowEachOther(t *testing.T) {
	dsn := pgtest.Start(t)
	a, b := open(t, dsn), open(t, dsn)
	t.Cleanup(func() { a.Close(); b.Close() })
	storetest.RunFollower(t, a, b)
}

// TestAFollowerNeverSkipsAnObservationCommittedLateWithALowerID holds a
// write transaction open (a lower id, committed last) while another
// replica writes and commits: the follower must not pass the open one.
func TestAFollowerNeverSkipsAnObservationCommittedLateWithALowerID(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	s := open(t, dsn)
	t.Cleanup(func() { s.Close() })
	_, cursor, err := s.ObservationsAfter(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	// A transaction of "another replica" inserts and stays open.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO job_runs (source, job, run_id, attempt, state, observed_ns, obs_hash)
VALUES ('hegel', 'hegel/a', 'slow', 1, 'running', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	write(t, s, run("fast", time.Minute))

	got, cursor, err := s.ObservationsAfter(ctx, cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("followed %v while an older transaction is open; want nothing yet", runIDs(got))
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, _, err = s.ObservationsAfter(ctx, cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	if ids := runIDs(got); ids != "slow fast" {
		t.Errorf("followed %q after the commit, want \"slow fast\" (transaction order)", ids)
	}
}

// TestTheEmptyCursorIsNowEvenWithATransactionOpen: what committed before
// the empty cursor is not returned, what commits after it is, though an
// older transaction was open when the cursor was taken.
func TestTheEmptyCursorIsNowEvenWithATransactionOpen(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	s := open(t, dsn)
	t.Cleanup(func() { s.Close() })
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO job_runs (source, job, run_id, attempt, state, observed_ns, obs_hash)
VALUES ('hegel', 'hegel/a', 'open', 1, 'running', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	write(t, s, run("before", time.Minute)) // committed, above the open transaction's id
	_, cursor, err := s.ObservationsAfter(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, run("after", 2*time.Minute))
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var seen []kant.Run
	for range 5 {
		var got []kant.Run
		if got, cursor, err = s.ObservationsAfter(ctx, cursor, 1); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, got...)
	}
	if ids := runIDs(seen); ids != "open after" {
		t.Errorf("followed %q, want \"open after\"", ids)
	}
}

// TestReplicasStartingAtOnceMigrateOnce opens several stores on a new
// database at the same time: each migration is applied once.
func TestReplicasStartingAtOnceMigrateOnce(t *testing.T) {
	dsn := pgtest.Start(t)
	var (
		mu   sync.Mutex
		logs bytes.Buffer
		wg   sync.WaitGroup
	)
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logs}, nil))
	stores := make([]*postgres.Store, 4)
	errs := make([]error, len(stores))
	start := make(chan struct{})
	for i := range stores {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(context.Background(), postgres.Config{DSN: dsn, Logger: logger})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	if n := strings.Count(logs.String(), "applied schema migration"); n != migrationCount(t) {
		t.Errorf("%d migrations applied by %d replicas, want %d:\n%s", n, len(stores), migrationCount(t), logs.String())
	}
	// And every replica works on the schema.
	for _, s := range stores {
		if _, err := s.Jobs(context.Background()); err != nil {
			t.Error(err)
		}
	}
}

func migrationCount(t *testing.T) int {
	n := 0
	for _, name := range postgres.MigrationNames() {
		if strings.HasSuffix(name, ".sql") {
			n++
		}
	}
	return n
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestADatabaseOfANewerKantIsRefused: a migration this build does not know
// makes Open fail with ErrNewerSchema.
func TestADatabaseOfANewerKantIsRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	open(t, dsn).Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_ns) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, postgres.Config{DSN: dsn}); !errors.Is(err, postgres.ErrNewerSchema) {
		t.Errorf("Open = %v, want ErrNewerSchema", err)
	}
}

// TestAnUnreachableServerIsUnavailable: a refused connection is
// EUNAVAILABLE with a Retry-After, and the error does not show the DSN's
// password.
func TestAnUnreachableServerIsUnavailable(t *testing.T) {
	_, err := postgres.Open(context.Background(), postgres.Config{DSN: "postgres://kant:s3cret@127.0.0.1:1/kant?connect_timeout=2"})
	if kant.ErrorCode(err) != kant.EUNAVAILABLE || kant.RetryAfter(err) <= 0 {
		t.Errorf("Open on a closed port = %v (code %s), want EUNAVAILABLE with a Retry-After", err, kant.ErrorCode(err))
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
	if _, err := postgres.Open(context.Background(), postgres.Config{DSN: "postgres://kant:s3cret@[bad"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a bad DSN = %v, want an error without the password", err)
	}
}

// A replica paused inside a transaction must not hold its locks for long:
// the server ends its session after 5 s idle in the transaction.
func TestASessionIdleInATransactionIsEndedByTheServer(t *testing.T) {
	s, err := postgres.Open(context.Background(), postgres.Config{DSN: pgtest.Start(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Setting(t, "idle_in_transaction_session_timeout"); got != "5s" {
		t.Errorf("idle_in_transaction_session_timeout = %q, want 5s", got)
	}
}

// TestABusyPoolIsUnavailable: when every connection of the pool is taken
// for longer than the acquire timeout, a call fails as EUNAVAILABLE.
func TestABusyPoolIsUnavailable(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	// Opening takes a connection too: the timeout leaves room for that on
	// a loaded machine.
	s, err := postgres.Open(ctx, postgres.Config{DSN: dsn, MaxConns: 1, AcquireTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := s.HoldConn(t)
	defer release()
	if _, err := s.Jobs(ctx); kant.ErrorCode(err) != kant.EUNAVAILABLE {
		t.Errorf("Jobs with the pool exhausted = %v, want EUNAVAILABLE", err)
	}
}

// TestALockTimeoutIsUnavailable: a write that waits for a lock past
// lock_timeout fails as EUNAVAILABLE.
func TestALockTimeoutIsUnavailable(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	s := open(t, dsn+"&options=-c%20lock_timeout%3D100")
	defer s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE checkpoints IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCheckpoint(ctx, "hegel", "k", "v"); kant.ErrorCode(err) != kant.EUNAVAILABLE {
		t.Errorf("SetCheckpoint behind a lock = %v, want EUNAVAILABLE", err)
	}
}

// TestTwoReplicasShareOneLease: the lease is one for every Store on the
// database, and a replica that lost it cannot make fenced writes.
func TestTwoReplicasShareOneLease(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	a, b := open(t, dsn), open(t, dsn)
	t.Cleanup(func() { a.Close(); b.Close() })
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
	if _, err := b.AcquireLease(ctx, kant.LeaderLease, "b", t0.Add(20*time.Second), 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := a.Fenced(kant.Fence{Lease: kant.LeaderLease, Generation: la.Generation}).SetCheckpoint(ctx, "s", "k", "v"); !errors.Is(err, kant.ErrFenced) {
		t.Errorf("a's write after b took over: %v, want fenced", err)
	}
}

// TestAnInvalidObservationIsRefusedByIndex: text PostgreSQL cannot store
// (a NUL byte) is EINVALID naming the run's index, not a server error.
func TestAnInvalidObservationIsRefusedByIndex(t *testing.T) {
	s := open(t, pgtest.Start(t))
	defer s.Close()
	bad := run("r2", time.Minute)
	bad.ErrorMessage = "nul \x00 byte"
	_, err := s.WriteRuns(context.Background(), []kant.Run{run("r1", time.Minute), bad})
	if kant.ErrorCode(err) != kant.EINVALID || !strings.Contains(err.Error(), "runs[1]") {
		t.Errorf("WriteRuns = %v, want EINVALID naming runs[1]", err)
	}
}

var t0 = time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)

func run(id string, observed time.Duration) kant.Run {
	return kant.Run{Source: "hegel", Job: "hegel/a", RunID: id, Attempt: 1, State: kant.StateRunning,
		StartedAt: t0, ObservedAt: t0.Add(observed)}
}

func write(t *testing.T, s store.Store, runs ...kant.Run) {
	t.Helper()
	if _, err := s.WriteRuns(context.Background(), runs); err != nil {
		t.Fatal(err)
	}
}

func runIDs(runs []kant.Run) string {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.RunID)
	}
	return strings.Join(ids, " ")
}

// TestAnImportWhoseSequencePanicsStoresNothing: the panic reaches the
// caller, and the transaction is rolled back.
func TestAnImportWhoseSequencePanicsStoresNothing(t *testing.T) {
	s := open(t, pgtest.Start(t))
	defer s.Close()
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the sequence's panic", p)
			}
		}()
		s.ImportRuns(context.Background(), func(yield func(kant.Run, error) bool) {
			if yield(run("r1", time.Minute), nil) {
				panic("boom")
			}
		}, nil)
	}()
	if runs, err := s.LatestRuns(context.Background(), kant.RunFilter{}); err != nil || len(runs) != 0 {
		t.Errorf("after the panic: %d runs, %v; want none", len(runs), err)
	}
}
