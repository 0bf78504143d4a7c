package slo

import (
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func minutes(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Minute
	}
	return out
}

func TestAtRiskExpected(t *testing.T) {
	tests := []struct {
		name      string
		atRisk    AtRisk
		durations []time.Duration
		want      time.Duration
		ok        bool
	}{
		{"the 90th percentile of ten durations is the ninth smallest", AtRisk{}, minutes(10, 20, 30, 40, 50, 60, 70, 80, 90, 100), 90 * time.Minute, true},
		{"one slow run in twenty does not move the 90th percentile", AtRisk{},
			minutes(30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 300), 30 * time.Minute, true},
		{"only the last Runs durations count", AtRisk{Runs: 5}, minutes(500, 500, 500, 10, 20, 30, 40, 50), 50 * time.Minute, true},
		{"fewer successes than MinRuns give no estimate", AtRisk{}, minutes(10, 20, 30, 40), 0, false},
		{"MinRuns can be lowered to trust fewer runs", AtRisk{MinRuns: 2, Percentile: 50}, minutes(10, 40), 10 * time.Minute, true},
		{"an SLO with at-risk off has no estimate", AtRisk{Off: true}, minutes(10, 20, 30, 40, 50, 60), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.atRisk.Expected(tt.durations)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Expected = %s, %v; want %s, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAtRiskValidate(t *testing.T) {
	tests := []struct {
		name   string
		atRisk AtRisk
		want   string // "" for valid
	}{
		{"the zero value is valid", AtRisk{}, ""},
		{"a percentile above 100 is refused", AtRisk{Percentile: 101}, "percentile: must be in (0, 100], got 101"},
		{"min_runs above runs is refused", AtRisk{Runs: 3, MinRuns: 4}, "min_runs: 4 is more than runs (3)"},
		{"runs below the default min_runs lowers min_runs", AtRisk{Runs: 3}, ""},
		{"negative runs are refused", AtRisk{Runs: -1}, "runs: must be positive, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.atRisk.Validate()
			got := ""
			if err != nil {
				got = kant.ErrorMessage(err)
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMarkAtRisk(t *testing.T) {
	// nightly: ticks 01:00 Tokyo, deadline 06:00; the job takes an hour.
	const hour = time.Hour
	tests := []struct {
		name     string
		def      func(*Definition)
		runs     []kant.Run
		expected map[kant.JobKey]time.Duration
		now      time.Time
		want     kant.Verdict
		reason   kant.Reason
	}{
		{
			name: "a job not started by the deadline minus its expected duration is at risk",
			now:  jst("2026-06-10 05:00"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictPending, reason: kant.ReasonAtRisk,
		},
		{
			name: "a job not started a minute before the deadline minus its expected duration is not at risk yet",
			now:  jst("2026-06-10 04:59"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictPending, reason: kant.ReasonNone,
		},
		{
			name: "a job running since a start its expected duration carries past the deadline is at risk",
			runs: []kant.Run{run("r1", kant.StateRunning, jst("2026-06-10 04:30"), time.Time{})},
			now:  jst("2026-06-10 04:31"), expected: map[kant.JobKey]time.Duration{testJob: 2 * hour},
			want: kant.VerdictPending, reason: kant.ReasonAtRisk,
		},
		{
			name: "a job running since a start that leaves time for its expected duration is not at risk, even late in the window",
			runs: []kant.Run{run("r1", kant.StateRunning, jst("2026-06-10 04:30"), time.Time{})},
			now:  jst("2026-06-10 05:20"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictPending, reason: kant.ReasonNone,
		},
		{
			name: "a queued run is taken to start now",
			runs: []kant.Run{run("r1", kant.StateQueued, time.Time{}, time.Time{})},
			now:  jst("2026-06-10 05:10"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictPending, reason: kant.ReasonAtRisk,
		},
		{
			name: "a job whose last attempt failed with no retry running is at risk like one not started",
			runs: []kant.Run{run("r1", kant.StateFailed, jst("2026-06-10 01:00"), jst("2026-06-10 01:20"))},
			now:  jst("2026-06-10 05:30"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictPending, reason: kant.ReasonAtRisk,
		},
		{
			name: "a job slower than its window is at risk once due, not before its tick",
			def:  func(d *Definition) { d.Deadline, d.Within = nil, 30*time.Minute },
			now:  jst("2026-06-10 00:59"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictPending, reason: kant.ReasonNone,
		},
		{
			name: "a job slower than its window is at risk at its tick",
			def:  func(d *Definition) { d.Deadline, d.Within = nil, 30*time.Minute },
			now:  jst("2026-06-10 01:00"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictPending, reason: kant.ReasonAtRisk,
		},
		{
			name: "a job without an expected duration (too little history) is never at risk",
			now:  jst("2026-06-10 05:59"), expected: map[kant.JobKey]time.Duration{"hegel/other": hour},
			want: kant.VerdictPending, reason: kant.ReasonNone,
		},
		{
			name: "an SLO with at-risk off marks nothing",
			def:  func(d *Definition) { d.AtRisk.Off = true },
			now:  jst("2026-06-10 05:59"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictPending, reason: kant.ReasonNone,
		},
		{
			name: "a met occurrence is not marked",
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 04:30"), jst("2026-06-10 05:30"))},
			now:  jst("2026-06-10 05:40"), expected: map[kant.JobKey]time.Duration{testJob: 2 * hour},
			want: kant.VerdictMet, reason: kant.ReasonNone,
		},
		{
			name: "a missed occurrence keeps its reason",
			now:  jst("2026-06-10 06:00"), expected: map[kant.JobKey]time.Duration{testJob: hour},
			want: kant.VerdictMissed, reason: kant.ReasonNotStarted,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := nightly()
			if tt.def != nil {
				tt.def(&def)
			}
			results, _ := Evaluate(def, []Job{{Key: testJob}}, tt.runs, date("2026-06-10"), date("2026-06-10"), tt.now)
			MarkAtRisk(def, results, tt.runs, tt.expected, tt.now)
			if len(results) != 1 {
				t.Fatalf("%d results, want 1", len(results))
			}
			if r := results[0]; r.Verdict != tt.want || r.Reason != tt.reason {
				t.Errorf("verdict %s/%s, want %s/%s", r.Verdict, r.Reason, tt.want, tt.reason)
			}
			if got, want := results[0].AtRisk(), tt.reason == kant.ReasonAtRisk; got != want {
				t.Errorf("AtRisk() = %v, want %v", got, want)
			}
		})
	}
}

func TestNextAtRisk(t *testing.T) {
	def := nightly()
	results, _ := Evaluate(def, []Job{{Key: testJob}, {Key: "hegel/slow"}}, nil, date("2026-06-10"), date("2026-06-10"), jst("2026-06-10 02:00"))
	expected := map[kant.JobKey]time.Duration{testJob: time.Hour, "hegel/slow": 3 * time.Hour}
	tests := []struct {
		name string
		now  time.Time
		want time.Time
		ok   bool
	}{
		{"the first moment is the slowest job's deadline minus its expected duration", jst("2026-06-10 02:00"), jst("2026-06-10 03:00"), true},
		{"once that has passed the next job's moment follows", jst("2026-06-10 03:00"), jst("2026-06-10 05:00"), true},
		{"after every moment there is none", jst("2026-06-10 05:00"), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NextAtRisk(results, expected, tt.now)
			if !got.Equal(tt.want) || ok != tt.ok {
				t.Errorf("NextAtRisk = %s, %v; want %s, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	results[1].Reason = kant.ReasonAtRisk // hegel/slow, already marked
	if got, _ := NextAtRisk(results, expected, jst("2026-06-10 02:00")); !got.Equal(jst("2026-06-10 05:00")) {
		t.Errorf("a result already at risk still sets the next moment: got %s", got)
	}
}
