package evaluator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/slo"
)

// history returns n successful nightly runs of job on the n days before
// 2026-06-02, each starting at 01:00 Tokyo and taking took.
func history(job string, n int, took time.Duration) []kant.Run {
	var out []kant.Run
	for back := n; back >= 1; back-- {
		start := at("2026-06-02T01:00:00+09:00").AddDate(0, 0, -back)
		r := run(job, fmt.Sprintf("hist_%d", back), 1, kant.StateSucceeded, start.Format(time.RFC3339), start.Add(took).Format(time.RFC3339))
		out = append(out, r)
	}
	return out
}

func TestAtRiskMarks(t *testing.T) {
	tests := []struct {
		name    string
		history []kant.Run
		tonight []kant.Run
		now     string
		def     func(*slo.Definition)
		want    kant.Reason
	}{
		{
			name:    "a job running since a start that its recent durations carry past the deadline is stored at risk",
			history: history("hegel/slow", 6, 2*time.Hour),
			tonight: []kant.Run{run("hegel/slow", "tonight", 1, kant.StateRunning, "2026-06-02T04:30:00+09:00", "")},
			now:     "2026-06-02T04:31:00+09:00",
			want:    kant.ReasonAtRisk,
		},
		{
			name:    "a job running with time left for its recent durations is not at risk",
			history: history("hegel/slow", 6, 2*time.Hour),
			tonight: []kant.Run{run("hegel/slow", "tonight", 1, kant.StateRunning, "2026-06-02T03:30:00+09:00", "")},
			now:     "2026-06-02T03:31:00+09:00",
			want:    kant.ReasonNone,
		},
		{
			name:    "a job with fewer than five successes has no estimate and is never at risk",
			history: history("hegel/slow", 4, 2*time.Hour),
			tonight: []kant.Run{run("hegel/slow", "tonight", 1, kant.StateRunning, "2026-06-02T05:30:00+09:00", "")},
			now:     "2026-06-02T05:31:00+09:00",
			want:    kant.ReasonNone,
		},
		{
			name:    "an SLO with at_risk off marks nothing",
			history: history("hegel/slow", 6, 2*time.Hour),
			tonight: []kant.Run{run("hegel/slow", "tonight", 1, kant.StateRunning, "2026-06-02T04:30:00+09:00", "")},
			now:     "2026-06-02T04:31:00+09:00",
			def:     func(d *slo.Definition) { d.AtRisk.Off = true },
			want:    kant.ReasonNone,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := open(t)
			if _, err := db.WriteRuns(ctx, tt.history); err != nil {
				t.Fatal(err)
			}
			now := at(tt.now)
			def := nightly(t, "hegel/*")
			if tt.def != nil {
				tt.def(&def)
			}
			e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: db, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Evaluate(ctx, now, 30*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			// The run of tonight arrives after the first evaluation: it is
			// judged alone, from the durations already kept.
			written, err := db.WriteRuns(ctx, tt.tonight)
			if err != nil {
				t.Fatal(err)
			}
			e.Observe(ctx, written)
			v := verdicts(t, db, "2026-06-02")["hegel/slow"]
			if v.Verdict != kant.VerdictPending || v.Reason != tt.want {
				t.Errorf("stored %s/%s, want pending/%s", v.Verdict, v.Reason, tt.want)
			}
		})
	}
}

func TestAJobNotStartedIsMarkedAtRiskAtTheDeadlineMinusItsP90NotAtTheNextTick(t *testing.T) {
	db := open(t)
	if _, err := db.WriteRuns(t.Context(), history("hegel/slow", 6, time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The job takes an hour, the deadline is 06:00: at risk from 05:00.
	// The clock runs from 100 ms before; the ticker is an hour away.
	riskAt := at("2026-06-02T05:00:00+09:00")
	start := time.Now()
	now := func() time.Time { return riskAt.Add(-100 * time.Millisecond).Add(time.Since(start)) }
	judged := make(chan struct{}, 1)
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/slow")}, Store: db,
		Now: now, Interval: time.Hour, Judged: judged})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go e.Run(ctx)
	<-judged
	if v := verdicts(t, db, "2026-06-02")["hegel/slow"]; v.Verdict != kant.VerdictPending || v.Reason != kant.ReasonNone {
		t.Fatalf("before 05:00: %s/%s, want pending, not at risk", v.Verdict, v.Reason)
	}
	select {
	case <-judged:
	case <-time.After(10 * time.Second):
		t.Fatal("no evaluation at the at-risk moment")
	}
	if v := verdicts(t, db, "2026-06-02")["hegel/slow"]; !v.AtRisk() {
		t.Errorf("after 05:00: %s/%s, want pending/at_risk", v.Verdict, v.Reason)
	}
	if late := now().Sub(riskAt); late > 5*time.Second {
		t.Errorf("marked %s after the at-risk moment", late)
	}
}

func TestTheNewestSuccessesAreKeptWhateverTheOrderTheyArriveIn(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	// 30 nights: the 10 oldest take 5 h, the 20 newest 1 h. Written newest
	// first, so that the old slow ones arrive last and must not displace
	// them.
	old := history("hegel/slow", 30, 5*time.Hour)[:10]
	recent := history("hegel/slow", 20, time.Hour)
	for i := range recent {
		recent[i].RunID += "_recent"
	}
	if _, err := db.WriteRuns(ctx, append(recent, old...)); err != nil {
		t.Fatal(err)
	}
	// With 1 h expected, a run started at 04:30 is in time for 06:00; with
	// 5 h it would be at risk.
	now := at("2026-06-02T04:31:00+09:00")
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/*")}, Store: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.WriteRuns(ctx, []kant.Run{run("hegel/slow", "tonight", 1, kant.StateRunning, "2026-06-02T04:30:00+09:00", "")}); err != nil {
		t.Fatal(err)
	}
	if err := e.Evaluate(ctx, now, 40*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if v := verdicts(t, db, "2026-06-02")["hegel/slow"]; v.Verdict != kant.VerdictPending || v.Reason != kant.ReasonNone {
		t.Errorf("stored %s/%s, want pending and not at risk: the 20 newest successes take an hour", v.Verdict, v.Reason)
	}
}
