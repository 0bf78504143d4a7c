// Package glue is the collector.Source of AWS Glue job runs: it resolves the
// configured job names and globs to Glue jobs, reads each job's runs
// incrementally with GetJobRuns (newest first, stopping at what an earlier
// poll already saw), turns them into kant.Run observations, and emits them
// with the job's next checkpoint, one unit per job. Glue workflows named in
// the configuration are read the same way with GetWorkflowRuns (ListWorkflows
// to expand globs), as the jobs "workflow:NAME" (workflows.go). The collector.Engine
// stores them, saves the checkpoints and records the source's health.
//
// It imports kant, collector (the Source contract), collector/internal/awsclient
// (what it shares with MWAA) and aws-sdk-go-v2; nothing else of kant.
package glue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"golang.org/x/sync/errgroup"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/internal/awsclient"
)

// api lists the Glue calls the poller makes (GetJobRun: for JobRun); *glue.Client satisfies it.
type api interface {
	GetJobs(ctx context.Context, in *glue.GetJobsInput, optFns ...func(*glue.Options)) (*glue.GetJobsOutput, error)
	GetJobRuns(ctx context.Context, in *glue.GetJobRunsInput, optFns ...func(*glue.Options)) (*glue.GetJobRunsOutput, error)
	ListWorkflows(ctx context.Context, in *glue.ListWorkflowsInput, optFns ...func(*glue.Options)) (*glue.ListWorkflowsOutput, error)
	GetWorkflowRuns(ctx context.Context, in *glue.GetWorkflowRunsInput, optFns ...func(*glue.Options)) (*glue.GetWorkflowRunsOutput, error)
	GetJobRun(ctx context.Context, in *glue.GetJobRunInput, optFns ...func(*glue.Options)) (*glue.GetJobRunOutput, error)
}

var _ api = (*glue.Client)(nil)

// Defaults for the optional Config fields.
const (
	DefaultBackfill     = 7 * 24 * time.Hour
	DefaultConcurrency  = 8
	DefaultRelistEvery  = 10 * time.Minute
	DefaultJobTimeout   = 2 * time.Minute
	DefaultExpiryWindow = awsclient.DefaultExpiryWindow
	// DefaultMaxAttempts is how many times the SDK tries one call before a
	// retryable error (throttling, 5xx, timeout) is returned to the poller.
	DefaultMaxAttempts = awsclient.DefaultMaxAttempts
)

// Limits on one poll.
const (
	// pageSize is GetJobRuns' MaxResults: the largest the API allows.
	pageSize = 200
	// jobsPageSize is GetJobs' MaxResults.
	jobsPageSize = 200
	// maxRunPages caps the pages read for one job in one poll (40,000 runs);
	// the rest is read by the next poll.
	maxRunPages = 200
	// maxJobPages caps the pages of GetJobs (40,000 jobs).
	maxJobPages = 200
)

// Config configures a Poller for one Glue source (one account and region).
type Config struct {
	// Source is the kant source name, the first half of every job key. Required.
	Source string
	// Region is the AWS region of the Glue jobs. Required unless an AWS
	// config with a region is injected.
	Region string
	// Jobs lists Glue job names or globs (kant.Match on the bare job name).
	// Jobs or Workflows is required.
	Jobs []string
	// Workflows lists Glue workflow names or globs whose runs are the jobs
	// "workflow:NAME".
	Workflows []string
	// Endpoint overrides the Glue API endpoint (VPC endpoints, tests).
	Endpoint string
	// RoleARN, when set, is assumed through STS; the credentials are cached
	// and refreshed before they expire.
	RoleARN string
	// WebIdentityAudience, with RoleARN, assumes the role through
	// AssumeRoleWithWebIdentity with a Google ID token for this audience
	// from the GCP metadata server (see collector/internal/awsclient for the
	// trust policy),
	// instead of AssumeRole with the default credentials.
	WebIdentityAudience string
	// LogicalDateArgument names the run argument (e.g. "--target_date")
	// whose YYYY-MM-DD value gives the run's logical date.
	LogicalDateArgument string
	// LogicalDateOffset is added to that date, in whole days: 24h when the
	// argument names the day before the business date.
	LogicalDateOffset time.Duration
	// Backfill is how far back the first poll of a job reads. Default 7 days.
	Backfill time.Duration
	// Concurrency is how many jobs are polled at once. Default 8.
	Concurrency int
	// RelistEvery is how often the job list is resolved again, so that new
	// jobs appear. Default 10 minutes.
	RelistEvery time.Duration
	// JobTimeout bounds the poll of one job (all its pages) within a cycle,
	// and Check. Default 2 minutes.
	JobTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives debug lines for routine polls and warnings for what
	// someone may need to act on. Default: discard.
	Logger *slog.Logger
}

// Deps are the Poller's collaborators.
type Deps struct {
	// AWSConfig, when set, is used instead of config.LoadDefaultConfig
	// (tests, or a caller that built its own). Its Retryer, when set, is kept.
	AWSConfig *aws.Config
	// IdentityToken, when set, replaces the GCP metadata server as the
	// source of web identity tokens (tests, other identity providers).
	IdentityToken func() ([]byte, error)
}

// Poller reads the runs of one Glue source: a collector.Source and a
// collector.Checker. Poll must not run concurrently with itself.
type Poller struct {
	cfg    Config
	client api
	now    func() time.Time
	log    *slog.Logger

	mu          sync.Mutex
	jobs        map[string]jobInfo // resolved jobs by name
	listedAt    time.Time          // zero: list before the next poll
	workflows   []string           // resolved workflow names, sorted; nil: list before the next poll
	workflowsAt time.Time
}

// jobInfo is what the poller keeps of a Glue job definition.
type jobInfo struct {
	name       string
	maxRetries int
}

// New validates cfg and deps, builds the Glue client and returns a Poller.
// It makes no call to AWS.
func New(ctx context.Context, cfg Config, deps Deps) (*Poller, error) {
	role := awsclient.Role{ARN: cfg.RoleARN, WebIdentityAudience: cfg.WebIdentityAudience,
		Session: cfg.Source, IdentityToken: deps.IdentityToken}
	problems := awsclient.Problems(cfg.Source, cfg.Region, deps.AWSConfig != nil, role, cfg.LogicalDateOffset)
	if len(cfg.Jobs) == 0 && len(cfg.Workflows) == 0 {
		problems = append(problems, "jobs: at least one name or glob required (or workflows)")
	}
	for _, j := range cfg.Jobs {
		if j == "" {
			problems = append(problems, "jobs: empty name")
		}
	}
	for _, w := range cfg.Workflows {
		if w == "" {
			problems = append(problems, "workflows: empty name")
		}
	}
	if cfg.Backfill < 0 || cfg.Concurrency < 0 || cfg.RelistEvery < 0 || cfg.JobTimeout < 0 {
		problems = append(problems, "backfill, concurrency, relist and timeout must not be negative")
	}
	if len(problems) > 0 {
		return nil, kant.Errorf(kant.EINVALID, "glue source %q: %s", cfg.Source, strings.Join(problems, "; "))
	}
	if cfg.Backfill == 0 {
		cfg.Backfill = DefaultBackfill
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.RelistEvery == 0 {
		cfg.RelistEvery = DefaultRelistEvery
	}
	if cfg.JobTimeout == 0 {
		cfg.JobTimeout = DefaultJobTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	awsCfg, err := awsclient.Load(ctx, deps.AWSConfig, cfg.Region, role)
	if err != nil {
		return nil, fmt.Errorf("glue source %q: load AWS config: %w", cfg.Source, err)
	}
	client := glue.NewFromConfig(awsCfg, func(o *glue.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &Poller{
		cfg:    cfg,
		client: client,
		now:    cfg.Now,
		log:    cfg.Logger.With("component", "collector", "source", cfg.Source),
	}, nil
}

var (
	_ collector.Source  = (*Poller)(nil)
	_ collector.Checker = (*Poller)(nil)
)

// Name is the kant source name.
func (p *Poller) Name() string { return p.cfg.Source }

// Poll reads every configured job and workflow once: it resolves the job
// and workflow lists when they are due, then reads each one's new runs with
// bounded concurrency and emits them with its next checkpoint, one unit
// per job or workflow, so that a failing one costs no other its progress.
// It returns the errors of those that failed, joined.
func (p *Poller) Poll(ctx context.Context, c *collector.Cycle) error {
	var (
		mu   sync.Mutex
		errs []error
		g    errgroup.Group
		jobs []jobInfo
		err  error
	)
	if len(p.cfg.Jobs) > 0 {
		if jobs, err = p.resolveJobs(ctx); err != nil {
			errs = append(errs, err) // the jobs that could be resolved are still polled
		}
	}
	g.SetLimit(p.cfg.Concurrency)
	if len(p.cfg.Workflows) > 0 {
		workflows, err := p.resolveWorkflows(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		for _, w := range workflows {
			g.Go(func() error {
				if err := p.pollWorkflow(ctx, c, w); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				return nil
			})
		}
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := p.pollJob(ctx, c, j); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// resolveJobs returns the jobs to poll, listing them again when the list is
// older than RelistEvery or a job was found missing.
func (p *Poller) resolveJobs(ctx context.Context) ([]jobInfo, error) {
	p.mu.Lock()
	due := p.jobs == nil || p.listedAt.IsZero() || p.now().Sub(p.listedAt) >= p.cfg.RelistEvery
	p.mu.Unlock()
	if due {
		jobs, err := p.listJobs(ctx)
		if err != nil && jobs == nil {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.jobs == nil {
				return nil, err
			}
			// Keep polling the jobs we know; the listing is tried again
			// next cycle and its error is still reported.
			return p.sortedJobs(), err
		}
		p.mu.Lock()
		p.jobs, p.listedAt = jobs, p.now()
		out := p.sortedJobs()
		p.mu.Unlock()
		p.log.Debug("glue jobs listed", "jobs", len(jobs))
		// err, if any, names configured jobs that do not exist: reported,
		// while the jobs that do exist are polled.
		return out, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sortedJobs(), nil
}

func (p *Poller) sortedJobs() []jobInfo {
	out := make([]jobInfo, 0, len(p.jobs))
	for _, j := range p.jobs {
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b jobInfo) int { return strings.Compare(a.name, b.name) })
	return out
}

// listJobs reads every job definition with GetJobs and keeps those matching
// the configured names and globs. A literal name with no such job is an
// ENOTFOUND error returned together with the jobs that were found; other
// errors come with no jobs.
func (p *Poller) listJobs(ctx context.Context) (map[string]jobInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.JobTimeout)
	defer cancel()
	jobs := make(map[string]jobInfo)
	in := &glue.GetJobsInput{MaxResults: aws.Int32(jobsPageSize)}
	for page := 0; ; page++ {
		if page == maxJobPages {
			p.log.Warn("glue job listing cut short", "pages", page)
			break
		}
		out, err := p.client.GetJobs(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("glue get jobs: %w", classify(err))
		}
		for _, j := range out.Jobs {
			name := aws.ToString(j.Name)
			if name == "" || !p.selects(name) {
				continue
			}
			jobs[name] = jobInfo{name: name, maxRetries: int(j.MaxRetries)}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	var missing []string
	for _, pat := range p.cfg.Jobs {
		if _, ok := jobs[pat]; !ok && !kant.IsGlob(pat) {
			missing = append(missing, pat)
		}
	}
	if len(missing) > 0 {
		return jobs, kant.Errorf(kant.ENOTFOUND, "glue jobs not found: %s", strings.Join(missing, ", "))
	}
	return jobs, nil
}

func (p *Poller) selects(name string) bool {
	return kant.MatchAny(p.cfg.Jobs, kant.JobKey(name))
}

// forgetJob drops a job that Glue no longer knows and asks for a new listing.
func (p *Poller) forgetJob(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.jobs, name)
	p.listedAt = time.Time{}
}
