package alert_test

import (
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
)

func TestConsoleLinks(t *testing.T) {
	link := alert.ConsoleLinks(map[string]func(kant.Run) string{
		"hegel":    alert.GlueRunLink("ap-northeast-1"),
		"socrates": alert.AirflowTaskLink("https://airflow.example.com/"),
	})
	tests := []struct {
		name string
		run  kant.Run
		want string
	}{
		{"a Glue run links to its page in Glue Studio",
			kant.Run{Source: "hegel", Job: "hegel/export_users", RunID: "jr_1f3a"},
			"https://ap-northeast-1.console.aws.amazon.com/gluestudio/home?region=ap-northeast-1#/job/export_users/run/jr_1f3a"},
		{"an Airflow task links to the DAG run's grid with the task selected",
			kant.Run{Source: "socrates", Job: "socrates/daily_load.load_users", RunID: "scheduled__2026-06-01T01:00:00+00:00#1",
				Attributes: map[string]string{"dag_run_id": "scheduled__2026-06-01T01:00:00+00:00"}},
			"https://airflow.example.com/dags/daily_load/grid?dag_run_id=scheduled__2026-06-01T01%3A00%3A00%2B00%3A00&task_id=load_users"},
		{"an Airflow DAG run links to its grid",
			kant.Run{Source: "socrates", Job: "socrates/daily_load", RunID: "manual__1"},
			"https://airflow.example.com/dags/daily_load/grid?dag_run_id=manual__1"},
		{"a push source has no console", kant.Run{Source: "onprem", Job: "onprem/x", RunID: "1"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := link(tc.run); got != tc.want {
				t.Errorf("link\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
