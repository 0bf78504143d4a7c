package alert

import (
	"net/url"
	"strings"

	"github.com/kantproject/kant"
)

// GlueRunLink returns a Policy.ConsoleLink for the runs of a Glue source in
// region: the run's page in Glue Studio.
func GlueRunLink(region string) func(kant.Run) string {
	return func(r kant.Run) string {
		if region == "" || r.RunID == "" {
			return ""
		}
		return "https://" + region + ".console.aws.amazon.com/gluestudio/home?region=" + url.QueryEscape(region) +
			"#/job/" + url.PathEscape(r.Job.Name()) + "/run/" + url.PathEscape(r.RunID)
	}
}

// AirflowTaskLink returns a Policy.ConsoleLink for the runs of an Airflow
// source whose web UI is at baseURL: the DAG run's grid, with the task
// selected for task-level jobs ("dag.task"; a DAG ID containing a dot is
// split at its first dot). The DAG run ID is the run's dag_run_id
// attribute, else its run ID.
func AirflowTaskLink(baseURL string) func(kant.Run) string {
	base := strings.TrimRight(baseURL, "/")
	return func(r kant.Run) string {
		if base == "" {
			return ""
		}
		dag, task, _ := strings.Cut(r.Job.Name(), ".")
		runID := r.Attributes["dag_run_id"]
		if runID == "" {
			runID = r.RunID
		}
		q := url.Values{"dag_run_id": {runID}}
		if task != "" {
			q.Set("task_id", task)
		}
		return base + "/dags/" + url.PathEscape(dag) + "/grid?" + q.Encode()
	}
}

// ConsoleLinks returns a Policy.ConsoleLink that uses the link function of
// each run's source (none for sources not in bySource).
func ConsoleLinks(bySource map[string]func(kant.Run) string) func(kant.Run) string {
	return func(r kant.Run) string {
		if f := bySource[r.Source]; f != nil {
			return f(r)
		}
		return ""
	}
}
