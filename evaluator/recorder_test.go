package evaluator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/slo"
)

// recorder is an evaluator.Metrics and evaluator.Exporter that keeps what
// it is told.
type recorder struct {
	evaluated    []string // "slo jobs err took"
	exported     int      // results exported
	exportedDays int      // days exported
}

func (r *recorder) Evaluated(_ context.Context, e kant.Evaluation, took time.Duration, err error) {
	r.evaluated = append(r.evaluated, e.SLO+" "+jobList(e.Jobs)+" "+errText(err)+" "+took.String())
}

func (r *recorder) ExportEvaluation(_ context.Context, e kant.Evaluation) {
	r.exported += len(e.Results)
	r.exportedDays += len(e.Days)
}

func jobList(jobs []kant.JobKey) string {
	if len(jobs) == 0 {
		return "all"
	}
	out := ""
	for _, j := range jobs {
		out += string(j)
	}
	return out
}

func errText(err error) string {
	if err != nil {
		return "failed"
	}
	return "ok"
}

// refusing is a store whose writes fail while refuse is set.
type refusing struct {
	evaluator.Store
	refuse bool
}

func (s *refusing) WriteEvaluation(ctx context.Context, e kant.Evaluation) error {
	if s.refuse {
		return errors.New("disk full")
	}
	return s.Store.WriteEvaluation(ctx, e)
}

// steps is a clock that moves one second on every reading.
type steps struct{ t time.Time }

func (s *steps) now() time.Time { s.t = s.t.Add(time.Second); return s.t }

func TestEveryWrittenEvaluationIsRecordedAndOnlyStoredOnesAreExported(t *testing.T) {
	ctx := context.Background()
	sq := open(t)
	db := &refusing{Store: sq}
	clock := &steps{t: at("2026-06-02T09:00:00+09:00")}
	rec := &recorder{}
	e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/export")}, Store: db,
		Metrics: rec, Export: rec, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Evaluate(ctx, clock.t, 2*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	stored := rec.exported
	if stored == 0 || rec.exportedDays == 0 {
		t.Fatalf("the periodic evaluation exported %d results and %d days, want both", stored, rec.exportedDays)
	}
	r := run("hegel/export", "jr_1", 1, kant.StateSucceeded, "2026-06-02T01:00:00+09:00", "2026-06-02T05:00:00+09:00")
	if _, err := sq.WriteRuns(ctx, []kant.Run{r}); err != nil {
		t.Fatal(err)
	}
	db.refuse = true
	e.Observe(ctx, []kant.Run{r})

	// The clock moves one second per reading: the write starts one reading
	// after the load begins and ends the next.
	want := []string{"hegel-nightly all ok 1s", "hegel-nightly hegel/export failed 1s"}
	if len(rec.evaluated) != len(want) {
		t.Fatalf("evaluations recorded %q, want %q", rec.evaluated, want)
	}
	for i := range want {
		if rec.evaluated[i] != want[i] {
			t.Errorf("evaluation %d recorded %q, want %q", i, rec.evaluated[i], want[i])
		}
	}
	if rec.exported != stored {
		t.Errorf("%d results exported after a refused write, want none", rec.exported-stored)
	}
}
