package glue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
)

// Check reports whether the source can list its jobs and read their runs:
// what `kant check` shows per source. It lists the jobs (GetJobs) and reads
// the newest run of the first one (GetJobRuns, one result); it stores and
// records nothing.
func (p *Poller) Check(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.JobTimeout)
	defer cancel()
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
	return fmt.Sprintf("%s; reads runs (%s: %d run(s) on the first page)", report, first.name, len(out.JobRuns)), nil
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
