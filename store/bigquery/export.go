package bigquery

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kantproject/kant"
)

// Exporter keeps the BigQuery store's job_runs, slo_results and sla_daily
// tables, and the views beside them, in a dataset while kant's store is
// another backend (PostgreSQL, SQLite): export.bigquery. It writes through
// a *Store opened on that dataset, so the schema and the writers are the
// store's own, and every write is idempotent: WriteRuns drops observations
// the dataset holds already (insert IDs and observation hashes), and
// WriteEvaluation replaces its range. A new leader that exports again what
// the old one exported stores nothing twice.
//
// It is a collector observer (Observe) and an evaluator exporter
// (ExportEvaluation). Neither blocks on BigQuery: both queue the work and
// return, and one goroutine, started when there is work and ended when the
// queue is empty, writes it in order. A failed write is retried by the
// store (transient errors, with backoff), then logged at warn and counted
// (Failed); it never fails the store write that came first. The queue is
// bounded (ExporterConfig.MaxQueue observations; evaluations are coalesced
// per SLO and range, the newest kept): beyond it observations are dropped,
// logged and counted. What is missed:
//
//   - slo_results and sla_daily are rewritten by the next evaluation of the
//     same range that differs from the last one written (every evaluator tick
//     for the recent window, the whole retention window at start), so an
//     outage leaves them stale, never wrong, for no longer than it lasts;
//   - observations whose write failed or was dropped are not written again:
//     job_runs misses them until they are exported again (`kant import` of
//     the same observations with the export configured writes only the
//     missing ones).
type Exporter struct {
	s        *Store
	logger   *slog.Logger
	maxQueue int
	timeout  time.Duration

	mu      sync.Mutex
	runs    []kant.Run
	evals   map[string]kant.Evaluation // by evalKey, newest
	order   []string                   // evalKeys in queue order
	written map[string][32]byte        // evalKey → digest of the last evaluation written
	idle    chan struct{}              // closed when the writer goroutine ends; nil when none runs
	failed  int64
	dropped int64
}

// ExporterConfig configures NewExporter.
type ExporterConfig struct {
	// Config opens the dataset (Project, Dataset, Location, ClientOptions,
	// Views: the BI views).
	Config
	// MaxQueue is how many observations may wait to be written; more are
	// dropped (and counted). Default: 50,000.
	MaxQueue int
	// WriteTimeout bounds one write, the store's retries included. Default:
	// 2 minutes.
	WriteTimeout time.Duration
}

// NewExporter opens the dataset as New does (creating or migrating the
// tables and views) and returns the exporter writing to it.
func NewExporter(ctx context.Context, cfg ExporterConfig) (*Exporter, error) {
	s, err := New(ctx, cfg.Config)
	if err != nil {
		return nil, fmt.Errorf("bigquery export: %w", err)
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 50_000
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 2 * time.Minute
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Exporter{s: s, logger: logger.With("component", "bigquery-export"), maxQueue: cfg.MaxQueue,
		timeout: cfg.WriteTimeout, evals: map[string]kant.Evaluation{}, written: map[string][32]byte{}}, nil
}

// Store returns the store the exporter writes to (for reading back).
func (e *Exporter) Store() *Store { return e.s }

// Observe queues new observations for job_runs. It satisfies the
// collector's Observer and returns at once.
func (e *Exporter) Observe(_ context.Context, runs []kant.Run) {
	if len(runs) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	room := e.maxQueue - len(e.runs)
	if room < len(runs) {
		lost := len(runs) - max(room, 0)
		e.dropped += int64(lost)
		e.logger.Warn("BigQuery export queue full: observations dropped", "dropped", lost, "queued", len(e.runs))
		runs = runs[:max(room, 0)]
	}
	e.runs = append(e.runs, runs...)
	e.start()
}

// ExportEvaluation queues an evaluation for slo_results and sla_daily. It
// satisfies the evaluator's Exporter and returns at once. A queued
// evaluation of the same SLO, jobs and dates is replaced by the newer one.
func (e *Exporter) ExportEvaluation(_ context.Context, ev kant.Evaluation) {
	key := evalKey(ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, queued := e.evals[key]; !queued {
		e.order = append(e.order, key)
	}
	e.evals[key] = ev
	e.start()
}

// start runs the writer unless it runs. e.mu is held.
func (e *Exporter) start() {
	if e.idle != nil {
		return
	}
	e.idle = make(chan struct{})
	go e.drain(e.idle)
}

// maxRunsPerWrite is how many observations one WriteRuns carries at most.
const maxRunsPerWrite = 5_000

// drain writes what is queued, runs first, until the queue is empty.
func (e *Exporter) drain(idle chan struct{}) {
	for {
		e.mu.Lock()
		var runs []kant.Run
		var ev kant.Evaluation
		var key string
		switch {
		case len(e.runs) > 0:
			n := min(len(e.runs), maxRunsPerWrite)
			runs = slices.Clone(e.runs[:n])
			e.runs = e.runs[n:]
			if len(e.runs) == 0 {
				e.runs = nil
			}
		case len(e.order) > 0:
			key = e.order[0]
			e.order = e.order[1:]
			ev = e.evals[key]
			delete(e.evals, key)
		default:
			e.idle = nil
			e.mu.Unlock()
			close(idle)
			return
		}
		e.mu.Unlock()
		if runs != nil {
			e.writeRuns(runs)
		} else {
			e.writeEvaluation(key, ev)
		}
	}
}

func (e *Exporter) writeRuns(runs []kant.Run) {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	if _, err := e.s.WriteRuns(ctx, runs); err != nil {
		e.fail("observations", len(runs), err)
	}
}

func (e *Exporter) writeEvaluation(key string, ev kant.Evaluation) {
	sum := evalDigest(ev)
	e.mu.Lock()
	same := e.written[key] == sum
	e.mu.Unlock()
	if same {
		return // what the dataset holds already, evaluated again
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	if err := e.s.WriteEvaluation(ctx, ev); err != nil {
		e.fail("evaluation of "+ev.SLO, len(ev.Results)+len(ev.Days), err)
		return
	}
	e.mu.Lock()
	e.written[key] = sum
	e.mu.Unlock()
}

func (e *Exporter) fail(what string, rows int, err error) {
	e.mu.Lock()
	e.failed++
	e.mu.Unlock()
	e.logger.Warn("BigQuery export write failed", "what", what, "rows", rows, "err", err)
}

// Failed returns how many writes failed and how many observations were
// dropped for a full queue, since the exporter was created.
func (e *Exporter) Failed() (writes, dropped int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed, e.dropped
}

// Flush waits until what was queued before it is written (or failed), or
// ctx ends.
func (e *Exporter) Flush(ctx context.Context) error {
	for {
		e.mu.Lock()
		idle := e.idle
		e.mu.Unlock()
		if idle == nil {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close writes what is queued, then closes the client. Its error says what
// did not get out since the exporter was created.
func (e *Exporter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	var errs []error
	if err := e.Flush(ctx); err != nil {
		errs = append(errs, fmt.Errorf("bigquery export: flush: %w", err))
	}
	if failed, dropped := e.Failed(); failed > 0 || dropped > 0 {
		errs = append(errs, fmt.Errorf("bigquery export: %d writes failed and %d observations were dropped (see the log)", failed, dropped))
	}
	if err := e.s.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// evalKey names what an evaluation replaces: its SLO, jobs and dates.
func evalKey(ev kant.Evaluation) string {
	jobs := make([]string, len(ev.Jobs))
	for i, j := range ev.Jobs {
		jobs[i] = string(j)
	}
	slices.Sort(jobs)
	return ev.SLO + "\x00" + ev.From.String() + "\x00" + ev.To.String() + "\x00" + strings.Join(jobs, ",")
}

// evalDigest hashes an evaluation's content without its evaluation times,
// which change on every tick when nothing else does.
func evalDigest(ev kant.Evaluation) [32]byte {
	results := slices.Clone(ev.Results)
	for i := range results {
		results[i].EvaluatedAt = time.Time{}
	}
	days := slices.Clone(ev.Days)
	for i := range days {
		days[i].EvaluatedAt = time.Time{}
	}
	b, _ := json.Marshal(struct {
		R []kant.Result
		D []kant.Day
	}{results, days})
	return sha256.Sum256(b)
}
