package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/config"
)

// consoleLinks returns, for a run, a link to it in its source's console:
// the Glue job run in the AWS console, the task's log in Airflow's grid
// view. Pushed runs may carry their own link as the attribute "url".
func consoleLinks(cfg *config.Config) func(kant.Run) string {
	sources := map[string]config.Source{}
	for _, s := range cfg.Sources {
		sources[s.Name] = s
	}
	return func(r kant.Run) string {
		s, ok := sources[r.Source]
		switch {
		case ok && s.Glue != nil:
			name := r.Job.Name()
			return fmt.Sprintf("https://%s.console.aws.amazon.com/gluestudio/home?region=%s#/job/%s/run/%s",
				s.Glue.Region, s.Glue.Region, url.PathEscape(name), url.PathEscape(r.RunID))
		case ok && s.Airflow != nil && s.Airflow.URL != "":
			// The collector records dag_id and task_id (a DAG id may hold dots).
			dag, task := r.Attributes["dag_id"], r.Attributes["task_id"]
			if dag == "" {
				dag, task, _ = strings.Cut(r.Job.Name(), ".")
			}
			isTask := task != ""
			q := url.Values{"dag_run_id": {r.RunID}}
			if isTask {
				q.Set("task_id", task)
				q.Set("tab", "logs")
			}
			return strings.TrimRight(s.Airflow.URL, "/") + "/dags/" + url.PathEscape(dag) + "/grid?" + q.Encode()
		}
		if u := r.Attributes["url"]; strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
			return u
		}
		return ""
	}
}
