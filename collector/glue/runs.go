package glue

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

// checkpoint is what the poller remembers of one job between polls, saved
// as JSON under (source, job name). Times are Unix seconds.
//
// Glue lists runs newest first (by StartedOn). Every run started at or after
// Since that matters is either in Done (seen in a terminal state: nothing
// more to learn) or in Open (seen queued or running: read again until it
// ends). Since is the start of the newest terminal run or of the oldest open
// one, whichever is older, so a poll reads new runs and open runs and stops
// at the first run started before Since: one GetJobRuns call when nothing
// changed.
type checkpoint struct {
	V     int              `json:"v"`
	Since int64            `json:"since"`
	Done  map[string]int64 `json:"done,omitempty"`
	Open  map[string]int64 `json:"open,omitempty"`
}

const checkpointVersion = 1

func (cp checkpoint) encode() string {
	b, _ := json.Marshal(cp) // maps of strings and ints always marshal
	return string(b)
}

// pollJob reads the runs of one job that are new or were open at the last
// poll and emits them with the job's next checkpoint (key: the job name).
func (p *Poller) pollJob(ctx context.Context, c *collector.Cycle, job jobInfo) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.JobTimeout)
	defer cancel()
	now := p.now()

	saved, err := c.Checkpoint(ctx, job.name)
	if err != nil {
		return fmt.Errorf("glue job %q: %w", job.name, err)
	}
	var cp checkpoint
	ok, err := collector.DecodeCheckpoint(saved, checkpointVersion, &cp)
	if err != nil {
		p.log.Warn("glue checkpoint unreadable, reading the backfill window again", "job", job.name, "error", err)
	}
	if !ok {
		cp = checkpoint{V: checkpointVersion, Since: now.Add(-p.cfg.Backfill).Unix()}
	}

	var (
		runs     []kant.Run
		done     = maps.Clone(cp.Done)
		open     = make(map[string]int64)
		complete bool // read down to Since or to the end of the history
	)
	if done == nil {
		done = make(map[string]int64)
	}
	in := &glue.GetJobRunsInput{JobName: aws.String(job.name), MaxResults: aws.Int32(pageSize)}
pages:
	for page := 0; page < maxRunPages; page++ {
		out, err := p.client.GetJobRuns(ctx, in)
		if err != nil {
			if isCode(err, "EntityNotFoundException") {
				p.forgetJob(job.name)
			}
			return fmt.Errorf("glue get job runs %q: %w", job.name, classify(err))
		}
		for _, jr := range out.JobRuns {
			id := aws.ToString(jr.Id)
			started := now.Unix() // a run without a start is as new as it gets
			if jr.StartedOn != nil {
				started = jr.StartedOn.Unix()
			}
			if started < cp.Since {
				complete = true
				break pages
			}
			if _, seen := cp.Done[id]; seen || id == "" {
				continue
			}
			r, err := p.toRun(jr, job, now)
			if err != nil {
				// A run Glue describes inconsistently is skipped, not
				// allowed to block the job's other runs.
				p.log.Warn("glue run skipped", "job", job.name, "run_id", id, "error", err)
				done[id] = started
				continue
			}
			runs = append(runs, r)
			if r.State.Terminal() {
				done[id] = started
			} else {
				open[id] = started
			}
		}
		if aws.ToString(out.NextToken) == "" {
			complete = true
			break
		}
		in.NextToken = out.NextToken
	}

	next := checkpoint{V: checkpointVersion, Since: cp.Since, Done: done, Open: open}
	if !complete {
		// The page cap was hit: what is older than the runs read is given
		// up on, but the open runs not reached are still watched.
		p.log.Warn("glue job runs cut short", "job", job.name, "pages", maxRunPages)
		for id, s := range cp.Open {
			if _, ok := done[id]; !ok {
				open[id] = s
			}
		}
	}
	// Open runs of the last poll that were read past without being seen
	// were dropped from Glue's history; they are forgotten.
	next.Since = nextSince(next)
	for id, s := range next.Done {
		if s < next.Since {
			delete(next.Done, id)
		}
	}

	u := collector.Unit{Key: job.name, Runs: runs}
	if enc := next.encode(); enc != saved {
		u.Next = enc
	}
	return c.Emit(ctx, u)
}

// nextSince is the boundary below which the next poll need not read: the
// start of the newest terminal run or of the oldest open run, whichever is
// older; cp.Since when the job has neither.
func nextSince(cp checkpoint) int64 {
	since, found := int64(0), false
	for _, s := range cp.Done {
		if !found || s > since {
			since, found = s, true
		}
	}
	for _, s := range cp.Open {
		if !found || s < since {
			since, found = s, true
		}
	}
	if !found {
		return cp.Since
	}
	return since
}

// State maps a Glue JobRunState to kant's normalized state (DESIGN.md "Run
// states"). A state kant does not know is StateUnknown, which counts as not
// finished.
func State(s types.JobRunState) kant.State {
	switch s {
	case types.JobRunStateStarting, types.JobRunStateWaiting:
		return kant.StateQueued
	case types.JobRunStateRunning, types.JobRunStateStopping:
		return kant.StateRunning
	case types.JobRunStateSucceeded:
		return kant.StateSucceeded
	case types.JobRunStateFailed, types.JobRunStateError, types.JobRunStateExpired:
		return kant.StateFailed
	case types.JobRunStateTimeout:
		return kant.StateTimeout
	case types.JobRunStateStopped:
		return kant.StateStopped
	}
	return kant.StateUnknown
}

// Attribute names added next to a run's arguments.
const (
	AttrPreviousRunID = "PreviousRunId"
	AttrExecutionTime = "ExecutionTime"
)

// redacted replaces the value of an argument whose name suggests a secret.
const redacted = "[redacted]"

// toRun maps a Glue job run to a validated observation made at now.
//
// Glue's Attempt counts retries from 0 (the first run is attempt 0, its
// first retry, a new run whose PreviousRunId names the failed one, attempt
// 1), so kant's 1-based Attempt is Attempt+1, and MaxAttempts is the job's
// MaxRetries+1.
func (p *Poller) toRun(jr types.JobRun, job jobInfo, now time.Time) (kant.Run, error) {
	name := aws.ToString(jr.JobName)
	if name == "" {
		name = job.name
	}
	r := kant.Run{
		Source:       p.cfg.Source,
		Job:          kant.NewJobKey(p.cfg.Source, name),
		RunID:        aws.ToString(jr.Id),
		Attempt:      int(jr.Attempt) + 1,
		MaxAttempts:  job.maxRetries + 1,
		State:        State(jr.JobRunState),
		SourceState:  string(jr.JobRunState),
		ErrorMessage: aws.ToString(jr.ErrorMessage),
		ObservedAt:   now,
		Attributes:   p.attributes(jr),
	}
	if jr.StartedOn != nil {
		r.StartedAt = *jr.StartedOn
	}
	if jr.CompletedOn != nil {
		r.FinishedAt = *jr.CompletedOn
	}
	if arg := p.cfg.LogicalDateArgument; arg != "" {
		if v, ok := jr.Arguments[arg]; ok {
			d, err := kant.ParseDate(strings.TrimSpace(v))
			if err != nil {
				p.log.Debug("glue logical date argument is not a date", "job", name, "run_id", r.RunID, "argument", arg)
			} else {
				r.LogicalDate = d.AddDays(int(p.cfg.LogicalDateOffset / (24 * time.Hour)))
			}
		}
	}
	if err := r.Validate(); err != nil {
		return kant.Run{}, err
	}
	return r, nil
}

// attributes returns the run's arguments (secret-looking values redacted)
// plus PreviousRunId and ExecutionTime, within kant.MaxAttributes: when a
// run has more arguments, the logical date argument and the first in name
// order are kept.
func (p *Poller) attributes(jr types.JobRun) map[string]string {
	extra := map[string]string{}
	if v := aws.ToString(jr.PreviousRunId); v != "" {
		extra[AttrPreviousRunID] = v
	}
	if jr.ExecutionTime > 0 {
		extra[AttrExecutionTime] = strconv.Itoa(int(jr.ExecutionTime))
	}
	if len(jr.Arguments)+len(extra) == 0 {
		return nil
	}
	attrs := make(map[string]string, len(jr.Arguments)+len(extra))
	room := kant.MaxAttributes - len(extra)
	if v, ok := jr.Arguments[p.cfg.LogicalDateArgument]; ok && p.cfg.LogicalDateArgument != "" {
		attrs[p.cfg.LogicalDateArgument] = v
	}
	for _, k := range slices.Sorted(maps.Keys(jr.Arguments)) {
		if len(attrs) >= room {
			break
		}
		v := jr.Arguments[k]
		if sensitive(k) {
			v = redacted
		}
		attrs[k] = v
	}
	maps.Copy(attrs, extra)
	return attrs
}

// sensitive reports whether an argument name suggests a secret value, which
// must not be stored or shown.
func sensitive(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"password", "passwd", "secret", "token", "credential", "private_key", "privatekey", "api_key", "apikey", "access_key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
