package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

const runColumns = `r.source, r.job, r.run_id, r.attempt, r.max_attempts, r.state, r.source_state,
	r.logical_date, r.started_at, r.finished_at, r.error_message, r.observed_at, r.attributes`

// scanRunWithID reads the id, then the runColumns, of one row.
func scanRunWithID(rows *sql.Rows) (kant.Run, int64, error) {
	var id int64
	r, err := scanRun(rows, &id)
	return r, id, err
}

// scanRun reads lead (columns before them), then the runColumns, of one row.
func scanRun(rows *sql.Rows, lead ...any) (kant.Run, error) {
	var (
		r                                                   kant.Run
		job, state                                          string
		sourceState, logicalDate, started, finished, errMsg sql.NullString
		observed, attrs                                     sql.NullString
		maxAttempts                                         sql.NullInt64
	)
	if err := rows.Scan(append(lead, &r.Source, &job, &r.RunID, &r.Attempt, &maxAttempts, &state, &sourceState,
		&logicalDate, &started, &finished, &errMsg, &observed, &attrs)...); err != nil {
		return r, err
	}
	var d decoder
	r.Job = kant.JobKey(job)
	r.State = kant.State(state)
	r.MaxAttempts = int(maxAttempts.Int64)
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
func (db *DB) LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	runs, err := db.latestRuns(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("sqlite latest runs: %w", classify(err))
	}
	return runs, nil
}

func (db *DB) latestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	var where []string
	var args []any
	// The jobs are chosen by their ids, which the window index holds: a
	// condition on the text of the job would look up every candidate run's
	// job, 30,000 lookups for three days of 10,000 jobs.
	jobs, jobArgs, exact := jobFilter("job", f.Jobs)
	if jobs != "" {
		where = append(where, "c.job_id IN (SELECT id FROM jobs WHERE "+jobs+")")
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
		undated = append(undated, "c.at_ns >= ?")
		args = append(args, backend.ClampNs(f.From))
	}
	if !f.To.IsZero() {
		undated = append(undated, "c.at_ns < ?")
		args = append(args, backend.ClampNs(f.To))
	}
	if len(dated) > 1 || len(undated) > 1 {
		where = append(where, "(("+strings.Join(dated, " AND ")+") OR ("+strings.Join(undated, " AND ")+"))")
	}
	if !f.ObservedFrom.IsZero() {
		where = append(where, "c.observed_ns >= ?")
		args = append(args, backend.ClampNs(f.ObservedFrom))
	}
	q := "SELECT " + runColumns + " FROM jobs j JOIN run_current c ON c.job_id = j.id JOIN job_runs r ON r.id = c.run_rowid"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.at_ns, r.job, r.run_id, r.attempt"
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
	sel := backend.SelectJobs(patterns)
	if sel.All {
		return "", nil, sel.Exact
	}
	var ors []string
	var args []any
	for _, r := range sel.Ranges {
		if r.To != "" {
			ors = append(ors, "("+col+" >= ? AND "+col+" < ?)")
			args = append(args, r.From, r.To)
		} else {
			ors = append(ors, col+" >= ?")
			args = append(args, r.From)
		}
	}
	switch {
	case len(sel.Literals) == 1:
		ors = append(ors, col+" = ?")
		args = append(args, sel.Literals[0])
	case len(sel.Literals) > 1:
		// One parameter however many keys: the statement text stays the
		// same, and the planner reads the keys as an IN list on the index.
		list, _ := json.Marshal(sel.Literals)
		ors = append(ors, col+" IN (SELECT value FROM json_each(?))")
		args = append(args, string(list))
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, sel.Exact
}

// Jobs returns every job that has at least one observation, ordered by key.
func (db *DB) Jobs(ctx context.Context) ([]kant.JobInfo, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT job, first_at, first_date FROM jobs ORDER BY job`)
	if err != nil {
		return nil, fmt.Errorf("sqlite jobs: %w", classify(err))
	}
	defer rows.Close()
	var out []kant.JobInfo
	for rows.Next() {
		var job string
		var at, date sql.NullString
		if err := rows.Scan(&job, &at, &date); err != nil {
			return nil, fmt.Errorf("sqlite jobs: %w", classify(err))
		}
		var d decoder
		out = append(out, kant.JobInfo{Key: kant.JobKey(job), FirstAt: d.time(at), FirstDate: d.date(date)})
		if d.err != nil {
			return nil, fmt.Errorf("sqlite jobs %s: %w", job, d.err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite jobs: %w", classify(err))
	}
	return out, nil
}
