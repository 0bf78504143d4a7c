// Package stepfunctions is the collector.Source of AWS Step Functions
// executions: it resolves the configured state machine ARNs and name globs
// (ListStateMachines), reads each state machine's executions incrementally
// with ListExecutions (newest first, stopping at what an earlier poll
// already saw), and a second time with the REDRIVEN filter to learn of
// redrives of older executions; it describes an execution
// (DescribeExecution) when its input names the business date or its
// failure needs a message, and emits kant.Run observations with the state
// machine's next checkpoint, one unit per state machine. The
// collector.Engine stores them, saves the checkpoints and records the
// source's health.
//
// A state machine is the job "SOURCE/NAME"; an execution is the run whose
// ID is the execution's ARN; each redrive of it is a new attempt of that
// run (attempt = redriveCount+1).
//
// It imports kant, collector (the Source contract),
// collector/internal/awsclient (credentials and error classes it shares
// with Glue) and aws-sdk-go-v2; nothing else of kant.
package stepfunctions

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
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"golang.org/x/sync/errgroup"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/internal/awsclient"
	"github.com/kantproject/kant/collector/internal/jsonpath"
)

// api lists the Step Functions calls the poller makes; *sfn.Client
// satisfies it.
type api interface {
	ListStateMachines(ctx context.Context, in *sfn.ListStateMachinesInput, optFns ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error)
	ListExecutions(ctx context.Context, in *sfn.ListExecutionsInput, optFns ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

var _ api = (*sfn.Client)(nil)

// Defaults for the optional Config fields.
const (
	DefaultBackfill       = 7 * 24 * time.Hour
	DefaultConcurrency    = 4
	DefaultRelistEvery    = 10 * time.Minute
	DefaultMachineTimeout = 2 * time.Minute
	// RedriveWindow is how long after it stopped an execution can be
	// redriven (Step Functions allows 14 days); the redrive listing reads
	// executions started within it, or within Backfill when longer.
	RedriveWindow = 14 * 24 * time.Hour
)

// Limits on one poll.
const (
	// pageSize is ListExecutions' and ListStateMachines' maxResults: the
	// largest the API allows.
	pageSize = 1000
	// maxExecutionPages caps the pages read for one state machine in one
	// poll (100,000 executions); the rest is read by the next poll.
	maxExecutionPages = 100
	// maxRedrivePages caps the pages of the redrive listing.
	maxRedrivePages = 10
	// maxMachinePages caps the pages of ListStateMachines.
	maxMachinePages = 100
)

// Config configures a Poller for one Step Functions source (one account
// and region).
type Config struct {
	// Source is the kant source name, the first half of every job key. Required.
	Source string
	// Region is the AWS region of the state machines. Required unless an
	// AWS config with a region is injected.
	Region string
	// StateMachines lists state machine ARNs, names or name globs
	// (kant.Match on the bare name). Default: all ("*").
	StateMachines []string
	// Endpoint overrides the Step Functions endpoint (VPC endpoints, tests).
	Endpoint string
	// RoleARN, when set, is assumed through STS; the credentials are cached
	// and refreshed before they expire.
	RoleARN string
	// WebIdentityAudience, with RoleARN, assumes the role with a Google ID
	// token of this audience (see collector/internal/awsclient).
	WebIdentityAudience string
	// LogicalDatePath is a JSON path into the execution's input ("$.date",
	// "$.params.business_date") whose value, a YYYY-MM-DD date or an
	// RFC 3339 time (its date as written), is the run's logical date.
	// When set, every execution is described once to read its input.
	LogicalDatePath string
	// LogicalDateOffset is added to that date, in whole days: 24h when the
	// input names the day before the business date.
	LogicalDateOffset time.Duration
	// Backfill is how far back the first poll of a state machine reads.
	// Default 7 days.
	Backfill time.Duration
	// Concurrency is how many state machines are polled at once. Default 4.
	Concurrency int
	// RelistEvery is how often the state machines are listed again, so that
	// new ones appear. Default 10 minutes.
	RelistEvery time.Duration
	// MachineTimeout bounds the poll of one state machine (all its pages)
	// within a cycle, and Check. Default 2 minutes.
	MachineTimeout time.Duration
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
	// source of web identity tokens.
	IdentityToken func() ([]byte, error)
}

// Poller reads the executions of one Step Functions source: a
// collector.Source and a collector.Checker. Poll must not run concurrently
// with itself.
type Poller struct {
	cfg    Config
	client api
	path   jsonpath.Path // nil: no logical date from the input
	now    func() time.Time
	log    *slog.Logger

	mu       sync.Mutex
	machines map[string]machine // resolved state machines by name
	listedAt time.Time          // zero: list before the next poll
}

// machine is a state machine to poll.
type machine struct {
	name, arn string
}

// New validates cfg and deps, builds the Step Functions client and returns
// a Poller. It makes no call to AWS.
func New(ctx context.Context, cfg Config, deps Deps) (*Poller, error) {
	role := awsclient.Role{ARN: cfg.RoleARN, WebIdentityAudience: cfg.WebIdentityAudience,
		Session: cfg.Source, IdentityToken: deps.IdentityToken}
	problems := awsclient.Problems(cfg.Source, cfg.Region, deps.AWSConfig != nil, role, cfg.LogicalDateOffset)
	if len(cfg.StateMachines) == 0 {
		cfg.StateMachines = []string{"*"}
	}
	for _, m := range cfg.StateMachines {
		switch {
		case m == "":
			problems = append(problems, "state_machines: empty name")
		case strings.HasPrefix(m, "arn:") && machineName(m) == "":
			problems = append(problems, fmt.Sprintf("state_machines: %q is not a state machine ARN", m))
		}
	}
	var path jsonpath.Path
	if cfg.LogicalDatePath != "" {
		var err error
		if path, err = jsonpath.Parse(cfg.LogicalDatePath); err != nil {
			problems = append(problems, "logical_date_path: "+err.Error())
		}
	}
	if cfg.Backfill < 0 || cfg.Concurrency < 0 || cfg.RelistEvery < 0 || cfg.MachineTimeout < 0 {
		problems = append(problems, "backfill, concurrency, relist and timeout must not be negative")
	}
	if len(problems) > 0 {
		return nil, kant.Errorf(kant.EINVALID, "stepfunctions source %q: %s", cfg.Source, strings.Join(problems, "; "))
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
	if cfg.MachineTimeout == 0 {
		cfg.MachineTimeout = DefaultMachineTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	awsCfg, err := awsclient.Load(ctx, deps.AWSConfig, cfg.Region, role)
	if err != nil {
		return nil, fmt.Errorf("stepfunctions source %q: load AWS config: %w", cfg.Source, err)
	}
	client := sfn.NewFromConfig(awsCfg, func(o *sfn.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &Poller{
		cfg:    cfg,
		client: client,
		path:   path,
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

// Poll reads every configured state machine once: it resolves the list
// when it is due, then reads each state machine's new executions with
// bounded concurrency and emits them with its next checkpoint, one unit
// per state machine, so that a failing one costs no other its progress.
// It returns the errors of the state machines that failed, joined.
func (p *Poller) Poll(ctx context.Context, c *collector.Cycle) error {
	machines, err := p.resolve(ctx)
	var (
		mu   sync.Mutex
		errs []error
		g    errgroup.Group
	)
	if err != nil {
		errs = append(errs, err) // the state machines that could be resolved are still polled
	}
	g.SetLimit(p.cfg.Concurrency)
	for _, m := range machines {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := p.pollMachine(ctx, c, m); err != nil {
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

// resolve returns the state machines to poll, listing them again when the
// list is older than RelistEvery or one was found missing.
func (p *Poller) resolve(ctx context.Context) ([]machine, error) {
	p.mu.Lock()
	due := p.machines == nil || p.listedAt.IsZero() || p.now().Sub(p.listedAt) >= p.cfg.RelistEvery
	p.mu.Unlock()
	if !due {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.sorted(), nil
	}
	machines, err := p.list(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil && machines == nil {
		if p.machines == nil {
			return nil, err
		}
		// Keep polling the state machines we know; the listing is tried
		// again next cycle and its error is still reported.
		return p.sorted(), err
	}
	p.machines, p.listedAt = machines, p.now()
	p.log.Debug("state machines listed", "state_machines", len(machines))
	// err, if any, names configured state machines that do not exist.
	return p.sorted(), err
}

func (p *Poller) sorted() []machine {
	out := make([]machine, 0, len(p.machines))
	for _, m := range p.machines {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b machine) int { return strings.Compare(a.name, b.name) })
	return out
}

// list returns the configured state machines: those named by ARN as they
// are, and, when a name or glob is configured, the STANDARD state machines
// ListStateMachines returns whose names match (EXPRESS ones keep no
// execution history to list). A literal name with no such state machine is
// an ENOTFOUND error returned with those that were found; other errors
// come with none.
func (p *Poller) list(ctx context.Context) (map[string]machine, error) {
	out := make(map[string]machine)
	var names []string
	for _, pat := range p.cfg.StateMachines {
		if strings.HasPrefix(pat, "arn:") {
			out[machineName(pat)] = machine{name: machineName(pat), arn: pat}
		} else {
			names = append(names, pat)
		}
	}
	if len(names) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.MachineTimeout)
	defer cancel()
	in := &sfn.ListStateMachinesInput{MaxResults: pageSize}
	for page := 0; ; page++ {
		if page == maxMachinePages {
			p.log.Warn("state machine listing cut short", "pages", page)
			break
		}
		res, err := p.client.ListStateMachines(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("stepfunctions list state machines: %w", classify(err))
		}
		for _, sm := range res.StateMachines {
			name := aws.ToString(sm.Name)
			if name == "" || !kant.MatchAny(names, kant.JobKey(name)) {
				continue
			}
			if sm.Type == types.StateMachineTypeExpress {
				p.log.Debug("express state machine skipped: it keeps no execution history", "job", name)
				continue
			}
			out[name] = machine{name: name, arn: aws.ToString(sm.StateMachineArn)}
		}
		if aws.ToString(res.NextToken) == "" {
			break
		}
		in.NextToken = res.NextToken
	}
	var missing []string
	for _, pat := range names {
		if _, ok := out[pat]; !ok && !kant.IsGlob(pat) {
			missing = append(missing, pat)
		}
	}
	if len(missing) > 0 {
		return out, kant.Errorf(kant.ENOTFOUND, "state machines not found: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// forget drops a state machine that Step Functions no longer knows and
// asks for a new listing.
func (p *Poller) forget(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.machines, name)
	p.listedAt = time.Time{}
}

// machineName returns the name in a state machine ARN
// (arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION|ALIAS]),
// "" when arn is not one.
func machineName(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "stateMachine" || parts[6] == "" {
		return ""
	}
	return parts[6]
}
