package glue

import (
	"context"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

func TestJobRunReadsOneRunAsAPollStoresIt(t *testing.T) {
	started := t0.Add(-time.Hour)
	retry := fakeRun{ID: "jr_1_attempt_1", PreviousRunID: "jr_1", State: "SUCCEEDED", Attempt: 1, ExecutionTime: 600,
		StartedOn: started, CompletedOn: started.Add(10 * time.Minute),
		Arguments: map[string]string{"--target_date": "2026-06-09", "--db_password": "hunter2"}}

	tests := []struct {
		name    string
		job     string
		runID   string
		want    func(t *testing.T, r kant.Run)
		code    string
		retries bool
	}{
		{name: "a run is read with its attempt, its job's retries, its times and its logical date",
			job: "export_users", runID: "jr_1_attempt_1", want: func(t *testing.T, r kant.Run) {
				if r.Job != "hegel/export_users" || r.RunID != "jr_1_attempt_1" || r.Attempt != 2 || r.MaxAttempts != 3 ||
					r.State != kant.StateSucceeded || !r.StartedAt.Equal(started) || !r.ObservedAt.Equal(t0) {
					t.Errorf("run = %+v", r)
				}
				if r.LogicalDate != (kant.Date{Year: 2026, Month: time.June, Day: 10}) {
					t.Errorf("logical date = %s, want 2026-06-10 (the argument plus one day)", r.LogicalDate)
				}
				if r.Attributes["--db_password"] != redacted || r.Attributes[AttrPreviousRunID] != "jr_1" {
					t.Errorf("attributes = %v", r.Attributes)
				}
			}},
		{name: "a run Glue does not know is not found", job: "export_users", runID: "jr_gone", code: kant.ENOTFOUND},
		{name: "a job the source does not select is not found and Glue is not asked", job: "other_job", runID: "jr_1", code: kant.ENOTFOUND},
		{name: "a throttled read is retryable", job: "export_users", runID: "jr_1_attempt_1", retries: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.Jobs = []string{"export_*"}
			h.cfg.LogicalDateArgument, h.cfg.LogicalDateOffset = "--target_date", 24*time.Hour
			h.fake.addJob("export_users", 2, retry)
			if tt.retries {
				throttled := fault{Status: 400, Type: "ThrottlingException"}
				h.fake.failNext("GetJobRun", throttled, throttled, throttled, throttled, throttled)
			}
			p := h.source(t)
			r, err := p.JobRun(context.Background(), tt.job, tt.runID)
			switch {
			case tt.retries:
				if !collector.IsRetryable(err) {
					t.Fatalf("err = %v, want a retryable error", err)
				}
			case tt.code != "":
				if kant.ErrorCode(err) != tt.code {
					t.Fatalf("err = %v, want code %s", err, tt.code)
				}
				if tt.job == "other_job" && h.fake.count("GetJobRun") != 0 {
					t.Errorf("GetJobRun called %d times for an unselected job", h.fake.count("GetJobRun"))
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				tt.want(t, r)
				if h.fake.count("GetJobRun") != 1 || h.fake.count("GetJobs") != 1 {
					t.Errorf("calls: GetJobRun %d, GetJobs %d; want 1 and 1", h.fake.count("GetJobRun"), h.fake.count("GetJobs"))
				}
			}
		})
	}
}
