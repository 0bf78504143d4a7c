package bigquery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/bigquery/internal/fakebq"
)

// BenchmarkEncodeRun measures validating and encoding one observation for
// insertAll (hash, insert ID, row values): kant's own cost per row.
func BenchmarkEncodeRun(b *testing.B) {
	r := observation("hegel/export", "jr_1", kant.StateSucceeded, t0)
	r.FinishedAt, r.LogicalDate = t0.Add(time.Minute), kant.Date{Year: 2026, Month: 6, Day: 1}
	r.Attributes = map[string]string{"--target_date": "2026-05-31", "--env": "prod"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeRun(0, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteRuns100 measures one WriteRuns of 100 new observations
// through the real client and the local fake: the dedup query and one
// insertAll. Against BigQuery the two round trips dominate instead.
func BenchmarkWriteRuns100(b *testing.B) {
	srv := fakebq.New(b, testProject)
	srv.AddDataset(testDataset, testLocation)
	s, err := New(context.Background(), testConfig(srv, nil))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := 0
	b.ReportAllocs()
	for b.Loop() {
		runs := make([]kant.Run, 100)
		for i := range runs {
			runs[i] = observation(kant.JobKey(fmt.Sprintf("hegel/job_%d", i%10)), fmt.Sprintf("jr_%d_%d", batch, i), kant.StateRunning, t0)
		}
		batch++
		if _, err := s.WriteRuns(context.Background(), runs); err != nil {
			b.Fatal(err)
		}
	}
}
