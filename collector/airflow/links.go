package airflow

import (
	"net/url"
	"strings"

	"github.com/kantproject/kant"
)

// TaskLink returns the link to a run in the Airflow web UI at baseURL: the
// DAG run's grid, with the task and its logs selected for a task-level job.
// It reads the dag_id, task_id and dag_run_id attributes the poller records
// (a DAG id may hold dots), falling back to splitting the job name at its
// first dot.
func TaskLink(baseURL string) func(kant.Run) string {
	base := strings.TrimRight(baseURL, "/")
	return func(r kant.Run) string {
		if base == "" {
			return ""
		}
		dag, task := r.Attributes[AttrDagID], r.Attributes[AttrTaskID]
		if dag == "" {
			dag, task, _ = strings.Cut(r.Job.Name(), ".")
		}
		runID := r.Attributes[AttrDagRunID]
		if runID == "" {
			runID = r.RunID
		}
		q := url.Values{"dag_run_id": {runID}}
		if task != "" {
			q.Set("task_id", task)
			q.Set("tab", "logs")
		}
		return base + "/dags/" + url.PathEscape(dag) + "/grid?" + q.Encode()
	}
}
