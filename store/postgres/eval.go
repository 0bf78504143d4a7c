package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// WriteEvaluation atomically replaces the results and days of e.SLO for the
// dates [e.From, e.To] (a zero bound is open), the results only for e.Jobs
// when it is not empty. Every result and day must belong to e.SLO and fall in
// the range, and every result to e.Jobs when it is given; otherwise nothing
// is written and the error is EINVALID.
func (s *Store) WriteEvaluation(ctx context.Context, e kant.Evaluation) error {
	if err := backend.CheckEvaluation(e); err != nil {
		return fmt.Errorf("postgres write evaluation %s: %w", e.SLO, err)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var a args
		where := "slo = " + a.add(e.SLO)
		if !e.From.IsZero() {
			where += " AND date >= " + a.add(pgDate(e.From))
		}
		if !e.To.IsZero() {
			where += " AND date <= " + a.add(pgDate(e.To))
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sla_daily WHERE "+where, a...); err != nil {
			return err
		}
		if len(e.Jobs) > 0 {
			jobs := make([]string, len(e.Jobs))
			for i, j := range e.Jobs {
				jobs[i] = string(j)
			}
			where += " AND job = ANY(" + a.add(jobs) + "::text[])"
		}
		if _, err := tx.Exec(ctx, "DELETE FROM slo_results WHERE "+where, a...); err != nil {
			return err
		}
		// The rows go in as arrays, one statement per table; a repeated
		// key in e keeps the last row, as INSERT OR REPLACE does.
		if len(e.Results) > 0 {
			var (
				slo, job, verdict                         []string
				reason                                    []*string
				date                                      []time.Time
				expected                                  []int64
				deadline, recoverBy, succeeded, evaluated []*int64
				lateness                                  []float64
				runs                                      []int32
			)
			for _, r := range e.Results {
				slo, job, verdict = append(slo, r.SLO), append(job, string(r.Job)), append(verdict, string(r.Verdict))
				reason = append(reason, nullText(string(r.Reason)))
				date = append(date, pgDate(r.Date).(time.Time))
				expected = append(expected, r.ExpectedAt.UnixNano())
				deadline, recoverBy = append(deadline, nullNs(r.Deadline)), append(recoverBy, nullNs(r.RecoverBy))
				succeeded, evaluated = append(succeeded, nullNs(r.SucceededAt)), append(evaluated, nullNs(r.EvaluatedAt))
				lateness, runs = append(lateness, r.Lateness.Seconds()), append(runs, int32(r.Runs))
			}
			cols := []any{slo, job, date, expected, deadline, recoverBy, verdict, reason, succeeded, lateness, runs, evaluated}
			if _, err := tx.Exec(ctx, `INSERT INTO slo_results AS t (slo, job, date, expected_ns, deadline_ns,
	recover_by_ns, verdict, reason, succeeded_ns, lateness_s, runs, evaluated_ns)
SELECT DISTINCT ON (slo, job, expected_ns) slo, job, date, expected_ns, deadline_ns, recover_by_ns, verdict, reason,
	succeeded_ns, lateness_s, runs, evaluated_ns
FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[],
	$8::text[], $9::bigint[], $10::float8[], $11::integer[], $12::bigint[]) WITH ORDINALITY
	AS r(slo, job, date, expected_ns, deadline_ns, recover_by_ns, verdict, reason, succeeded_ns, lateness_s, runs, evaluated_ns, ord)
ORDER BY slo, job, expected_ns, ord DESC
ON CONFLICT (slo, job, expected_ns) DO UPDATE SET date = excluded.date, deadline_ns = excluded.deadline_ns,
	recover_by_ns = excluded.recover_by_ns, verdict = excluded.verdict, reason = excluded.reason,
	succeeded_ns = excluded.succeeded_ns, lateness_s = excluded.lateness_s, runs = excluded.runs,
	evaluated_ns = excluded.evaluated_ns`, cols...); err != nil {
				return fmt.Errorf("insert results: %w", err)
			}
		}
		if len(e.Days) > 0 {
			var (
				slo                                     []string
				date                                    []time.Time
				occurrences, met, late, missed, pending []int32
				sloMet, slaMet, final                   []bool
				evaluated                               []*int64
			)
			for _, d := range e.Days {
				slo, date = append(slo, d.SLO), append(date, pgDate(d.Date).(time.Time))
				occurrences, met, late = append(occurrences, int32(d.Occurrences)), append(met, int32(d.Met)), append(late, int32(d.Late))
				missed, pending = append(missed, int32(d.Missed)), append(pending, int32(d.Pending))
				sloMet, slaMet, final = append(sloMet, d.SLOMet), append(slaMet, d.SLAMet), append(final, d.Final)
				evaluated = append(evaluated, nullNs(d.EvaluatedAt))
			}
			cols := []any{slo, date, occurrences, met, late, missed, pending, sloMet, slaMet, final, evaluated}
			if _, err := tx.Exec(ctx, `INSERT INTO sla_daily AS t (slo, date, occurrences, met, late, missed, pending,
	slo_met, sla_met, final, evaluated_ns)
SELECT DISTINCT ON (slo, date) slo, date, occurrences, met, late, missed, pending, slo_met, sla_met, final, evaluated_ns
FROM unnest($1::text[], $2::date[], $3::integer[], $4::integer[], $5::integer[], $6::integer[], $7::integer[],
	$8::boolean[], $9::boolean[], $10::boolean[], $11::bigint[]) WITH ORDINALITY
	AS d(slo, date, occurrences, met, late, missed, pending, slo_met, sla_met, final, evaluated_ns, ord)
ORDER BY slo, date, ord DESC
ON CONFLICT (slo, date) DO UPDATE SET occurrences = excluded.occurrences, met = excluded.met,
	late = excluded.late, missed = excluded.missed, pending = excluded.pending, slo_met = excluded.slo_met,
	sla_met = excluded.sla_met, final = excluded.final, evaluated_ns = excluded.evaluated_ns`, cols...); err != nil {
				return fmt.Errorf("insert days: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres write evaluation %s: %w", e.SLO, classify(err))
	}
	return nil
}

// resultFilter returns the WHERE clause (possibly empty) selecting f's SLO
// and dates, and for results its jobs, adding its arguments to a.
func resultFilter(a *args, f kant.ResultFilter, withJobs bool) string {
	var where []string
	if f.SLO != "" {
		where = append(where, "slo = "+a.add(f.SLO))
	}
	if !f.From.IsZero() {
		where = append(where, "date >= "+a.add(pgDate(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "date <= "+a.add(pgDate(f.To)))
	}
	if withJobs && f.Unmet {
		where = append(where, "verdict != "+a.add(string(kant.VerdictMet)))
	}
	if withJobs {
		if jobs, _ := jobFilter(a, "job", f.Jobs); jobs != "" {
			where = append(where, jobs)
		}
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// Results returns occurrence results matching f (its Jobs are globs),
// ordered by date, SLO, job, expected time.
func (s *Store) Results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error) {
	var a args
	where := resultFilter(&a, f, true)
	var out []kant.Result
	err := s.query(ctx, func(rows pgx.Rows) error {
		var (
			r                                         kant.Result
			job, verdict                              string
			date                                      time.Time
			expected                                  int64
			deadline, recoverBy, succeeded, evaluated *int64
			reason                                    *string
			lateness                                  float64
			runs                                      int32
		)
		if err := rows.Scan(&r.SLO, &job, &date, &expected, &deadline, &recoverBy,
			&verdict, &reason, &succeeded, &lateness, &runs, &evaluated); err != nil {
			return err
		}
		if len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, kant.JobKey(job)) {
			return nil
		}
		r.Job = kant.JobKey(job)
		r.Date = fromDate(&date)
		r.ExpectedAt, r.Deadline, r.RecoverBy = fromNs(&expected), fromNs(deadline), fromNs(recoverBy)
		r.Verdict = kant.Verdict(verdict)
		r.Reason = kant.Reason(str(reason))
		r.SucceededAt = fromNs(succeeded)
		r.Lateness = time.Duration(math.Round(lateness * float64(time.Second)))
		r.Runs = int(runs)
		r.EvaluatedAt = fromNs(evaluated)
		out = append(out, r)
		return nil
	}, `SELECT slo, job, date, expected_ns, deadline_ns, recover_by_ns, verdict, reason, succeeded_ns,
	lateness_s, runs, evaluated_ns FROM slo_results`+where+` ORDER BY date, slo, job, expected_ns`, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres results: %w", classify(err))
	}
	return out, nil
}

// Days returns per-day SLO summaries matching f's SLO and dates (f.Jobs does
// not apply: a day summarizes all jobs), ordered by SLO then date.
func (s *Store) Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error) {
	var a args
	where := resultFilter(&a, f, false)
	var out []kant.Day
	err := s.query(ctx, func(rows pgx.Rows) error {
		var (
			d                                       kant.Day
			date                                    time.Time
			occurrences, met, late, missed, pending int32
			evaluated                               *int64
		)
		if err := rows.Scan(&d.SLO, &date, &occurrences, &met, &late, &missed, &pending,
			&d.SLOMet, &d.SLAMet, &d.Final, &evaluated); err != nil {
			return err
		}
		d.Date = fromDate(&date)
		d.Occurrences, d.Met, d.Late, d.Missed, d.Pending = int(occurrences), int(met), int(late), int(missed), int(pending)
		d.EvaluatedAt = fromNs(evaluated)
		out = append(out, d)
		return nil
	}, `SELECT slo, date, occurrences, met, late, missed, pending, slo_met, sla_met, final, evaluated_ns
FROM sla_daily`+where+` ORDER BY slo, date`, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres days: %w", classify(err))
	}
	return out, nil
}
