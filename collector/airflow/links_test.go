package airflow

import (
	"testing"

	"github.com/kantproject/kant"
)

func TestTaskLink(t *testing.T) {
	link := TaskLink("https://composer.example.com/")
	tests := []struct {
		name string
		run  kant.Run
		want string
	}{
		{"a task links to its log in the DAG run's grid, using the recorded ids (a DAG id may hold dots)",
			kant.Run{Source: "socrates", Job: "socrates/etl.v2.load", RunID: "scheduled__2026-11-21T00:00:00+00:00[3]",
				Attributes: map[string]string{AttrDagID: "etl.v2", AttrTaskID: "load", AttrDagRunID: "scheduled__2026-11-21T00:00:00+00:00"}},
			"https://composer.example.com/dags/etl.v2/grid?dag_run_id=scheduled__2026-11-21T00%3A00%3A00%2B00%3A00&tab=logs&task_id=load"},
		{"a DAG run links to its grid",
			kant.Run{Source: "socrates", Job: "socrates/daily", RunID: "manual_1", Attributes: map[string]string{AttrDagID: "daily"}},
			"https://composer.example.com/dags/daily/grid?dag_run_id=manual_1"},
		{"a run without attributes is split at the first dot",
			kant.Run{Source: "socrates", Job: "socrates/daily_load.load_users", RunID: "r1"},
			"https://composer.example.com/dags/daily_load/grid?dag_run_id=r1&tab=logs&task_id=load_users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := link(tt.run); got != tt.want {
				t.Errorf("link\n got %s\nwant %s", got, tt.want)
			}
		})
	}
	if got := TaskLink("")(tests[0].run); got != "" {
		t.Errorf("no base URL (MWAA without a web URL): link %q, want none", got)
	}
}
