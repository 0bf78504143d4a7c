package bigquery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

// monthOfRuns are runs of two jobs over 30 days before t0, some of them
// without a logical date, some observed twice (running, then done).
func monthOfRuns() []kant.Run {
	var out []kant.Run
	for d := 0; d < 30; d++ {
		for j, job := range []kant.JobKey{"hegel/a", "hegel/b"} {
			start := t0.AddDate(0, 0, -30+d).Add(time.Duration(j) * time.Hour)
			r := kant.Run{Source: "hegel", Job: job, RunID: fmt.Sprintf("jr_%d_%d", d, j), Attempt: 1,
				State: kant.StateRunning, StartedAt: start, ObservedAt: start.Add(time.Minute)}
			if d%3 != 0 {
				r.LogicalDate = kant.DateOf(start)
			}
			out = append(out, r)
			if d%2 == 0 {
				r.State, r.FinishedAt, r.ObservedAt = kant.StateSucceeded, start.Add(time.Hour), start.Add(61*time.Minute)
				out = append(out, r)
			}
		}
	}
	return out
}

func TestObservedFromReadsOnlyThePartitionsObservedSince(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t)
	cfg := testConfig(srv, nil)
	cfg.CacheRuns = -1
	s := open(t, cfg)
	runs := monthOfRuns()
	if _, err := s.WriteRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	srv.ResetQueryStats()
	got, err := s.LatestRuns(ctx, kant.RunFilter{ObservedFrom: t0.AddDate(0, 0, -3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("nothing observed in the last 3 days: a test of nothing")
	}
	st := srv.QueryStats()
	if len(st) != 1 || st[0].RowsScanned == 0 || st[0].RowsScanned > int64(len(runs))/5 {
		t.Errorf("read %+v, want the rows of the last 3 or 4 days of 30 (at most %d of %d)", st, len(runs)/5, len(runs))
	}
}
