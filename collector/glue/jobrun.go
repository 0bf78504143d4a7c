package glue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/kantproject/kant"
)

// JobRun reads one run of a job with GetJobRun and returns it as a poll
// would store it, observed now: its attempt, times, arguments and, when the
// source names one, its logical date. The EventBridge ingester calls it for
// a Glue event, which carries none of them.
//
// The job's MaxRetries comes from the job list the poller keeps (listed
// with GetJobs when it is due). A job the source does not select is an
// ENOTFOUND error; so is a run Glue does not know. Throttling, 5xx answers
// and timeouts are retryable (collector.IsRetryable).
func (p *Poller) JobRun(ctx context.Context, job, runID string) (kant.Run, error) {
	if !p.selects(job) {
		return kant.Run{}, kant.Errorf(kant.ENOTFOUND, "glue job %q: not selected by source %s", job, p.cfg.Source)
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.JobTimeout)
	defer cancel()
	info := jobInfo{name: job}
	if jobs, err := p.resolveJobs(ctx); err == nil || jobs != nil {
		for _, j := range jobs {
			if j.name == job {
				info = j
			}
		}
	}
	out, err := p.client.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String(job), RunId: aws.String(runID)})
	if err != nil {
		if isCode(err, "EntityNotFoundException") {
			return kant.Run{}, kant.Errorf(kant.ENOTFOUND, "glue get job run %q %q: no such run", job, runID)
		}
		return kant.Run{}, fmt.Errorf("glue get job run %q %q: %w", job, runID, classify(err))
	}
	if out.JobRun == nil {
		return kant.Run{}, kant.Errorf(kant.ENOTFOUND, "glue get job run %q %q: no run in the answer", job, runID)
	}
	return p.toRun(*out.JobRun, info, p.now())
}
