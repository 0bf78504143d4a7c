package glue

import (
	"net/url"

	"github.com/kantproject/kant"
)

// RunLink returns the link to a run's page in Glue Studio, for the jobs of
// region.
func RunLink(region string) func(kant.Run) string {
	return func(r kant.Run) string {
		if region == "" || r.RunID == "" {
			return ""
		}
		return "https://" + region + ".console.aws.amazon.com/gluestudio/home?region=" + url.QueryEscape(region) +
			"#/job/" + url.PathEscape(r.Job.Name()) + "/run/" + url.PathEscape(r.RunID)
	}
}
