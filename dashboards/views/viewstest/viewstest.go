// Package viewstest is the known data set the views in dashboards/views are
// tested with, and the rows each view must return for it, so that the
// SQLite and PostgreSQL views (tested in dashboards/views) and the BigQuery
// views (tested through store/bigquery's fake) are held to the same answers. It imports
// kant and the standard library.
package viewstest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func date(s string) kant.Date {
	d, err := kant.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func run(job kant.JobKey, id string, attempt int, state kant.State, logical, started, finished string) kant.Run {
	r := kant.Run{Source: job.Source(), Job: job, RunID: id, Attempt: attempt, State: state}
	if logical != "" {
		r.LogicalDate = date(logical)
	}
	if started != "" {
		r.StartedAt = at(started)
	}
	if finished != "" {
		r.FinishedAt = at(finished)
	}
	r.ObservedAt = r.At().Add(time.Hour)
	if !r.FinishedAt.IsZero() {
		r.ObservedAt = r.FinishedAt.Add(time.Minute)
	}
	return r
}

// Runs returns the run observations of the data set, in the order to write
// them. A run's earlier observation comes first; the views read the newest.
func Runs() []kant.Run {
	export1Running := run("hegel/export", "jr_1", 1, kant.StateRunning, "2026-06-01", "2026-06-01T01:00:00Z", "")
	export1Running.ObservedAt = at("2026-06-01T01:01:00Z")
	return []kant.Run{
		export1Running,
		run("hegel/export", "jr_1", 1, kant.StateSucceeded, "2026-06-01", "2026-06-01T01:00:00Z", "2026-06-01T01:10:00Z"),
		run("hegel/export", "jr_2", 1, kant.StateFailed, "2026-06-02", "2026-06-02T01:00:00Z", "2026-06-02T01:05:00Z"),
		run("hegel/export", "jr_2", 2, kant.StateSucceeded, "2026-06-02", "2026-06-02T01:20:00Z", "2026-06-02T01:50:00Z"),
		run("hegel/import", "ji_0", 1, kant.StateSucceeded, "2026-04-01", "2026-04-01T02:00:00Z", "2026-04-01T03:23:20Z"),
		run("hegel/import", "ji_1", 1, kant.StateSucceeded, "2026-06-01", "2026-06-01T02:00:00Z", "2026-06-01T02:20:00Z"),
		run("socrates/load", "r1", 1, kant.StateFailed, "", "2026-06-02T03:00:00Z", "2026-06-02T03:30:00Z"),
		run("socrates/load", "r2", 1, kant.StateRunning, "", "2026-06-02T04:00:00Z", ""),
	}
}

func result(job kant.JobKey, day, deadline string, v kant.Verdict, succeeded string, runs int) kant.Result {
	r := kant.Result{
		Occurrence: kant.Occurrence{SLO: "hegel-nightly", Job: job, Date: date(day),
			ExpectedAt: at(day + "T00:00:00Z"), Deadline: at(deadline), RecoverBy: at(day + "T23:59:00Z")},
		Verdict: v, Runs: runs, EvaluatedAt: at("2026-06-03T00:00:00Z"),
	}
	if succeeded != "" {
		r.SucceededAt = at(succeeded)
		if r.SucceededAt.After(r.Deadline) {
			r.Lateness = r.SucceededAt.Sub(r.Deadline)
		}
	} else if v == kant.VerdictMissed {
		r.Reason = kant.ReasonNotStarted
	}
	return r
}

func day(d string, occ, met, late, missed, pending int, sloMet, slaMet, final bool) kant.Day {
	return kant.Day{SLO: "hegel-nightly", Date: date(d), Occurrences: occ, Met: met, Late: late, Missed: missed,
		Pending: pending, SLOMet: sloMet, SLAMet: slaMet, Final: final, EvaluatedAt: at("2026-06-03T00:00:00Z")}
}

// Evaluation returns the data set's verdicts.
func Evaluation() kant.Evaluation {
	return kant.Evaluation{
		SLO: "hegel-nightly",
		Results: []kant.Result{
			result("hegel/export", "2026-06-01", "2026-06-01T01:30:00Z", kant.VerdictMet, "2026-06-01T01:10:00Z", 1),
			result("hegel/import", "2026-06-01", "2026-06-01T02:15:00Z", kant.VerdictLate, "2026-06-01T02:20:00Z", 1),
			result("hegel/export", "2026-06-02", "2026-06-02T02:00:00Z", kant.VerdictMet, "2026-06-02T01:50:00Z", 2),
			result("hegel/import", "2026-06-02", "2026-06-02T02:15:00Z", kant.VerdictMissed, "", 0),
		},
		Days: []kant.Day{
			day("2026-05-02", 1, 1, 0, 0, 0, true, true, true),
			day("2026-05-03", 1, 1, 0, 0, 0, true, true, true),
			day("2026-06-01", 2, 1, 1, 0, 0, false, true, true),
			day("2026-06-02", 2, 1, 0, 1, 0, false, false, true),
			day("2026-06-03", 2, 0, 0, 0, 2, false, false, false),
		},
	}
}

// Query is how the tests read a view: every column, in a fixed order.
var Query = map[string]string{
	"kant_job_daily":    "SELECT * FROM %s ORDER BY job, date",
	"kant_gantt":        "SELECT * FROM %s ORDER BY date, job",
	"kant_slo_daily":    "SELECT * FROM %s ORDER BY slo, date",
	"kant_slo_30d":      "SELECT * FROM %s ORDER BY slo, date",
	"kant_slowest_jobs": "SELECT * FROM %s ORDER BY slowest_rank, job",
	"kant_failing_jobs": "SELECT * FROM %s ORDER BY failing_rank, job",
}

// Want holds, per view, its column names and then its rows, each row its
// values normalized by Value and joined by " | ".
var Want = map[string][]string{
	"kant_job_daily": {
		"job | source | date | runs | succeeded | failed | first_started_at | last_finished_at | timed_runs | total_duration_s | max_duration_s",
		"hegel/export | hegel | 2026-06-01 | 1 | 1 | 0 | 2026-06-01T01:00:00Z | 2026-06-01T01:10:00Z | 1 | 600 | 600",
		"hegel/export | hegel | 2026-06-02 | 2 | 1 | 1 | 2026-06-02T01:00:00Z | 2026-06-02T01:50:00Z | 2 | 2100 | 1800",
		"hegel/import | hegel | 2026-04-01 | 1 | 1 | 0 | 2026-04-01T02:00:00Z | 2026-04-01T03:23:20Z | 1 | 5000 | 5000",
		"hegel/import | hegel | 2026-06-01 | 1 | 1 | 0 | 2026-06-01T02:00:00Z | 2026-06-01T02:20:00Z | 1 | 1200 | 1200",
		"socrates/load | socrates | 2026-06-02 | 2 | 0 | 1 | 2026-06-02T03:00:00Z | 2026-06-02T03:30:00Z | 1 | 1800 | 1800",
	},
	"kant_gantt": {
		"slo | job | date | expected_at | deadline | recover_by | started_at | finished_at | verdict | reason | lateness_s | runs | start_delay_s | slack_s",
		"hegel-nightly | hegel/export | 2026-06-01 | 2026-06-01T00:00:00Z | 2026-06-01T01:30:00Z | 2026-06-01T23:59:00Z | 2026-06-01T01:00:00Z | 2026-06-01T01:10:00Z | met | NULL | 0 | 1 | 3600 | 1200",
		"hegel-nightly | hegel/import | 2026-06-01 | 2026-06-01T00:00:00Z | 2026-06-01T02:15:00Z | 2026-06-01T23:59:00Z | 2026-06-01T02:00:00Z | 2026-06-01T02:20:00Z | late | NULL | 300 | 1 | 7200 | -300",
		"hegel-nightly | hegel/export | 2026-06-02 | 2026-06-02T00:00:00Z | 2026-06-02T02:00:00Z | 2026-06-02T23:59:00Z | 2026-06-02T01:00:00Z | 2026-06-02T01:50:00Z | met | NULL | 0 | 2 | 3600 | 600",
		"hegel-nightly | hegel/import | 2026-06-02 | 2026-06-02T00:00:00Z | 2026-06-02T02:15:00Z | 2026-06-02T23:59:00Z | NULL | NULL | missed | not_started | 0 | 0 | NULL | NULL",
	},
	"kant_slo_daily": {
		"slo | date | occurrences | met | late | missed | pending | slo_met | sla_met | final | met_share",
		"hegel-nightly | 2026-05-02 | 1 | 1 | 0 | 0 | 0 | 1 | 1 | 1 | 1",
		"hegel-nightly | 2026-05-03 | 1 | 1 | 0 | 0 | 0 | 1 | 1 | 1 | 1",
		"hegel-nightly | 2026-06-01 | 2 | 1 | 1 | 0 | 0 | 0 | 1 | 1 | 0.5",
		"hegel-nightly | 2026-06-02 | 2 | 1 | 0 | 1 | 0 | 0 | 0 | 1 | 0.5",
		"hegel-nightly | 2026-06-03 | 2 | 0 | 0 | 0 | 2 | 0 | 0 | 0 | 0",
	},
	"kant_slo_30d": {
		"slo | date | days | slo_days_met | sla_days_met | slo_attainment | sla_attainment",
		"hegel-nightly | 2026-05-02 | 1 | 1 | 1 | 1 | 1",
		"hegel-nightly | 2026-05-03 | 2 | 2 | 2 | 1 | 1",
		"hegel-nightly | 2026-06-01 | 2 | 1 | 2 | 0.5 | 1",
		"hegel-nightly | 2026-06-02 | 2 | 0 | 1 | 0 | 0.5",
	},
	"kant_slowest_jobs": {
		"job | source | runs | timed_runs | avg_duration_s | max_duration_s | slowest_rank",
		"socrates/load | socrates | 2 | 1 | 1800 | 1800 | 1",
		"hegel/import | hegel | 1 | 1 | 1200 | 1200 | 2",
		"hegel/export | hegel | 3 | 3 | 900 | 1800 | 3",
	},
	"kant_failing_jobs": {
		"job | source | runs | failed | succeeded | failure_rate | failing_rank",
		"socrates/load | socrates | 2 | 1 | 0 | 0.5 | 1",
		"hegel/export | hegel | 3 | 1 | 2 | 0.333333 | 2",
	},
}

// Value normalizes one column value for comparison across dialects: NULL,
// numbers rounded to six decimals, booleans as 1 or 0, times in UTC RFC
// 3339 to the second, dates and texts as they are.
func Value(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return Value(string(x))
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(math.Round(x*1e6)/1e6, 'f', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
		return x
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// Row joins a row's normalized values.
func Row(vals []any) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = Value(v)
	}
	return strings.Join(s, " | ")
}
