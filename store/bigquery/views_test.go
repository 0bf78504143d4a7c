package bigquery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/dashboards/views"
	"github.com/kantproject/kant/dashboards/views/viewstest"
)

// TestTheBigQueryViewsReturnTheSameRowsAsTheSQLiteOnes creates the BI views
// of dashboards/views through the store (tables.insert with a view query),
// writes the views' known data set through the store, and reads every view
// through the fake: the rows must be those the SQLite views return.
func TestTheBigQueryViewsReturnTheSameRowsAsTheSQLiteOnes(t *testing.T) {
	srv := newFake(t)
	cfg := testConfig(srv, nil)
	for _, v := range views.BigQueryFor(testProject, testDataset) {
		cfg.Views = append(cfg.Views, View{Name: v.Name, Query: v.Query})
	}
	s := open(t, cfg)
	ctx := context.Background()
	for _, r := range viewstest.Runs() {
		if _, err := s.WriteRuns(ctx, []kant.Run{r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteEvaluation(ctx, viewstest.Evaluation()); err != nil {
		t.Fatal(err)
	}
	for _, v := range views.BigQuery() {
		t.Run(v.Name, func(t *testing.T) {
			md, ok := srv.Table(testDataset, v.Name)
			if !ok || md.Type != "VIEW" {
				t.Fatalf("view %s not created", v.Name)
			}
			q := fmt.Sprintf(viewstest.Query[v.Name], s.table(v.Name))
			var cols []string
			for _, f := range md.Schema.Fields {
				cols = append(cols, f.Name)
			}
			got := []string{strings.Join(cols, " | ")}
			rows, err := s.query(ctx, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				vals := make([]any, len(row))
				for i, x := range row {
					vals[i] = x
				}
				got = append(got, viewstest.Row(vals))
			}
			if want := viewstest.Want[v.Name]; !slices.Equal(got, want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
