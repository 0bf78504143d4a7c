package glue

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/kantproject/kant"
)

func completed(id string, ago time.Duration, stats map[string]int) fakeWorkflowRun {
	start := t0.Add(-ago)
	return fakeWorkflowRun{ID: id, Status: "COMPLETED", StartedOn: start, CompletedOn: start.Add(30 * time.Minute), Statistics: stats}
}

func TestWorkflows(t *testing.T) {
	t.Run("a workflow's runs are runs of the job workflow:NAME and a run whose actions failed is failed with its statistics", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Jobs, h.cfg.Workflows = nil, []string{"nightly_*"}
		h.cfg.LogicalDateArgument = "--target_date"
		ok := completed("wr_ok", 2*time.Hour, map[string]int{"TotalActions": 2, "SucceededActions": 2})
		ok.Properties = map[string]string{"target_date": "2026-06-09"}
		bad := completed("wr_bad", time.Hour, map[string]int{"TotalActions": 5, "FailedActions": 2, "ErroredActions": 1, "SucceededActions": 2})
		h.fake.setWorkflow("nightly_sales", ok, bad)
		h.fake.setWorkflow("adhoc", completed("wr_x", time.Hour, nil))
		pollOK(t, h.poller(t))
		got, _ := h.runs.Take()
		if len(got) != 2 {
			t.Fatalf("stored %v, want the two runs of nightly_sales", runIDs(got))
		}
		byID := map[string]kant.Run{}
		for _, r := range got {
			byID[r.RunID] = r
		}
		if r := byID["wr_ok"]; r.Job != "hegel/workflow:nightly_sales" || r.State != kant.StateSucceeded || r.SourceState != "COMPLETED" ||
			r.LogicalDate.String() != "2026-06-09" || r.ErrorMessage != "" || r.Attempt != 1 {
			t.Errorf("the good run = %+v", r)
		}
		if r := byID["wr_bad"]; r.State != kant.StateFailed || r.ErrorMessage != "2 of 5 actions failed, 1 errored, 2 succeeded" {
			t.Errorf("the bad run = %s %q", r.State, r.ErrorMessage)
		}
		if n := h.fake.count("GetJobs"); n != 0 {
			t.Errorf("GetJobs called %d times with no jobs configured", n)
		}
	})

	t.Run("a running workflow run is read again until it ends, and a finished one is not stored twice", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Jobs, h.cfg.Workflows = nil, []string{"nightly"}
		running := fakeWorkflowRun{ID: "wr_1", Status: "RUNNING", StartedOn: t0.Add(-time.Hour)}
		h.fake.setWorkflow("nightly", completed("wr_0", 25*time.Hour, nil), running)
		p := h.poller(t)
		pollOK(t, p)
		if got, _ := h.runs.Take(); len(got) != 2 {
			t.Fatalf("first poll stored %v", runIDs(got))
		}
		done := running
		done.Status, done.CompletedOn = "STOPPED", t0
		done.ErrorMessage = "stopped by an operator"
		done.Statistics = map[string]int{"TotalActions": 3, "StoppedActions": 1, "SucceededActions": 2}
		h.fake.setWorkflow("nightly", completed("wr_0", 25*time.Hour, nil), done)
		h.clock.Advance(10 * time.Minute)
		pollOK(t, p)
		got, _ := h.runs.Take()
		if len(got) != 1 || got[0].RunID != "wr_1" || got[0].State != kant.StateStopped ||
			got[0].ErrorMessage != "stopped by an operator (1 of 3 actions stopped, 2 succeeded)" {
			t.Fatalf("second poll stored %+v", got)
		}
		h.clock.Advance(10 * time.Minute)
		pollOK(t, p)
		if got, _ := h.runs.Take(); len(got) != 0 {
			t.Errorf("third poll stored %v", runIDs(got))
		}
	})

	t.Run("a literal workflow name is read without listing, beside the jobs", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Jobs, h.cfg.Workflows = []string{"export"}, []string{"nightly"}
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		h.fake.setWorkflow("nightly", completed("wr_1", time.Hour, nil))
		pollOK(t, h.poller(t))
		if got, _ := h.runs.Take(); len(got) != 2 {
			t.Errorf("stored %v, want a job run and a workflow run", runIDs(got))
		}
		if n := h.fake.count("ListWorkflows"); n != 0 {
			t.Errorf("ListWorkflows called %d times for a literal name", n)
		}
	})

	t.Run("a workflow that does not exist is reported", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Jobs, h.cfg.Workflows = nil, []string{"missing"}
		_, err := h.poller(t).PollOnce(context.Background())
		if err == nil || !strings.Contains(err.Error(), `glue get workflow runs "missing"`) || !strings.Contains(err.Error(), "EntityNotFoundException") {
			t.Errorf("PollOnce = %v", err)
		}
	})

	t.Run("check lists the workflows and reads runs of the first", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Jobs, h.cfg.Workflows = nil, []string{"nightly_*"}
		h.fake.setWorkflow("nightly_a", completed("wr_1", time.Hour, nil))
		h.fake.setWorkflow("nightly_b")
		report, err := h.source(t).Check(context.Background())
		if err != nil || report != "lists 2 matching workflow(s); reads workflow runs (nightly_a: 1 run(s) on the first page)" {
			t.Errorf("Check = %q, %v", report, err)
		}
	})
}

func TestWorkflowState(t *testing.T) {
	tests := []struct {
		name   string
		status types.WorkflowRunStatus
		stats  *types.WorkflowRunStatistics
		want   kant.State
	}{
		{"a completed run whose actions all succeeded succeeded", "COMPLETED", &types.WorkflowRunStatistics{TotalActions: 2, SucceededActions: 2}, kant.StateSucceeded},
		{"a completed run with a failed action failed", "COMPLETED", &types.WorkflowRunStatistics{FailedActions: 1}, kant.StateFailed},
		{"a completed run with a timed-out action failed", "COMPLETED", &types.WorkflowRunStatistics{TimeoutActions: 1}, kant.StateFailed},
		{"a stopping run is still running", "STOPPING", nil, kant.StateRunning},
		{"a stopped run stopped", "STOPPED", nil, kant.StateStopped},
		{"an error is a failure", "ERROR", nil, kant.StateFailed},
		{"an unknown status is unknown", "PAUSED", nil, kant.StateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WorkflowState(tt.status, tt.stats); got != tt.want {
				t.Errorf("WorkflowState = %s, want %s", got, tt.want)
			}
		})
	}
	for _, s := range loadModel(t).Shapes["WorkflowRunStatus"].Enum {
		if WorkflowState(types.WorkflowRunStatus(s), nil) == kant.StateUnknown {
			t.Errorf("the contract's status %s is not mapped", s)
		}
	}
}

func TestWorkflowRunLinkPointsAtTheWorkflow(t *testing.T) {
	got := RunLink("ap-northeast-1")(kant.Run{Source: "hegel", Job: "hegel/workflow:nightly sales", RunID: "wr_1"})
	want := "https://ap-northeast-1.console.aws.amazon.com/glue/home?region=ap-northeast-1#/v2/etl-configuration/workflows/view/nightly%20sales"
	if got != want {
		t.Errorf("link\n got %s\nwant %s", got, want)
	}
}
