package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// args collects the arguments of a statement and names their placeholders.
type args []any

// add appends v and returns its placeholder, $n.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

const runColumns = `r.source, r.job, r.run_id, r.attempt, r.max_attempts, r.state, r.source_state,
	r.logical_date, r.started_ns, r.finished_ns, r.error_message, r.observed_ns, r.attributes`

// scanRun reads lead (columns before them), then the runColumns, of one row.
func scanRun(rows pgx.Rows, lead ...any) (kant.Run, error) {
	var (
		r                   kant.Run
		job, state          string
		maxAttempts         *int32
		sourceState, errMsg *string
		logicalDate         *time.Time
		started, finished   *int64
		observed            int64
		attrs               []byte
	)
	if err := rows.Scan(append(lead, &r.Source, &job, &r.RunID, &r.Attempt, &maxAttempts, &state, &sourceState,
		&logicalDate, &started, &finished, &errMsg, &observed, &attrs)...); err != nil {
		return r, err
	}
	r.Job = kant.JobKey(job)
	r.State = kant.State(state)
	if maxAttempts != nil {
		r.MaxAttempts = int(*maxAttempts)
	}
	r.SourceState = str(sourceState)
	r.LogicalDate = fromDate(logicalDate)
	r.StartedAt = fromNs(started)
	r.FinishedAt = fromNs(finished)
	r.ErrorMessage = str(errMsg)
	r.ObservedAt = fromNs(&observed)
	var err error
	r.Attributes, err = decodeAttributes(attrs)
	return r, err
}

// LatestRuns returns the newest observation of every run matching f, ordered
// by Run.At() then Job, RunID, Attempt.
func (s *Store) LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	var where []string
	var a args
	jobs, exact := jobFilter(&a, "c.job", f.Jobs)
	if jobs != "" {
		where = append(where, jobs)
	}
	dated := []string{"c.logical_date IS NOT NULL"}
	if !f.DateFrom.IsZero() {
		dated = append(dated, "c.logical_date >= "+a.add(pgDate(f.DateFrom)))
	}
	if !f.DateTo.IsZero() {
		dated = append(dated, "c.logical_date <= "+a.add(pgDate(f.DateTo)))
	}
	undated := []string{"c.logical_date IS NULL"}
	if !f.From.IsZero() {
		undated = append(undated, "c.at_ns >= "+a.add(backend.ClampNs(f.From)))
	}
	if !f.To.IsZero() {
		undated = append(undated, "c.at_ns < "+a.add(backend.ClampNs(f.To)))
	}
	if len(dated) > 1 || len(undated) > 1 {
		where = append(where, "(("+strings.Join(dated, " AND ")+") OR ("+strings.Join(undated, " AND ")+"))")
	}
	if !f.ObservedFrom.IsZero() {
		where = append(where, "c.observed_ns >= "+a.add(backend.ClampNs(f.ObservedFrom)))
	}
	q := "SELECT " + runColumns + " FROM run_current c JOIN job_runs r ON r.id = c.run_row"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.at_ns, c.job, c.run_id, c.attempt"
	if exact && f.Limit > 0 {
		q += " LIMIT " + a.add(f.Limit)
	}
	var out []kant.Run
	err := s.query(ctx, func(rows pgx.Rows) error {
		if f.Limit > 0 && len(out) == f.Limit {
			return nil
		}
		r, err := scanRun(rows)
		if err != nil {
			return err
		}
		if len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, r.Job) {
			return nil
		}
		out = append(out, r)
		return nil
	}, q, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres latest runs: %w", classify(err))
	}
	return out, nil
}

// jobFilter returns a SQL condition on col that every job matching one of
// the glob patterns satisfies, adding its arguments to a, and whether the
// condition is exact (matches nothing else). Globs are reduced to their
// literal prefix, a range on the index (col is COLLATE "C": byte order);
// kant.Match decides the rest. An empty condition means no restriction.
func jobFilter(a *args, col string, patterns []string) (string, bool) {
	sel := backend.SelectJobs(patterns)
	if sel.All {
		return "", sel.Exact
	}
	var ors []string
	for _, r := range sel.Ranges {
		if r.To != "" {
			ors = append(ors, "("+col+" >= "+a.add(r.From)+" AND "+col+" < "+a.add(r.To)+")")
		} else {
			ors = append(ors, col+" >= "+a.add(r.From))
		}
	}
	switch {
	case len(sel.Literals) == 1:
		ors = append(ors, col+" = "+a.add(sel.Literals[0]))
	case len(sel.Literals) > 1:
		ors = append(ors, col+" = ANY("+a.add(sel.Literals)+"::text[])")
	}
	return "(" + strings.Join(ors, " OR ") + ")", sel.Exact
}

// Jobs returns every job that has at least one observation, ordered by key.
func (s *Store) Jobs(ctx context.Context) ([]kant.JobInfo, error) {
	var out []kant.JobInfo
	err := s.query(ctx, func(rows pgx.Rows) error {
		var job string
		var at int64
		var date *time.Time
		if err := rows.Scan(&job, &at, &date); err != nil {
			return err
		}
		out = append(out, kant.JobInfo{Key: kant.JobKey(job), FirstAt: fromNs(&at), FirstDate: fromDate(date)})
		return nil
	}, `SELECT job, first_at_ns, first_date FROM jobs ORDER BY job`)
	if err != nil {
		return nil, fmt.Errorf("postgres jobs: %w", classify(err))
	}
	return out, nil
}
