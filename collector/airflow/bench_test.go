package airflow

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// The scale of the incremental measurement: 200 DAGs of 30 tasks, a run a
// day for a week (42,000 task instances of history), 10 of which changed
// since the last poll: 5 finished and 5 started.
const (
	scaleDAGs    = 200
	scaleTasks   = 30
	scaleDays    = 7
	scaleChanged = 10
)

// newScaleHarness builds the history and a checkpoint of a poll two minutes
// before t0, so that the next poll is the incremental one.
func newScaleHarness(t testing.TB, api string) *harness {
	h := newHarness(t, api)
	h.cfg.API = api
	h.fake.mu.Lock()
	for d := range scaleDAGs {
		id := fmt.Sprintf("dag_%03d", d)
		h.fake.dags = append(h.fake.dags, id)
		for day0 := range scaleDays {
			r := day(id, 10-day0, "success")
			h.fake.runs = append(h.fake.runs, r)
			for k := range scaleTasks {
				h.fake.tis = append(h.fake.tis, ti(r, fmt.Sprintf("task_%02d", k), "success", 1, 1))
			}
		}
	}
	// The changes: today's last tasks of the first DAGs.
	for i := range scaleChanged {
		x := &h.fake.tis[i*scaleDays*scaleTasks+scaleTasks-1]
		x.Start = t0.Add(-90 * time.Second)
		if i%2 == 0 {
			x.State, x.End = "success", t0.Add(-30*time.Second)
		} else {
			x.State, x.End = "running", time.Time{}
		}
	}
	h.fake.mu.Unlock()
	cp, _ := json.Marshal(checkpoint{V: checkpointVersion, Since: t0.Add(-2 * time.Minute).Unix()})
	h.cps.SetCheckpoint(context.Background(), "socrates", checkpointTasks, string(cp))
	return h
}

// TestIncrementalPoll200DAGs polls 200 DAGs × 30 tasks with a week of
// history in which 10 tasks changed since the checkpoint, and logs the
// requests and response bytes of the incremental poll. The DAG listing
// (two pages) is done once and not counted: it is redone every RelistEvery.
func TestIncrementalPoll200DAGs(t *testing.T) {
	for _, api := range []string{APIv1, APIv2} {
		t.Run("an incremental poll of "+api+" costs requests in proportion to the change", func(t *testing.T) {
			h := newScaleHarness(t, api)
			p := h.poller(t)
			if _, err := h.src.resolveDAGs(context.Background(), api); err != nil {
				t.Fatal(err)
			}
			listReqs, listBytes := h.fake.stats()
			h.fake.resetStats()

			pollOK(t, p)
			reqs, bytes := h.fake.stats()
			runs := h.take()
			t.Logf("%s: %d DAGs × %d tasks × %d days = %d task instances; DAG list %d requests, %d bytes",
				api, scaleDAGs, scaleTasks, scaleDays, scaleDAGs*scaleTasks*scaleDays, listReqs, listBytes)
			t.Logf("%s: incremental poll with %d changed: %d requests (%v), %d response bytes, %d runs read",
				api, scaleChanged, reqs, h.fake.byPath, bytes, len(runs))
			if len(runs) != scaleChanged {
				t.Errorf("read %d runs, want the %d that changed", len(runs), scaleChanged)
			}
			want := 2 // ended since the checkpoint, and not finished
			if api == APIv1 {
				want = 3 // and once, the DAG runs of those tasks (their data_interval_end)
			}
			if reqs != want {
				t.Errorf("%d requests, want %d", reqs, want)
			}

			// The next poll, nothing changed: the DAG runs are known.
			h.fake.resetStats()
			h.clock.Advance(2 * time.Minute)
			pollOK(t, p)
			reqs, bytes = h.fake.stats()
			t.Logf("%s: next poll, nothing new finished: %d requests, %d response bytes", api, reqs, bytes)
			if reqs != 2 {
				t.Errorf("steady poll made %d requests, want 2", reqs)
			}
		})
	}
}

// BenchmarkIncrementalPoll measures the incremental poll of the scale
// harness; it reports requests and response bytes per poll.
func BenchmarkIncrementalPoll(b *testing.B) {
	for _, api := range []string{APIv1, APIv2} {
		b.Run(api, func(b *testing.B) {
			h := newScaleHarness(b, api)
			p := h.poller(b)
			if _, err := h.src.resolveDAGs(context.Background(), api); err != nil {
				b.Fatal(err)
			}
			h.fake.resetStats()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.PollOnce(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reqs, bytes := h.fake.stats()
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/poll")
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/poll")
		})
	}
}
