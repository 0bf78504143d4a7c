package glue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
)

// Check reports whether the source can list its jobs and read their runs:
// what `kant check` shows per source. It lists the jobs (GetJobs) and reads
// the newest run of the first one (GetJobRuns, one result), and does the
// same for the workflows when some are configured; it stores and records
// nothing.
func (p *Poller) Check(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.JobTimeout)
	defer cancel()
	if len(p.cfg.Jobs) == 0 {
		return p.checkWorkflows(ctx)
	}
	jobs, err := p.listJobs(ctx)
	if jobs == nil {
		return "", fmt.Errorf("cannot list jobs: %w", err)
	}
	report := fmt.Sprintf("lists %d matching job(s)", len(jobs))
	if err != nil {
		report += fmt.Sprintf(" (%v)", err)
	}
	if len(jobs) == 0 {
		return report + "; no job to read runs of", nil
	}
	first := firstJob(jobs)
	out, err := p.client.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: aws.String(first.name), MaxResults: aws.Int32(1)})
	if err != nil {
		return report, fmt.Errorf("cannot read runs of %s: %w", first.name, err)
	}
	report = fmt.Sprintf("%s; reads runs (%s: %d run(s) on the first page)", report, first.name, len(out.JobRuns))
	if len(p.cfg.Workflows) > 0 {
		wf, err := p.checkWorkflows(ctx)
		if err != nil {
			return report, err
		}
		report += "; " + wf
	}
	return report, nil
}

// checkWorkflows lists the workflows (ListWorkflows, when a glob is
// configured) and reads the runs of the first (GetWorkflowRuns, one
// result).
func (p *Poller) checkWorkflows(ctx context.Context) (string, error) {
	names, err := p.resolveWorkflows(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot list workflows: %w", err)
	}
	report := fmt.Sprintf("lists %d matching workflow(s)", len(names))
	if len(names) == 0 {
		return report, nil
	}
	out, err := p.client.GetWorkflowRuns(ctx, &glue.GetWorkflowRunsInput{Name: aws.String(names[0]), MaxResults: aws.Int32(1)})
	if err != nil {
		return report, fmt.Errorf("cannot read runs of workflow %s: %w", names[0], err)
	}
	return fmt.Sprintf("%s; reads workflow runs (%s: %d run(s) on the first page)", report, names[0], len(out.Runs)), nil
}

// firstJob returns the job with the smallest name.
func firstJob(jobs map[string]jobInfo) jobInfo {
	var first jobInfo
	for name, j := range jobs {
		if first.name == "" || name < first.name {
			first = j
		}
	}
	return first
}
