package bigquery

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/storetest"
)

var integration = flag.Bool("integration", false, "run the conformance suite against real BigQuery "+
	"(KANT_BIGQUERY_PROJECT, KANT_BIGQUERY_DATASET as a prefix for throw-away datasets, "+
	"optional KANT_BIGQUERY_LOCATION; credentials from the environment)")

// TestIntegration runs the conformance suite against real BigQuery: each
// subtest gets a new dataset named after KANT_BIGQUERY_DATASET, deleted with
// its contents at the end.
func TestIntegration(t *testing.T) {
	project, prefix := os.Getenv("KANT_BIGQUERY_PROJECT"), os.Getenv("KANT_BIGQUERY_DATASET")
	if !*integration {
		t.Skip("real BigQuery is used only with -integration")
	}
	if project == "" || prefix == "" {
		t.Skip("set KANT_BIGQUERY_PROJECT and KANT_BIGQUERY_DATASET to run against real BigQuery")
	}
	location := os.Getenv("KANT_BIGQUERY_LOCATION")
	if location == "" {
		location = "US"
	}
	ctx := context.Background()
	client, err := bigquery.NewClient(ctx, project)
	if err != nil {
		t.Skipf("no BigQuery client (credentials?): %v", err)
	}
	defer client.Close()
	run := time.Now().UTC().Format("20060102_150405")
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		name := fmt.Sprintf("%s_%s_%d", prefix, run, n.Add(1))
		ds := client.Dataset(name)
		if err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: location,
			DefaultTableExpiration: 24 * time.Hour}); err != nil {
			t.Fatalf("create dataset %s: %v", name, err)
		}
		t.Cleanup(func() {
			if err := ds.DeleteWithContents(context.Background()); err != nil {
				t.Logf("delete dataset %s: %v", name, err)
			}
		})
		s, err := New(ctx, Config{Project: project, Dataset: name, Location: location})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s
	})
}
