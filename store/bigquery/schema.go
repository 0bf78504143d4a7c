package bigquery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// tableSpec is one of kant's tables as this version of kant expects it.
type tableSpec struct {
	name        string
	description string
	schema      bigquery.Schema
	partition   *bigquery.TimePartitioning
	cluster     *bigquery.Clustering
}

func field(name string, t bigquery.FieldType, required bool, description string) *bigquery.FieldSchema {
	return &bigquery.FieldSchema{Name: name, Type: t, Required: required, Description: description}
}

const (
	tString = bigquery.StringFieldType
	tInt    = bigquery.IntegerFieldType
	tFloat  = bigquery.FloatFieldType
	tBool   = bigquery.BooleanFieldType
	tDate   = bigquery.DateFieldType
	tTime   = bigquery.TimestampFieldType
)

// tables returns kant's tables. Columns are only ever added at the end, and
// as NULLABLE: migrate adds what an existing table lacks and changes nothing
// else.
func tables() []tableSpec {
	return []tableSpec{
		{
			name:        "job_runs",
			description: "kant: every run observation, append-only. job_runs_latest has the newest per run.",
			partition:   &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: "observed_at"},
			cluster:     &bigquery.Clustering{Fields: []string{"source", "job"}},
			schema: bigquery.Schema{
				field("source", tString, true, "source name, the first half of the job key"),
				field("job", tString, true, "job key <source>/<job>"),
				field("run_id", tString, true, "the source's run ID"),
				field("attempt", tInt, true, "attempt number, from 1"),
				field("max_attempts", tInt, false, "attempts the source allows in all; NULL when unknown"),
				field("state", tString, true, "normalized state: queued, running, succeeded, failed, timeout, stopped, skipped, upstream_failed, unknown"),
				field("source_state", tString, false, "the source's own state"),
				field("logical_date", tDate, false, "the occurrence date the run belongs to"),
				field("started_at", tTime, false, ""),
				field("finished_at", tTime, false, ""),
				field("duration_s", tFloat, false, "finished_at - started_at in seconds, when both are known"),
				field("error_message", tString, false, ""),
				field("observed_at", tTime, true, "when kant saw this state"),
				field("attributes", tString, false, "JSON object of strings (run arguments, DAG conf)"),
				field("obs_hash", tInt, true, "internal: hash of the observation, the dedup key"),
				field("seq", tInt, true, "internal: write sequence, orders observations observed at the same time"),
				field("started_ns", tInt, false, "started_at in Unix nanoseconds"),
				field("finished_ns", tInt, false, "finished_at in Unix nanoseconds"),
				field("observed_ns", tInt, true, "observed_at in Unix nanoseconds"),
				field("at_ns", tInt, true, "coalesce(started, finished, observed) in Unix nanoseconds"),
			},
		},
		{
			name:        "slo_results",
			description: "kant: the verdict on every occurrence, one row per (slo, job, expected_at).",
			partition:   &bigquery.TimePartitioning{Type: bigquery.MonthPartitioningType, Field: "date"},
			cluster:     &bigquery.Clustering{Fields: []string{"slo", "job"}},
			schema: bigquery.Schema{
				field("slo", tString, true, ""),
				field("job", tString, true, ""),
				field("date", tDate, true, "the occurrence's business date"),
				field("expected_at", tTime, true, ""),
				field("deadline", tTime, false, ""),
				field("recover_by", tTime, false, ""),
				field("verdict", tString, true, "pending, met, late, missed"),
				field("reason", tString, false, "for missed: failed, not_started, running"),
				field("succeeded_at", tTime, false, ""),
				field("lateness_s", tFloat, true, ""),
				field("runs", tInt, true, ""),
				field("evaluated_at", tTime, false, ""),
				field("expected_ns", tInt, true, ""),
				field("deadline_ns", tInt, false, ""),
				field("recover_by_ns", tInt, false, ""),
				field("succeeded_ns", tInt, false, ""),
				field("evaluated_ns", tInt, false, ""),
			},
		},
		{
			name:        "sla_daily",
			description: "kant: one SLO on one business date.",
			cluster:     &bigquery.Clustering{Fields: []string{"slo"}},
			schema: bigquery.Schema{
				field("slo", tString, true, ""),
				field("date", tDate, true, ""),
				field("occurrences", tInt, true, ""),
				field("met", tInt, true, ""),
				field("late", tInt, true, ""),
				field("missed", tInt, true, ""),
				field("pending", tInt, true, ""),
				field("slo_met", tBool, true, ""),
				field("sla_met", tBool, true, ""),
				field("final", tBool, true, ""),
				field("evaluated_at", tTime, false, ""),
				field("evaluated_ns", tInt, false, ""),
			},
		},
		{
			name:        "alerts",
			description: "kant: every incident notification, what was sent, where, and its state.",
			schema: bigquery.Schema{
				field("id", tString, true, ""),
				field("kind", tString, false, ""),
				field("slo", tString, false, ""),
				field("job", tString, false, ""),
				field("date", tDate, false, ""),
				field("status", tString, false, "open, resolved"),
				field("channel", tString, false, ""),
				field("message_ts", tString, false, ""),
				field("text", tString, false, ""),
				field("created_at", tTime, false, ""),
				field("updated_at", tTime, false, ""),
				field("sent_at", tTime, false, "NULL: not delivered yet"),
				field("created_ns", tInt, false, ""),
				field("updated_ns", tInt, false, ""),
				field("sent_ns", tInt, false, ""),
				field("owner", tString, false, "who is told"),
				field("since", tTime, false, "when the incident began"),
				field("since_ns", tInt, false, ""),
				field("body", tString, false, `JSON object {"fields": [...], "links": [...], "notes": [...]}`),
				field("revision", tInt, false, "incremented on every change of content"),
				field("delivered", tInt, false, "revision last shown in Slack"),
				field("notes_sent", tInt, false, "thread replies delivered"),
				field("posting", tBool, false, "a first post was attempted and not yet recorded"),
				field("silenced", tString, false, "the silence that kept the alert from being sent"),
				field("last_error", tString, false, "the last delivery error a retry cannot fix"),
			},
		},
		{
			name:        "silences",
			description: "kant: windows in which alerts are recorded, not sent.",
			schema: bigquery.Schema{
				field("id", tString, true, ""),
				field("slos", tString, false, "JSON array of SLO names"),
				field("jobs", tString, false, "JSON array of job globs"),
				field("start_at", tTime, true, ""),
				field("end_at", tTime, true, ""),
				field("reason", tString, true, ""),
				field("created_by", tString, false, ""),
				field("created_at", tTime, false, ""),
				field("start_ns", tInt, true, ""),
				field("end_ns", tInt, true, ""),
				field("created_ns", tInt, false, ""),
			},
		},
		{
			name:        "source_health",
			description: "kant: the outcome of polling each source.",
			schema: bigquery.Schema{
				field("source", tString, true, ""),
				field("last_success", tTime, false, ""),
				field("last_attempt", tTime, false, ""),
				field("last_error", tString, false, ""),
				field("consecutive_failures", tInt, true, ""),
				field("last_success_ns", tInt, false, ""),
				field("last_attempt_ns", tInt, false, ""),
			},
		},
		{
			name:        "leases",
			description: "kant: named leases (the leader's), one row per name; generation is the fencing token.",
			schema: bigquery.Schema{
				field("name", tString, true, ""),
				field("holder", tString, true, "the replica that holds or last held it"),
				field("generation", tInt, true, "grows each time the lease is taken anew"),
				field("since", tTime, true, "when holder took it"),
				field("expires", tTime, true, "when it ends unless renewed"),
				field("since_ns", tInt, true, "since in Unix nanoseconds"),
				field("expires_ns", tInt, true, "expires in Unix nanoseconds"),
			},
		},
		{
			name:        "checkpoints",
			description: "kant: collector checkpoints, append-only; the newest per (source, key) by seq counts.",
			schema: bigquery.Schema{
				field("source", tString, true, ""),
				field("key", tString, true, ""),
				field("value", tString, true, ""),
				field("updated_at", tTime, true, ""),
				field("seq", tInt, true, ""),
			},
		},
	}
}

// latestViewSQL is the job_runs_latest view: the newest observation of every
// run (greatest observed_ns, then greatest seq). It is written in the SQL
// that BigQuery and SQLite both accept (no QUALIFY, no SELECT * EXCEPT).
func (s *Store) latestViewSQL() string {
	return `SELECT source, job, run_id, attempt, max_attempts, state, source_state, logical_date,
  started_at, finished_at, duration_s, error_message, observed_at, attributes,
  obs_hash, seq, started_ns, finished_ns, observed_ns, at_ns
FROM (
  SELECT r.*, ROW_NUMBER() OVER (PARTITION BY job, run_id, attempt ORDER BY observed_ns DESC, seq DESC) AS rn
  FROM ` + s.table("job_runs") + ` AS r
) AS ranked
WHERE rn = 1`
}

// migrate creates the tables and views that are missing and adds the
// columns an existing table lacks. It changes nothing else: a column with
// another type than kant expects is an error for a person to resolve.
func (s *Store) migrate(ctx context.Context) error {
	for _, spec := range tables() {
		if err := s.migrateTable(ctx, spec); err != nil {
			return fmt.Errorf("table %s: %w", spec.name, err)
		}
	}
	if err := s.migrateView(ctx, "job_runs_latest", "kant: the newest observation of every run", s.latestViewSQL()); err != nil {
		return fmt.Errorf("view job_runs_latest: %w", err)
	}
	for _, v := range s.views {
		if err := s.migrateView(ctx, v.Name, "kant: BI view", v.Query); err != nil {
			return fmt.Errorf("view %s: %w", v.Name, err)
		}
	}
	return nil
}

func isCode(err error, code int) bool {
	var g *googleapi.Error
	return errors.As(err, &g) && g.Code == code
}

func (s *Store) migrateTable(ctx context.Context, spec tableSpec) error {
	t := s.client.Dataset(s.dataset).Table(spec.name)
	md, err := t.Metadata(ctx)
	if isCode(err, http.StatusNotFound) {
		err = t.Create(ctx, &bigquery.TableMetadata{
			Description:      spec.description,
			Schema:           spec.schema,
			TimePartitioning: spec.partition,
			Clustering:       spec.cluster,
		})
		if err == nil {
			s.logger.Info("created table", "table", spec.name)
			return nil
		}
		if !isCode(err, http.StatusConflict) { // another replica created it meanwhile
			return err
		}
		md, err = t.Metadata(ctx)
	}
	if err != nil {
		return err
	}
	have := map[string]*bigquery.FieldSchema{}
	for _, f := range md.Schema {
		have[strings.ToLower(f.Name)] = f
	}
	var add []string
	schema := append(bigquery.Schema(nil), md.Schema...)
	for _, f := range spec.schema {
		h, ok := have[strings.ToLower(f.Name)]
		if !ok {
			c := *f
			c.Required = false // BigQuery adds only NULLABLE columns
			schema = append(schema, &c)
			add = append(add, f.Name)
			continue
		}
		if h.Type != f.Type {
			return fmt.Errorf("column %s is %s, kant expects %s; kant changes no existing column", f.Name, h.Type, f.Type)
		}
	}
	if len(add) == 0 {
		return nil
	}
	if _, err := t.Update(ctx, bigquery.TableMetadataToUpdate{Schema: schema}, md.ETag); err != nil {
		return fmt.Errorf("add columns %s: %w", strings.Join(add, ", "), err)
	}
	s.logger.Info("added columns", "table", spec.name, "columns", strings.Join(add, ","))
	return nil
}

func (s *Store) migrateView(ctx context.Context, name, description, query string) error {
	t := s.client.Dataset(s.dataset).Table(name)
	md, err := t.Metadata(ctx)
	if isCode(err, http.StatusNotFound) {
		err = t.Create(ctx, &bigquery.TableMetadata{Description: description, ViewQuery: query})
		if err == nil || isCode(err, http.StatusConflict) {
			s.logger.Info("created view", "view", name)
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	if md.ViewQuery == query {
		return nil
	}
	if md.Type != bigquery.ViewTable {
		return fmt.Errorf("%s exists and is not a view", name)
	}
	if _, err := t.Update(ctx, bigquery.TableMetadataToUpdate{ViewQuery: query}, md.ETag); err != nil {
		return err
	}
	s.logger.Info("updated view", "view", name)
	return nil
}
