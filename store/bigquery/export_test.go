package bigquery

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/bigquery/internal/fakebq"
)

func openExporter(t *testing.T, srv *fakebq.Server) *Exporter {
	t.Helper()
	e, err := NewExporter(context.Background(), ExporterConfig{Config: testConfig(srv, nil)})
	if err != nil {
		t.Fatalf("NewExporter: %v", err)
	}
	return e
}

// evaluation is one SLO's verdict on one occurrence and its day, evaluated
// at evaluated.
func evaluation(evaluated time.Time) kant.Evaluation {
	d := kant.Date{Year: 2026, Month: 6, Day: 1}
	r := kant.Result{
		Occurrence: kant.Occurrence{SLO: "hegel-nightly", Job: "hegel/export", Date: d, ExpectedAt: t0, Deadline: t0.Add(5 * time.Hour)},
		Verdict:    kant.VerdictMet, SucceededAt: t0.Add(time.Hour), Runs: 1, EvaluatedAt: evaluated,
	}
	day := kant.Day{SLO: "hegel-nightly", Date: d, Occurrences: 1, Met: 1, SLOMet: true, SLAMet: true, Final: true, EvaluatedAt: evaluated}
	return kant.Evaluation{SLO: "hegel-nightly", From: d, To: d, Results: []kant.Result{r}, Days: []kant.Day{day}}
}

func count(t *testing.T, srv *fakebq.Server, table string) int {
	t.Helper()
	n, err := srv.Count(testDataset, table)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTheExportWritesRunsAndEvaluationsOnceHoweverOftenItIsTold(t *testing.T) {
	srv := newFake(t)
	ctx := context.Background()
	runs := []kant.Run{
		observation("hegel/export", "jr_1", kant.StateRunning, t0),
		observation("hegel/export", "jr_1", kant.StateSucceeded, t0.Add(time.Hour)),
	}
	// Two leaders in turn (a failover) export the same observations and
	// evaluations, the second one evaluated later.
	for i, at := range []time.Time{t0.Add(2 * time.Hour), t0.Add(3 * time.Hour)} {
		e := openExporter(t, srv)
		e.Observe(ctx, runs)
		e.Observe(ctx, runs[1:])
		e.ExportEvaluation(ctx, evaluation(at))
		e.ExportEvaluation(ctx, evaluation(at.Add(time.Minute)))
		if err := e.Close(); err != nil {
			t.Fatalf("leader %d: Close: %v", i+1, err)
		}
	}
	for table, want := range map[string]int{"job_runs": 2, "slo_results": 1, "sla_daily": 1} {
		if n := count(t, srv, table); n != want {
			t.Errorf("%s holds %d rows, want %d", table, n, want)
		}
	}
	// The rows are the store's: its reads see them.
	e := openExporter(t, srv)
	defer e.Close()
	latest, err := e.Store().LatestRuns(ctx, kant.RunFilter{})
	if err != nil || len(latest) != 1 || latest[0].State != kant.StateSucceeded {
		t.Errorf("latest runs in the export: %+v, %v", latest, err)
	}
	days, err := e.Store().Days(ctx, kant.ResultFilter{SLO: "hegel-nightly"})
	if err != nil || len(days) != 1 || !days[0].SLOMet {
		t.Errorf("days in the export: %+v, %v", days, err)
	}
}

func TestAnUnchangedEvaluationIsNotWrittenAgain(t *testing.T) {
	srv := newFake(t)
	ctx := context.Background()
	e := openExporter(t, srv)
	defer e.Close()
	var first int
	for i := range 3 {
		e.ExportEvaluation(ctx, evaluation(t0.Add(time.Duration(i)*time.Minute)))
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = srv.Calls("jobs.query")
		}
	}
	before := srv.Calls("jobs.query")
	if before != first {
		t.Errorf("%d queries for evaluations that differ only in their evaluation time, want none", before-first)
	}
	changed := evaluation(t0.Add(time.Hour))
	changed.Results[0].Runs = 2
	e.ExportEvaluation(ctx, changed)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.Calls("jobs.query") == before {
		t.Error("a changed evaluation was not written")
	}
	res, err := e.Store().Results(ctx, kant.ResultFilter{})
	if err != nil || len(res) != 1 || res[0].Runs != 2 {
		t.Errorf("results after the change: %+v, %v", res, err)
	}
}

func TestAnExportThatBigQueryRefusesNeitherBlocksNorFailsTheCaller(t *testing.T) {
	srv := newFake(t)
	ctx := context.Background()
	e := openExporter(t, srv)
	hold := make(chan struct{})
	srv.SetFault(func(op string) *fakebq.Fault {
		switch op {
		case "tabledata.insertAll":
			<-hold
			return &fakebq.Fault{Code: http.StatusForbidden, Reason: "accessDenied"}
		case "jobs.query":
			return &fakebq.Fault{Code: http.StatusForbidden, Reason: "accessDenied"}
		}
		return nil
	})
	// BigQuery holds the first request: Observe and ExportEvaluation
	// return anyway.
	e.Observe(ctx, []kant.Run{observation("hegel/export", "jr_1", kant.StateRunning, t0)})
	e.ExportEvaluation(ctx, evaluation(t0))
	close(hold)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if writes, dropped := e.Failed(); writes != 2 || dropped != 0 {
		t.Errorf("Failed() = %d writes, %d dropped; want 2, 0", writes, dropped)
	}
	err := e.Close()
	if err == nil || !strings.Contains(err.Error(), "2 writes failed") {
		t.Errorf("Close = %v, want it to say 2 writes failed", err)
	}
}

func TestAFullExportQueueDropsAndCountsObservations(t *testing.T) {
	srv := newFake(t)
	ctx := context.Background()
	cfg := ExporterConfig{Config: testConfig(srv, nil), MaxQueue: 2}
	e, err := NewExporter(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hold, held := make(chan struct{}), make(chan struct{}, 1)
	srv.OnInsertAll(func(dataset, table string, ids []string) {
		select {
		case held <- struct{}{}:
			<-hold
		default:
		}
	})
	e.Observe(ctx, []kant.Run{observation("hegel/export", "jr_0", kant.StateRunning, t0)})
	<-held // the writer is sending jr_0; the queue is empty again
	e.Observe(ctx, []kant.Run{
		observation("hegel/export", "jr_1", kant.StateRunning, t0),
		observation("hegel/export", "jr_2", kant.StateRunning, t0),
		observation("hegel/export", "jr_3", kant.StateRunning, t0),
	})
	close(hold)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, dropped := e.Failed(); dropped != 1 {
		t.Errorf("%d observations dropped, want 1", dropped)
	}
	if n := count(t, srv, "job_runs"); n != 3 {
		t.Errorf("job_runs holds %d rows, want 3", n)
	}
	if err := e.Close(); err == nil {
		t.Error("Close after dropped observations returned no error")
	}
}
