package glue

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// scaleJobs and scaleLatency are the sizes of the scale measurement: 1,000
// jobs, each Glue call answered after 20 ms.
const (
	scaleJobs    = 1000
	scaleLatency = 20 * time.Millisecond
)

// newScaleHarness defines scaleJobs jobs with three finished runs each.
func newScaleHarness(t testing.TB) *harness {
	h := newHarness(t)
	h.fake.latency = scaleLatency
	for i := range scaleJobs {
		name := fmt.Sprintf("job_%04d", i)
		h.fake.addJob(name, 1, succeeded(name+"_1", time.Hour), succeeded(name+"_2", 25*time.Hour), succeeded(name+"_3", 49*time.Hour))
	}
	return h
}

// TestPoll1000Jobs polls 1,000 jobs with 20 ms per call, at the default
// concurrency, and checks that a poll with nothing changed makes one call
// per job. It logs both cycles' wall time (target under 5 s, measured, not
// asserted: see BenchmarkPoll1000Jobs).
func TestPoll1000Jobs(t *testing.T) {
	if testing.Short() {
		t.Skip("scale measurement: 1,000 jobs with 20 ms per call; skipped with -short")
	}
	h := newScaleHarness(t)
	p := h.poller(t)

	start := time.Now()
	pollOK(t, p)
	first := time.Since(start)
	firstJobs, firstRuns := h.fake.count("GetJobs"), h.fake.count("GetJobRuns")
	if got, _ := h.runs.Take(); len(got) != 3*scaleJobs {
		t.Errorf("first poll stored %d runs, want %d", len(got), 3*scaleJobs)
	}

	h.fake.resetCounts()
	h.clock.Advance(5 * time.Minute)
	start = time.Now()
	pollOK(t, p)
	steady := time.Since(start)
	calls := h.fake.count("GetJobRuns") + h.fake.count("GetJobs")

	t.Logf("first poll: %v, %d GetJobs + %d GetJobRuns calls", first.Round(time.Millisecond), firstJobs, firstRuns)
	t.Logf("steady poll (nothing changed): %v, %d calls for %d jobs", steady.Round(time.Millisecond), calls, scaleJobs)
	if calls != scaleJobs {
		t.Errorf("steady poll made %d calls, want %d (one per job)", calls, scaleJobs)
	}
}

// BenchmarkPoll1000Jobs measures steady-state cycles of 1,000 unchanged jobs
// with 20 ms per call; it reports the API calls per cycle.
func BenchmarkPoll1000Jobs(b *testing.B) {
	h := newScaleHarness(b)
	p := h.poller(b)
	pollOK(b, p)
	h.fake.resetCounts()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.PollOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(h.fake.count("GetJobRuns")+h.fake.count("GetJobs"))/float64(b.N), "calls/cycle")
}
