package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
)

const insertRunSQL = `INSERT OR IGNORE INTO job_runs (
	source, job, run_id, attempt, state, source_state, logical_date,
	started_at, finished_at, duration_s, error_message, observed_at,
	attributes, obs_hash
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// runEncoder turns runs into the arguments of insertRunSQL, reusing its
// buffers from one run to the next.
type runEncoder struct {
	args [14]any
	keys []string
	buf  []byte
}

// encode validates a copy of r (kant.Run.Validate is idempotent on a valid
// run) and fills e.args. It returns the normalized run.
func (e *runEncoder) encode(r kant.Run) (kant.Run, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	if err := checkTime("started_at", r.StartedAt); err != nil {
		return r, err
	}
	if err := checkTime("finished_at", r.FinishedAt); err != nil {
		return r, err
	}
	if err := checkTime("observed_at", r.ObservedAt); err != nil {
		return r, err
	}
	if err := checkDate("logical_date", r.LogicalDate); err != nil {
		return r, err
	}
	e.keys = sortedKeys(e.keys, r.Attributes)
	var h uint64
	h, e.buf = observationHash(e.buf, &r, e.keys)
	var dur any
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		dur = r.Duration().Seconds()
	}
	e.args = [14]any{
		r.Source, string(r.Job), r.RunID, int64(r.Attempt), string(r.State),
		text(r.SourceState), formatDate(r.LogicalDate),
		formatTime(r.StartedAt), formatTime(r.FinishedAt), dur,
		text(r.ErrorMessage), formatTime(r.ObservedAt),
		encodeAttributes(e.keys, r.Attributes), int64(h),
	}
	return r, nil
}

// invalidRun reports a bad run in a batch by its index.
func invalidRun(i int, err error) error {
	return kant.Errorf(kant.EINVALID, "runs[%d]: %s", i, kant.ErrorMessage(err))
}

// WriteRuns appends the observations of runs that are new and returns them,
// validated, in input order. It validates every run first: an invalid one
// fails the batch with an EINVALID error naming its index.
func (db *DB) WriteRuns(ctx context.Context, runs []kant.Run) ([]kant.Run, error) {
	out, err := db.writeRuns(ctx, runs)
	if err != nil {
		return nil, fmt.Errorf("sqlite write runs: %w", err)
	}
	return out, nil
}

func (db *DB) writeRuns(ctx context.Context, runs []kant.Run) ([]kant.Run, error) {
	if len(runs) == 0 {
		return nil, ctx.Err()
	}
	var e runEncoder
	valid := make([]kant.Run, len(runs))
	rows := make([][14]any, len(runs))
	for i, r := range runs {
		v, err := e.encode(r)
		if err != nil {
			return nil, invalidRun(i, err)
		}
		valid[i], rows[i] = v, e.args
	}
	var out []kant.Run
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		after, err := lastRunID(ctx, tx)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, insertRunSQL)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range rows {
			res, err := stmt.ExecContext(ctx, rows[i][:]...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				out = append(out, valid[i])
			}
		}
		if len(out) == 0 {
			return nil
		}
		return derive(ctx, tx, after)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ImportRuns consumes runs in one transaction and returns how many were new.
// An error yielded by the sequence, or ctx's error, is returned as it is and
// nothing is stored; an invalid run fails the import with an EINVALID error
// naming its index.
func (db *DB) ImportRuns(ctx context.Context, runs iter.Seq2[kant.Run, error]) (int, error) {
	var n int
	var yielded error
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		after, err := lastRunID(ctx, tx)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, insertRunSQL)
		if err != nil {
			return err
		}
		defer stmt.Close()
		// Each statement call with a cancellable context costs the driver a
		// watcher goroutine; check ctx every so often instead.
		execCtx := context.WithoutCancel(ctx)
		var e runEncoder
		i := 0
		for r, err := range runs {
			if err != nil {
				yielded = err
				return err
			}
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					yielded = err
					return err
				}
			}
			if _, err := e.encode(r); err != nil {
				return invalidRun(i, err)
			}
			res, err := stmt.ExecContext(execCtx, e.args[:]...)
			if err != nil {
				return err
			}
			if c, err := res.RowsAffected(); err != nil {
				return err
			} else if c > 0 {
				n++
			}
			i++
		}
		if err := ctx.Err(); err != nil {
			yielded = err
			return err
		}
		t := time.Now()
		if err := derive(ctx, tx, after); err != nil {
			return err
		}
		db.logger.Debug("derived current runs", "component", "sqlite", "observations", n, "elapsed", time.Since(t))
		return nil
	})
	switch {
	case yielded != nil:
		return 0, yielded
	case err != nil && ctx.Err() != nil:
		// The transaction was rolled back under a statement.
		return 0, ctx.Err()
	case err != nil:
		return 0, fmt.Errorf("sqlite import runs: %w", err)
	}
	return n, nil
}

// deriveSQL brings run_current and jobs up to date with the observations
// inserted after the id given as the only argument. It runs at the end of
// every write transaction, set-based, which costs far less than keeping
// them up to date row by row during a large import.
var deriveSQL = []string{
	// The newest new observation of each touched run replaces the current
	// one unless that was observed later; ties go to the later insert.
	`INSERT INTO run_current (job, run_id, attempt, run_rowid, observed_at, at, logical_date)
SELECT job, run_id, attempt, id, observed_at, coalesce(started_at, finished_at, observed_at), logical_date
FROM (
	SELECT job, run_id, attempt, id, observed_at, started_at, finished_at, logical_date,
		row_number() OVER (PARTITION BY job, run_id, attempt ORDER BY observed_at DESC, id DESC) AS rn
	FROM job_runs WHERE id > ?1
) WHERE rn = 1
ON CONFLICT (job, run_id, attempt) DO UPDATE SET
	run_rowid = excluded.run_rowid,
	observed_at = excluded.observed_at,
	at = excluded.at,
	logical_date = excluded.logical_date
WHERE excluded.observed_at >= run_current.observed_at`,
	`INSERT INTO jobs (job, source, first_at, first_date)
SELECT job, min(source), min(coalesce(started_at, finished_at, observed_at)), min(logical_date)
FROM job_runs WHERE id > ?1 GROUP BY job
ON CONFLICT (job) DO UPDATE SET
	first_at = min(jobs.first_at, excluded.first_at),
	first_date = coalesce(min(jobs.first_date, excluded.first_date), jobs.first_date, excluded.first_date)
WHERE excluded.first_at < jobs.first_at
	OR excluded.first_date < jobs.first_date
	OR (jobs.first_date IS NULL AND excluded.first_date IS NOT NULL)`,
}

// lastRunID returns the id of the newest stored observation, 0 if none.
func lastRunID(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM job_runs`).Scan(&id)
	return id, err
}

// derive runs deriveSQL for the observations inserted after id.
func derive(ctx context.Context, tx *sql.Tx, after int64) error {
	for _, q := range deriveSQL {
		if _, err := tx.ExecContext(ctx, q, after); err != nil {
			return fmt.Errorf("derive: %w", err)
		}
	}
	return nil
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

const runColumns = `r.source, r.job, r.run_id, r.attempt, r.state, r.source_state,
	r.logical_date, r.started_at, r.finished_at, r.error_message, r.observed_at, r.attributes`

// scanRun reads the runColumns of one row.
func scanRun(rows *sql.Rows) (kant.Run, error) {
	var (
		r                                                   kant.Run
		job, state                                          string
		sourceState, logicalDate, started, finished, errMsg sql.NullString
		observed, attrs                                     sql.NullString
	)
	if err := rows.Scan(&r.Source, &job, &r.RunID, &r.Attempt, &state, &sourceState,
		&logicalDate, &started, &finished, &errMsg, &observed, &attrs); err != nil {
		return r, err
	}
	var d decoder
	r.Job = kant.JobKey(job)
	r.State = kant.State(state)
	r.SourceState = sourceState.String
	r.LogicalDate = d.date(logicalDate)
	r.StartedAt = d.time(started)
	r.FinishedAt = d.time(finished)
	r.ErrorMessage = errMsg.String
	r.ObservedAt = d.time(observed)
	r.Attributes = d.attributes(attrs)
	return r, d.err
}

// LatestRuns returns the newest observation of every run matching f, ordered
// by Run.At() then Job, RunID, Attempt.
func (db *DB) LatestRuns(ctx context.Context, f store.RunFilter) ([]kant.Run, error) {
	runs, err := db.latestRuns(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("sqlite latest runs: %w", err)
	}
	return runs, nil
}

func (db *DB) latestRuns(ctx context.Context, f store.RunFilter) ([]kant.Run, error) {
	var where []string
	var args []any
	jobs, jobArgs, exact := jobFilter("c.job", f.Jobs)
	if jobs != "" {
		where = append(where, jobs)
		args = append(args, jobArgs...)
	}
	dated := []string{"c.logical_date IS NOT NULL"}
	if !f.DateFrom.IsZero() {
		dated = append(dated, "c.logical_date >= ?")
		args = append(args, formatDate(f.DateFrom))
	}
	if !f.DateTo.IsZero() {
		dated = append(dated, "c.logical_date <= ?")
		args = append(args, formatDate(f.DateTo))
	}
	undated := []string{"c.logical_date IS NULL"}
	if !f.From.IsZero() {
		undated = append(undated, "c.at >= ?")
		args = append(args, formatTime(f.From))
	}
	if !f.To.IsZero() {
		undated = append(undated, "c.at < ?")
		args = append(args, formatTime(f.To))
	}
	if len(dated) > 1 || len(undated) > 1 {
		where = append(where, "(("+strings.Join(dated, " AND ")+") OR ("+strings.Join(undated, " AND ")+"))")
	}
	q := "SELECT " + runColumns + " FROM run_current c JOIN job_runs r ON r.id = c.run_rowid"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.at, c.job, c.run_id, c.attempt"
	if exact && f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kant.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		if len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, r.Job) {
			continue
		}
		out = append(out, r)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, rows.Err()
}

// jobFilter returns a SQL condition on col that every job matching one of
// the glob patterns satisfies, its arguments, and whether the condition is
// exact (matches nothing else). Globs are reduced to their literal prefix, a
// range on the index; kant.Match decides the rest. An empty condition means
// no restriction.
func jobFilter(col string, patterns []string) (string, []any, bool) {
	if len(patterns) == 0 {
		return "", nil, true
	}
	var ors []string
	var args []any
	exact := true
	for _, p := range patterns {
		i := strings.IndexAny(p, "*?")
		if i < 0 {
			ors = append(ors, col+" = ?")
			args = append(args, p)
			continue
		}
		if p[i:] != "*" {
			exact = false
		}
		prefix := p[:i]
		if prefix == "" {
			// This pattern may match any job, so no condition can narrow
			// the union; it is exact only if it is "*".
			return "", nil, p == "*"
		}
		if end, ok := prefixEnd(prefix); ok {
			ors = append(ors, "("+col+" >= ? AND "+col+" < ?)")
			args = append(args, prefix, end)
		} else {
			ors = append(ors, col+" >= ?")
			args = append(args, prefix)
		}
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, exact
}

// prefixEnd returns the least string greater than every string with the
// given prefix, in byte order, or false when there is none.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// Jobs returns every job that has at least one observation, ordered by key.
func (db *DB) Jobs(ctx context.Context) ([]store.JobInfo, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT job, first_at, first_date FROM jobs ORDER BY job`)
	if err != nil {
		return nil, fmt.Errorf("sqlite jobs: %w", err)
	}
	defer rows.Close()
	var out []store.JobInfo
	for rows.Next() {
		var job string
		var at, date sql.NullString
		if err := rows.Scan(&job, &at, &date); err != nil {
			return nil, fmt.Errorf("sqlite jobs: %w", err)
		}
		var d decoder
		out = append(out, store.JobInfo{Key: kant.JobKey(job), FirstAt: d.time(at), FirstDate: d.date(date)})
		if d.err != nil {
			return nil, fmt.Errorf("sqlite jobs %s: %w", job, d.err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite jobs: %w", err)
	}
	return out, nil
}
