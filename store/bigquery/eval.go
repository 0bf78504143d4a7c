package bigquery

import (
	"context"
	"fmt"
	"strings"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// WriteEvaluation atomically replaces the results and days of e.SLO for the
// dates [e.From, e.To] (a zero bound is open), the results only for e.Jobs
// when it is not empty. It runs one multi-statement transaction: DELETE the
// range, INSERT the rows, which arrive as one JSON parameter.
func (s *Store) WriteEvaluation(ctx context.Context, e kant.Evaluation) error {
	if err := backend.CheckEvaluation(e); err != nil {
		return fmt.Errorf("bigquery write evaluation %s: %w", e.SLO, err)
	}
	var p params
	where := "slo = " + p.add(e.SLO)
	if !e.From.IsZero() {
		where += " AND date >= " + p.add(civilDate(e.From))
	}
	if !e.To.IsZero() {
		where += " AND date <= " + p.add(civilDate(e.To))
	}
	resultsWhere := where
	if len(e.Jobs) > 0 {
		jobs := make([]string, len(e.Jobs))
		for i, j := range e.Jobs {
			jobs[i] = string(j)
		}
		resultsWhere += " AND job IN UNNEST(" + p.add(jobs) + ")"
	}
	var b strings.Builder
	b.WriteString("BEGIN TRANSACTION;\n")
	b.WriteString("DELETE FROM " + s.table("slo_results") + " WHERE " + resultsWhere + ";\n")
	b.WriteString("DELETE FROM " + s.table("sla_daily") + " WHERE " + where + ";\n")
	if len(e.Results) > 0 {
		rows := make([]map[string]any, len(e.Results))
		for i, r := range e.Results {
			rows[i] = map[string]any{
				"slo": r.SLO, "job": string(r.Job), "date": r.Date.String(),
				"expected_us": us(r.ExpectedAt), "expected_ns": ns(r.ExpectedAt),
				"deadline_us": us(r.Deadline), "deadline_ns": ns(r.Deadline),
				"recover_by_us": us(r.RecoverBy), "recover_by_ns": ns(r.RecoverBy),
				"verdict": string(r.Verdict), "reason": text(string(r.Reason)),
				"succeeded_us": us(r.SucceededAt), "succeeded_ns": ns(r.SucceededAt),
				"lateness_s": r.Lateness.Seconds(), "runs": r.Runs,
				"evaluated_us": us(r.EvaluatedAt), "evaluated_ns": ns(r.EvaluatedAt),
			}
		}
		rp, err := rowsParam("results", rows)
		if err != nil {
			return fmt.Errorf("bigquery write evaluation %s: %w", e.SLO, err)
		}
		p.list = append(p.list, rp)
		b.WriteString(`INSERT INTO ` + s.table("slo_results") + ` (slo, job, date, expected_at, deadline, recover_by,
  verdict, reason, succeeded_at, lateness_s, runs, evaluated_at,
  expected_ns, deadline_ns, recover_by_ns, succeeded_ns, evaluated_ns)
SELECT JSON_VALUE(x, '$.slo'), JSON_VALUE(x, '$.job'), PARSE_DATE('%Y-%m-%d', JSON_VALUE(x, '$.date')),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.expected_us') AS INT64)),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.deadline_us') AS INT64)),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.recover_by_us') AS INT64)),
  JSON_VALUE(x, '$.verdict'), JSON_VALUE(x, '$.reason'),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.succeeded_us') AS INT64)),
  CAST(JSON_VALUE(x, '$.lateness_s') AS FLOAT64), CAST(JSON_VALUE(x, '$.runs') AS INT64),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.evaluated_us') AS INT64)),
  CAST(JSON_VALUE(x, '$.expected_ns') AS INT64), CAST(JSON_VALUE(x, '$.deadline_ns') AS INT64),
  CAST(JSON_VALUE(x, '$.recover_by_ns') AS INT64), CAST(JSON_VALUE(x, '$.succeeded_ns') AS INT64),
  CAST(JSON_VALUE(x, '$.evaluated_ns') AS INT64)
FROM UNNEST(JSON_QUERY_ARRAY(@results)) AS x;
`)
	}
	if len(e.Days) > 0 {
		rows := make([]map[string]any, len(e.Days))
		for i, d := range e.Days {
			rows[i] = map[string]any{
				"slo": d.SLO, "date": d.Date.String(), "occurrences": d.Occurrences,
				"met": d.Met, "late": d.Late, "missed": d.Missed, "pending": d.Pending,
				"slo_met": d.SLOMet, "sla_met": d.SLAMet, "final": d.Final,
				"evaluated_us": us(d.EvaluatedAt), "evaluated_ns": ns(d.EvaluatedAt),
			}
		}
		rp, err := rowsParam("days", rows)
		if err != nil {
			return fmt.Errorf("bigquery write evaluation %s: %w", e.SLO, err)
		}
		p.list = append(p.list, rp)
		b.WriteString(`INSERT INTO ` + s.table("sla_daily") + ` (slo, date, occurrences, met, late, missed, pending,
  slo_met, sla_met, final, evaluated_at, evaluated_ns)
SELECT JSON_VALUE(x, '$.slo'), PARSE_DATE('%Y-%m-%d', JSON_VALUE(x, '$.date')),
  CAST(JSON_VALUE(x, '$.occurrences') AS INT64), CAST(JSON_VALUE(x, '$.met') AS INT64),
  CAST(JSON_VALUE(x, '$.late') AS INT64), CAST(JSON_VALUE(x, '$.missed') AS INT64),
  CAST(JSON_VALUE(x, '$.pending') AS INT64),
  CAST(JSON_VALUE(x, '$.slo_met') AS BOOL), CAST(JSON_VALUE(x, '$.sla_met') AS BOOL),
  CAST(JSON_VALUE(x, '$.final') AS BOOL),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.evaluated_us') AS INT64)),
  CAST(JSON_VALUE(x, '$.evaluated_ns') AS INT64)
FROM UNNEST(JSON_QUERY_ARRAY(@days)) AS x;
`)
	}
	b.WriteString("COMMIT TRANSACTION;")
	if _, err := s.query(ctx, b.String(), p.list); err != nil {
		return fmt.Errorf("bigquery write evaluation %s: %w", e.SLO, err)
	}
	return nil
}

// resultFilter returns the WHERE clause (possibly empty) selecting f's SLO
// and dates, and for results its jobs.
func resultFilter(p *params, f kant.ResultFilter, withJobs bool) string {
	var where []string
	if f.SLO != "" {
		where = append(where, "slo = "+p.add(f.SLO))
	}
	if !f.From.IsZero() {
		where = append(where, "date >= "+p.add(civilDate(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "date <= "+p.add(civilDate(f.To)))
	}
	if withJobs && f.Unmet {
		where = append(where, "verdict != "+p.add(string(kant.VerdictMet)))
	}
	if withJobs {
		if jobs, _ := jobFilter(p, "job", f.Jobs); jobs != "" {
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
	var p params
	where := resultFilter(&p, f, true)
	rows, err := s.query(ctx, `SELECT slo, job, date, expected_ns, deadline_ns, recover_by_ns,
  verdict, reason, succeeded_ns, lateness_s, runs, evaluated_ns
FROM `+s.table("slo_results")+where+` ORDER BY date, slo, job, expected_ns`, p.list)
	if err != nil {
		return nil, fmt.Errorf("bigquery results: %w", err)
	}
	var out []kant.Result
	for _, row := range rows {
		job := kant.JobKey(asString(row[1]))
		if len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, job) {
			continue
		}
		var d decoder
		r := kant.Result{
			Occurrence: kant.Occurrence{
				SLO: asString(row[0]), Job: job, Date: d.date(row[2]),
				ExpectedAt: asTime(row[3]), Deadline: asTime(row[4]), RecoverBy: asTime(row[5]),
			},
			Verdict:     kant.Verdict(asString(row[6])),
			Reason:      kant.Reason(asString(row[7])),
			SucceededAt: asTime(row[8]),
			Lateness:    duration(asFloat(row[9])),
			Runs:        int(asInt(row[10])),
			EvaluatedAt: asTime(row[11]),
		}
		if d.err != nil {
			return nil, fmt.Errorf("bigquery results: %s %s: %w", r.SLO, job, d.err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Days returns per-day SLO summaries matching f's SLO and dates (f.Jobs does
// not apply), ordered by SLO then date.
func (s *Store) Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error) {
	var p params
	where := resultFilter(&p, f, false)
	rows, err := s.query(ctx, `SELECT slo, date, occurrences, met, late, missed, pending,
  slo_met, sla_met, final, evaluated_ns
FROM `+s.table("sla_daily")+where+` ORDER BY slo, date`, p.list)
	if err != nil {
		return nil, fmt.Errorf("bigquery days: %w", err)
	}
	var out []kant.Day
	for _, row := range rows {
		var d decoder
		day := kant.Day{
			SLO: asString(row[0]), Date: d.date(row[1]),
			Occurrences: int(asInt(row[2])), Met: int(asInt(row[3])), Late: int(asInt(row[4])),
			Missed: int(asInt(row[5])), Pending: int(asInt(row[6])),
			SLOMet: asBool(row[7]), SLAMet: asBool(row[8]), Final: asBool(row[9]),
			EvaluatedAt: asTime(row[10]),
		}
		if d.err != nil {
			return nil, fmt.Errorf("bigquery days: %s: %w", day.SLO, d.err)
		}
		out = append(out, day)
	}
	return out, nil
}
