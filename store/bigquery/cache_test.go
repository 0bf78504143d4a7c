package bigquery

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/bigquery/internal/fakebq"
	"github.com/kantproject/kant/store/storetest"
)

// scanned returns the bytes the queries since the last reset read.
func scanned(srv *fakebq.Server) (queries int, bytes int64) {
	for _, q := range srv.QueryStats() {
		queries++
		bytes += q.BytesScanned
	}
	return queries, bytes
}

func TestKeptAnswers(t *testing.T) {
	ctx := context.Background()
	day := kant.DateOf(t0)
	wide := kant.RunFilter{Jobs: []string{"hegel/*"}, DateFrom: day.AddDays(-20), DateTo: day, From: t0.AddDate(0, 0, -21)}
	for _, tc := range []struct {
		name   string
		first  kant.RunFilter // read first, its answer kept
		second kant.RunFilter // then read: from the kept answer
	}{
		{"the same filter is answered again", wide, wide},
		{"a later start of the window is answered from an earlier one",
			wide, kant.RunFilter{Jobs: wide.Jobs, DateFrom: day.AddDays(-5), DateTo: day.AddDays(-1), From: t0.AddDate(0, 0, -3), To: t0.AddDate(0, 0, -1)}},
		{"observed from a later time is answered from observed from an earlier one",
			kant.RunFilter{ObservedFrom: t0.AddDate(0, 0, -10)}, kant.RunFilter{ObservedFrom: t0.AddDate(0, 0, -4).Add(30 * time.Second)}},
		{"another SLO's jobs are answered from the read of the first",
			kant.RunFilter{Jobs: []string{"hegel/a"}, DateFrom: day.AddDays(-9)}, kant.RunFilter{Jobs: []string{"hegel/b"}, DateFrom: day.AddDays(-9)}},
		{"undated runs in a time window are answered from all runs",
			kant.RunFilter{}, kant.RunFilter{From: t0.AddDate(0, 0, -9), To: t0.AddDate(0, 0, -2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t)
			s := open(t, testConfig(srv, nil))
			cfg := testConfig(srv, nil)
			cfg.CacheRuns = -1
			plain := open(t, cfg)
			if _, err := s.WriteRuns(ctx, monthOfRuns()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.LatestRuns(ctx, tc.first); err != nil {
				t.Fatal(err)
			}
			want, err := plain.LatestRuns(ctx, tc.second)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatal("the filter matches nothing: a test of nothing")
			}
			srv.ResetQueryStats()
			got, err := s.LatestRuns(ctx, tc.second)
			if err != nil {
				t.Fatal(err)
			}
			if q, b := scanned(srv); q != 1 || b != 0 {
				t.Errorf("the kept answer took %d queries reading %d bytes, want the count alone (1, 0 bytes)", q, b)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("kept answer:\n%v\nwant (read):\n%v", got, want)
			}
		})
	}
}

func TestKeptAnswerIsReadAgainAfterAnotherStoreWrites(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t)
	a, b := open(t, testConfig(srv, nil)), open(t, testConfig(srv, nil))
	if _, err := a.WriteRuns(ctx, monthOfRuns()); err != nil {
		t.Fatal(err)
	}
	f := kant.RunFilter{Jobs: []string{"hegel/*"}, DateFrom: kant.DateOf(t0)}
	before, err := a.LatestRuns(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := a.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := kant.Run{Source: "hegel", Job: "hegel/c", RunID: "jr_new", Attempt: 1, State: kant.StateRunning,
		LogicalDate: kant.DateOf(t0), StartedAt: t0, ObservedAt: t0.Add(time.Minute)}
	if _, err := b.WriteRuns(ctx, []kant.Run{r}); err != nil {
		t.Fatal(err)
	}
	after, err := a.LatestRuns(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 || after[len(after)-1].RunID != "jr_new" {
		t.Errorf("after another store wrote jr_new, LatestRuns = %v, want %d runs ending with it", after, len(before)+1)
	}
	jobs2, err := a.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs2) != len(jobs)+1 {
		t.Errorf("after another store wrote hegel/c, Jobs = %v, want it added to %v", jobs2, jobs)
	}
}

func TestKeptAnswerIsReadAgainWhenOld(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t)
	now := t0
	cfg := testConfig(srv, nil)
	cfg.Now = func() time.Time { return now }
	cfg.CacheMaxAge = time.Minute
	s := open(t, cfg)
	if _, err := s.WriteRuns(ctx, monthOfRuns()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		after   time.Duration
		queries int
	}{{0, 2}, {time.Minute, 1}, {time.Minute + time.Second, 2}} {
		now = t0.Add(tc.after)
		srv.ResetQueryStats()
		if _, err := s.Jobs(ctx); err != nil {
			t.Fatal(err)
		}
		if q, _ := scanned(srv); q != tc.queries {
			t.Errorf("Jobs %v after the answer was kept: %d queries, want %d", tc.after, q, tc.queries)
		}
	}
}

// TestConformanceWithoutKeptAnswers runs the storage contract's suite with
// every answer read from the tables.
func TestConformanceWithoutKeptAnswers(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		cfg := testConfig(newFake(t), nil)
		cfg.CacheRuns = -1
		s, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s
	})
}
