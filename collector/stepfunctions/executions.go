package stepfunctions

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/internal/jsonpath"
)

// checkpoint is what the poller remembers of one state machine between
// polls, saved as JSON under (source, state machine name). Executions are
// keyed by name (unique within a state machine); times are Unix seconds.
//
// ListExecutions lists executions newest first (by start). As with Glue,
// every execution started at or after Since is either in Done (seen in a
// terminal state, at its newest attempt) or in Open (seen running: read
// again until it ends), and Since is the start of the newest terminal
// execution or of the oldest open one, whichever is older: one call when
// nothing changed. A redrive restarts an old execution without moving it
// in that order, so a second listing, of redriven executions only, reads
// back RedriveWindow (or Backfill); Redriven holds those older than Since
// that it has followed, at their newest attempt.
type checkpoint struct {
	V        int             `json:"v"`
	Since    int64           `json:"since"`
	Done     map[string]seen `json:"done,omitempty"`
	Open     map[string]seen `json:"open,omitempty"`
	Redriven map[string]seen `json:"redriven,omitempty"`
}

// seen is what the poller remembers of one execution.
type seen struct {
	Start   int64 `json:"s"`
	Attempt int   `json:"a"`
	// Date is the logical date read from the input ("-": it names none),
	// so that an open execution is described once; "" when not read.
	Date string `json:"d,omitempty"`
	// Open, in Redriven, says the attempt was not over when last seen.
	Open bool `json:"o,omitempty"`
}

const checkpointVersion = 1

// noDate marks an execution whose input was read and names no date.
const noDate = "-"

func (cp checkpoint) encode() string {
	b, _ := json.Marshal(cp) // maps of plain structs always marshal
	return string(b)
}

// pollMachine reads the executions of one state machine that are new, were
// open at the last poll, or were redriven, and emits them with the next
// checkpoint (key: the state machine's name).
func (p *Poller) pollMachine(ctx context.Context, c *collector.Cycle, m machine) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.MachineTimeout)
	defer cancel()
	now := p.now()

	saved, err := c.Checkpoint(ctx, m.name)
	if err != nil {
		return err
	}
	var cp checkpoint
	ok, err := collector.DecodeCheckpoint(saved, checkpointVersion, &cp)
	if err != nil {
		p.log.Warn("stepfunctions checkpoint unreadable, reading the backfill window again", "job", m.name, "error", err)
	}
	if !ok {
		cp = checkpoint{V: checkpointVersion, Since: now.Add(-p.cfg.Backfill).Unix()}
	}
	next := checkpoint{V: checkpointVersion, Since: cp.Since, Done: maps.Clone(cp.Done), Open: map[string]seen{},
		Redriven: maps.Clone(cp.Redriven)}
	if next.Done == nil {
		next.Done = map[string]seen{}
	}
	if next.Redriven == nil {
		next.Redriven = map[string]seen{}
	}
	var runs []kant.Run
	handled := map[string]bool{} // executions emitted by the first listing

	// New and open executions, newest first, down to Since.
	in := &sfn.ListExecutionsInput{StateMachineArn: aws.String(m.arn), MaxResults: pageSize}
	complete := false
pages:
	for page := 0; page < maxExecutionPages; page++ {
		out, err := p.client.ListExecutions(ctx, in)
		if err != nil {
			if isCode(err, "StateMachineDoesNotExist") {
				p.forget(m.name)
			}
			return fmt.Errorf("stepfunctions list executions of %q: %w", m.name, classify(err))
		}
		for _, ex := range out.Executions {
			start := startOf(ex, now)
			if start < cp.Since {
				complete = true
				break pages
			}
			name, att := aws.ToString(ex.Name), attempt(ex)
			if d, ok := cp.Done[name]; name == "" || ok && d.Attempt >= att {
				continue
			}
			r, date, err := p.toRun(ctx, m, ex, knownDate(name, cp.Open, cp.Done, cp.Redriven), now)
			if err != nil {
				return err
			}
			handled[name] = true
			delete(next.Redriven, name) // within the window: followed here
			s := seen{Start: start, Attempt: att, Date: date}
			if err := r.Validate(); err != nil {
				// An execution Step Functions describes inconsistently is
				// skipped, not allowed to block the others.
				p.log.Warn("stepfunctions execution skipped", "job", m.name, "run_id", r.RunID, "error", err)
				next.Done[name] = s
				continue
			}
			runs = append(runs, r)
			if r.State.Terminal() {
				next.Done[name] = s
			} else {
				next.Open[name] = s
			}
		}
		if aws.ToString(out.NextToken) == "" {
			complete = true
			break
		}
		in.NextToken = out.NextToken
	}
	if !complete {
		// The page cap was hit: what is older is given up on, but the open
		// executions not reached are still watched.
		p.log.Warn("stepfunctions executions cut short", "job", m.name, "pages", maxExecutionPages)
		for name, s := range cp.Open {
			if _, ok := next.Done[name]; !ok && !handled[name] {
				next.Open[name] = s
			}
		}
	}

	// Redrives of older executions.
	horizon := now.Add(-max(p.cfg.Backfill, RedriveWindow)).Unix()
	in = &sfn.ListExecutionsInput{StateMachineArn: aws.String(m.arn), MaxResults: pageSize,
		RedriveFilter: types.ExecutionRedriveFilterRedriven}
redrives:
	for page := 0; page < maxRedrivePages; page++ {
		out, err := p.client.ListExecutions(ctx, in)
		if err != nil {
			return fmt.Errorf("stepfunctions list redriven executions of %q: %w", m.name, classify(err))
		}
		for _, ex := range out.Executions {
			start := startOf(ex, now)
			if start < horizon {
				break redrives
			}
			name, att := aws.ToString(ex.Name), attempt(ex)
			if name == "" || handled[name] {
				continue
			}
			if d, ok := next.Done[name]; ok && d.Attempt >= att {
				continue
			}
			if _, ok := next.Open[name]; ok {
				continue // open within the window: the first listing follows it
			}
			prev, ok := next.Redriven[name]
			if ok && prev.Attempt == att && !prev.Open {
				continue // this attempt's end is already stored
			}
			r, date, err := p.toRun(ctx, m, ex, prev.Date, now)
			if err != nil {
				return err
			}
			if err := r.Validate(); err != nil {
				p.log.Warn("stepfunctions execution skipped", "job", m.name, "run_id", r.RunID, "error", err)
				next.Redriven[name] = seen{Start: start, Attempt: att, Date: date}
				continue
			}
			next.Redriven[name] = seen{Start: start, Attempt: att, Date: date, Open: !r.State.Terminal()}
			runs = append(runs, r)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	for name, s := range next.Redriven {
		if s.Start < horizon {
			delete(next.Redriven, name)
		}
	}

	next.Since = nextSince(next)
	for name, s := range next.Done {
		if s.Start < next.Since {
			delete(next.Done, name)
		}
	}
	u := collector.Unit{Key: m.name, Runs: runs}
	if enc := next.encode(); enc != saved {
		u.Next = enc
	}
	return c.Emit(ctx, u)
}

// nextSince is the boundary below which the next poll need not read: the
// start of the newest terminal execution or of the oldest open one,
// whichever is older; cp.Since when there is neither.
func nextSince(cp checkpoint) int64 {
	since, found := int64(0), false
	for _, s := range cp.Done {
		if !found || s.Start > since {
			since, found = s.Start, true
		}
	}
	for _, s := range cp.Open {
		if !found || s.Start < since {
			since, found = s.Start, true
		}
	}
	if !found {
		return cp.Since
	}
	return since
}

// knownDate is the logical date an earlier poll read from the input of the
// execution named name, "" when none did: the input does not change
// across attempts.
func knownDate(name string, maps ...map[string]seen) string {
	for _, m := range maps {
		if d := m[name].Date; d != "" {
			return d
		}
	}
	return ""
}

// startOf is when ex started, in Unix seconds; now when it does not say.
func startOf(ex types.ExecutionListItem, now time.Time) int64 {
	if ex.StartDate == nil {
		return now.Unix()
	}
	return ex.StartDate.Unix()
}

// attempt is kant's 1-based attempt of ex: its redriveCount+1. An
// execution pending redrive (a Distributed Map's child waiting to be
// redriven) is queued as the attempt after its last one.
func attempt(ex types.ExecutionListItem) int {
	n := int(aws.ToInt32(ex.RedriveCount)) + 1
	if ex.Status == types.ExecutionStatusPendingRedrive {
		n++
	}
	return n
}

// State maps a Step Functions ExecutionStatus to kant's normalized state
// (DESIGN.md "Run states"). A status kant does not know is StateUnknown,
// which counts as not finished.
func State(s types.ExecutionStatus) kant.State {
	switch s {
	case types.ExecutionStatusRunning:
		return kant.StateRunning
	case types.ExecutionStatusSucceeded:
		return kant.StateSucceeded
	case types.ExecutionStatusFailed:
		return kant.StateFailed
	case types.ExecutionStatusTimedOut:
		return kant.StateTimeout
	case types.ExecutionStatusAborted:
		return kant.StateStopped
	case types.ExecutionStatusPendingRedrive:
		return kant.StateQueued
	}
	return kant.StateUnknown
}

// Attribute names added to a run, as Step Functions names them.
const (
	AttrName         = "name"
	AttrRedriveCount = "redriveCount"
	AttrError        = "error"
)

// toRun maps an execution to an observation made at now (not yet
// validated). It describes the execution when its logical date is still to
// be read (date: what was read before, "" if nothing) or when it ended
// without success, for the error and its cause; it returns the date to
// remember. A failed DescribeExecution is the state machine's error: its
// poll keeps the old checkpoint and tries again.
func (p *Poller) toRun(ctx context.Context, m machine, ex types.ExecutionListItem, date string, now time.Time) (kant.Run, string, error) {
	state := State(ex.Status)
	redrives := int(aws.ToInt32(ex.RedriveCount))
	r := kant.Run{
		Source:      p.cfg.Source,
		Job:         kant.NewJobKey(p.cfg.Source, m.name),
		RunID:       aws.ToString(ex.ExecutionArn),
		Attempt:     attempt(ex),
		State:       state,
		SourceState: string(ex.Status),
		ObservedAt:  now,
		Attributes:  map[string]string{AttrName: aws.ToString(ex.Name)},
	}
	if redrives > 0 {
		r.Attributes[AttrRedriveCount] = strconv.Itoa(redrives)
	}
	switch {
	case ex.Status == types.ExecutionStatusPendingRedrive:
		// the next attempt has not started
	case redrives > 0 && ex.RedriveDate != nil:
		r.StartedAt = *ex.RedriveDate
	case ex.StartDate != nil:
		r.StartedAt = *ex.StartDate
	}
	if state.Terminal() && ex.StopDate != nil && !ex.StopDate.Before(r.StartedAt) {
		r.FinishedAt = *ex.StopDate
	}
	needDate := p.path != nil && date == ""
	needError := state == kant.StateFailed || state == kant.StateTimeout || state == kant.StateStopped
	if needDate || needError {
		out, err := p.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err != nil {
			return kant.Run{}, "", fmt.Errorf("stepfunctions describe execution %q of %q: %w", aws.ToString(ex.Name), m.name, classify(err))
		}
		if needDate {
			date = noDate
			if v, ok := p.path.Lookup(aws.ToString(out.Input)); ok {
				if d, ok := jsonpath.Date(v); ok {
					date = d.String()
				}
			}
			if date == noDate {
				p.log.Debug("stepfunctions input names no logical date", "job", m.name, "run_id", r.RunID, "path", p.cfg.LogicalDatePath)
			}
		}
		if needError {
			code, cause := aws.ToString(out.Error), aws.ToString(out.Cause)
			switch {
			case code != "" && cause != "":
				r.ErrorMessage = code + ": " + cause
			default:
				r.ErrorMessage = code + cause
			}
			if code != "" {
				r.Attributes[AttrError] = code
			}
		}
	}
	if date != "" && date != noDate {
		if d, err := kant.ParseDate(date); err == nil {
			r.LogicalDate = d.AddDays(int(p.cfg.LogicalDateOffset / (24 * time.Hour)))
		}
	}
	return r, date, nil
}
