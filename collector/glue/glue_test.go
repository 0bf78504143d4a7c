package glue

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/collectortest"
)

// t0 is "now" at the start of every test: 03:00 UTC, 12:00 in Tokyo.
var t0 = time.Date(2026, 6, 10, 3, 0, 0, 0, time.UTC)

type harness struct {
	fake   *fakeGlue
	url    string
	clock  *collectortest.Clock
	cps    *collectortest.Checkpoints
	runs   *collectortest.Ingester
	health *collectortest.Health
	cfg    Config
	awsCfg aws.Config
}

// newHarness returns a fake Glue and the parts of a Poller polling it with
// the real SDK client: static credentials, retries without sleeping.
func newHarness(t testing.TB) *harness {
	t.Helper()
	fake, srv := newFakeGlue(t)
	h := &harness{
		fake:   fake,
		url:    srv.URL,
		clock:  collectortest.NewClock(t0),
		cps:    &collectortest.Checkpoints{},
		runs:   &collectortest.Ingester{},
		health: &collectortest.Health{},
	}
	h.cfg = Config{Source: "hegel", Region: "ap-northeast-1", Jobs: []string{"*"}, Endpoint: srv.URL, Now: h.clock.Now}
	h.awsCfg = aws.Config{
		Region:      "ap-northeast-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTATIC", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = DefaultMaxAttempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
	return h
}

// source returns a Poller of the fake.
func (h *harness) source(t testing.TB) *Poller {
	t.Helper()
	awsCfg := h.awsCfg
	p, err := New(context.Background(), h.cfg, Deps{AWSConfig: &awsCfg})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// poller returns a Poller of the fake in the engine that polls it.
func (h *harness) poller(t testing.TB) *collector.Engine {
	t.Helper()
	return h.engine(t, h.source(t))
}

func (h *harness) engine(t testing.TB, p *Poller) *collector.Engine {
	t.Helper()
	e, err := collector.NewEngine(collector.EngineConfig{Source: p, Ingester: h.runs, Checkpoints: h.cps, Health: h.health,
		Interval: 5 * time.Minute, Now: h.clock.Now})
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

// succeeded is a finished run started ago before t0 that took 10 minutes.
func succeeded(id string, ago time.Duration) fakeRun {
	start := t0.Add(-ago)
	return fakeRun{ID: id, State: "SUCCEEDED", StartedOn: start, CompletedOn: start.Add(10 * time.Minute), ExecutionTime: 600}
}

func runIDs(runs []kant.Run) []string {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.RunID
	}
	return ids
}

func TestPollOnce(t *testing.T) {
	t.Run("runs are read across NextToken pages and stored in one call per job", func(t *testing.T) {
		h := newHarness(t)
		var runs []fakeRun
		for i := range 450 {
			runs = append(runs, succeeded(fmt.Sprintf("jr_%03d", i), time.Duration(i+1)*time.Minute))
		}
		h.fake.addJob("export_users", 0, runs...)
		pollOK(t, h.poller(t))
		got, calls := h.runs.Take()
		if len(got) != 450 || calls != 1 {
			t.Fatalf("stored %d runs in %d calls, want 450 in 1", len(got), calls)
		}
		// Three pages, each read once; the SDK may repeat a call whose
		// answer was slow on a loaded machine, which reads no other page.
		h.fake.mu.Lock()
		pages := len(h.fake.runPages)
		h.fake.mu.Unlock()
		if pages != 3 {
			t.Errorf("GetJobRuns read %d distinct pages, want 3", pages)
		}
		for _, mr := range h.fake.maxResults {
			if mr != 200 {
				t.Errorf("MaxResults = %d, want 200", mr)
			}
		}
		if h.health.Last() != "" {
			t.Errorf("health = %q, want success", h.health.Last())
		}
	})

	t.Run("a poll with nothing new makes one GetJobRuns call per job and writes nothing", func(t *testing.T) {
		h := newHarness(t)
		for _, j := range []string{"a", "b", "c"} {
			h.fake.addJob(j, 0, succeeded(j+"1", time.Hour), succeeded(j+"2", 2*time.Hour), succeeded(j+"3", 3*time.Hour))
		}
		p := h.poller(t)
		pollOK(t, p)
		h.runs.Take()
		h.fake.resetCounts()
		sets := h.cps.Sets()
		h.clock.Advance(5 * time.Minute)
		pollOK(t, p)
		if n := h.fake.count("GetJobRuns"); n != 3 {
			t.Errorf("GetJobRuns calls = %d, want 3", n)
		}
		if n := h.fake.count("GetJobs"); n != 0 {
			t.Errorf("GetJobs calls = %d before the relist interval", n)
		}
		if got, calls := h.runs.Take(); len(got) != 0 || calls != 0 {
			t.Errorf("stored %v in %d calls", runIDs(got), calls)
		}
		if h.cps.Sets() != sets {
			t.Errorf("checkpoints saved %d times though nothing changed", h.cps.Sets()-sets)
		}
	})

	t.Run("a poll stops at the first run already seen finished and reads only new runs", func(t *testing.T) {
		h := newHarness(t)
		var old []fakeRun
		for i := range 300 { // more than a page: stopping early must not page
			old = append(old, succeeded(fmt.Sprintf("old_%03d", i), time.Duration(i+2)*time.Hour))
		}
		h.fake.addJob("export", 0, old[:150]...)
		p := h.poller(t)
		pollOK(t, p)
		h.runs.Take()
		h.fake.addRuns("export", succeeded("new_1", 30*time.Minute), succeeded("new_2", 20*time.Minute))
		h.fake.resetCounts()
		pollOK(t, p)
		got, _ := h.runs.Take()
		if ids := strings.Join(runIDs(got), ","); ids != "new_2,new_1" {
			t.Errorf("stored %s, want new_2,new_1", ids)
		}
		if n := h.fake.count("GetJobRuns"); n != 1 {
			t.Errorf("GetJobRuns calls = %d, want 1", n)
		}
	})

	t.Run("an open run is read again until it ends, even behind newer finished runs", func(t *testing.T) {
		h := newHarness(t)
		long := fakeRun{ID: "long", State: "RUNNING", StartedOn: t0.Add(-3 * time.Hour)}
		h.fake.addJob("export", 0, long, succeeded("short", time.Hour), succeeded("older", 5*time.Hour))
		p := h.poller(t)
		pollOK(t, p)
		h.runs.Take()

		h.clock.Advance(time.Hour)
		pollOK(t, p)
		got, _ := h.runs.Take()
		if ids := strings.Join(runIDs(got), ","); ids != "long" {
			t.Errorf("second poll stored %s, want the open run again", ids)
		}

		long.State, long.CompletedOn = "SUCCEEDED", t0.Add(30*time.Minute)
		h.fake.setRun("export", long)
		h.clock.Advance(time.Hour)
		pollOK(t, p)
		got, _ = h.runs.Take()
		if len(got) != 1 || got[0].RunID != "long" || got[0].State != kant.StateSucceeded {
			t.Fatalf("third poll stored %+v, want long succeeded", got)
		}

		h.fake.resetCounts()
		pollOK(t, p)
		if got, _ := h.runs.Take(); len(got) != 0 {
			t.Errorf("fourth poll stored %v", runIDs(got))
		}
		if n := h.fake.count("GetJobRuns"); n != 1 {
			t.Errorf("GetJobRuns calls = %d, want 1", n)
		}
	})

	t.Run("the first poll reads only the backfill window", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Backfill = 48 * time.Hour
		var runs []fakeRun
		for i := range 250 { // one run every 6 hours: 8 within two days
			runs = append(runs, succeeded(fmt.Sprintf("jr_%03d", i), time.Duration(i*6+1)*time.Hour))
		}
		h.fake.addJob("export", 0, runs...)
		pollOK(t, h.poller(t))
		got, _ := h.runs.Take()
		if len(got) != 8 {
			t.Errorf("stored %d runs, want the 8 of the last 48 hours", len(got))
		}
		if n := h.fake.count("GetJobRuns"); n != 1 {
			t.Errorf("GetJobRuns calls = %d, want 1", n)
		}
	})

	t.Run("a retry chain keeps attempts, PreviousRunId and MaxAttempts from MaxRetries", func(t *testing.T) {
		h := newHarness(t)
		first := fakeRun{ID: "jr_1", Attempt: 0, State: "FAILED", ErrorMessage: "OutOfMemoryError",
			StartedOn: t0.Add(-2 * time.Hour), CompletedOn: t0.Add(-110 * time.Minute), ExecutionTime: 600}
		retry := fakeRun{ID: "jr_1_attempt_1", PreviousRunID: "jr_1", Attempt: 1, State: "SUCCEEDED",
			StartedOn: t0.Add(-105 * time.Minute), CompletedOn: t0.Add(-90 * time.Minute), ExecutionTime: 912}
		h.fake.addJob("export_items", 1, first, retry)
		pollOK(t, h.poller(t))
		got, _ := h.runs.Take()
		if len(got) != 2 {
			t.Fatalf("stored %d runs", len(got))
		}
		r1, r0 := got[0], got[1]
		if r0.RunID != "jr_1" || r0.Attempt != 1 || r0.MaxAttempts != 2 || r0.State != kant.StateFailed ||
			r0.SourceState != "FAILED" || r0.ErrorMessage != "OutOfMemoryError" || !r0.RetryPending() {
			t.Errorf("first attempt = %+v", r0)
		}
		if r1.RunID != "jr_1_attempt_1" || r1.Attempt != 2 || r1.MaxAttempts != 2 || r1.State != kant.StateSucceeded ||
			r1.Attributes[AttrPreviousRunID] != "jr_1" || r1.Attributes[AttrExecutionTime] != "912" {
			t.Errorf("retry = %+v", r1)
		}
		if r1.Job != "hegel/export_items" || !r1.StartedAt.Equal(t0.Add(-105*time.Minute)) ||
			!r1.FinishedAt.Equal(t0.Add(-90*time.Minute)) || !r1.ObservedAt.Equal(t0) {
			t.Errorf("retry key and times = %s %v %v %v", r1.Job, r1.StartedAt, r1.FinishedAt, r1.ObservedAt)
		}
	})

	t.Run("jobs are selected by glob and new jobs appear after the relist interval", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Jobs = []string{"etl_*"}
		h.cfg.RelistEvery = 10 * time.Minute
		h.fake.addJob("etl_a", 0, succeeded("a1", time.Hour))
		h.fake.addJob("etl_b", 0, succeeded("b1", time.Hour))
		h.fake.addJob("other", 0, succeeded("o1", time.Hour))
		p := h.poller(t)
		pollOK(t, p)
		if got, _ := h.runs.Take(); strings.Join(sortedIDs(got), ",") != "a1,b1" {
			t.Errorf("stored %v, want a1,b1", runIDs(got))
		}
		h.fake.addJob("etl_c", 0, succeeded("c1", 30*time.Minute))
		h.clock.Advance(5 * time.Minute)
		pollOK(t, p)
		if got, _ := h.runs.Take(); len(got) != 0 {
			t.Errorf("stored %v before the relist", runIDs(got))
		}
		h.clock.Advance(5 * time.Minute)
		pollOK(t, p)
		if got, _ := h.runs.Take(); strings.Join(runIDs(got), ",") != "c1" {
			t.Errorf("stored %v after the relist, want c1", runIDs(got))
		}
		if n := h.fake.count("GetJobs"); n != 2 {
			t.Errorf("GetJobs calls = %d, want 2", n)
		}
	})

	t.Run("a restart resumes from the checkpoint without re-reading history", func(t *testing.T) {
		h := newHarness(t)
		var runs []fakeRun
		for i := range 400 {
			runs = append(runs, succeeded(fmt.Sprintf("jr_%03d", i), time.Duration(i+1)*10*time.Minute))
		}
		h.fake.addJob("export", 0, runs...)
		h.fake.addJob("import", 0, succeeded("imp_1", time.Hour))
		pollOK(t, h.poller(t))
		h.runs.Take()

		h.fake.addRuns("export", succeeded("after_restart", 5*time.Minute))
		h.fake.resetCounts()
		h.clock.Advance(time.Minute)
		pollOK(t, h.poller(t)) // a new process: same checkpoints, nothing in memory
		got, _ := h.runs.Take()
		if strings.Join(runIDs(got), ",") != "after_restart" {
			t.Errorf("stored %v, want only after_restart", runIDs(got))
		}
		if n := h.fake.count("GetJobRuns"); n != 2 {
			t.Errorf("GetJobRuns calls = %d, want one per job", n)
		}
	})

	t.Run("a failed store leaves the checkpoint unchanged so the runs are read again", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		p := h.poller(t)
		h.runs.FailNext(1)
		if _, err := p.PollOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "store is down") {
			t.Fatalf("PollOnce = %v, want the store's error", err)
		}
		if !strings.Contains(h.health.Last(), "store is down") {
			t.Errorf("health = %q", h.health.Last())
		}
		pollOK(t, p)
		if got, _ := h.runs.Take(); strings.Join(runIDs(got), ",") != "jr_1" {
			t.Errorf("stored %v, want jr_1 on the second poll", runIDs(got))
		}
	})

	t.Run("secret-looking arguments are redacted and the others kept", func(t *testing.T) {
		h := newHarness(t)
		r := succeeded("jr_1", time.Hour)
		r.Arguments = map[string]string{"--target_date": "2026-06-09", "--db_password": "hunter2", "--api_token": "t"}
		h.fake.addJob("export", 0, r)
		pollOK(t, h.poller(t))
		got, _ := h.runs.Take()
		a := got[0].Attributes
		if a["--target_date"] != "2026-06-09" || a["--db_password"] != redacted || a["--api_token"] != redacted || a[AttrExecutionTime] != "600" {
			t.Errorf("attributes = %v", a)
		}
	})
}

func sortedIDs(runs []kant.Run) []string {
	ids := runIDs(runs)
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if ids[j] < ids[i] {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
	}
	return ids
}

func TestEveryJobRunStateIsMapped(t *testing.T) {
	want := map[string]kant.State{
		"STARTING": kant.StateQueued, "WAITING": kant.StateQueued,
		"RUNNING": kant.StateRunning, "STOPPING": kant.StateRunning,
		"SUCCEEDED": kant.StateSucceeded,
		"FAILED":    kant.StateFailed, "ERROR": kant.StateFailed, "EXPIRED": kant.StateFailed,
		"TIMEOUT": kant.StateTimeout, "STOPPED": kant.StateStopped,
	}
	h := newHarness(t)
	enum := h.fake.model.Shapes["JobRunState"].Enum
	if len(enum) == 0 {
		t.Fatal("the model lists no JobRunState values")
	}
	var runs []fakeRun
	for i, s := range enum {
		if _, ok := want[s]; !ok {
			t.Errorf("the model's JobRunState %s has no expected mapping in this test", s)
		}
		r := fakeRun{ID: "jr_" + s, State: s, StartedOn: t0.Add(-time.Duration(i+1) * time.Minute)}
		runs = append(runs, r)
	}
	h.fake.addJob("export", 0, runs...)
	pollOK(t, h.poller(t))
	got, _ := h.runs.Take()
	if len(got) != len(enum) {
		t.Fatalf("stored %d runs for %d states", len(got), len(enum))
	}
	for _, r := range got {
		t.Run(r.SourceState+" is "+string(want[r.SourceState]), func(t *testing.T) {
			if r.State != want[r.SourceState] || r.RunID != "jr_"+r.SourceState {
				t.Errorf("%s mapped to %s", r.SourceState, r.State)
			}
		})
	}
	t.Run("a state kant does not know is unknown", func(t *testing.T) {
		if s := State(types.JobRunState("PAUSED")); s != kant.StateUnknown {
			t.Errorf("PAUSED mapped to %s", s)
		}
	})
}

func TestLogicalDate(t *testing.T) {
	tests := []struct {
		name   string
		arg    string
		offset time.Duration
		args   map[string]string
		want   string
	}{
		{"the argument names the business date", "--run_date", 0, map[string]string{"--run_date": "2026-06-09"}, "2026-06-09"},
		{"an argument naming the day before is moved by the offset", "--target_date", 24 * time.Hour, map[string]string{"--target_date": "2026-06-09"}, "2026-06-10"},
		{"the offset crosses a month end", "--target_date", 24 * time.Hour, map[string]string{"--target_date": "2026-05-31"}, "2026-06-01"},
		{"a run without the argument has no logical date", "--target_date", 24 * time.Hour, map[string]string{"--other": "x"}, ""},
		{"an argument that is not a date gives no logical date", "--target_date", 0, map[string]string{"--target_date": "yesterday"}, ""},
		{"no configured argument gives no logical date", "", 0, map[string]string{"--target_date": "2026-06-09"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.LogicalDateArgument, h.cfg.LogicalDateOffset = tt.arg, tt.offset
			r := succeeded("jr_1", time.Hour)
			r.Arguments = tt.args
			h.fake.addJob("export", 0, r)
			pollOK(t, h.poller(t))
			got, _ := h.runs.Take()
			if len(got) != 1 || got[0].LogicalDate.String() != tt.want {
				t.Errorf("logical date = %v, want %q", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Run("throttling is retried and the cycle succeeds", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		h.fake.failNext("GetJobRuns", fault{Status: 400, Type: "ThrottlingException"}, fault{Status: 400, Type: "ThrottlingException"})
		pollOK(t, h.poller(t))
		if n := h.fake.attempts("GetJobRuns"); n != 3 {
			t.Errorf("GetJobRuns calls = %d, want 2 throttled + 1", n)
		}
		if got, _ := h.runs.Take(); len(got) != 1 {
			t.Errorf("stored %d runs", len(got))
		}
		if h.health.Last() != "" {
			t.Errorf("health = %q, want success", h.health.Last())
		}
	})

	transient := []struct {
		name  string
		fault fault
	}{
		{"throttling that outlasts the SDK's retries fails the cycle as retryable, and the next cycle succeeds",
			fault{Status: 400, Type: "ThrottlingException"}},
		{"a 5xx named in X-Amzn-ErrorType fails the cycle as retryable, and the next cycle succeeds",
			fault{Status: 500, Type: "InternalServiceException", inHeader: true}},
		{"a 503 without a known code fails the cycle as retryable, and the next cycle succeeds",
			fault{Status: 503, Type: "SomethingElse"}},
	}
	for _, tt := range transient {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
			for range DefaultMaxAttempts {
				h.fake.failNext("GetJobRuns", tt.fault)
			}
			p := h.poller(t)
			_, err := p.PollOnce(context.Background())
			if err == nil || !collector.IsRetryable(err) {
				t.Fatalf("PollOnce = %v, want a retryable error", err)
			}
			if n := h.fake.attempts("GetJobRuns"); n != DefaultMaxAttempts {
				t.Errorf("GetJobRuns calls = %d, want %d", n, DefaultMaxAttempts)
			}
			if !strings.Contains(h.health.Last(), tt.fault.Type) {
				t.Errorf("health = %q, want it to name %s", h.health.Last(), tt.fault.Type)
			}
			pollOK(t, p)
			if h.health.Last() != "" {
				t.Errorf("health = %q after the next cycle", h.health.Last())
			}
			if got, _ := h.runs.Take(); len(got) != 1 {
				t.Errorf("stored %d runs", len(got))
			}
		})
	}

	t.Run("a refused connection fails the cycle as retryable", func(t *testing.T) {
		h := newHarness(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h.cfg.Endpoint = "http://" + ln.Addr().String()
		ln.Close() // nothing listens there now
		_, err = h.poller(t).PollOnce(context.Background())
		if err == nil || !collector.IsRetryable(err) {
			t.Fatalf("PollOnce = %v, want a retryable error", err)
		}
	})

	t.Run("access denied is reported and recorded in health, not retried", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		h.fake.addJob("import", 0, succeeded("jr_2", time.Hour))
		h.fake.faultFor["export"] = fault{Status: 400, Type: "AccessDeniedException"}
		p := h.poller(t)
		_, err := p.PollOnce(context.Background())
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
			t.Fatalf("PollOnce = %v, want AccessDeniedException", err)
		}
		if collector.IsRetryable(err) {
			t.Error("access denied is retryable")
		}
		if n := h.fake.runCalls["export"]; n != 1 {
			t.Errorf("GetJobRuns(export) calls = %d, want 1", n)
		}
		if !strings.Contains(h.health.Last(), "AccessDeniedException") || strings.Contains(h.health.Last(), "secret") {
			t.Errorf("health = %q", h.health.Last())
		}
		if got, _ := h.runs.Take(); strings.Join(runIDs(got), ",") != "jr_2" {
			t.Errorf("stored %v, want the other job's run", runIDs(got))
		}
	})

	t.Run("access denied on listing jobs fails the cycle without polling", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		h.fake.failNext("GetJobs", fault{Status: 400, Type: "AccessDeniedException"})
		_, err := h.poller(t).PollOnce(context.Background())
		if err == nil || collector.IsRetryable(err) || h.fake.count("GetJobs") != 1 || h.fake.count("GetJobRuns") != 0 {
			t.Errorf("PollOnce = %v after %d GetJobs, %d GetJobRuns", err, h.fake.count("GetJobs"), h.fake.count("GetJobRuns"))
		}
		if !strings.Contains(h.health.Last(), "AccessDeniedException") {
			t.Errorf("health = %q", h.health.Last())
		}
	})

	t.Run("a deleted job is reported and the job list is read again", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		p := h.poller(t)
		pollOK(t, p)
		h.fake.faultFor["export"] = fault{Status: 400, Type: "EntityNotFoundException"}
		_, err := p.PollOnce(context.Background())
		if !isCode(err, "EntityNotFoundException") || collector.IsRetryable(err) {
			t.Fatalf("PollOnce = %v, want a permanent EntityNotFoundException", err)
		}
		delete(h.fake.faultFor, "export")
		h.fake.resetCounts()
		pollOK(t, p)
		if h.fake.count("GetJobs") != 1 {
			t.Errorf("GetJobs calls = %d, want a new listing", h.fake.count("GetJobs"))
		}
	})

	t.Run("a configured job name that does not exist is reported while the others are polled", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Jobs = []string{"export", "missing_job"}
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		_, err := h.poller(t).PollOnce(context.Background())
		if kant.ErrorCode(err) != kant.ENOTFOUND || !strings.Contains(err.Error(), "missing_job") || collector.IsRetryable(err) {
			t.Errorf("PollOnce = %v, want ENOTFOUND naming missing_job", err)
		}
		if got, _ := h.runs.Take(); len(got) != 1 {
			t.Errorf("stored %d runs of the existing job", len(got))
		}
	})
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		wantSTS  int
		wantKeys string // access keys of the two polls' GetJobRuns
	}{
		// Credentials that expire within the cache's refresh window (5
		// minutes) are retrieved again before each call rather than used
		// until they fail: two calls in the first poll, one in the second.
		{"assumed-role credentials near expiry are refreshed before the next call", time.Minute, 3, "AKIDROLE2,AKIDROLE3"},
		{"assumed-role credentials valid for an hour are cached across polls", time.Hour, 1, "AKIDROLE1,AKIDROLE1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.stsLifetime = tt.lifetime
			h.cfg.RoleARN = "arn:aws:iam::123456789012:role/kant-reader"
			h.awsCfg.BaseEndpoint = aws.String(h.url) // STS too is the fake
			h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
			p := h.poller(t)
			pollOK(t, p)
			first := h.fake.accessKeys[len(h.fake.accessKeys)-1]
			h.clock.Advance(5 * time.Minute)
			pollOK(t, p)
			second := h.fake.accessKeys[len(h.fake.accessKeys)-1]
			if got := first + "," + second; got != tt.wantKeys {
				t.Errorf("signed with %s, want %s", got, tt.wantKeys)
			}
			if h.fake.stsCalls != tt.wantSTS {
				t.Errorf("AssumeRole calls = %d, want %d", h.fake.stsCalls, tt.wantSTS)
			}
		})
	}
}

func TestNew(t *testing.T) {
	_, err := New(context.Background(), Config{LogicalDateOffset: time.Hour, WebIdentityAudience: "aud"}, Deps{})
	if kant.ErrorCode(err) != kant.EINVALID {
		t.Fatalf("New = %v, want EINVALID", err)
	}
	for _, want := range []string{"source", "jobs", "logical_date_offset", "region", "role_arn"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestWebIdentity(t *testing.T) {
	t.Run("a web identity token is exchanged for role credentials that sign Glue calls", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.RoleARN = "arn:aws:iam::123456789012:role/kant-reader"
		h.cfg.WebIdentityAudience = "kant-glue-reader"
		h.awsCfg.BaseEndpoint = aws.String(h.url)
		h.awsCfg.Credentials = nil // no AWS keys at all
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		awsCfg := h.awsCfg
		p, err := New(context.Background(), h.cfg, Deps{AWSConfig: &awsCfg,
			IdentityToken: func() ([]byte, error) { return []byte("google-id-token"), nil }})
		if err != nil {
			t.Fatal(err)
		}
		pollOK(t, h.engine(t, p))
		if h.fake.stsCalls != 1 || h.fake.webTokens[0] != "google-id-token" {
			t.Errorf("STS calls %d with tokens %q", h.fake.stsCalls, h.fake.webTokens)
		}
		for _, k := range h.fake.accessKeys {
			if k != "AKIDROLE1" {
				t.Errorf("a Glue call was signed with %q", k)
			}
		}
	})

}
