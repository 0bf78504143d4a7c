package slo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

// benchData is a daily SLO at 01:00 Tokyo due by 06:00 over 90 days, with
// jobs × 90 occurrences and about 1.1 runs per occurrence: most succeed in
// time, some fail and are retried, some are late, some never run, and a
// third carry a logical date.
func benchData(jobs int) (Definition, []Job, [][]kant.Run, kant.Date, kant.Date, time.Time) {
	def := nightly()
	from, to := date("2026-04-01"), date("2026-06-29")
	rng := rand.New(rand.NewPCG(1, 2))
	js := make([]Job, jobs)
	runs := make([][]kant.Run, jobs)
	for j := range js {
		key := kant.JobKey(fmt.Sprintf("hegel/job_%04d", j))
		js[j] = Job{Key: key}
		for n := dayNum(from); n <= dayNum(to); n++ {
			d := dateOfNum(n)
			tick := time.Date(d.Year, d.Month, d.Day, 1, 0, 0, 0, tokyo)
			start := tick.Add(time.Duration(rng.IntN(300)) * time.Second)
			mk := func(id string, attempt int, state kant.State, start time.Time, dur time.Duration) kant.Run {
				r := kant.Run{
					Source: "hegel", Job: key, RunID: id, Attempt: attempt, State: state,
					StartedAt: start.UTC(), FinishedAt: start.Add(dur).UTC(), ObservedAt: start.Add(dur).UTC(),
				}
				if n%3 == 0 {
					r.LogicalDate = d
				}
				return r
			}
			id := fmt.Sprintf("jr_%d_%d", j, n)
			switch p := rng.IntN(100); {
			case p < 3: // never ran
			case p < 16: // failed, then retried successfully
				runs[j] = append(runs[j],
					mk(id, 1, kant.StateFailed, start, 20*time.Minute),
					mk(id, 2, kant.StateSucceeded, start.Add(30*time.Minute), time.Duration(1+rng.IntN(6))*time.Hour))
			case p < 18: // failed for good
				runs[j] = append(runs[j], mk(id, 1, kant.StateFailed, start, time.Hour))
			case p < 23: // late
				runs[j] = append(runs[j], mk(id, 1, kant.StateSucceeded, start, 5*time.Hour+time.Duration(rng.IntN(7200))*time.Second))
			default:
				runs[j] = append(runs[j], mk(id, 1, kant.StateSucceeded, start, time.Duration(30+rng.IntN(180))*time.Minute))
			}
		}
	}
	now := jst("2026-06-29 12:00")
	return def, js, runs, from, to, now
}

func BenchmarkEvaluateFull(b *testing.B) {
	def, jobs, perJob, from, to, now := benchData(1000)
	var runs []kant.Run
	for _, rs := range perJob {
		runs = append(runs, rs...)
	}
	// Shuffle so that runs do not arrive grouped by job.
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(runs), func(i, j int) { runs[i], runs[j] = runs[j], runs[i] })
	b.ResetTimer()
	b.ReportAllocs()
	var results []kant.Result
	for b.Loop() {
		results, _ = Evaluate(def, jobs, runs, from, to, now)
	}
	b.ReportMetric(float64(len(results)), "occurrences")
	b.ReportMetric(float64(len(runs)), "runs")
}

func BenchmarkEvaluateOneJob(b *testing.B) {
	def, jobs, perJob, from, to, now := benchData(1000)
	// A new run of one job arrives: evaluate that job alone over 90 days.
	job := jobs[500]
	runs := append(slices.Clone(perJob[500]), kant.Run{
		Source: "hegel", Job: job.Key, RunID: "manual", Attempt: 1, State: kant.StateSucceeded,
		StartedAt: jst("2026-06-29 09:00").UTC(), FinishedAt: jst("2026-06-29 09:30").UTC(),
		ObservedAt: jst("2026-06-29 09:30").UTC(),
	})
	b.ResetTimer()
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(def, []Job{job}, runs, from, to, now)
	}
}

func BenchmarkTicksOnHourly(b *testing.B) {
	s := mustSchedule("*/5 * * * *")
	d := date("2026-06-10")
	b.ReportAllocs()
	for b.Loop() {
		s.TicksOn(d, newYork)
	}
}

func BenchmarkCalendarWorkday(b *testing.B) {
	c := mustCalendar("jp-business-days", nil, nil)
	d := date("2026-06-10")
	b.ReportAllocs()
	for b.Loop() {
		c.Workday(d)
	}
}

// TestBenchDataShape keeps the benchmark honest: about 1.1 runs per
// occurrence and a mix of verdicts.
func TestBenchDataShape(t *testing.T) {
	def, jobs, perJob, from, to, now := benchData(50)
	var runs []kant.Run
	for _, rs := range perJob {
		runs = append(runs, rs...)
	}
	results, days := Evaluate(def, jobs, runs, from, to, now)
	if len(results) != 50*90 || len(days) != 90 {
		t.Fatalf("%d results, %d days", len(results), len(days))
	}
	perOcc := float64(len(runs)) / float64(len(results))
	if perOcc < 1.0 || perOcc > 1.2 {
		t.Errorf("%.2f runs per occurrence", perOcc)
	}
	count := map[kant.Verdict]int{}
	for _, r := range results {
		count[r.Verdict]++
	}
	for _, v := range []kant.Verdict{kant.VerdictMet, kant.VerdictLate, kant.VerdictMissed} {
		if count[v] == 0 {
			t.Errorf("no %s occurrences: %v", v, count)
		}
	}
}
