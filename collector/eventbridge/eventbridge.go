// Package eventbridge turns the events EventBridge delivers to kant's API
// destination (POST /v1/events/aws) into run observations: AWS Glue's "Glue
// Job State Change" and "Glue Job Run Status", and Step Functions'
// "Step Functions Execution Status Change", one event per request, as the
// schemas in contracts/eventbridge describe them. It owns the decoding of
// those events, the choice of the configured sources each belongs to, and
// the mapping to kant.Run; no HTTP and no storage. It imports kant and
// collector (for the retryable-error contract); it must not import a
// source adapter (collector/glue) or a cloud SDK: the Glue reads it needs
// come through the GlueRuns interface it declares, which cmd/kant fills.
//
// Which source an event belongs to: a source of the event's kind (glue or
// stepfunctions) whose region is the event's, whose account is the
// event's (Source.Account; a source with none matches every account), and
// whose job or state machine names or globs select the event's job. An
// event may belong to several sources, as a run may be polled by several;
// it is stored under each. An event that belongs to none, or that is not
// about a run (another detail-type), is ignored, not an error.
//
// Delivery is best effort: an event may come twice or after a newer one.
// A repeat says the same as what is stored and the store keeps it once.
// Order is kept by the rule the store and the gate already follow (the
// newest observation of a run is the one observed last): an event's
// observation is dated when the event happened (its time, never later than
// the moment it arrives), not when it arrived, so an older event is stored
// as history and never becomes the run's state. Of two events in the same
// second, a finished state is taken as the later, then running, then
// queued: the observation time gets 2, 1 or 0 nanoseconds more.
//
// A Glue event carries neither the run's start, its attempt, nor its
// arguments (so no logical date). When the source has GlueRuns, the run is
// read with GetJobRun and stored as a poll would store it, observed when
// it was read; the event's finished state wins over a read that still says
// running. A read that fails with a retryable error fails the delivery with
// EUNAVAILABLE (EventBridge retries it); any other failure is logged and
// the event is stored as it is. The regular poll stays the reconciliation
// for anything EventBridge drops.
//
// "Glue Job Run Status" says a run is still going after the job's
// NotifyDelayAfter minutes: it is stored as a running (or queued)
// observation with the attribute NotifyDelayAfter; kant.Run has no notion
// of lateness of its own, the SLOs judge that.
package eventbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/internal/jsonpath"
)

// AttrNotifyDelayAfter is the attribute set on the observation of a Glue
// Job Run Status event: the job's delay threshold, in minutes, that the
// run has exceeded.
const AttrNotifyDelayAfter = "NotifyDelayAfter"

// GlueRuns reads one Glue job run as the source's poll stores it (with
// its attempt, times, arguments and logical date), observed when read.
// collector/glue's Poller satisfies it. A retryable error
// (collector.IsRetryable) means asking again later can help.
type GlueRuns interface {
	JobRun(ctx context.Context, job, runID string) (kant.Run, error)
}

// Source is a configured source events may belong to.
type Source struct {
	Name   string // the kant source name; required
	Kind   Kind   // KindGlue or KindStepFunctions; required
	Region string // the AWS region; required
	// Account is the AWS account ID of the source's jobs; "" matches any
	// account. RoleAccount gives it from the source's role ARN.
	Account string
	// Jobs lists Glue job names or globs, or state machine names, globs or
	// ARNs; empty selects every one.
	Jobs []string
	// LogicalDatePath (Step Functions) names the value in the execution's
	// input that holds its logical date (YYYY-MM-DD, or an RFC 3339 time
	// whose date is taken): "$.date", "$.params.day". LogicalDateOffset is
	// added to it, in whole days.
	LogicalDatePath   string
	LogicalDateOffset time.Duration
	// Runs, for a Glue source, reads the run an event is about; nil stores
	// the event as it is.
	Runs GlueRuns
}

// Config configures a Decoder.
type Config struct {
	Sources []Source
	// ReadTimeout bounds the GetJobRun of one event. Default 3s: an API
	// destination waits 5 seconds for an answer.
	ReadTimeout time.Duration
	Logger      *slog.Logger // default discards
}

// DefaultReadTimeout is Config.ReadTimeout's default.
const DefaultReadTimeout = 3 * time.Second

// Decoder decodes EventBridge deliveries into runs of the configured
// sources.
type Decoder struct {
	sources []Source
	paths   []jsonpath.Path // the parsed LogicalDatePath of each source, nil for none
	timeout time.Duration
	log     *slog.Logger
}

// New validates cfg and returns a Decoder.
func New(cfg Config) (*Decoder, error) {
	d := &Decoder{sources: cfg.Sources, timeout: cfg.ReadTimeout, log: cfg.Logger}
	if d.timeout <= 0 {
		d.timeout = DefaultReadTimeout
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.log = d.log.With("component", "eventbridge")
	var problems []string
	for _, s := range cfg.Sources {
		switch {
		case s.Name == "" || strings.Contains(s.Name, "/"):
			problems = append(problems, fmt.Sprintf("source %q: name required, without '/'", s.Name))
		case s.Kind != KindGlue && s.Kind != KindStepFunctions:
			problems = append(problems, fmt.Sprintf("source %s: kind %q: want glue or stepfunctions", s.Name, s.Kind))
		case s.Region == "":
			problems = append(problems, fmt.Sprintf("source %s: region required", s.Name))
		case s.LogicalDateOffset%(24*time.Hour) != 0:
			problems = append(problems, fmt.Sprintf("source %s: logical_date_offset must be whole days", s.Name))
		}
		var path jsonpath.Path
		if s.LogicalDatePath != "" {
			var err error
			if path, err = jsonpath.Parse(s.LogicalDatePath); err != nil {
				problems = append(problems, fmt.Sprintf("source %s: logical_date_path: %v", s.Name, err))
			}
		}
		d.paths = append(d.paths, path)
	}
	if len(problems) > 0 {
		return nil, kant.Errorf(kant.EINVALID, "eventbridge: %s", strings.Join(problems, "; "))
	}
	return d, nil
}

// RoleAccount returns the account ID in an IAM role ARN
// (arn:aws:iam::123456789012:role/NAME), or "" when arn is not one.
func RoleAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] == "" {
		return ""
	}
	return parts[4]
}

// DecodeEvent decodes one delivery into the runs of the sources it
// belongs to, validated. ignored, when not empty, says why a valid event
// gives no run (it belongs to no source, or is not about a run). A bad
// event is an EINVALID error naming the field; a Glue read that may
// succeed later is an EUNAVAILABLE error. Nothing is stored here.
func (d *Decoder) DecodeEvent(ctx context.Context, body []byte, now time.Time) (runs []kant.Run, ignored string, err error) {
	e, err := Decode(body)
	if err != nil {
		return nil, "", err
	}
	if e.Kind == KindOther {
		return nil, fmt.Sprintf("%q from %s is not an event kant reads (it reads %q, %q and %q)",
			clip(e.DetailType), clip(e.Source), GlueJobStateChange, GlueJobRunStatus, SFNExecutionChange), nil
	}
	for i, s := range d.sources {
		if !s.matches(e) {
			continue
		}
		r, err := d.run(ctx, i, e, now)
		if err != nil {
			return nil, "", err
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return nil, fmt.Sprintf("no %s source watches %q in account %s, region %s",
			e.Kind, clip(e.Job), clip(e.Account), clip(e.Region)), nil
	}
	return runs, "", nil
}

// matches reports whether e belongs to s.
func (s Source) matches(e Event) bool {
	if s.Kind != e.Kind || s.Region != e.Region || (s.Account != "" && s.Account != e.Account) {
		return false
	}
	if len(s.Jobs) == 0 {
		return true
	}
	for _, p := range s.Jobs {
		if strings.HasPrefix(p, "arn:") {
			if p == e.StateMachineARN {
				return true
			}
		} else if kant.Match(p, kant.JobKey(e.Job)) {
			return true
		}
	}
	return false
}

// run maps e to the run of the i-th source.
func (d *Decoder) run(ctx context.Context, i int, e Event, now time.Time) (kant.Run, error) {
	s := d.sources[i]
	r, err := Run(e, s.Name, now)
	if err != nil {
		return kant.Run{}, err
	}
	switch {
	case s.Kind == KindStepFunctions:
		d.logicalDate(i, e, &r, now)
	case s.Runs != nil:
		rctx, cancel := context.WithTimeout(ctx, d.timeout)
		read, err := s.Runs.JobRun(rctx, e.Job, e.RunID)
		cancel()
		switch {
		case err == nil:
			r = enrich(read, e)
		case collector.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded):
			return kant.Run{}, kant.Unavailable(err, collector.RetryAfterOf(err),
				"source %s: could not read Glue run %s of job %s now; deliver the event again", s.Name, clip(e.RunID), clip(e.Job))
		default:
			d.log.Warn("glue run not read; the event is stored without its start, attempt and arguments",
				"source", s.Name, "job", e.Job, "run_id", e.RunID, "error", err)
		}
	}
	if err := r.Validate(); err != nil {
		return kant.Run{}, err
	}
	return r, nil
}

// Run maps an event of kind Glue or Step Functions to the validated
// observation of a run of source, from the event alone: the observation is
// dated by the event's time (see the package comment), no later than now.
// A Glue run's attempt is read from its ID (Glue names a retry
// jr_…_attempt_N, its attempt N+1); a finished Glue run's end is the
// event's time. An execution's attempt is its redrive count plus one.
func Run(e Event, source string, now time.Time) (kant.Run, error) {
	if e.Kind != KindGlue && e.Kind != KindStepFunctions {
		return kant.Run{}, kant.Errorf(kant.EINVALID, "detail-type: %q is not a run event", clip(e.DetailType))
	}
	r := kant.Run{
		Source:       source,
		Job:          kant.NewJobKey(source, e.Job),
		RunID:        e.RunID,
		Attempt:      1,
		State:        e.State,
		SourceState:  e.SourceState,
		ErrorMessage: e.Message,
		ObservedAt:   observedAt(e, now),
	}
	switch e.Kind {
	case KindGlue:
		r.Attempt = glueAttempt(e.RunID)
		if e.State.Terminal() {
			r.FinishedAt = e.Time
		}
		if e.Late() {
			r.Attributes = map[string]string{AttrNotifyDelayAfter: formatMinutes(e.NotifyDelayAfter)}
		}
	case KindStepFunctions:
		r.Attempt = e.RedriveCount + 1
		r.StartedAt = e.StartedAt
		if e.State.Terminal() {
			r.FinishedAt = e.StoppedAt
		}
	}
	if err := r.Validate(); err != nil {
		return kant.Run{}, err
	}
	return r, nil
}

// observedAt dates an event's observation: its time, no later than now,
// plus 2ns for a finished state, 1ns for running and 0 for queued, so that
// of two events in one second the one further along wins.
func observedAt(e Event, now time.Time) time.Time {
	t := e.Time
	if t.After(now) {
		t = now
	}
	switch {
	case e.State.Terminal():
		t = t.Add(2)
	case e.State != kant.StateQueued:
		t = t.Add(1)
	}
	return t.UTC()
}

// glueAttempt reads the attempt from a Glue run ID: jr_…_attempt_N is
// attempt N+1; any other ID is attempt 1.
func glueAttempt(id string) int {
	_, n, ok := strings.Cut(id, "_attempt_")
	if !ok {
		return 1
	}
	a, err := strconv.Atoi(n)
	if err != nil || a < 0 || a > 1000 {
		return 1
	}
	return a + 1
}

func formatMinutes(m float64) string { return strconv.FormatFloat(m, 'f', -1, 64) }

// enrich returns the run read from Glue, with what the event knows that
// the read may not yet: a finished state, and the lateness of a run still
// going.
func enrich(read kant.Run, e Event) kant.Run {
	if e.State.Terminal() && !read.State.Terminal() {
		read.State, read.SourceState, read.ErrorMessage = e.State, e.SourceState, e.Message
		if read.FinishedAt.IsZero() && !e.Time.Before(read.StartedAt) {
			read.FinishedAt = e.Time
		}
	}
	if e.Late() && !read.State.Terminal() && len(read.Attributes) < kant.MaxAttributes {
		attrs := make(map[string]string, len(read.Attributes)+1)
		for k, v := range read.Attributes {
			attrs[k] = v
		}
		attrs[AttrNotifyDelayAfter] = formatMinutes(e.NotifyDelayAfter)
		read.Attributes = attrs
	}
	return read
}

// logicalDate sets r's logical date from the execution input, when the
// i-th source names a path into it and the event includes the input.
func (d *Decoder) logicalDate(i int, e Event, r *kant.Run, now time.Time) {
	path := d.paths[i]
	if path == nil || e.Input == "" {
		return
	}
	v, ok := path.Lookup(e.Input)
	if !ok {
		return // not JSON, or nothing at the path
	}
	date, ok := jsonpath.Date(v)
	if !ok {
		d.log.Debug("logical date path names no date", "source", d.sources[i].Name, "run_id", e.RunID)
		return
	}
	date = date.AddDays(int(d.sources[i].LogicalDateOffset / (24 * time.Hour)))
	earliest := kant.Date{Year: 1970, Month: time.January, Day: 1}
	if latest := kant.DateOf(now.UTC()).AddDays(366); date.Before(earliest) || date.After(latest) {
		// Far from now: a mistake in the input, not a date to judge.
		d.log.Debug("logical date out of range, left out", "source", d.sources[i].Name, "run_id", e.RunID, "date", date.String())
		return
	}
	r.LogicalDate = date
}
