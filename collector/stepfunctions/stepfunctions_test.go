package stepfunctions

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/collectortest"
	"github.com/kantproject/kant/collector/internal/awsclient"
)

// t0 is "now" at the start of every test.
var t0 = time.Date(2026, 6, 10, 3, 0, 0, 0, time.UTC)

type harness struct {
	fake   *fakeSFN
	url    string
	clock  *collectortest.Clock
	cps    *collectortest.Checkpoints
	runs   *collectortest.Ingester
	health *collectortest.Health
	cfg    Config
	awsCfg aws.Config
}

// newHarness returns a fake Step Functions and the parts of a Poller
// polling it with the real SDK client: static credentials, retries without
// sleeping.
func newHarness(t testing.TB) *harness {
	t.Helper()
	fake, srv := newFakeSFN(t)
	h := &harness{fake: fake, url: srv.URL, clock: collectortest.NewClock(t0), cps: &collectortest.Checkpoints{},
		runs: &collectortest.Ingester{}, health: &collectortest.Health{}}
	h.cfg = Config{Source: "spinoza", Region: "eu-west-1", StateMachines: []string{"*"}, Endpoint: srv.URL, Now: h.clock.Now}
	h.awsCfg = aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTATIC", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = awsclient.DefaultMaxAttempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
	return h
}

func (h *harness) source(t testing.TB) *Poller {
	t.Helper()
	awsCfg := h.awsCfg
	p, err := New(context.Background(), h.cfg, Deps{AWSConfig: &awsCfg})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (h *harness) poller(t testing.TB) *collector.Engine {
	t.Helper()
	e, err := collector.NewEngine(collector.EngineConfig{Source: h.source(t), Ingester: h.runs, Checkpoints: h.cps,
		Health: h.health, Interval: 5 * time.Minute, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func pollOK(t testing.TB, e *collector.Engine) {
	t.Helper()
	if _, err := e.PollOnce(context.Background()); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
}

// succeeded is an execution started ago before t0 that took 10 minutes.
func succeeded(name string, ago time.Duration) fakeExec {
	start := t0.Add(-ago)
	return fakeExec{Name: name, Status: "SUCCEEDED", Start: start, Stop: start.Add(10 * time.Minute)}
}

// summary is "name:attempt:state" of each run, in order.
func summary(runs []kant.Run) string {
	var out []string
	for _, r := range runs {
		out = append(out, fmt.Sprintf("%s:%d:%s", r.Attributes[AttrName], r.Attempt, r.State))
	}
	return strings.Join(out, ",")
}

func TestPollOnce(t *testing.T) {
	t.Run("executions are read across pages, each a run of the state machine's job keyed by its ARN", func(t *testing.T) {
		h := newHarness(t)
		var execs []fakeExec
		for i := range 2300 {
			execs = append(execs, succeeded(fmt.Sprintf("e%04d", i), time.Duration(i+1)*time.Minute))
		}
		h.fake.addMachine("nightly_billing", "STANDARD", execs...)
		pollOK(t, h.poller(t))
		got, calls := h.runs.Take()
		if len(got) != 2300 || calls != 1 {
			t.Fatalf("stored %d runs in %d calls, want 2300 in 1", len(got), calls)
		}
		// 3 pages of 1000, then one page of the redrive listing.
		if n := h.fake.count("ListExecutions"); n != 4 {
			t.Errorf("ListExecutions calls = %d, want 4", n)
		}
		r := got[0]
		if r.Job != "spinoza/nightly_billing" || r.RunID != execARN("nightly_billing", "e0000") || r.Attempt != 1 ||
			r.State != kant.StateSucceeded || r.SourceState != "SUCCEEDED" || !r.StartedAt.Equal(t0.Add(-time.Minute)) ||
			!r.FinishedAt.Equal(t0.Add(9*time.Minute)) || r.MaxAttempts != 0 {
			t.Errorf("run = %+v", r)
		}
		if n := h.fake.count("DescribeExecution"); n != 0 {
			t.Errorf("DescribeExecution calls = %d for successes without a logical date path", n)
		}
	})

	t.Run("a poll with nothing new lists each state machine once plus its redrives and writes nothing", func(t *testing.T) {
		h := newHarness(t)
		for _, m := range []string{"a", "b"} {
			h.fake.addMachine(m, "STANDARD", succeeded(m+"1", time.Hour), succeeded(m+"2", 2*time.Hour))
		}
		p := h.poller(t)
		pollOK(t, p)
		h.runs.Take()
		h.fake.resetCounts()
		sets := h.cps.Sets()
		h.clock.Advance(5 * time.Minute)
		pollOK(t, p)
		if n := h.fake.count("ListExecutions"); n != 4 {
			t.Errorf("ListExecutions calls = %d, want 4", n)
		}
		if got := slices.Compact(slices.Sorted(slices.Values(h.fake.filters))); !slices.Equal(got, []string{"", "REDRIVEN"}) {
			t.Errorf("redrive filters %q, want none and REDRIVEN", h.fake.filters)
		}
		if n := h.fake.count("ListStateMachines"); n != 0 {
			t.Errorf("ListStateMachines calls = %d before the relist interval", n)
		}
		if got, calls := h.runs.Take(); len(got) != 0 || calls != 0 {
			t.Errorf("stored %s in %d calls", summary(got), calls)
		}
		if h.cps.Sets() != sets {
			t.Errorf("checkpoints saved %d times though nothing changed", h.cps.Sets()-sets)
		}
	})

	t.Run("a running execution is read again until it ends, even behind newer finished ones", func(t *testing.T) {
		h := newHarness(t)
		long := fakeExec{Name: "long", Status: "RUNNING", Start: t0.Add(-3 * time.Hour)}
		h.fake.addMachine("m", "STANDARD", long, succeeded("short", time.Hour))
		p := h.poller(t)
		pollOK(t, p)
		if got, _ := h.runs.Take(); summary(got) != "short:1:succeeded,long:1:running" {
			t.Fatalf("first poll stored %s", summary(got))
		}
		h.fake.addExecs("m", succeeded("newer", 10*time.Minute))
		h.fake.update("m", "long", func(e *fakeExec) { e.Status, e.Stop = "SUCCEEDED", t0 })
		h.clock.Advance(time.Hour)
		pollOK(t, p)
		if got, _ := h.runs.Take(); summary(got) != "newer:1:succeeded,long:1:succeeded" {
			t.Errorf("second poll stored %s, want newer and the end of long", summary(got))
		}
	})

	t.Run("an execution that ended without success carries its error and cause", func(t *testing.T) {
		h := newHarness(t)
		failed := fakeExec{Name: "f", Status: "FAILED", Start: t0.Add(-time.Hour), Stop: t0.Add(-50 * time.Minute),
			Error: "States.TaskFailed", Cause: "Lambda function billing-export failed: out of memory"}
		timedOut := fakeExec{Name: "t", Status: "TIMED_OUT", Start: t0.Add(-2 * time.Hour), Stop: t0.Add(-time.Hour), Error: "States.Timeout"}
		aborted := fakeExec{Name: "a", Status: "ABORTED", Start: t0.Add(-3 * time.Hour), Stop: t0.Add(-2 * time.Hour)}
		h.fake.addMachine("m", "STANDARD", failed, timedOut, aborted)
		pollOK(t, h.poller(t))
		got, _ := h.runs.Take()
		if summary(got) != "f:1:failed,t:1:timeout,a:1:stopped" {
			t.Fatalf("stored %s", summary(got))
		}
		if m := got[0].ErrorMessage; m != "States.TaskFailed: Lambda function billing-export failed: out of memory" || got[0].Attributes[AttrError] != "States.TaskFailed" {
			t.Errorf("error message %q, attributes %v", m, got[0].Attributes)
		}
		if m := got[1].ErrorMessage; m != "States.Timeout" {
			t.Errorf("timeout's error message %q", m)
		}
		if n := h.fake.count("DescribeExecution"); n != 3 {
			t.Errorf("DescribeExecution calls = %d, want 3", n)
		}
	})

	t.Run("the logical date is read from the input once, and an input without one gives none", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.LogicalDatePath = "$.params.date"
		h.cfg.LogicalDateOffset = 24 * time.Hour
		running := fakeExec{Name: "r", Status: "RUNNING", Start: t0.Add(-time.Hour), Input: `{"params": {"date": "2026-06-08"}}`}
		scheduled := fakeExec{Name: "s", Status: "SUCCEEDED", Start: t0.Add(-25 * time.Hour), Stop: t0.Add(-24 * time.Hour),
			Input: `{"params": {"date": "2026-06-08T16:00:00+09:00"}}`}
		none := fakeExec{Name: "n", Status: "SUCCEEDED", Start: t0.Add(-26 * time.Hour), Stop: t0.Add(-25 * time.Hour), Input: `{"other": 1}`}
		h.fake.addMachine("m", "STANDARD", running, scheduled, none)
		p := h.poller(t)
		pollOK(t, p)
		got, _ := h.runs.Take()
		dates := map[string]string{}
		for _, r := range got {
			dates[r.Attributes[AttrName]] = r.LogicalDate.String()
			if r.LogicalDate.IsZero() {
				dates[r.Attributes[AttrName]] = "none"
			}
		}
		if want := map[string]string{"r": "2026-06-09", "s": "2026-06-09", "n": "none"}; fmt.Sprint(dates) != fmt.Sprint(want) {
			t.Errorf("logical dates %v, want %v", dates, want)
		}
		h.fake.resetCounts()
		h.clock.Advance(5 * time.Minute)
		pollOK(t, p)
		if got, _ := h.runs.Take(); len(got) != 1 || got[0].LogicalDate.String() != "2026-06-09" {
			t.Errorf("second poll stored %s with dates %v", summary(got), got)
		}
		if n := h.fake.count("DescribeExecution"); n != 0 {
			t.Errorf("the running execution was described %d more times", n)
		}
	})

	t.Run("a redrive of an old execution is a new attempt of the same run, started at the redrive", func(t *testing.T) {
		h := newHarness(t)
		old := fakeExec{Name: "old", Status: "FAILED", Start: t0.Add(-72 * time.Hour), Stop: t0.Add(-71 * time.Hour), Error: "States.TaskFailed"}
		h.fake.addMachine("m", "STANDARD", old, succeeded("recent", time.Hour))
		p := h.poller(t)
		pollOK(t, p)
		if got, _ := h.runs.Take(); summary(got) != "recent:1:succeeded,old:1:failed" {
			t.Fatalf("first poll stored %s", summary(got))
		}
		redrive := t0.Add(10 * time.Minute)
		h.fake.update("m", "old", func(e *fakeExec) {
			e.Status, e.RedriveCount, e.RedriveDate, e.Stop = "RUNNING", 1, redrive, time.Time{}
		})
		h.clock.Advance(15 * time.Minute)
		pollOK(t, p)
		got, _ := h.runs.Take()
		if summary(got) != "old:2:running" {
			t.Fatalf("after the redrive stored %s, want attempt 2 running", summary(got))
		}
		if r := got[0]; r.RunID != execARN("m", "old") || !r.StartedAt.Equal(redrive) || r.Attributes[AttrRedriveCount] != "1" {
			t.Errorf("redriven run = %+v", r)
		}
		h.fake.update("m", "old", func(e *fakeExec) { e.Status, e.Stop = "SUCCEEDED", redrive.Add(20*time.Minute) })
		h.clock.Advance(30 * time.Minute)
		pollOK(t, p)
		if got, _ := h.runs.Take(); summary(got) != "old:2:succeeded" || !got[0].FinishedAt.Equal(redrive.Add(20*time.Minute)) {
			t.Errorf("after the redrive ended stored %s", summary(got))
		}
		h.clock.Advance(5 * time.Minute)
		pollOK(t, p)
		if got, _ := h.runs.Take(); len(got) != 0 {
			t.Errorf("a finished redrive was stored again: %s", summary(got))
		}
	})

	t.Run("a redrive of an execution inside the window is a new attempt too", func(t *testing.T) {
		h := newHarness(t)
		failed := fakeExec{Name: "f", Status: "FAILED", Start: t0.Add(-30 * time.Minute), Stop: t0.Add(-20 * time.Minute), Error: "States.TaskFailed"}
		h.fake.addMachine("m", "STANDARD", failed)
		p := h.poller(t)
		pollOK(t, p)
		h.runs.Take()
		h.fake.update("m", "f", func(e *fakeExec) {
			e.Status, e.RedriveCount, e.RedriveDate, e.Stop = "SUCCEEDED", 1, t0.Add(time.Minute), t0.Add(4*time.Minute)
		})
		h.clock.Advance(5 * time.Minute)
		pollOK(t, p)
		if got, _ := h.runs.Take(); summary(got) != "f:2:succeeded" {
			t.Errorf("stored %s, want attempt 2 succeeded once", summary(got))
		}
	})

	t.Run("a new poller resumes from the stored checkpoint and reads nothing twice", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addMachine("m", "STANDARD", succeeded("a", 2*time.Hour), fakeExec{Name: "r", Status: "RUNNING", Start: t0.Add(-time.Hour)})
		pollOK(t, h.poller(t))
		h.runs.Take()
		h.fake.addExecs("m", succeeded("b", 10*time.Minute))
		h.clock.Advance(15 * time.Minute)
		pollOK(t, h.poller(t)) // a restart: the same store, a new poller
		if got, _ := h.runs.Take(); summary(got) != "b:1:succeeded,r:1:running" {
			t.Errorf("after the restart stored %s, want the new execution and the open one", summary(got))
		}
	})

	t.Run("a redrive keeps the logical date read from the input of its first attempt", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.LogicalDatePath = "$.date"
		failed := fakeExec{Name: "f", Status: "FAILED", Start: t0.Add(-30 * time.Minute), Stop: t0.Add(-20 * time.Minute),
			Error: "States.TaskFailed", Input: `{"date": "2026-06-09"}`}
		h.fake.addMachine("m", "STANDARD", failed)
		p := h.poller(t)
		pollOK(t, p)
		h.runs.Take()
		h.fake.update("m", "f", func(e *fakeExec) {
			e.Status, e.RedriveCount, e.RedriveDate, e.Stop = "SUCCEEDED", 1, t0.Add(time.Minute), t0.Add(4*time.Minute)
		})
		h.fake.resetCounts()
		h.clock.Advance(5 * time.Minute)
		pollOK(t, p)
		got, _ := h.runs.Take()
		if summary(got) != "f:2:succeeded" || got[0].LogicalDate.String() != "2026-06-09" {
			t.Errorf("stored %s dated %v", summary(got), got)
		}
		if n := h.fake.count("DescribeExecution"); n != 0 {
			t.Errorf("the redrive was described %d times for a date already read", n)
		}
	})

	t.Run("state machines are chosen by glob and by ARN, and express ones are skipped", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.StateMachines = []string{"nightly_*", machineARN("adhoc")}
		h.fake.addMachine("nightly_billing", "STANDARD", succeeded("b", time.Hour))
		h.fake.addMachine("nightly_stream", "EXPRESS")
		h.fake.addMachine("adhoc", "STANDARD", succeeded("x", time.Hour))
		h.fake.addMachine("other", "STANDARD", succeeded("o", time.Hour))
		pollOK(t, h.poller(t))
		got, _ := h.runs.Take()
		var jobs []string
		for _, r := range got {
			jobs = append(jobs, string(r.Job))
		}
		if slices.Sort(jobs); strings.Join(jobs, ",") != "spinoza/adhoc,spinoza/nightly_billing" {
			t.Errorf("jobs %v", jobs)
		}
	})

	t.Run("a configured name that does not exist is reported while the others are polled", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.StateMachines = []string{"m", "missing"}
		h.fake.addMachine("m", "STANDARD", succeeded("e", time.Hour))
		_, err := h.poller(t).PollOnce(context.Background())
		if kant.ErrorCode(err) != kant.ENOTFOUND || !strings.Contains(err.Error(), "missing") || collector.IsRetryable(err) {
			t.Errorf("PollOnce = %v, want ENOTFOUND naming missing", err)
		}
		if got, _ := h.runs.Take(); len(got) != 1 {
			t.Errorf("stored %d runs of the existing state machine", len(got))
		}
	})

	t.Run("throttling is retried by the SDK and then retryable; access denied is neither", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addMachine("m", "STANDARD", succeeded("e", time.Hour))
		p := h.poller(t)
		h.fake.failNext("ListExecutions", fault{400, "ThrottlingException"}, fault{400, "ThrottlingException"})
		pollOK(t, p) // the SDK's own retries get through
		h.fake.faultFor["m"] = fault{400, "ThrottlingException"}
		if _, err := p.PollOnce(context.Background()); err == nil || !collector.IsRetryable(err) {
			t.Errorf("persistent throttling: %v, want a retryable error", err)
		}
		h.fake.faultFor["m"] = fault{400, "AccessDeniedException"}
		h.fake.resetCounts()
		_, err := p.PollOnce(context.Background())
		if err == nil || collector.IsRetryable(err) || !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Errorf("access denied: %v, want a permanent error", err)
		}
		if n := h.fake.attempts("ListExecutions"); n != 1 {
			t.Errorf("access denied was tried %d times", n)
		}
	})

	t.Run("a failed describe keeps the checkpoint so the execution is read again", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addMachine("m", "STANDARD", fakeExec{Name: "f", Status: "FAILED", Start: t0.Add(-time.Hour), Stop: t0, Error: "E"})
		p := h.poller(t)
		h.fake.failNext("DescribeExecution", fault{400, "KmsAccessDeniedException"})
		if _, err := p.PollOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "KmsAccessDeniedException") {
			t.Fatalf("PollOnce = %v", err)
		}
		if got, _ := h.runs.Take(); len(got) != 0 || h.cps.Len() != 0 {
			t.Errorf("stored %d runs and %d checkpoints after a failed describe", len(got), h.cps.Len())
		}
		pollOK(t, p)
		if got, _ := h.runs.Take(); summary(got) != "f:1:failed" || got[0].ErrorMessage != "E" {
			t.Errorf("the next poll stored %s", summary(got))
		}
	})
}

func TestState(t *testing.T) {
	tests := []struct {
		status types.ExecutionStatus
		want   kant.State
	}{
		{"RUNNING", kant.StateRunning},
		{"SUCCEEDED", kant.StateSucceeded},
		{"FAILED", kant.StateFailed},
		{"TIMED_OUT", kant.StateTimeout},
		{"ABORTED", kant.StateStopped},
		{"PENDING_REDRIVE", kant.StateQueued},
		{"SOMETHING_NEW", kant.StateUnknown},
	}
	// Every status of the contract is mapped to a known state.
	enum := loadModel(t).Shapes["ExecutionStatus"].Enum
	for _, s := range enum {
		if State(types.ExecutionStatus(s)) == kant.StateUnknown {
			t.Errorf("the contract's status %s is not mapped", s)
		}
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s is %s", tt.status, tt.want), func(t *testing.T) {
			if got := State(tt.status); got != tt.want {
				t.Errorf("State(%s) = %s, want %s", tt.status, got, tt.want)
			}
		})
	}
}

func TestAssumedRoleSignsTheCalls(t *testing.T) {
	h := newHarness(t)
	h.cfg.RoleARN = "arn:aws:iam::123456789012:role/kant-reader"
	h.awsCfg.BaseEndpoint = aws.String(h.url) // STS too is the fake
	h.fake.addMachine("m", "STANDARD", succeeded("e", time.Hour))
	pollOK(t, h.poller(t))
	if h.fake.stsCalls != 1 {
		t.Errorf("AssumeRole calls = %d, want 1", h.fake.stsCalls)
	}
	for _, k := range h.fake.accessKeys {
		if k != "AKIDROLE1" {
			t.Errorf("a Step Functions call was signed with %q", k)
		}
	}
}

func TestNew(t *testing.T) {
	_, err := New(context.Background(), Config{StateMachines: []string{"arn:aws:states:x"}, LogicalDatePath: "date",
		LogicalDateOffset: time.Hour, WebIdentityAudience: "aud"}, Deps{})
	if kant.ErrorCode(err) != kant.EINVALID {
		t.Fatalf("New = %v, want EINVALID", err)
	}
	for _, want := range []string{"source", "state_machines", "logical_date_path", "logical_date_offset", "region", "role_arn"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Run("a reachable source lists its state machines and reads executions, storing nothing", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addMachine("billing", "STANDARD", succeeded("e", time.Hour))
		h.fake.addMachine("export", "STANDARD")
		report, err := h.source(t).Check(context.Background())
		if err != nil || report != "lists 2 matching state machine(s); reads executions (billing: 1 execution(s) on the first page)" {
			t.Fatalf("Check = %q, %v", report, err)
		}
		if got, _ := h.runs.Take(); len(got) != 0 || h.health.Last() != "<none>" {
			t.Errorf("Check stored %d runs or recorded health %q", len(got), h.health.Last())
		}
	})
	t.Run("a source that may not list state machines says so", func(t *testing.T) {
		h := newHarness(t)
		h.fake.failNext("ListStateMachines", fault{400, "AccessDeniedException"})
		if _, err := h.source(t).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot list state machines") ||
			!strings.Contains(err.Error(), "AccessDeniedException") {
			t.Errorf("Check err = %v", err)
		}
	})
	t.Run("a source that may not read executions says so", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addMachine("billing", "STANDARD")
		h.fake.faultFor["billing"] = fault{400, "AccessDeniedException"}
		if _, err := h.source(t).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot read executions of billing") {
			t.Errorf("Check err = %v", err)
		}
	})
}

func TestExecutionLinkPointsAtTheExecutionInTheConsole(t *testing.T) {
	arn := execARN("nightly_billing", "2026-06-01")
	got := ExecutionLink("us-east-1")(kant.Run{Source: "spinoza", Job: "spinoza/nightly_billing", RunID: arn})
	want := "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/" + arn
	if got != want {
		t.Errorf("link\n got %s\nwant %s", got, want)
	}
	if got := ExecutionLink("eu-west-1")(kant.Run{RunID: "pushed-run"}); got != "" {
		t.Errorf("a run ID that is no ARN got the link %q", got)
	}
}
