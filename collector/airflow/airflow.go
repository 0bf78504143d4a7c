// Package airflow is the collector.Source of Apache Airflow runs: Airflow 2
// (REST API /api/v1) and Airflow 3 (/api/v2), self-managed, on Cloud
// Composer or on Amazon MWAA. It resolves the configured DAG ids and globs,
// reads the task instances (level task) or DAG runs (level dag) that
// changed since the last poll through the batch list endpoints, turns them
// into kant.Run observations and emits them with the next checkpoint. The
// collector.Engine stores them, saves the checkpoint and records the
// source's health.
//
// It imports kant, collector (the Source contract), golang.org/x/oauth2
// (Cloud Composer), aws-sdk-go-v2 and collector/internal/awsclient (MWAA);
// nothing else of kant.
package airflow

import (
	"context"
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
	DefaultBackfill       = 7 * 24 * time.Hour
	DefaultOverlap        = 5 * time.Minute
	DefaultRelistEvery    = 10 * time.Minute
	DefaultRequestTimeout = 30 * time.Second
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
	// RequestTimeout bounds one HTTP request. Default 30 seconds. (The
	// cycle's bound is the collector.Engine's.)
	RequestTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives debug lines for routine polls and warnings for what
	// someone may need to act on. Default: discard.
	Logger *slog.Logger
}

// Deps are the Poller's collaborators.
type Deps struct {
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

// Poller reads the runs of one Airflow source: a collector.Source and a
// collector.Checker. Poll must not run concurrently with itself; Check may.
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
	if cfg.Backfill < 0 || cfg.Overlap < 0 || cfg.RelistEvery < 0 || cfg.RequestTimeout < 0 {
		problems = append(problems, "backfill, overlap and timeouts must not be negative")
	}
	if len(problems) > 0 {
		return nil, kant.Errorf(kant.EINVALID, "airflow source %q: %s", cfg.Source, strings.Join(problems, "; "))
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	setDefault(&cfg.Backfill, DefaultBackfill)
	setDefault(&cfg.Overlap, DefaultOverlap)
	setDefault(&cfg.RelistEvery, DefaultRelistEvery)
	setDefault(&cfg.RequestTimeout, DefaultRequestTimeout)
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

var (
	_ collector.Source  = (*Poller)(nil)
	_ collector.Checker = (*Poller)(nil)
)

// Name is the kant source name.
func (p *Poller) Name() string { return p.cfg.Source }
