// Package cloudlogging writes kant's observations and verdicts to Google
// Cloud Logging as structured entries (cloud.google.com/go/logging), one
// per run observation and one per verdict, labelled by source, job, state or
// verdict and SLO, so that a Logs Router sink can route them (to BigQuery,
// Pub/Sub, another project) as KANT's log-based export did.
//
// It owns the shape of those entries: their payload, labels, severity and
// insert ID. It imports kant, the standard library and the logging client;
// never a store, collector, slo or alert package. The lead wires it as a
// collector observer (Observe) and as an evaluator exporter
// (ExportEvaluation, which writes the results with ExportResults).
//
// Entries are written in the background in batches (the client's bundler):
// Observe and ExportEvaluation return at once, write errors are logged through
// Config.Logger, and Close flushes what is buffered. Each entry carries an
// insert ID derived from what it describes, so that a repeat within Cloud
// Logging's deduplication window is stored once.
package cloudlogging

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/logging"
	logpb "cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/api/option"
	mrpb "google.golang.org/genproto/googleapis/api/monitoredres"

	"github.com/kantproject/kant"
)

// Config configures New.
type Config struct {
	// Project is the Google Cloud project whose log receives the entries.
	// Required.
	Project string
	// LogID names the log (projects/P/logs/LogID). Default: "kant".
	LogID string
	// CommonLabels are added to every entry, e.g. {"service": "kant",
	// "env": "prod"}.
	CommonLabels map[string]string
	// ClientOptions are passed to the logging client: credentials, or an
	// endpoint without authentication in tests.
	ClientOptions []option.ClientOption
	// Logger receives write errors. Default: discard.
	Logger *slog.Logger
	// EntryCountThreshold is how many entries are sent in one request at
	// most; a batch is sent when it is reached. Default: 1000.
	EntryCountThreshold int
	// DelayThreshold is how long an entry waits for its batch to fill.
	// Default: 1s.
	DelayThreshold time.Duration
	// Now is the clock, used to time-stamp verdicts that carry no
	// evaluation time. Default: time.Now.
	Now func() time.Time
}

// Exporter writes entries to one log. It is safe for concurrent use.
type Exporter struct {
	client *logging.Client
	log    *logging.Logger
	logger *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	verdicts map[occurrence]verdictState // the last verdict written per occurrence
	closed   bool
}

type occurrence struct {
	slo        string
	job        kant.JobKey
	expectedAt int64
}

type verdictState struct {
	verdict   kant.Verdict
	reason    kant.Reason
	succeeded int64
}

// New creates the client. It does not write anything: a project that does
// not exist or refuses kant shows up as logged write errors.
func New(ctx context.Context, cfg Config) (*Exporter, error) {
	if cfg.Project == "" {
		return nil, errors.New("cloud logging: project is required")
	}
	if cfg.LogID == "" {
		cfg.LogID = "kant"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.EntryCountThreshold <= 0 {
		cfg.EntryCountThreshold = logging.DefaultEntryCountThreshold
	}
	if cfg.DelayThreshold <= 0 {
		cfg.DelayThreshold = logging.DefaultDelayThreshold
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client, err := logging.NewClient(ctx, "projects/"+cfg.Project, cfg.ClientOptions...)
	if err != nil {
		return nil, fmt.Errorf("cloud logging: client for project %s: %w", cfg.Project, err)
	}
	logger := cfg.Logger.With("component", "cloudlogging")
	client.OnError = func(err error) {
		logger.Warn("writing log entries failed", "log_id", cfg.LogID, "err", err)
	}
	opts := []logging.LoggerOption{
		logging.EntryCountThreshold(cfg.EntryCountThreshold),
		logging.DelayThreshold(cfg.DelayThreshold),
		// The resource is named rather than detected: detection asks the
		// metadata server, which is not there outside Google Cloud.
		logging.CommonResource(&mrpb.MonitoredResource{Type: "global", Labels: map[string]string{"project_id": cfg.Project}}),
	}
	if len(cfg.CommonLabels) > 0 {
		opts = append(opts, logging.CommonLabels(cfg.CommonLabels))
	}
	return &Exporter{
		client:   client,
		log:      client.Logger(cfg.LogID, opts...),
		logger:   logger,
		now:      cfg.Now,
		verdicts: map[occurrence]verdictState{},
	}, nil
}

// RunEntry is the JSON payload of a run observation's entry.
type RunEntry struct {
	Kind         string            `json:"kind"` // "run"
	Source       string            `json:"source"`
	Job          string            `json:"job"`
	RunID        string            `json:"run_id"`
	Attempt      int               `json:"attempt"`
	State        string            `json:"state"`
	SourceState  string            `json:"source_state,omitempty"`
	LogicalDate  string            `json:"logical_date,omitempty"`
	StartedAt    string            `json:"started_at,omitempty"`
	FinishedAt   string            `json:"finished_at,omitempty"`
	DurationS    float64           `json:"duration_s,omitempty"`
	ErrorMessage string            `json:"error_message,omitempty"`
	ObservedAt   string            `json:"observed_at"`
	Attributes   map[string]string `json:"attributes,omitempty"`
}

// VerdictEntry is the JSON payload of a verdict's entry.
type VerdictEntry struct {
	Kind        string  `json:"kind"` // "verdict"
	SLO         string  `json:"slo"`
	Job         string  `json:"job"`
	Date        string  `json:"date"`
	ExpectedAt  string  `json:"expected_at"`
	Deadline    string  `json:"deadline,omitempty"`
	Verdict     string  `json:"verdict"`
	Reason      string  `json:"reason,omitempty"`
	SucceededAt string  `json:"succeeded_at,omitempty"`
	LatenessS   float64 `json:"lateness_s"`
	Runs        int     `json:"runs"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func insertID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// runSeverity is ERROR for a run that ended without success (skipped
// aside), INFO otherwise.
func runSeverity(s kant.State) logging.Severity {
	if s.Failed() && s != kant.StateSkipped {
		return logging.Error
	}
	return logging.Info
}

// Observe writes one entry per observation. It satisfies the collector's
// Observer; it never blocks on the network.
func (e *Exporter) Observe(ctx context.Context, runs []kant.Run) {
	for _, r := range runs {
		p := RunEntry{
			Kind: "run", Source: r.Source, Job: string(r.Job), RunID: r.RunID, Attempt: r.Attempt,
			State: string(r.State), SourceState: r.SourceState, LogicalDate: r.LogicalDate.String(),
			StartedAt: rfc3339(r.StartedAt), FinishedAt: rfc3339(r.FinishedAt), DurationS: r.Duration().Seconds(),
			ErrorMessage: r.ErrorMessage, ObservedAt: rfc3339(r.ObservedAt), Attributes: r.Attributes,
		}
		e.write(logging.Entry{
			Timestamp: r.ObservedAt,
			Severity:  runSeverity(r.State),
			Payload:   p,
			Labels:    map[string]string{"kind": "run", "source": r.Source, "job": string(r.Job), "state": string(r.State)},
			InsertID: insertID("run", string(r.Job), r.RunID, strconv.Itoa(r.Attempt), string(r.State),
				rfc3339(r.StartedAt), rfc3339(r.FinishedAt), rfc3339(r.ObservedAt)),
			Operation: runOperation(r),
		})
	}
}

// runOperation groups a run's entries in the Logs Explorer.
func runOperation(r kant.Run) *logpb.LogEntryOperation {
	return &logpb.LogEntryOperation{Id: string(r.Job) + "/" + r.RunID + "#" + strconv.Itoa(r.Attempt), Producer: "kant/" + r.Source}
}

// verdictSeverity is WARNING for a late or missed occurrence, INFO
// otherwise.
func verdictSeverity(v kant.Verdict) logging.Severity {
	if v == kant.VerdictLate || v == kant.VerdictMissed {
		return logging.Warning
	}
	return logging.Info
}

// Seed tells the exporter which verdicts the log already has (those stored
// before a restart), so that the first evaluation after a restart, which
// judges the whole retention window again, writes only what changed.
func (e *Exporter) Seed(results []kant.Result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range results {
		st := verdictState{r.Verdict, r.Reason, r.SucceededAt.UnixNano()}
		if r.SucceededAt.IsZero() {
			st.succeeded = 0
		}
		e.verdicts[occurrence{r.SLO, r.Job, r.ExpectedAt.UnixNano()}] = st
	}
}

// ExportEvaluation writes the entries of an evaluation's results (see
// ExportResults): it satisfies the evaluator's Exporter. Days are not
// exported: they summarize the verdicts that are.
func (e *Exporter) ExportEvaluation(ctx context.Context, ev kant.Evaluation) {
	e.ExportResults(ctx, ev.Results)
}

// ExportResults writes one entry per verdict that is new or changed since
// this exporter last wrote the occurrence's verdict (an evaluator re-judges
// the same occurrences every tick; the log gets each change once).
func (e *Exporter) ExportResults(ctx context.Context, results []kant.Result) {
	for _, r := range results {
		key := occurrence{r.SLO, r.Job, r.ExpectedAt.UnixNano()}
		st := verdictState{r.Verdict, r.Reason, r.SucceededAt.UnixNano()}
		if r.SucceededAt.IsZero() {
			st.succeeded = 0
		}
		e.mu.Lock()
		if old, ok := e.verdicts[key]; ok && old == st {
			e.mu.Unlock()
			continue
		}
		e.verdicts[key] = st
		e.prune(r.ExpectedAt)
		e.mu.Unlock()
		at := r.EvaluatedAt
		if at.IsZero() {
			at = e.now()
		}
		p := VerdictEntry{
			Kind: "verdict", SLO: r.SLO, Job: string(r.Job), Date: r.Date.String(),
			ExpectedAt: rfc3339(r.ExpectedAt), Deadline: rfc3339(r.Deadline), Verdict: string(r.Verdict),
			Reason: string(r.Reason), SucceededAt: rfc3339(r.SucceededAt), LatenessS: r.Lateness.Seconds(), Runs: r.Runs,
		}
		e.write(logging.Entry{
			Timestamp: at,
			Severity:  verdictSeverity(r.Verdict),
			Payload:   p,
			Labels: map[string]string{"kind": "verdict", "source": r.Job.Source(), "job": string(r.Job),
				"slo": r.SLO, "verdict": string(r.Verdict)},
			InsertID: insertID("verdict", r.SLO, string(r.Job), rfc3339(r.ExpectedAt), string(r.Verdict),
				string(r.Reason), rfc3339(r.SucceededAt)),
		})
	}
}

// prune forgets occurrences expected more than 8 days before t, which an
// evaluator no longer re-judges. e.mu is held.
func (e *Exporter) prune(t time.Time) {
	if len(e.verdicts) < 10_000 {
		return
	}
	cutoff := t.Add(-8 * 24 * time.Hour).UnixNano()
	for k := range e.verdicts {
		if k.expectedAt < cutoff {
			delete(e.verdicts, k)
		}
	}
}

func (e *Exporter) write(entry logging.Entry) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		e.logger.Warn("log entry after Close dropped", "job", entry.Labels["job"])
		return
	}
	e.log.Log(entry)
}

// Flush sends what is buffered and waits for it.
func (e *Exporter) Flush() error {
	if err := e.log.Flush(); err != nil {
		return fmt.Errorf("cloud logging flush: %w", err)
	}
	return nil
}

// Close flushes what is buffered and closes the client.
func (e *Exporter) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	if err := e.client.Close(); err != nil {
		return fmt.Errorf("cloud logging close: %w", err)
	}
	return nil
}
