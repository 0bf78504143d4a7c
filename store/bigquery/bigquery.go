// Package bigquery is the BigQuery store backend: it keeps kant's tables (see
// DESIGN.md, "Tables") in one BigQuery dataset through
// cloud.google.com/go/bigquery, and satisfies store.Store.
//
// It owns the BigQuery schema (tables and the job_runs_latest view, created
// or migrated at start by adding what is missing, never by changing or
// dropping anything), the mapping between kant's types and rows, and the
// write path. It imports kant, store, the standard library and the BigQuery
// client, and nothing else of kant: never slo, collector, gate or another
// backend.
//
// BigQuery has no transaction spanning streaming inserts, so the design
// differs from store/sqlite while keeping its contract:
//
//   - job_runs is append-only and written with tabledata.insertAll. Each row's
//     insert ID is its job and observation hash (the same hash of everything
//     kant.Run.SameObservation compares), so a retried request, or two
//     replicas writing the same observation, store it once within BigQuery's
//     deduplication window; outside it a duplicate is an identical row, which
//     every read tolerates. WriteRuns first asks which of the batch's hashes
//     are stored already, so that a repeat is dropped and not returned as new.
//   - "The latest observation" is computed when read: the job_runs_latest
//     view keeps, per (job, run_id, attempt), the row with the greatest
//     observed_ns and then the greatest seq, a write sequence (the writer's
//     clock in nanoseconds, strictly increasing within a process).
//   - LatestRuns ranks the observations of job_runs itself (not through
//     the view), so that its jobs and ObservedFrom apply before the
//     ranking, ObservedFrom on observed_at too, which prunes partitions.
//     LatestRuns and Jobs keep their answers while job_runs holds as many
//     rows as when they were read (runCache): one COUNT(*), billed
//     nothing, instead of a read of the table every 30 seconds.
//     docs/bigquery-costs.md has what kant serve reads in an hour.
//   - Writes of runs go through a group commit: concurrent callers' rows are
//     sent together in one insertAll while the previous one is in flight,
//     the queue is bounded (Config.MaxBuffer rows), and a caller returns only
//     when its rows are acknowledged. A failed flush is retried with backoff
//     when a retry can help and otherwise returned to every caller whose rows
//     it carried; nothing is dropped silently.
//   - slo_results, sla_daily, alerts and source_health are changed with DML
//     in a multi-statement transaction (BEGIN TRANSACTION … COMMIT
//     TRANSACTION), with the rows to insert passed as one JSON parameter,
//     so WriteEvaluation's replace is atomic. These tables are never
//     streamed into, so DML never meets the streaming buffer.
//   - checkpoints are append-only too (insertAll), the newest per key read.
//   - leases (one row per name) change by one conditional MERGE: take the
//     lease when it expired or renew it when the caller holds it, bumping
//     the generation on a new term. DML statements that change one table
//     are serialized by BigQuery (one of two conflicting is aborted and
//     retried, see Retryable), so of replicas racing exactly one wins.
//     Fenced writes check the lease in the statement that writes: PutAlert
//     is a MERGE whose source is empty when a newer generation exists, a
//     fenced SetCheckpoint an INSERT … SELECT … WHERE NOT EXISTS (a newer
//     generation) instead of insertAll; @@row_count = 0 means refused.
//     BigQuery runs a statement on one snapshot: a fenced statement that
//     began before a takeover committed may still land after it, as if it
//     had run just before.
//
// Leases cost queries: BigQuery DML takes seconds and is quota'd, so use
// DefaultLeaseTTL (60 s, renewed every 20 s) rather than kant's 15 s:
// 4,320 MERGE statements a day per replica (86,400 s / 20 s), each billed
// as at least 10 MB, plus one per leadership change. BigQuery runs at most
// a few mutating DML statements on one table at once and queues the rest
// (and aborts conflicting ones, which kant retries), so a BigQuery store
// fits one or two replicas; for more, use store/postgres and
// export.bigquery (see Exporter) for the BI tables.
//
// BigQuery TIMESTAMPs hold microseconds; kant's contract keeps nanoseconds.
// Every time column is therefore written twice: as a TIMESTAMP for people
// and BI tools (partitioning, views) and as an INT64 of Unix nanoseconds
// (the column of the same name with the suffix _ns) that kant reads and
// filters on.
//
// All-or-nothing: a WriteRuns batch is validated whole before anything is
// sent, and a batch of up to maxInsertRows rows is one insertAll with
// skipInvalidRows off, which BigQuery applies whole or not at all. Larger
// batches and imports are sent in several requests after being read and
// validated whole; if one of them fails after others succeeded, the stored
// part is a prefix that a retry of the same import completes (insert IDs make
// the repeat a no-op). ImportRuns holds the import in memory until it has
// been read to the end. Group commit sends several callers' rows in one
// request: a row BigQuery refused would fail them all, but every row was
// validated by kant first.
//
// Exporter keeps the same tables from another store (export.bigquery),
// written through a Store opened on the export's dataset.
//
// Config.Views adds views kant keeps beside its own (the BI views of
// dashboards/views), created or updated at start like job_runs_latest.
//
// SQL: kant's statements are GoogleSQL written, where it costs nothing, in
// the subset SQLite also runs (ROW_NUMBER() in a subquery rather than
// QUALIFY, UNNEST only for parameters), so that the tests run them through
// the real client against internal/fakebq, a local stand-in for the REST API
// backed by SQLite with a small documented translation table. TestIntegration
// runs the same conformance suite against real BigQuery with -integration.
package bigquery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/kantproject/kant/store"
)

var _ store.Store = (*Store)(nil)

// Config configures New.
type Config struct {
	// Project is the Google Cloud project that holds the dataset (and pays
	// for the queries). Required.
	Project string
	// Dataset is the BigQuery dataset that holds kant's tables. It must
	// exist (Terraform or `bq mk` creates it, with its location); New
	// creates the tables in it. Required.
	Dataset string
	// Location is the dataset's location, e.g. asia-northeast1. When set,
	// New checks that the dataset is there; when empty, the dataset's own
	// location is used for queries.
	Location string
	// ClientOptions are passed to the BigQuery client: credentials, or an
	// endpoint and option.WithoutAuthentication() in tests.
	ClientOptions []option.ClientOption
	// Now is the clock, used for write sequence numbers and checkpoint
	// times. Default: time.Now.
	Now func() time.Time
	// Logger receives schema changes and retried writes. Default: discard.
	Logger *slog.Logger
	// FlushInterval is how long the writer that leads a group commit waits
	// for more callers' rows before sending them. Default: 0 (rows queued
	// while the previous request is in flight are batched anyway).
	FlushInterval time.Duration
	// MaxBuffer is how many rows may wait for the next insertAll; callers
	// beyond it wait for room. Default: 10,000.
	MaxBuffer int
	// MaxAttempts is how many times a write is tried when BigQuery answers
	// with an error a retry can help (5xx, rate or quota limits). Default: 5.
	MaxAttempts int

	// CacheRuns is how many runs LatestRuns keeps of its answers, to give
	// them again while job_runs is unchanged (see runCache). Default:
	// 250,000 (kant serve's evaluator and alert engine at 10,000 daily
	// jobs); negative: none are kept.
	CacheRuns int
	// CacheMaxAge is how long a kept answer of LatestRuns or Jobs may be
	// given again at most. Default: 10 minutes.
	CacheMaxAge time.Duration

	// Views are created (or replaced when their query changed) after the
	// tables, in order: the BI views of dashboards/views (BigQueryFor), for
	// example. A view's query names tables as `project.dataset.table`.
	Views []View

	// sleep waits between attempts; tests replace it. Default: a timer.
	sleep func(ctx context.Context, d time.Duration) error
}

// View is a BigQuery view kant keeps in its dataset: a name and the query
// that defines it.
type View struct {
	Name  string
	Query string
}

// Store is a kant store in a BigQuery dataset. It is safe for concurrent use.
type Store struct {
	client   *bigquery.Client
	project  string
	dataset  string
	location string
	now      func() time.Time
	logger   *slog.Logger
	commit   *committer
	views    []View
	cache    *runCache // nil: none
	sleep    func(context.Context, time.Duration) error
	attempts int

	seqMu   sync.Mutex
	lastSeq int64

	txMu sync.Mutex // one multi-statement transaction at a time (see query)
}

// New connects to the dataset, checks that it is reachable, and creates or
// migrates kant's tables and views in it. It fails, naming the reason, when
// the dataset does not exist, kant may not use it, it is in another location
// than cfg.Location, or BigQuery cannot be reached.
func New(ctx context.Context, cfg Config) (*Store, error) {
	switch {
	case cfg.Project == "":
		return nil, errors.New("bigquery: project is required")
	case cfg.Dataset == "":
		return nil, errors.New("bigquery: dataset is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = 10_000
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.sleep == nil {
		cfg.sleep = sleepCtx
	}
	if cfg.CacheRuns == 0 {
		cfg.CacheRuns = 250_000
	}
	if cfg.CacheMaxAge <= 0 {
		cfg.CacheMaxAge = 10 * time.Minute
	}
	client, err := bigquery.NewClient(ctx, cfg.Project, cfg.ClientOptions...)
	if err != nil {
		return nil, fmt.Errorf("bigquery: client for project %s: %w", cfg.Project, err)
	}
	s := &Store{
		client:   client,
		project:  cfg.Project,
		dataset:  cfg.Dataset,
		location: cfg.Location,
		now:      cfg.Now,
		logger:   cfg.Logger.With("component", "bigquery"),
		sleep:    cfg.sleep,
		attempts: cfg.MaxAttempts,
		views:    cfg.Views,
	}
	s.commit = &committer{s: s, max: cfg.MaxBuffer, linger: cfg.FlushInterval}
	if cfg.CacheRuns > 0 {
		s.cache = &runCache{maxRuns: cfg.CacheRuns, maxAge: cfg.CacheMaxAge}
	}
	if err := s.open(ctx); err != nil {
		client.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	name := s.project + ":" + s.dataset
	md, err := s.client.Dataset(s.dataset).Metadata(ctx)
	if err != nil {
		return fmt.Errorf("bigquery: dataset %s is unreachable: %s: %w", name, reachReason(err), err)
	}
	switch {
	case s.location == "":
		s.location = md.Location
	case md.Location != "" && !strings.EqualFold(md.Location, s.location):
		return fmt.Errorf("bigquery: dataset %s is in location %s, the configuration says %s", name, md.Location, s.location)
	}
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("bigquery: dataset %s: %w", name, err)
	}
	// Write sequence numbers continue after the newest stored one, so that
	// a restarted writer whose clock is behind still writes "later".
	rows, err := s.query(ctx, "SELECT MAX(seq) AS seq FROM "+s.table("job_runs"), nil)
	if err != nil {
		return fmt.Errorf("bigquery: dataset %s: read write sequence: %w", name, err)
	}
	if len(rows) == 1 {
		s.lastSeq = asInt(rows[0][0])
	}
	return nil
}

// reachReason says in words why a dataset could not be used.
func reachReason(err error) string {
	var g *googleapi.Error
	if errors.As(err, &g) {
		switch g.Code {
		case http.StatusNotFound:
			return "it does not exist (create it, or check store.bigquery.project and dataset)"
		case http.StatusForbidden, http.StatusUnauthorized:
			return "permission denied (kant's service account needs roles/bigquery.dataEditor on the dataset and roles/bigquery.jobUser on the project)"
		}
		return fmt.Sprintf("BigQuery answered %d", g.Code)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "BigQuery could not be reached in time"
	}
	return "BigQuery could not be reached"
}

// table returns the quoted, fully qualified name of one of kant's tables.
func (s *Store) table(name string) string {
	return "`" + s.project + "." + s.dataset + "." + name + "`"
}

// nextSeq returns n consecutive write sequence numbers, the first of them
// returned: the clock in nanoseconds, or one more than the last one given
// out when the clock has not moved on.
func (s *Store) nextSeq(n int) int64 {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	first := max(s.now().UnixNano(), s.lastSeq+1)
	s.lastSeq = first + int64(n) - 1
	return first
}

// Close releases the client. Writes in flight finish first.
func (s *Store) Close() error {
	s.commit.wait()
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("bigquery close: %w", err)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
