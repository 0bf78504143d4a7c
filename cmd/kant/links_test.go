package main

import (
	"strings"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/config"
)

func TestConsoleLinks(t *testing.T) {
	cfg, err := config.Parse("kant.yaml", strings.NewReader(`
sources:
  - {name: hegel, type: glue, region: ap-northeast-1}
  - {name: socrates, type: airflow, url: "https://composer.example.com/", auth: google}
  - {name: onprem, type: push}
  - {name: spinoza, type: stepfunctions, region: eu-west-1}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	link := consoleLinks(cfg)
	tests := []struct {
		name string
		run  kant.Run
		want string
	}{
		{"a Glue run links to its run in the AWS console",
			kant.Run{Source: "hegel", Job: "hegel/export users", RunID: "jr_1"},
			"https://ap-northeast-1.console.aws.amazon.com/gluestudio/home?region=ap-northeast-1#/job/export%20users/run/jr_1"},
		{"an Airflow task links to its log in the grid view, using the recorded DAG and task ids",
			kant.Run{Source: "socrates", Job: "socrates/etl.v2.load", RunID: "scheduled__2026-11-21T00:00:00+00:00",
				Attributes: map[string]string{"dag_id": "etl.v2", "task_id": "load"}},
			"https://composer.example.com/dags/etl.v2/grid?dag_run_id=scheduled__2026-11-21T00%3A00%3A00%2B00%3A00&tab=logs&task_id=load"},
		{"a Step Functions run links to its execution in the AWS console",
			kant.Run{Source: "spinoza", Job: "spinoza/nightly", RunID: "arn:aws:states:eu-west-1:123456789012:execution:nightly:e1"},
			"https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:nightly:e1"},
		{"a pushed run links to the url it carries",
			kant.Run{Source: "onprem", Job: "onprem/x", Attributes: map[string]string{"url": "https://jenkins.example.com/job/x/42"}},
			"https://jenkins.example.com/job/x/42"},
		{"a pushed run's url that is not http(s) is not linked",
			kant.Run{Source: "onprem", Job: "onprem/x", Attributes: map[string]string{"url": "javascript:alert(1)"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := link(tt.run); got != tt.want {
				t.Errorf("link = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCleartextIsPlainHTTPBeyondLoopback(t *testing.T) {
	for u, want := range map[string]bool{
		"http://airflow.internal:8080": true,
		"http://10.0.0.5":              true,
		"https://airflow.internal":     false,
		"http://127.0.0.1:8080":        false,
		"http://localhost:8080":        false,
		"http://[::1]:8080":            false,
		"":                             false,
	} {
		if got := cleartext(u); got != want {
			t.Errorf("cleartext(%q) = %v, want %v", u, got, want)
		}
	}
}
