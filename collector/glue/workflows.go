package glue

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

// Glue workflows.
//
// A workflow named in Config.Workflows is the job "SOURCE/workflow:NAME";
// each of its runs (GetWorkflowRuns) is a run of that job, attempt 1, its
// ID the WorkflowRunId. A workflow run ends COMPLETED even when actions in
// it failed, so the run's statistics decide: COMPLETED with no failed,
// errored, timed-out or stopped action is succeeded, otherwise failed,
// with the statistics in the error message.

// WorkflowPrefix starts the job name of a Glue workflow.
const WorkflowPrefix = "workflow:"

// Limits on reading workflows.
const (
	// workflowsPageSize is ListWorkflows' MaxResults: the largest allowed.
	workflowsPageSize = 25
	// workflowRunsPageSize is GetWorkflowRuns' MaxResults.
	workflowRunsPageSize = 1000
	// maxWorkflowPages caps the pages of ListWorkflows (2,500 workflows).
	maxWorkflowPages = 100
	// maxWorkflowRunPages caps the pages of one workflow's runs in a poll.
	maxWorkflowRunPages = 10
)

// resolveWorkflows returns the workflow names to poll: the configured
// literal names as they are and, when a glob is configured, the names
// ListWorkflows returns that match, listed again every RelistEvery.
func (p *Poller) resolveWorkflows(ctx context.Context) ([]string, error) {
	if !slices.ContainsFunc(p.cfg.Workflows, kant.IsGlob) {
		return slices.Sorted(slices.Values(p.cfg.Workflows)), nil
	}
	p.mu.Lock()
	due := p.workflows == nil || p.now().Sub(p.workflowsAt) >= p.cfg.RelistEvery
	known := p.workflows
	p.mu.Unlock()
	if !due {
		return known, nil
	}
	names, err := p.listWorkflows(ctx)
	if err != nil {
		if known != nil {
			return known, err // keep polling what we know; report the listing's error
		}
		var literal []string
		for _, w := range p.cfg.Workflows {
			if !kant.IsGlob(w) {
				literal = append(literal, w)
			}
		}
		return literal, err
	}
	p.mu.Lock()
	p.workflows, p.workflowsAt = names, p.now()
	p.mu.Unlock()
	return names, nil
}

// listWorkflows reads every workflow name with ListWorkflows and returns
// those matching the configured names and globs, with the literal names
// configured, sorted.
func (p *Poller) listWorkflows(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.JobTimeout)
	defer cancel()
	set := map[string]bool{}
	for _, w := range p.cfg.Workflows {
		if !kant.IsGlob(w) {
			set[w] = true
		}
	}
	in := &glue.ListWorkflowsInput{MaxResults: aws.Int32(workflowsPageSize)}
	for page := 0; ; page++ {
		if page == maxWorkflowPages {
			p.log.Warn("glue workflow listing cut short", "pages", page)
			break
		}
		out, err := p.client.ListWorkflows(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("glue list workflows: %w", classify(err))
		}
		for _, name := range out.Workflows {
			if kant.MatchAny(p.cfg.Workflows, kant.JobKey(name)) {
				set[name] = true
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// pollWorkflow reads the runs of one workflow that are new or were open at
// the last poll and emits them with its next checkpoint (key: the job
// name, "workflow:NAME"). GetWorkflowRuns does not document its order, so
// every page is read (a workflow keeps few runs) and runs started before
// the checkpoint's Since are skipped rather than ending the read.
func (p *Poller) pollWorkflow(ctx context.Context, c *collector.Cycle, name string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.JobTimeout)
	defer cancel()
	now := p.now()
	key := WorkflowPrefix + name

	saved, err := c.Checkpoint(ctx, key)
	if err != nil {
		return err
	}
	var cp checkpoint
	ok, err := collector.DecodeCheckpoint(saved, checkpointVersion, &cp)
	if err != nil {
		p.log.Warn("glue checkpoint unreadable, reading the backfill window again", "job", key, "error", err)
	}
	if !ok {
		cp = checkpoint{V: checkpointVersion, Since: now.Add(-p.cfg.Backfill).Unix()}
	}
	next := checkpoint{V: checkpointVersion, Since: cp.Since, Done: maps.Clone(cp.Done), Open: map[string]int64{}}
	if next.Done == nil {
		next.Done = map[string]int64{}
	}
	var runs []kant.Run
	in := &glue.GetWorkflowRunsInput{Name: aws.String(name), MaxResults: aws.Int32(workflowRunsPageSize), IncludeGraph: aws.Bool(false)}
	complete := false
	for page := 0; page < maxWorkflowRunPages; page++ {
		out, err := p.client.GetWorkflowRuns(ctx, in)
		if err != nil {
			return fmt.Errorf("glue get workflow runs %q: %w", name, classify(err))
		}
		for _, wr := range out.Runs {
			id := aws.ToString(wr.WorkflowRunId)
			started := now.Unix()
			if wr.StartedOn != nil {
				started = wr.StartedOn.Unix()
			}
			if _, seen := cp.Done[id]; seen || id == "" || started < cp.Since {
				continue
			}
			r := p.workflowRun(wr, name, now)
			if err := r.Validate(); err != nil {
				p.log.Warn("glue workflow run skipped", "job", key, "run_id", id, "error", err)
				next.Done[id] = started
				continue
			}
			runs = append(runs, r)
			if r.State.Terminal() {
				next.Done[id] = started
			} else {
				next.Open[id] = started
			}
		}
		if aws.ToString(out.NextToken) == "" {
			complete = true
			break
		}
		in.NextToken = out.NextToken
	}
	if !complete {
		p.log.Warn("glue workflow runs cut short", "job", key, "pages", maxWorkflowRunPages)
		for id, s := range cp.Open {
			if _, ok := next.Done[id]; !ok {
				if _, ok := next.Open[id]; !ok {
					next.Open[id] = s
				}
			}
		}
	}
	next.Since = nextSince(next)
	for id, s := range next.Done {
		if s < next.Since {
			delete(next.Done, id)
		}
	}
	u := collector.Unit{Key: key, Runs: runs}
	if enc := next.encode(); enc != saved {
		u.Next = enc
	}
	return c.Emit(ctx, u)
}

// WorkflowState maps a workflow run's status and statistics to kant's
// state: COMPLETED is succeeded only when no action failed, errored,
// timed out or was stopped.
func WorkflowState(s types.WorkflowRunStatus, st *types.WorkflowRunStatistics) kant.State {
	switch s {
	case types.WorkflowRunStatusRunning, types.WorkflowRunStatusStopping:
		return kant.StateRunning
	case types.WorkflowRunStatusCompleted:
		if st != nil && st.FailedActions+st.ErroredActions+st.TimeoutActions+st.StoppedActions > 0 {
			return kant.StateFailed
		}
		return kant.StateSucceeded
	case types.WorkflowRunStatusStopped:
		return kant.StateStopped
	case types.WorkflowRunStatusError:
		return kant.StateFailed
	}
	return kant.StateUnknown
}

// workflowRun maps a workflow run to an observation made at now (not yet
// validated). The logical date comes from the run property named by
// LogicalDateArgument (with or without its leading "--").
func (p *Poller) workflowRun(wr types.WorkflowRun, name string, now time.Time) kant.Run {
	state := WorkflowState(wr.Status, wr.Statistics)
	r := kant.Run{
		Source:      p.cfg.Source,
		Job:         kant.NewJobKey(p.cfg.Source, WorkflowPrefix+name),
		RunID:       aws.ToString(wr.WorkflowRunId),
		Attempt:     1,
		State:       state,
		SourceState: string(wr.Status),
		ObservedAt:  now,
	}
	if wr.StartedOn != nil {
		r.StartedAt = *wr.StartedOn
	}
	if wr.CompletedOn != nil && state.Terminal() {
		r.FinishedAt = *wr.CompletedOn
	}
	msg := aws.ToString(wr.ErrorMessage)
	if st := wr.Statistics; st != nil && state != kant.StateSucceeded && state.Terminal() {
		stats := workflowStatistics(st)
		if msg == "" {
			msg = stats
		} else {
			msg += " (" + stats + ")"
		}
	}
	r.ErrorMessage = msg
	if v := aws.ToString(wr.PreviousRunId); v != "" {
		r.Attributes = map[string]string{AttrPreviousRunID: v}
	}
	if arg := p.cfg.LogicalDateArgument; arg != "" {
		v, ok := wr.WorkflowRunProperties[arg]
		if !ok {
			v, ok = wr.WorkflowRunProperties[strings.TrimPrefix(arg, "--")]
		}
		if ok {
			if d, err := kant.ParseDate(strings.TrimSpace(v)); err == nil {
				r.LogicalDate = d.AddDays(int(p.cfg.LogicalDateOffset / (24 * time.Hour)))
			}
		}
	}
	return r
}

// workflowStatistics says what happened to a workflow run's actions:
// "2 of 5 actions failed, 1 errored, 2 succeeded".
func workflowStatistics(st *types.WorkflowRunStatistics) string {
	var parts []string
	for _, c := range []struct {
		n    int32
		what string
	}{{st.FailedActions, "failed"}, {st.ErroredActions, "errored"}, {st.TimeoutActions, "timed out"},
		{st.StoppedActions, "stopped"}, {st.SucceededActions, "succeeded"}, {st.RunningActions, "running"}, {st.WaitingActions, "waiting"}} {
		switch {
		case c.n == 0:
		case len(parts) == 0:
			parts = append(parts, fmt.Sprintf("%d of %d actions %s", c.n, st.TotalActions, c.what))
		default:
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d actions", st.TotalActions)
	}
	return strings.Join(parts, ", ")
}
