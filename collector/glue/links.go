package glue

import (
	"net/url"
	"strings"

	"github.com/kantproject/kant"
)

// RunLink returns the link to a run's page in Glue Studio, for the jobs of
// region; for a workflow's run, the link to the workflow in the Glue
// console.
func RunLink(region string) func(kant.Run) string {
	return func(r kant.Run) string {
		if region == "" || r.RunID == "" {
			return ""
		}
		if wf, ok := strings.CutPrefix(r.Job.Name(), WorkflowPrefix); ok {
			return "https://" + region + ".console.aws.amazon.com/glue/home?region=" + url.QueryEscape(region) +
				"#/v2/etl-configuration/workflows/view/" + url.PathEscape(wf)
		}
		return "https://" + region + ".console.aws.amazon.com/gluestudio/home?region=" + url.QueryEscape(region) +
			"#/job/" + url.PathEscape(r.Job.Name()) + "/run/" + url.PathEscape(r.RunID)
	}
}
