package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// WriteEvaluation atomically replaces the results and days of e.SLO for the
// dates [e.From, e.To] (a zero bound is open), the results only for e.Jobs
// when it is not empty. Every result and day must belong to e.SLO and fall in
// the range, and every result to e.Jobs when it is given; otherwise nothing
// is written and the error is EINVALID.
func (db *DB) WriteEvaluation(ctx context.Context, e kant.Evaluation) error {
	if err := backend.CheckEvaluation(e); err != nil {
		return fmt.Errorf("sqlite write evaluation %s: %w", e.SLO, err)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		where, args := "slo = ?", []any{e.SLO}
		if !e.From.IsZero() {
			where += " AND date >= ?"
			args = append(args, formatDate(e.From))
		}
		if !e.To.IsZero() {
			where += " AND date <= ?"
			args = append(args, formatDate(e.To))
		}
		resultsWhere, resultsArgs := where, args
		if len(e.Jobs) > 0 {
			jobs, err := json.Marshal(e.Jobs)
			if err != nil {
				return err
			}
			resultsWhere += " AND job IN (SELECT value FROM json_each(?))"
			resultsArgs = append(slices.Clip(resultsArgs), string(jobs))
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM slo_results WHERE "+resultsWhere, resultsArgs...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sla_daily WHERE "+where, args...); err != nil {
			return err
		}
		results := make([]any, 0, len(e.Results)*12)
		for _, r := range e.Results {
			results = append(results, r.SLO, string(r.Job), formatDate(r.Date),
				formatTime(r.ExpectedAt), formatTime(r.Deadline), formatTime(r.RecoverBy),
				string(r.Verdict), text(string(r.Reason)), formatTime(r.SucceededAt),
				r.Lateness.Seconds(), int64(r.Runs), formatTime(r.EvaluatedAt))
		}
		if err := insertRows(ctx, tx, `INSERT OR REPLACE INTO slo_results (
	slo, job, date, expected_at, deadline, recover_by, verdict, reason,
	succeeded_at, lateness_s, runs, evaluated_at
) VALUES `, 12, results); err != nil {
			return err
		}
		days := make([]any, 0, len(e.Days)*11)
		for _, d := range e.Days {
			days = append(days, d.SLO, formatDate(d.Date), int64(d.Occurrences),
				int64(d.Met), int64(d.Late), int64(d.Missed), int64(d.Pending),
				d.SLOMet, d.SLAMet, d.Final, formatTime(d.EvaluatedAt))
		}
		return insertRows(ctx, tx, `INSERT OR REPLACE INTO sla_daily (
	slo, date, occurrences, met, late, missed, pending, slo_met, sla_met, final, evaluated_at
) VALUES `, 11, days)
	})
	if err != nil {
		return fmt.Errorf("sqlite write evaluation %s: %w", e.SLO, err)
	}
	return nil
}

// rowsPerInsert is how many rows one multi-row INSERT carries (within
// SQLite's limit on bound parameters).
const rowsPerInsert = 64

// insertRows runs head followed by VALUES rows of cols placeholders for
// vals, rowsPerInsert rows at a time, preparing each distinct row count once.
func insertRows(ctx context.Context, tx *sql.Tx, head string, cols int, vals []any) error {
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	row := "(?" + strings.Repeat(", ?", cols-1) + ")"
	for len(vals) > 0 {
		n := min(len(vals)/cols, rowsPerInsert)
		st := stmts[n]
		if st == nil {
			var err error
			if st, err = tx.PrepareContext(ctx, head+row+strings.Repeat(", "+row, n-1)); err != nil {
				return err
			}
			stmts[n] = st
		}
		if _, err := st.ExecContext(ctx, vals[:n*cols]...); err != nil {
			return err
		}
		vals = vals[n*cols:]
	}
	return nil
}

// resultFilter returns the WHERE clause (possibly empty) and arguments
// selecting f's SLO and dates, and for results its jobs, and whether the job
// condition is exact.
func resultFilter(f kant.ResultFilter, withJobs bool) (string, []any, bool) {
	var where []string
	var args []any
	if f.SLO != "" {
		where = append(where, "slo = ?")
		args = append(args, f.SLO)
	}
	if !f.From.IsZero() {
		where = append(where, "date >= ?")
		args = append(args, formatDate(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "date <= ?")
		args = append(args, formatDate(f.To))
	}
	exact := true
	if withJobs && f.Unmet {
		where = append(where, "verdict != ?")
		args = append(args, string(kant.VerdictMet))
	}
	if withJobs {
		var jobs string
		var jobArgs []any
		jobs, jobArgs, exact = jobFilter("job", f.Jobs)
		if jobs != "" {
			where = append(where, jobs)
			args = append(args, jobArgs...)
		}
	}
	if len(where) == 0 {
		return "", nil, exact
	}
	return " WHERE " + strings.Join(where, " AND "), args, exact
}

// Results returns occurrence results matching f (its Jobs are globs),
// ordered by date, SLO, job, expected time.
func (db *DB) Results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error) {
	out, err := db.results(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("sqlite results: %w", classify(err))
	}
	return out, nil
}

func (db *DB) results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error) {
	where, args, _ := resultFilter(f, true)
	rows, err := db.read.QueryContext(ctx, `SELECT slo, job, date, expected_at, deadline, recover_by,
	verdict, reason, succeeded_at, lateness_s, runs, evaluated_at
FROM slo_results`+where+` ORDER BY date, slo, job, expected_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kant.Result
	for rows.Next() {
		var (
			r                                   kant.Result
			job, verdict                        string
			date, expected, deadline, recoverBy sql.NullString
			reason, succeeded, evaluated        sql.NullString
			lateness                            float64
		)
		if err := rows.Scan(&r.SLO, &job, &date, &expected, &deadline, &recoverBy,
			&verdict, &reason, &succeeded, &lateness, &r.Runs, &evaluated); err != nil {
			return nil, err
		}
		if len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, kant.JobKey(job)) {
			continue
		}
		var d decoder
		r.Job = kant.JobKey(job)
		r.Date = d.date(date)
		r.ExpectedAt = d.time(expected)
		r.Deadline = d.time(deadline)
		r.RecoverBy = d.time(recoverBy)
		r.Verdict = kant.Verdict(verdict)
		r.Reason = kant.Reason(reason.String)
		r.SucceededAt = d.time(succeeded)
		r.Lateness = duration(lateness)
		r.EvaluatedAt = d.time(evaluated)
		if d.err != nil {
			return nil, fmt.Errorf("result %s %s %s: %w", r.SLO, job, expected.String, d.err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Days returns per-day SLO summaries matching f's SLO and dates (f.Jobs does
// not apply: a day summarizes all jobs), ordered by SLO then date.
func (db *DB) Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error) {
	out, err := db.days(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("sqlite days: %w", classify(err))
	}
	return out, nil
}

func (db *DB) days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error) {
	where, args, _ := resultFilter(f, false)
	rows, err := db.read.QueryContext(ctx, `SELECT slo, date, occurrences, met, late, missed, pending,
	slo_met, sla_met, final, evaluated_at
FROM sla_daily`+where+` ORDER BY slo, date`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kant.Day
	for rows.Next() {
		var (
			day             kant.Day
			date, evaluated sql.NullString
		)
		if err := rows.Scan(&day.SLO, &date, &day.Occurrences, &day.Met, &day.Late, &day.Missed,
			&day.Pending, &day.SLOMet, &day.SLAMet, &day.Final, &evaluated); err != nil {
			return nil, err
		}
		var d decoder
		day.Date = d.date(date)
		day.EvaluatedAt = d.time(evaluated)
		if d.err != nil {
			return nil, fmt.Errorf("day %s %s: %w", day.SLO, date.String, d.err)
		}
		out = append(out, day)
	}
	return out, rows.Err()
}
