package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// TestJobIDMigrationKeepsStoredRuns upgrades a file written at version 4,
// when run_current and the dedup index keyed a job by its text, and checks
// that what it stored reads back and still deduplicates, and that a view
// written against job_runs_latest survives.
func TestJobIDMigrationKeepsStoredRuns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kant.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	before := slices.IndexFunc(ms, func(m backend.Migration) bool { return m.Name == "0005_job_ids.sql" })
	if before < 0 {
		t.Fatal("no migration 0005_job_ids.sql")
	}

	failed := run("kant/b", "r1", kant.StateFailed, t0.Add(3*time.Minute))
	failed.LogicalDate = kant.Date{Year: 2026, Month: 6, Day: 1}
	stored := []kant.Run{
		run("hegel/a", "jr_1", kant.StateRunning, t0.Add(time.Minute)),
		run("hegel/a", "jr_1", kant.StateSucceeded, t0.Add(20*time.Minute)),
		failed,
	}
	stored[1].FinishedAt = t0.Add(19 * time.Minute)

	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) sql.Result {
		t.Helper()
		res, err := old.ExecContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
		return res
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
	for _, m := range ms[:before] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations VALUES (?, ?, '2026-06-01T00:00:00.000000000Z')`, m.Version, m.Name)
	}
	// The rows as the writer of version 4 stored them.
	var e runEncoder
	for i, r := range stored {
		x, err := e.encode(i, r)
		if err != nil {
			t.Fatal(err)
		}
		cols := slices.Delete(slices.Clone(x.args[:]), jobIDArg, jobIDArg+1)
		id, err := exec(`INSERT INTO job_runs (source, job, run_id, attempt, max_attempts, state, source_state,
	logical_date, started_at, finished_at, duration_s, error_message, observed_at, attributes, obs_hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, cols...).LastInsertId()
		if err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO run_current (job, run_key, run_rowid, observed_ns, at_ns, logical_date) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (job, run_key) DO UPDATE SET run_rowid = excluded.run_rowid, observed_ns = excluded.observed_ns`,
			x.job, x.ref.key, id, x.observedNs, x.atNs, x.logicalDate)
		exec(`INSERT INTO jobs (job, source, first_at, first_date) VALUES (?, ?, ?, ?) ON CONFLICT (job) DO NOTHING`,
			x.job, kant.JobKey(x.job).Source(), x.at, x.logicalDate)
	}
	exec(`CREATE VIEW bi_latest AS SELECT job, state FROM job_runs_latest`)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db := openTemp(t, path)
	defer db.Close()
	latest, err := db.LatestRuns(ctx, kant.RunFilter{})
	if err != nil || len(latest) != 2 || !latest[0].SameObservation(stored[1]) || !latest[1].SameObservation(stored[2]) {
		t.Fatalf("latest runs after the upgrade: %+v, %v", latest, err)
	}
	if got, err := db.LatestRuns(ctx, kant.RunFilter{Jobs: []string{"kant/*"}}); err != nil || len(got) != 1 || got[0].Job != "kant/b" {
		t.Errorf("latest runs of kant/* after the upgrade: %+v, %v", got, err)
	}
	jobs, err := db.Jobs(ctx)
	if err != nil || len(jobs) != 2 || jobs[0].Key != "hegel/a" || jobs[1].FirstDate != failed.LogicalDate {
		t.Errorf("jobs after the upgrade: %+v, %v", jobs, err)
	}
	if n := count(t, db, `SELECT count(*) FROM bi_latest WHERE job = 'hegel/a' AND state = 'succeeded'`); n != 1 {
		t.Errorf("the view over job_runs_latest finds %d rows of hegel/a, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM job_runs r JOIN jobs j ON j.id = r.job_id WHERE j.job = r.job`); n != len(stored) {
		t.Errorf("%d observations carry their job's id, want %d", n, len(stored))
	}

	// Stored observations are still repeats; a new one of an old run and a
	// new job go in.
	if fresh, err := db.WriteRuns(ctx, stored); err != nil || len(fresh) != 0 {
		t.Fatalf("writing the stored runs again: %d new, %v; want none", len(fresh), err)
	}
	retried := stored[2]
	retried.State, retried.ObservedAt = kant.StateSucceeded, t0.Add(time.Hour)
	other := run("kant/c", "r1", kant.StateRunning, t0.Add(time.Hour))
	if fresh, err := db.WriteRuns(ctx, []kant.Run{retried, other}); err != nil || len(fresh) != 2 {
		t.Fatalf("writing new observations: %d new, %v; want 2", len(fresh), err)
	}
	latest, err = db.LatestRuns(ctx, kant.RunFilter{Jobs: []string{"kant/*"}})
	if err != nil || len(latest) != 2 || !latest[0].SameObservation(retried) || latest[1].Job != "kant/c" {
		t.Errorf("latest runs of kant/* after new writes: %+v, %v", latest, err)
	}
}
