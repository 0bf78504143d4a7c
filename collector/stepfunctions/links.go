package stepfunctions

import (
	"net/url"
	"strings"

	"github.com/kantproject/kant"
)

// ExecutionLink returns the link to a run's execution in the Step
// Functions console: the region is the execution ARN's, else region.
func ExecutionLink(region string) func(kant.Run) string {
	return func(r kant.Run) string {
		if !strings.HasPrefix(r.RunID, "arn:") {
			return ""
		}
		reg := region
		if parts := strings.Split(r.RunID, ":"); len(parts) > 3 && parts[3] != "" {
			reg = parts[3]
		}
		if reg == "" {
			return ""
		}
		return "https://" + reg + ".console.aws.amazon.com/states/home?region=" + url.QueryEscape(reg) +
			"#/v2/executions/details/" + r.RunID
	}
}
