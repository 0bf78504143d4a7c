package fakebq

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// TestQueryCost checks the cost model of QueryStats on a table of three
// days, one row a day.
func TestQueryCost(t *testing.T) {
	ctx := context.Background()
	srv := New(t, "p")
	srv.AddDataset("d", "US")
	c, err := bigquery.NewClient(ctx, "p", option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tb := c.Dataset("d").Table("t")
	if err := tb.Create(ctx, &bigquery.TableMetadata{
		Schema: bigquery.Schema{
			{Name: "name", Type: bigquery.StringFieldType},
			{Name: "n", Type: bigquery.IntegerFieldType},
			{Name: "ok", Type: bigquery.BooleanFieldType},
			{Name: "at", Type: bigquery.TimestampFieldType, Required: true},
		},
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: "at"},
	}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	rows := []*bigquery.ValuesSaver{}
	for i, name := range []string{"a", "bb", "ccc"} { // sizes 3, 4, 5
		rows = append(rows, &bigquery.ValuesSaver{Schema: bigquery.Schema{
			{Name: "name", Type: bigquery.StringFieldType}, {Name: "n", Type: bigquery.IntegerFieldType},
			{Name: "ok", Type: bigquery.BooleanFieldType}, {Name: "at", Type: bigquery.TimestampFieldType},
		}, Row: []bigquery.Value{name, int64(i), nil, day.AddDate(0, 0, i)}})
	}
	if err := tb.Inserter().Put(ctx, rows); err != nil {
		t.Fatal(err)
	}
	v := c.Dataset("d").Table("v")
	if err := v.Create(ctx, &bigquery.TableMetadata{ViewQuery: "SELECT name, at FROM (SELECT name, at, " +
		"ROW_NUMBER() OVER (PARTITION BY name ORDER BY at) AS rn FROM `p.d.t`) AS r WHERE rn = 1"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		sql         string
		params      []bigquery.QueryParameter
		rows, bytes int64
	}{
		{"the columns named are read in every partition without a filter", "SELECT name, n FROM `p.d.t`", nil, 3, 3 + 4 + 5 + 3*8},
		{"a NULL costs nothing", "SELECT ok FROM `p.d.t`", nil, 3, 0},
		{"a filter on the partitioning column reads the partitions from its day on",
			"SELECT name FROM `p.d.t` WHERE at >= TIMESTAMP_MICROS(@from)",
			[]bigquery.QueryParameter{{Name: "from", Value: day.AddDate(0, 0, 1).Add(time.Hour).UnixMicro()}}, 2, 4 + 5 + 2*8}, // at is read too
		{"a filter inside an OR prunes nothing",
			"SELECT name FROM `p.d.t` WHERE (at >= TIMESTAMP_MICROS(@from) OR n = 0)",
			[]bigquery.QueryParameter{{Name: "from", Value: day.AddDate(0, 0, 2).UnixMicro()}}, 3, 3 + 4 + 5 + 2*3*8},
		{"a filter given to a view prunes nothing, and the view's columns are read",
			"SELECT name FROM `p.d.v` WHERE at >= TIMESTAMP_MICROS(@from)",
			[]bigquery.QueryParameter{{Name: "from", Value: day.AddDate(0, 0, 2).UnixMicro()}}, 3, 3 + 4 + 5 + 3*8},
		{"COUNT(*) reads no column", "SELECT COUNT(*) AS c FROM `p.d.t`", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetQueryStats()
			q := c.Query(tc.sql)
			q.Parameters = tc.params
			it, err := q.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for {
				var row []bigquery.Value
				if err := it.Next(&row); err == iterator.Done {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			st := srv.QueryStats()
			if len(st) != 1 {
				t.Fatalf("%d queries counted, want 1", len(st))
			}
			if st[0].Statements != 1 || st[0].RowsScanned != tc.rows || st[0].BytesScanned != tc.bytes {
				t.Errorf("counted %d statements, %d rows, %d bytes; want 1, %d, %d", st[0].Statements, st[0].RowsScanned, st[0].BytesScanned, tc.rows, tc.bytes)
			}
			want := int64(0)
			if tc.bytes > 0 {
				want = MinBilled
			}
			if st[0].BytesBilled != want {
				t.Errorf("billed %d, want %d", st[0].BytesBilled, want)
			}
		})
	}
}
