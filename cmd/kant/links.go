package main

import (
	"strings"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector/airflow"
	"github.com/kantproject/kant/collector/glue"
	"github.com/kantproject/kant/collector/stepfunctions"
	"github.com/kantproject/kant/config"
)

// consoleLinks returns, for a run, a link to it in its source's console:
// the Glue job run in the AWS console, the Step Functions execution in its
// console, the task's log in Airflow's grid view. Pushed runs may carry their own http(s) link as the attribute "url".
func consoleLinks(cfg *config.Config) func(kant.Run) string {
	bySource := map[string]func(kant.Run) string{}
	for _, s := range cfg.Sources {
		switch {
		case s.Glue != nil:
			bySource[s.Name] = glue.RunLink(s.Glue.Region)
		case s.Airflow != nil:
			bySource[s.Name] = airflow.TaskLink(s.Airflow.URL)
		case s.StepFunctions != nil:
			bySource[s.Name] = stepfunctions.ExecutionLink(s.StepFunctions.Region)
		}
	}
	return func(r kant.Run) string {
		if link := bySource[r.Source]; link != nil {
			return link(r)
		}
		if u := r.Attributes["url"]; strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
			return u
		}
		return ""
	}
}
