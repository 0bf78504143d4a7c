// Package airflow owns polling Apache Airflow for runs: Airflow 2 (REST API
// /api/v1) and Airflow 3 (/api/v2), self-managed, on Cloud Composer or on
// Amazon MWAA. It resolves the configured DAG ids and globs, reads the task
// instances (level task) or DAG runs (level dag) that changed since the last
// poll through the batch list endpoints, turns them into kant.Run
// observations, hands them to a RunWriter, and keeps a checkpoint and the
// source's health.
//
// It imports kant, collector (only to state that collector.Sink is a
// RunWriter), golang.org/x/oauth2 (Cloud Composer) and aws-sdk-go-v2 (MWAA);
// nothing else of kant. Stores reach it only through the small interfaces
// declared here.
package airflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/oauth2"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

// Levels: what one kant job is.
const (
	LevelTask = "task" // one job per task: <source>/<dag_id>.<task_id>
	LevelDAG  = "dag"  // one job per DAG: <source>/<dag_id>
)

// API versions.
const (
	APIv1 = "v1" // Airflow 2: /api/v1
	APIv2 = "v2" // Airflow 3: /api/v2
)

// Auth modes.
const (
	AuthNone   = "none"   // no credentials (a local Airflow, or a proxy that adds them)
	AuthBasic  = "basic"  // HTTP basic: Username and Password
	AuthBearer = "bearer" // Token, or a JWT from Airflow 3's POST /auth/token with Username and Password
	AuthGoogle = "google" // Cloud Composer: a Google OAuth2 access token (Application Default Credentials)
	AuthMWAA   = "mwaa"   // Amazon MWAA: InvokeRestApi, or a web login session where that is unavailable
)

// Defaults for the optional Config fields.
const (
	DefaultInterval       = 2 * time.Minute
	DefaultBackfill       = 7 * 24 * time.Hour
	DefaultOverlap        = 5 * time.Minute
	DefaultRelistEvery    = 10 * time.Minute
	DefaultRequestTimeout = 30 * time.Second
	DefaultPollTimeout    = 5 * time.Minute
	// DefaultMaxTries is how many times one request is tried when it fails
	// in a way a retry can help (429, 5xx, a network error).
	DefaultMaxTries = 3
)

// maxPages caps the pages read for one list in one poll (100,000 entries);
// what is beyond is read by the next poll, which starts from the same
// checkpoint. A variable so that tests can lower it.
var maxPages = 1000

// Limits.
const (
	// pageLimit is the page size asked for: Airflow's default
	// [api] maximum_page_limit, the most a 2.10.3+ server returns.
	pageLimit = 100
	// dagChunk is how many DAG ids go into one batch request body.
	dagChunk = 500
	// maxBody caps a response body: MWAA's InvokeRestApi cap.
	maxBody = 6 << 20
	// maxHealthMessage caps the error recorded in the source's health.
	maxHealthMessage = 1024
	// maxRetryAfter caps how long a 429's Retry-After is honoured within a poll.
	maxRetryAfter = 30 * time.Second
)

// Config configures a Poller for one Airflow source (one Airflow
// deployment). Its fields map one to one to the source's keys in kant.yaml.
type Config struct {
	// Source is the kant source name, the first half of every job key. Required.
	Source string
	// URL is the Airflow webserver (Airflow 2) or API server (Airflow 3)
	// base URL, without /api/v1: for Cloud Composer the environment's
	// airflowUri. Required except with Auth mwaa.
	URL string
	// API is "v1" (Airflow 2) or "v2" (Airflow 3); empty: detected from the
	// server's /api/v2/version and /api/v1/version.
	API string
	// DAGs lists DAG ids or globs (kant.Match on the bare DAG id). Required.
	DAGs []string
	// Level is "task" (default: one job per task) or "dag" (one per DAG).
	Level string
	// Interval is Run's poll period. Default 2 minutes.
	Interval time.Duration
	// Auth is none (default), basic, bearer, google or mwaa.
	Auth string
	// Username and Password: basic auth, or bearer auth exchanged for a JWT
	// at Airflow 3's POST /auth/token. From ${ENV}; never logged.
	Username string
	Password string
	// Token is a static bearer token (bearer auth). Never logged.
	Token string
	// Environment is the MWAA environment name (mwaa auth). Required for mwaa.
	Environment string
	// Region is the MWAA environment's AWS region (mwaa auth).
	Region string
	// Endpoint overrides the MWAA API endpoint (VPC endpoints, tests).
	Endpoint string
	// Location is the time zone in which an Airflow tick (run_after in v2,
	// data_interval_end in v1) is turned into the run's logical date: the
	// SLO time zone. Default UTC.
	Location *time.Location
	// Backfill is how far back the first poll reads. Default 7 days.
	Backfill time.Duration
	// Overlap is how far each poll's window reaches back before the end of
	// the previous one, for clock skew and late commits. Default 5 minutes.
	Overlap time.Duration
	// RelistEvery is how often the DAG list is resolved again, so that new
	// DAGs appear. Default 10 minutes.
	RelistEvery time.Duration
	// RequestTimeout bounds one HTTP request. Default 30 seconds.
	RequestTimeout time.Duration
	// PollTimeout bounds one poll cycle. Default 5 minutes.
	PollTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives debug lines for routine polls and warnings for what
	// someone may need to act on. Default: discard.
	Logger *slog.Logger
}

// Deps are the Poller's collaborators.
type Deps struct {
	// Runs receives the observations of each poll in one call. Required.
	Runs collector.Ingester
	// Checkpoints keeps the poll window (key: "task_instances" or
	// "dag_runs"). Required.
	Checkpoints collector.Checkpoints
	// Health records each poll cycle. Required.
	Health collector.Health
	// HTTPClient sends the requests to Airflow (and, with mwaa, the web
	// login). Default: a client with no overall timeout (each request has
	// RequestTimeout).
	HTTPClient *http.Client
	// TokenSource gives the Google access tokens of google auth. Default:
	// Application Default Credentials with the cloud-platform scope.
	TokenSource oauth2.TokenSource
	// AWSConfig, when set, is used for mwaa auth instead of the default AWS
	// credential chain.
	AWSConfig *aws.Config
	// Sleep waits between tries of a request; tests make it instant.
	// Default: a timer that stops when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Poller polls the runs of one Airflow source. PollOnce must not run
// concurrently with itself; Check may.
type Poller struct {
	cfg   Config
	deps  Deps
	now   func() time.Time
	log   *slog.Logger
	sleep func(ctx context.Context, d time.Duration) error
	tr    transport

	mu       sync.Mutex
	api      string              // detected or configured API version
	dags     []string            // resolved DAG ids, sorted
	listedAt time.Time           // zero: list before the next poll
	runInfo  map[string]dagRunAt // v1: dag run ticks by dag_id + "\x00" + dag_run_id
	unknown  map[string]bool     // Airflow states already logged as unknown

	// cuts counts lists cut short at maxPages: a poll during which one was
	// keeps the previous checkpoint, so that what was not read is read by
	// the next poll rather than skipped.
	cuts atomic.Int64
}

// New validates cfg and deps, builds the transport for cfg.Auth and returns
// a Poller. It makes no call to Airflow.
func New(ctx context.Context, cfg Config, deps Deps) (*Poller, error) {
	var problems []string
	if cfg.Source == "" || strings.Contains(cfg.Source, "/") {
		problems = append(problems, "source: required, without '/'")
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthNone
	}
	if cfg.Level == "" {
		cfg.Level = LevelTask
	}
	switch cfg.Auth {
	case AuthNone, AuthBasic, AuthBearer, AuthGoogle:
		if cfg.URL == "" {
			problems = append(problems, "url: required")
		} else if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, "url: must be an http(s) URL")
		}
	case AuthMWAA:
		if cfg.Environment == "" {
			problems = append(problems, "environment: required with auth mwaa")
		}
		if deps.AWSConfig == nil && cfg.Region == "" {
			problems = append(problems, "region: required with auth mwaa")
		}
	default:
		problems = append(problems, fmt.Sprintf("auth: %q is not one of none, basic, bearer, google, mwaa", cfg.Auth))
	}
	switch {
	case cfg.Auth == AuthBasic && (cfg.Username == "" || cfg.Password == ""):
		problems = append(problems, "basic auth: username and password required")
	case cfg.Auth == AuthBearer && cfg.Token == "" && (cfg.Username == "" || cfg.Password == ""):
		problems = append(problems, "bearer auth: token, or username and password, required")
	}
	if cfg.API != "" && cfg.API != APIv1 && cfg.API != APIv2 {
		problems = append(problems, fmt.Sprintf("api: %q is not v1 or v2", cfg.API))
	}
	if cfg.Level != LevelTask && cfg.Level != LevelDAG {
		problems = append(problems, fmt.Sprintf("level: %q is not task or dag", cfg.Level))
	}
	if len(cfg.DAGs) == 0 {
		problems = append(problems, "dags: at least one id or glob required")
	}
	if slices.Contains(cfg.DAGs, "") {
		problems = append(problems, "dags: empty id")
	}
	if cfg.Interval < 0 || cfg.Backfill < 0 || cfg.Overlap < 0 || cfg.RelistEvery < 0 || cfg.RequestTimeout < 0 || cfg.PollTimeout < 0 {
		problems = append(problems, "interval, backfill, overlap and timeouts must not be negative")
	}
	if deps.Runs == nil {
		problems = append(problems, "runs writer required")
	}
	if deps.Checkpoints == nil {
		problems = append(problems, "checkpoints required")
	}
	if deps.Health == nil {
		problems = append(problems, "health required")
	}
	if len(problems) > 0 {
		return nil, kant.Errorf(kant.EINVALID, "airflow source %q: %s", cfg.Source, strings.Join(problems, "; "))
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	setDefault(&cfg.Interval, DefaultInterval)
	setDefault(&cfg.Backfill, DefaultBackfill)
	setDefault(&cfg.Overlap, DefaultOverlap)
	setDefault(&cfg.RelistEvery, DefaultRelistEvery)
	setDefault(&cfg.RequestTimeout, DefaultRequestTimeout)
	setDefault(&cfg.PollTimeout, DefaultPollTimeout)
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{}
	}
	if deps.Sleep == nil {
		deps.Sleep = collector.Sleep
	}
	p := &Poller{
		cfg:     cfg,
		deps:    deps,
		now:     cfg.Now,
		log:     cfg.Logger.With("component", "collector", "source", cfg.Source),
		sleep:   deps.Sleep,
		api:     cfg.API,
		runInfo: map[string]dagRunAt{},
		unknown: map[string]bool{},
	}
	tr, err := newTransport(ctx, cfg, deps, p.log)
	if err != nil {
		return nil, fmt.Errorf("airflow source %q: %w", cfg.Source, err)
	}
	p.tr = tr
	return p, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// PollOnce polls the source once: it detects the API version when it is
// not known, resolves the DAG list when it is due, reads what changed since
// the checkpoint, stores it in one Ingest call, saves the checkpoint after
// the runs are stored, and records the cycle in the source's health. It
// returns how many new observations were stored; Retryable(err) tells
// whether trying again soon can help.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	start := p.now()
	pctx, cancel := context.WithTimeout(ctx, p.cfg.PollTimeout)
	n, err := p.poll(pctx, start)
	cancel()
	msg := ""
	if err != nil {
		msg = collector.HealthMessage(err, maxHealthMessage)
	}
	if herr := p.deps.Health.RecordPoll(ctx, p.cfg.Source, start, msg); herr != nil {
		err = errors.Join(err, fmt.Errorf("airflow source %q: record health: %w", p.cfg.Source, herr))
	}
	if err != nil {
		p.log.Warn("airflow poll failed", "error", msg, "retryable", Retryable(err))
	}
	return n, err
}

// Run polls every Interval until ctx is done, and returns ctx's error.
// After a cycle that failed in a way a retry can help (429, 5xx, timeouts),
// the next cycle comes sooner, after a jittered exponential backoff capped
// at Interval; other failures (401, 403, unknown DAGs) wait the full
// interval, so they are reported every cycle but never retried in a loop.
func (p *Poller) Run(ctx context.Context) error {
	poll := func(ctx context.Context) error {
		_, err := p.PollOnce(ctx)
		return err
	}
	return collector.Loop(ctx, p.cfg.Interval, poll, Retryable, p.sleep)
}
