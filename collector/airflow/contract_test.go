package airflow

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

func TestStandInValidates(t *testing.T) {
	// The stand-in is only worth something if it rejects what the specs
	// forbid: these cases must fail its checks.
	t.Run("a v2 task instance without its required nullable fields is rejected", func(t *testing.T) {
		f, _ := newFakeAirflow(t, APIv2)
		r := day("d", 9, "success")
		f.addRun(r)
		_, in, err := f.validateRequest("POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", "", http.Header{"Content-Type": {"application/json"}}, []byte(`{"dag_ids":["d"]}`))
		if err != nil {
			t.Fatalf("valid request rejected: %v", err)
		}
		w := f.tiWire(ti(r, "t", "success", 1, 0))
		delete(w, "logical_date")
		body := fmt.Sprintf(`{"task_instances":[%s],"total_entries":1}`, mustJSON(t, w))
		if err := f.validateResponse(in, 200, []byte(body)); err == nil {
			t.Error("a task instance without logical_date passed validation")
		}
	})
	t.Run("a v2 batch body with a key the spec does not know is rejected", func(t *testing.T) {
		f, _ := newFakeAirflow(t, APIv2)
		_, _, err := f.validateRequest("POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", "", http.Header{"Content-Type": {"application/json"}}, []byte(`{"dag_ids":["d"],"execution_date_gte":"2026-06-01T00:00:00Z"}`))
		if err == nil {
			t.Error("execution_date_gte (v1 only) passed v2 validation")
		}
	})
	t.Run("a v1 task state outside the enum is rejected", func(t *testing.T) {
		f, _ := newFakeAirflow(t, APIv1)
		r := day("d", 9, "success")
		f.addRun(r)
		_, in, _ := f.validateRequest("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "", http.Header{"Content-Type": {"application/json"}}, []byte(`{}`))
		w := f.tiWire(ti(r, "t", "success", 1, 0))
		w["state"] = "sensing"
		if err := f.validateResponse(in, 200, []byte(fmt.Sprintf(`{"task_instances":[%s],"total_entries":1}`, mustJSON(t, w)))); err == nil {
			t.Error("state sensing passed v1 validation")
		}
	})
}

func TestPaging(t *testing.T) {
	cases := []struct {
		name     string
		api      string
		pageCap  int
		requests int // task instance list requests for 250 finished tasks
	}{
		{"a server before 2.10.3 that ignores page_limit answers everything in one page", APIv1, 0, 1},
		{"an Airflow 2 server capping pages at 100 is read in three pages", APIv1, 100, 3},
		{"an Airflow 3 server capping pages at 100 is read in three pages", APIv2, 100, 3},
		{"a server capping pages below page_limit is read to the end all the same", APIv2, 40, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.api)
			h.cfg.API = c.api
			h.fake.pageCap = c.pageCap
			h.fake.addDAGs("big")
			r := day("big", 9, "success")
			h.fake.addRun(r)
			for i := range 250 {
				h.fake.addTI(ti(r, fmt.Sprintf("t%03d", i), "success", 1, 0))
			}
			pollOK(t, h.poller(t))
			if got := len(h.take()); got != 250 {
				t.Errorf("stored %d runs, want 250", got)
			}
			// One more request for the unfinished tasks (none).
			if got := h.fake.byPath["POST /dags/~/dagRuns/~/taskInstances/list"]; got != c.requests+1 {
				t.Errorf("task instance requests = %d, want %d + 1", got, c.requests)
			}
			for _, b := range h.fake.bodies {
				if b["page_limit"] != float64(100) {
					t.Errorf("page_limit = %v, want 100", b["page_limit"])
				}
			}
		})
	}
}

func TestTaskStates(t *testing.T) {
	// Every state of the v1 TaskState enum and of v2's TaskInstanceState,
	// plus null, as served by a spec-checked Airflow.
	cases := []struct {
		airflow string
		want    kant.State
		source  string
	}{
		{"success", kant.StateSucceeded, "success"},
		{"failed", kant.StateFailed, "failed"},
		{"upstream_failed", kant.StateUpstreamFailed, "upstream_failed"},
		{"skipped", kant.StateSkipped, "skipped"},
		{"removed", kant.StateSkipped, "removed"},
		{"running", kant.StateRunning, "running"},
		{"up_for_retry", kant.StateFailed, "up_for_retry"},
		{"up_for_reschedule", kant.StateRunning, "up_for_reschedule"},
		{"deferred", kant.StateRunning, "deferred"},
		{"restarting", kant.StateRunning, "restarting"},
		{"scheduled", kant.StateQueued, "scheduled"},
		{"queued", kant.StateQueued, "queued"},
		{"none", kant.StateQueued, "none"}, // v1 only (deprecated)
		{"", kant.StateQueued, "none"},     // null
	}
	for _, api := range []string{APIv1, APIv2} {
		t.Run("every Airflow "+api+" task state maps per DESIGN.md", func(t *testing.T) {
			h := newHarness(t, api)
			h.fake.addDAGs("d")
			r := day("d", 9, "running")
			h.fake.addRun(r)
			for _, c := range cases {
				if api == APIv2 && c.airflow == "none" {
					continue
				}
				x := ti(r, "t_"+c.source+"_"+c.airflow, c.airflow, 1, 1)
				// Give every instance an end so that the ended-since list
				// returns it whatever its state.
				x.Start, x.End = r.Start, r.Start.Add(time.Minute)
				h.fake.addTI(x)
			}
			pollOK(t, h.poller(t))
			got := byJob(h.take())
			for _, c := range cases {
				if api == APIv2 && c.airflow == "none" {
					continue
				}
				run, ok := got[kant.NewJobKey("socrates", "d.t_"+c.source+"_"+c.airflow)]
				if !ok {
					t.Errorf("%q: no run", c.airflow)
					continue
				}
				if run.State != c.want || run.SourceState != c.source {
					t.Errorf("%q: state %s (%s), want %s (%s)", c.airflow, run.State, run.SourceState, c.want, c.source)
				}
				if run.State.Terminal() == run.FinishedAt.IsZero() {
					t.Errorf("%q: finished at %v though terminal is %v", c.airflow, run.FinishedAt, run.State.Terminal())
				}
			}
		})
	}
	t.Run("an unknown state is not finished and logged once", func(t *testing.T) {
		var logs bytes.Buffer
		h := newHarness(t, APIv2)
		h.cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		p := h.source(t)
		for range 3 {
			if st := p.state("sensing"); st != kant.StateUnknown || st.Terminal() {
				t.Fatalf("state(sensing) = %s", st)
			}
		}
		if n := strings.Count(logs.String(), "state=sensing"); n != 1 {
			t.Errorf("logged %d times, want once:\n%s", n, logs.String())
		}
	})
}

func TestRetries(t *testing.T) {
	for _, api := range []string{APIv1, APIv2} {
		t.Run("try_number and max_tries give the attempt, and only up_for_retry waits for a retry ("+api+")", func(t *testing.T) {
			h := newHarness(t, api)
			h.fake.addDAGs("d")
			r := day("d", 9, "running")
			h.fake.addRun(r)
			h.fake.addTI(
				ti(r, "waiting", "up_for_retry", 1, 2),    // first try failed, two retries allowed
				ti(r, "exhausted", "failed", 3, 2),        // third and last try failed
				ti(r, "fail_fast", "failed", 1, 2),        // failed with retries left: Airflow gave up (AirflowFailException)
				ti(r, "retried", "success", 2, 1),         // succeeded on the retry
				ti(r, "blocked", "upstream_failed", 0, 2), // never ran
			)
			pollOK(t, h.poller(t))
			got := byJob(h.take())
			check := func(task string, state kant.State, attempt, maxAttempts int, pending bool) {
				t.Helper()
				run := got[kant.NewJobKey("socrates", "d."+task)]
				if run.State != state || run.Attempt != attempt || run.MaxAttempts != maxAttempts || run.RetryPending() != pending {
					t.Errorf("%s: %s attempt %d/%d pending %v, want %s %d/%d pending %v", task, run.State, run.Attempt, run.MaxAttempts, run.RetryPending(), state, attempt, maxAttempts, pending)
				}
			}
			check("waiting", kant.StateFailed, 1, 3, true)
			check("exhausted", kant.StateFailed, 3, 3, false)
			check("fail_fast", kant.StateFailed, 1, 1, false)
			check("retried", kant.StateSucceeded, 2, 2, false)
			check("blocked", kant.StateUpstreamFailed, 1, 1, false)
		})
	}
}

func TestLogicalDate(t *testing.T) {
	t.Run("a v2 run with a null logical_date is dated by run_after", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.fake.addDAGs("asset_driven")
		r := day("asset_driven", 9, "success")
		r.Logical = nil
		h.fake.addRun(r)
		h.fake.addTI(ti(r, "t", "success", 1, 0))
		pollOK(t, h.poller(t))
		runs := h.take()
		if len(runs) != 1 {
			t.Fatalf("stored %d runs", len(runs))
		}
		if runs[0].LogicalDate != (kant.Date{Year: 2026, Month: 6, Day: 9}) {
			t.Errorf("logical date %s, want 2026-06-09", runs[0].LogicalDate)
		}
		if _, ok := runs[0].Attributes[AttrLogicalDate]; ok || runs[0].Attributes[AttrRunAfter] == "" {
			t.Errorf("attributes = %v, want run_after and no logical_date", runs[0].Attributes)
		}
	})
	t.Run("a v1 task instance is dated by its DAG run's data_interval_end, read once per run", func(t *testing.T) {
		h := newHarness(t, APIv1)
		h.cfg.API = APIv1
		h.fake.addDAGs("d")
		r := day("d", 9, "running")
		h.fake.addRun(r)
		h.fake.addTI(ti(r, "a", "success", 1, 0), ti(r, "b", "running", 1, 0))
		p := h.poller(t)
		pollOK(t, p)
		for _, run := range h.take() {
			if run.LogicalDate != (kant.Date{Year: 2026, Month: 6, Day: 9}) || run.Attributes[AttrDataIntervalEnd] == "" {
				t.Errorf("%s: date %s attrs %v", run.Job, run.LogicalDate, run.Attributes)
			}
		}
		if n := h.fake.byPath["POST /dags/~/dagRuns/list"]; n != 1 {
			t.Errorf("DAG runs read %d times, want 1", n)
		}
		h.fake.resetStats()
		h.clock.Advance(2 * time.Minute)
		b := ti(r, "b", "success", 1, 0)
		b.End = h.clock.Now().Add(-time.Minute)
		h.fake.setTI(b)
		pollOK(t, p)
		if n := h.fake.byPath["POST /dags/~/dagRuns/list"]; n != 0 {
			t.Errorf("DAG runs read %d times for a run already known, want 0", n)
		}
		if got := byJob(h.take())["socrates/d.b"]; got.State != kant.StateSucceeded || got.LogicalDate.Day != 9 {
			t.Errorf("b = %s %s", got.State, got.LogicalDate)
		}
	})
	t.Run("the date is the tick's date in the configured zone, not in UTC", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.fake.addDAGs("d")
		r := day("d", 9, "success") // 01:00 Tokyo on the 9th is 16:00 UTC on the 8th
		h.fake.addRun(r)
		h.fake.addTI(ti(r, "t", "success", 1, 0))
		h.cfg.Location = time.UTC
		pollOK(t, h.poller(t))
		if runs := h.take(); len(runs) != 1 || runs[0].LogicalDate.Day != 8 {
			t.Errorf("in UTC the date is the 8th: %v", runs)
		}
	})
}

func TestIncremental(t *testing.T) {
	for _, api := range []string{APIv1, APIv2} {
		t.Run("a later poll reads what ended since the checkpoint and what is not finished, not the history ("+api+")", func(t *testing.T) {
			h := newHarness(t, api)
			h.fake.addDAGs("d")
			for d := 4; d <= 9; d++ { // within the 7-day backfill
				r := day("d", d, "success")
				h.fake.addRun(r)
				h.fake.addTI(ti(r, "a", "success", 1, 0), ti(r, "b", "success", 1, 0))
			}
			today := day("d", 10, "running")
			h.fake.addRun(today)
			h.fake.addTI(ti(today, "a", "running", 1, 0), ti(today, "b", "scheduled", 1, 0))
			p := h.poller(t)
			pollOK(t, p)
			if n := len(h.take()); n != 14 {
				t.Fatalf("first poll stored %d, want 14", n)
			}
			h.fake.resetStats()
			h.clock.Advance(2 * time.Minute)
			a := ti(today, "a", "success", 1, 0)
			a.End = h.clock.Now().Add(-30 * time.Second)
			h.fake.setTI(a)
			pollOK(t, p)
			got := h.take()
			ids := []string{}
			for _, r := range got {
				ids = append(ids, fmt.Sprintf("%s %s", r.Job.Name(), r.State))
			}
			slices.Sort(ids)
			if want := []string{"d.a succeeded", "d.b queued"}; !slices.Equal(ids, want) {
				t.Errorf("second poll read %v, want %v", ids, want)
			}
			if reqs, _ := h.fake.stats(); reqs != 2 {
				t.Errorf("second poll made %d requests (%v), want 2", reqs, h.fake.byPath)
			}
		})
	}
	t.Run("the window of a later poll starts at the previous poll minus the overlap", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.fake.addDAGs("d")
		p := h.poller(t)
		pollOK(t, p)
		h.fake.resetStats()
		h.clock.Advance(2 * time.Minute)
		pollOK(t, p)
		want := wireTime(t0.Add(-DefaultOverlap))
		if len(h.fake.bodies) == 0 || h.fake.bodies[0]["end_date_gte"] != want {
			t.Errorf("bodies = %v, want end_date_gte %s", h.fake.bodies, want)
		}
	})
	t.Run("a DAG named literally that does not exist is reported while the others are polled", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.DAGs = []string{"daily_*", "gone"}
		h.fake.addDAGs("daily_load", "weekly")
		r := day("daily_load", 9, "success")
		h.fake.addRun(r)
		h.fake.addTI(ti(r, "t", "success", 1, 0))
		_, err := h.poller(t).PollOnce(context.Background())
		if err == nil || kant.ErrorCode(err) != kant.ENOTFOUND || !strings.Contains(err.Error(), "gone") || collector.IsRetryable(err) {
			t.Errorf("err = %v, want not found: gone, not retryable", err)
		}
		if n := len(h.take()); n != 1 {
			t.Errorf("stored %d runs of daily_load, want 1", n)
		}
		for _, b := range h.fake.bodies {
			if ids := strs(b["dag_ids"]); !slices.Equal(ids, []string{"daily_load"}) {
				t.Errorf("dag_ids = %v, want [daily_load]", ids)
			}
		}
	})
}

func TestMappedTasks(t *testing.T) {
	t.Run("each index of a mapped task is its own run", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.fake.addDAGs("d")
		r := day("d", 9, "success")
		h.fake.addRun(r)
		for i := range 3 {
			x := ti(r, "fan", "success", 1, 0)
			x.MapIndex = i
			h.fake.addTI(x)
		}
		pollOK(t, h.poller(t))
		var ids []string
		for _, run := range h.take() {
			ids = append(ids, run.RunID)
		}
		slices.Sort(ids)
		want := []string{r.RunID + "[0]", r.RunID + "[1]", r.RunID + "[2]"}
		if !slices.Equal(ids, want) {
			t.Errorf("run ids %v, want %v", ids, want)
		}
	})
}

func TestAListCutShortKeepsTheCheckpointSoTheNextPollReadsTheRest(t *testing.T) {
	defer func(n int) { maxPages = n }(maxPages)
	maxPages = 2
	h := newHarness(t, APIv2)
	h.cfg.API = APIv2
	h.fake.pageCap = 100
	h.fake.addDAGs("big")
	r := day("big", 9, "success")
	h.fake.addRun(r)
	for i := range 250 {
		h.fake.addTI(ti(r, fmt.Sprintf("t%03d", i), "success", 1, 0))
	}
	p := h.poller(t)
	pollOK(t, p)
	first := h.take()
	if len(first) != 200 {
		t.Fatalf("first poll read %d runs, want the 200 of two pages", len(first))
	}
	if cp, _ := h.cps.Checkpoint(context.Background(), "socrates", checkpointTasks); cp != "" {
		t.Errorf("checkpoint %q saved after a list was cut short, want none yet", cp)
	}
	maxPages = 1000
	h.clock.Advance(time.Minute)
	pollOK(t, p)
	seen := map[kant.JobKey]bool{}
	for _, r := range append(first, h.take()...) {
		seen[r.Job] = true
	}
	if len(seen) != 250 {
		t.Errorf("two polls read %d distinct tasks, want all 250: the rest of the cut list was skipped", len(seen))
	}
	if cp, _ := h.cps.Checkpoint(context.Background(), "socrates", checkpointTasks); cp == "" {
		t.Errorf("no checkpoint after a complete poll")
	}
}
