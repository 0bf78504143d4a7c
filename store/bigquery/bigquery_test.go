package bigquery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/bigquery/internal/fakebq"
	"github.com/kantproject/kant/store/storetest"
)

const (
	testProject  = "kant-test"
	testDataset  = "kant"
	testLocation = "asia-northeast1"
)

var t0 = time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)

// newFake starts a fake BigQuery holding an empty dataset.
func newFake(t *testing.T) *fakebq.Server {
	srv := fakebq.New(t, testProject)
	srv.AddDataset(testDataset, testLocation)
	return srv
}

// sleeps records the waits between attempts instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func testConfig(srv *fakebq.Server, sl *sleeps) Config {
	if sl == nil {
		sl = &sleeps{}
	}
	return Config{
		Project:       testProject,
		Dataset:       testDataset,
		Location:      testLocation,
		ClientOptions: []option.ClientOption{option.WithEndpoint(srv.URL), option.WithoutAuthentication()},
		Now:           func() time.Time { return t0 },
		sleep:         sl.sleep,
	}
}

func open(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the storage contract's suite against the store
// through the real BigQuery client and a local fake of the REST API.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := New(context.Background(), testConfig(newFake(t), nil))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s
	})
}

func TestNewRefusesAnUnusableDataset(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(srv *fakebq.Server, cfg *Config)
		want    string
		timeout time.Duration
	}{
		{"a dataset that does not exist is named as missing", func(srv *fakebq.Server, cfg *Config) {
			cfg.Dataset = "nope"
		}, "dataset kant-test:nope is unreachable: it does not exist", 0},
		{"a dataset kant may not read is named as forbidden", func(srv *fakebq.Server, cfg *Config) {
			srv.SetFault(func(op string) *fakebq.Fault {
				if op == "datasets.get" {
					return &fakebq.Fault{Code: http.StatusForbidden, Reason: "accessDenied"}
				}
				return nil
			})
		}, "dataset kant-test:kant is unreachable: permission denied", 0},
		{"a dataset in another location is refused", func(srv *fakebq.Server, cfg *Config) {
			cfg.Location = "US"
		}, "dataset kant-test:kant is in location asia-northeast1, the configuration says US", 0},
		{"an unreachable endpoint is named as such", func(srv *fakebq.Server, cfg *Config) {
			cfg.ClientOptions = []option.ClientOption{option.WithEndpoint("http://127.0.0.1:1/"), option.WithoutAuthentication()}
		}, "BigQuery could not be reached", time.Second}, // the client retries a refused connection until ctx ends
		{"a project is required", func(srv *fakebq.Server, cfg *Config) { cfg.Project = "" }, "project is required", 0},
		{"a dataset is required", func(srv *fakebq.Server, cfg *Config) { cfg.Dataset = "" }, "dataset is required", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t)
			cfg := testConfig(srv, nil)
			tc.setup(srv, &cfg)
			if tc.timeout == 0 {
				tc.timeout = time.Minute
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			s, err := New(ctx, cfg)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v\nwant it to say %q", err, tc.want)
			}
			if n := srv.Calls("tables.insert"); n != 0 {
				t.Errorf("%d tables created in an unusable dataset", n)
			}
		})
	}
}

func TestNewCreatesPartitionedAndClusteredTablesAndTheLatestView(t *testing.T) {
	srv := newFake(t)
	open(t, testConfig(srv, nil))
	runs, ok := srv.Table(testDataset, "job_runs")
	if !ok {
		t.Fatal("job_runs not created")
	}
	if p := runs.TimePartitioning; p == nil || p.Type != "DAY" || p.Field != "observed_at" {
		t.Errorf("job_runs partitioning = %+v, want DAY on observed_at", p)
	}
	if c := runs.Clustering; c == nil || !slices.Equal(c.Fields, []string{"source", "job"}) {
		t.Errorf("job_runs clustering = %+v, want source, job", c)
	}
	for _, name := range []string{"slo_results", "sla_daily", "alerts", "source_health", "checkpoints", "silences"} {
		if _, ok := srv.Table(testDataset, name); !ok {
			t.Errorf("table %s not created", name)
		}
	}
	view, ok := srv.Table(testDataset, "job_runs_latest")
	if !ok || view.Type != "VIEW" || view.View == nil || !strings.Contains(view.View.Query, "ROW_NUMBER()") {
		t.Errorf("job_runs_latest = %+v, want a view", view)
	}

	// A second start changes nothing.
	inserts, patches := srv.Calls("tables.insert"), srv.Calls("tables.patch")
	open(t, testConfig(srv, nil))
	if srv.Calls("tables.insert") != inserts || srv.Calls("tables.patch") != patches {
		t.Errorf("a second start created or patched tables")
	}
}

func TestNewAddsMissingColumnsAndNeverChangesExistingOnes(t *testing.T) {
	srv := newFake(t)
	ctx := context.Background()
	client, err := bigquery.NewClient(ctx, testProject, option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// An older kant's source_health: no *_ns columns, and a column of the
	// operator's own.
	old := bigquery.Schema{
		{Name: "source", Type: bigquery.StringFieldType, Required: true},
		{Name: "last_success", Type: bigquery.TimestampFieldType},
		{Name: "note", Type: bigquery.StringFieldType},
	}
	if err := client.Dataset(testDataset).Table("source_health").Create(ctx, &bigquery.TableMetadata{Schema: old}); err != nil {
		t.Fatal(err)
	}
	s := open(t, testConfig(srv, nil))
	md, _ := srv.Table(testDataset, "source_health")
	var names []string
	for _, f := range md.Schema.Fields {
		names = append(names, f.Name+":"+f.Mode)
	}
	want := []string{"source:REQUIRED", "last_success:", "note:", "last_attempt:", "last_error:",
		"consecutive_failures:", "last_success_ns:", "last_attempt_ns:"}
	if !slices.Equal(names, want) {
		t.Errorf("source_health columns = %v, want %v", names, want)
	}
	if err := s.RecordPoll(ctx, "hegel", t0, ""); err != nil {
		t.Fatalf("RecordPoll on the migrated table: %v", err)
	}

	// A column of another type than kant expects stops the start.
	srv2 := newFake(t)
	client2, _ := bigquery.NewClient(ctx, testProject, option.WithEndpoint(srv2.URL), option.WithoutAuthentication())
	defer client2.Close()
	if err := client2.Dataset(testDataset).Table("checkpoints").Create(ctx, &bigquery.TableMetadata{Schema: bigquery.Schema{
		{Name: "source", Type: bigquery.StringFieldType}, {Name: "seq", Type: bigquery.StringFieldType},
	}}); err != nil {
		t.Fatal(err)
	}
	_, err = New(ctx, testConfig(srv2, nil))
	if err == nil || !strings.Contains(err.Error(), "column seq is STRING, kant expects INTEGER") {
		t.Errorf("New over a changed column: %v", err)
	}
}

func observation(job kant.JobKey, id string, state kant.State, observed time.Time) kant.Run {
	return kant.Run{Source: job.Source(), Job: job, RunID: id, Attempt: 1, State: state, StartedAt: t0, ObservedAt: observed}
}

func TestTwoReplicasWritingTheSameObservationStoreItOnce(t *testing.T) {
	srv := newFake(t)
	a, b := open(t, testConfig(srv, nil)), open(t, testConfig(srv, nil))
	r := observation("hegel/export", "jr_1", kant.StateRunning, t0.Add(time.Minute))
	// Both replicas ask which observations are stored before either
	// writes, as they would when polling the same source at once.
	var wg sync.WaitGroup
	release := make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(2)
	srv.OnInsertAll(func(_, table string, _ []string) {
		if table == "job_runs" {
			arrived.Done()
			<-release
		}
	})
	for _, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.WriteRuns(context.Background(), []kant.Run{r}); err != nil {
				t.Errorf("WriteRuns: %v", err)
			}
		}()
	}
	arrived.Wait()
	close(release)
	wg.Wait()
	if n, err := srv.Count(testDataset, "job_runs"); err != nil || n != 1 {
		t.Errorf("job_runs holds %d rows (%v), want 1", n, err)
	}
	got, err := a.LatestRuns(context.Background(), kant.RunFilter{})
	if err != nil || len(got) != 1 {
		t.Errorf("LatestRuns = %v, %v; want the one run", got, err)
	}
}

func TestARetriedInsertWhoseFirstAttemptWasStoredStoresNothingTwice(t *testing.T) {
	srv := newFake(t)
	sl := &sleeps{}
	s := open(t, testConfig(srv, sl))
	first := true
	srv.SetFault(func(op string) *fakebq.Fault {
		if op == "tabledata.insertAll" && first {
			first = false
			return &fakebq.Fault{Code: http.StatusForbidden, Reason: "quotaExceeded", AfterWrite: true}
		}
		return nil
	})
	r := observation("hegel/export", "jr_1", kant.StateRunning, t0.Add(time.Minute))
	got, err := s.WriteRuns(context.Background(), []kant.Run{r})
	if err != nil || len(got) != 1 {
		t.Fatalf("WriteRuns = %v, %v; want the run, stored", got, err)
	}
	if n := srv.Calls("tabledata.insertAll"); n != 2 {
		t.Errorf("%d insertAll calls, want 2 (one retry)", n)
	}
	if n, _ := srv.Count(testDataset, "job_runs"); n != 1 {
		t.Errorf("job_runs holds %d rows, want 1", n)
	}
	if !slices.Equal(sl.d, []time.Duration{time.Second}) {
		t.Errorf("waited %v before the retry, want [1s]", sl.d)
	}
}

func TestAFlushThatKeepsFailingIsReturnedAndNothingIsStored(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    fakebq.Fault
		attempts int
		waits    []time.Duration
	}{
		{"a quota error is retried with backoff, then returned", fakebq.Fault{Code: http.StatusForbidden, Reason: "quotaExceeded"},
			5, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{"a request BigQuery refuses is returned at once", fakebq.Fault{Code: http.StatusBadRequest, Reason: "invalid"}, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t)
			sl := &sleeps{}
			s := open(t, testConfig(srv, sl))
			srv.SetFault(func(op string) *fakebq.Fault {
				if op == "tabledata.insertAll" {
					f := tc.fault
					return &f
				}
				return nil
			})
			_, err := s.WriteRuns(context.Background(), []kant.Run{observation("hegel/export", "jr_1", kant.StateRunning, t0)})
			if err == nil || !strings.Contains(err.Error(), tc.fault.Reason) {
				t.Errorf("WriteRuns error = %v, want the %s error", err, tc.fault.Reason)
			}
			if Retryable(err) != (tc.attempts > 1) {
				t.Errorf("Retryable(%v) = %v", err, Retryable(err))
			}
			if n := srv.Calls("tabledata.insertAll"); n != tc.attempts {
				t.Errorf("%d insertAll calls, want %d", n, tc.attempts)
			}
			if !slices.Equal(sl.d, tc.waits) {
				t.Errorf("waits %v, want %v", sl.d, tc.waits)
			}
			srv.SetFault(nil)
			if got, err := s.LatestRuns(context.Background(), kant.RunFilter{}); err != nil || len(got) != 0 {
				t.Errorf("stored after a failed write: %v, %v", got, err)
			}
		})
	}
}

func TestAnInvalidRowIsReportedByBigQueryAndStopsTheWholeRequest(t *testing.T) {
	srv := newFake(t)
	s := open(t, testConfig(srv, nil))
	good := observation("hegel/export", "jr_1", kant.StateRunning, t0)
	rows := []*runRow{}
	for i, r := range []kant.Run{good, observation("hegel/export", "jr_2", kant.StateRunning, t0)} {
		row, err := encodeRun(i, r)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	rows[1].vals["attempt"] = "one" // not an INT64
	err := s.commit.write(context.Background(), rows)
	var pm bigquery.PutMultiError
	if !errors.As(err, &pm) || len(pm) != 2 || Retryable(err) {
		t.Fatalf("write = %v, want a PutMultiError for both rows, not retryable", err)
	}
	if n, _ := srv.Count(testDataset, "job_runs"); n != 0 {
		t.Errorf("job_runs holds %d rows after a refused request, want 0", n)
	}
}

// queued returns how many callers' batches wait in the committer.
func (c *committer) queuedBatches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

func TestConcurrentWritersShareOneInsertWhileAnotherIsInFlight(t *testing.T) {
	srv := newFake(t)
	s := open(t, testConfig(srv, nil))
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	srv.OnInsertAll(func(_, table string, _ []string) {
		if table != "job_runs" {
			return
		}
		select {
		case started <- struct{}{}:
			<-release // hold the first insert
		default:
		}
	})
	var wg sync.WaitGroup
	write := func(id string) {
		defer wg.Done()
		got, err := s.WriteRuns(context.Background(), []kant.Run{observation("hegel/export", id, kant.StateRunning, t0)})
		if err != nil || len(got) != 1 {
			t.Errorf("WriteRuns %s = %v, %v", id, got, err)
		}
	}
	wg.Add(1)
	go write("jr_1")
	<-started
	wg.Add(2)
	go write("jr_2")
	go write("jr_3")
	for s.commit.queuedBatches() < 2 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	var sizes []int
	for _, in := range srv.Inserts() {
		if in.Table == "job_runs" {
			sizes = append(sizes, len(in.InsertIDs))
		}
	}
	if !slices.Equal(sizes, []int{1, 2}) {
		t.Errorf("insertAll row counts %v, want [1 2]: the two queued writers in one request", sizes)
	}
	got, _ := s.LatestRuns(context.Background(), kant.RunFilter{})
	if len(got) != 3 {
		t.Errorf("%d runs stored, want 3", len(got))
	}
}

func TestAWriterWhoseContextEndsWhileQueuedStoresNothing(t *testing.T) {
	srv := newFake(t)
	s := open(t, testConfig(srv, nil))
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	srv.OnInsertAll(func(_, table string, _ []string) {
		select {
		case started <- struct{}{}:
			<-release
		default:
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := s.WriteRuns(context.Background(), []kant.Run{observation("hegel/export", "jr_1", kant.StateRunning, t0)})
		done <- err
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	queuedErr := make(chan error, 1)
	go func() {
		_, err := s.WriteRuns(ctx, []kant.Run{observation("hegel/export", "jr_2", kant.StateRunning, t0)})
		queuedErr <- err
	}()
	for s.commit.queuedBatches() < 1 {
		runtime.Gosched()
	}
	cancel()
	if err := <-queuedErr; !errors.Is(err, context.Canceled) {
		t.Errorf("queued writer: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first writer: %v", err)
	}
	got, _ := s.LatestRuns(context.Background(), kant.RunFilter{})
	if len(got) != 1 || got[0].RunID != "jr_1" {
		t.Errorf("stored %v, want only jr_1", got)
	}
}

func TestLongResultsAreReadPageByPage(t *testing.T) {
	srv := newFake(t)
	s := open(t, testConfig(srv, nil))
	srv.SetPageSize(2)
	var runs []kant.Run
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		runs = append(runs, observation("hegel/export", id, kant.StateRunning, t0))
	}
	if _, err := s.WriteRuns(context.Background(), runs); err != nil {
		t.Fatal(err)
	}
	got, err := s.LatestRuns(context.Background(), kant.RunFilter{})
	if err != nil || len(got) != 5 {
		t.Fatalf("LatestRuns = %d runs, %v; want 5", len(got), err)
	}
	if srv.Calls("jobs.getQueryResults") < 2 {
		t.Errorf("%d getQueryResults calls, want the later pages read", srv.Calls("jobs.getQueryResults"))
	}
}

func TestTheFakeRefusesWhatBigQueryWould(t *testing.T) {
	srv := newFake(t)
	s := open(t, testConfig(srv, nil))
	ctx := context.Background()
	if _, err := s.WriteRuns(ctx, []kant.Run{observation("hegel/export", "jr_1", kant.StateRunning, t0)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sql string
		params    []bigquery.QueryParameter
		want      string
		location  string
	}{
		{name: "a query in another location than the dataset's", sql: "SELECT job FROM " + s.table("job_runs"), location: "US",
			want: "Not found: Dataset kant-test:kant was not found in location US"},
		{"DML over rows in the streaming buffer", "DELETE FROM " + s.table("job_runs") + " WHERE TRUE", nil, "streaming buffer", ""},
		{"an undeclared parameter", "SELECT job FROM " + s.table("job_runs") + " WHERE job = @job", nil, "Query parameter 'job' not found", ""},
		{"a parameter that is not its type", "SELECT @n AS n", []bigquery.QueryParameter{{Name: "n", Value: civilDate(kant.Date{Year: 2026, Month: 13, Day: 1})}}, "invalid date", ""},
		{"SQLite's upsert", "INSERT OR REPLACE INTO " + s.table("checkpoints") + " (source) VALUES ('x')", nil, "not GoogleSQL", ""},
		{"QUALIFY, which SQLite cannot run", "SELECT job FROM " + s.table("job_runs") + " QUALIFY ROW_NUMBER() OVER (PARTITION BY job) = 1", nil, "not GoogleSQL", ""},
		{"an unknown table", "SELECT 1 AS one FROM `kant-test.kant.nope`", nil, "Not found: Table kant-test:kant.nope", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.attempts = 1
			s.location = testLocation
			if tc.location != "" {
				s.location = tc.location
			}
			_, err := s.query(ctx, tc.sql, tc.params)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("query: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestALeaderWaitsFlushIntervalForMoreRowsBeforeSending(t *testing.T) {
	srv := newFake(t)
	sl := &sleeps{}
	cfg := testConfig(srv, sl)
	cfg.FlushInterval = 50 * time.Millisecond
	s := open(t, cfg)
	if _, err := s.WriteRuns(context.Background(), []kant.Run{observation("hegel/export", "jr_1", kant.StateRunning, t0)}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sl.d, []time.Duration{50 * time.Millisecond}) {
		t.Errorf("waits %v, want one FlushInterval", sl.d)
	}
}

func TestWriteSequenceNumbersNeverGoBackwards(t *testing.T) {
	srv := newFake(t)
	s := open(t, testConfig(srv, nil)) // the clock stands still at t0
	first := s.nextSeq(3)
	second := s.nextSeq(1)
	if first != t0.UnixNano() || second != first+3 {
		t.Errorf("sequences %d then %d, want %d then %d", first, second, t0.UnixNano(), t0.UnixNano()+3)
	}
	if _, err := s.WriteRuns(context.Background(), []kant.Run{observation("hegel/export", "jr_1", kant.StateRunning, t0)}); err != nil {
		t.Fatal(err)
	}
	// A restarted writer whose clock is behind continues after the stored
	// sequence.
	cfg := testConfig(srv, nil)
	cfg.Now = func() time.Time { return t0.Add(-time.Hour) }
	restarted := open(t, cfg)
	if got := restarted.nextSeq(1); got <= second+1 {
		t.Errorf("after a restart with a slow clock: sequence %d, want more than %d", got, second+1)
	}
}

func TestAFullBufferMakesWritersWaitForRoom(t *testing.T) {
	srv := newFake(t)
	cfg := testConfig(srv, nil)
	cfg.MaxBuffer = 1
	s := open(t, cfg)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	srv.OnInsertAll(func(_, table string, _ []string) {
		select {
		case started <- struct{}{}:
			<-release
		default:
		}
	})
	var wg sync.WaitGroup
	write := func(id string) {
		defer wg.Done()
		if _, err := s.WriteRuns(context.Background(), []kant.Run{observation("hegel/export", id, kant.StateRunning, t0)}); err != nil {
			t.Errorf("WriteRuns %s: %v", id, err)
		}
	}
	wg.Add(1)
	go write("jr_1")
	<-started // jr_1 is being sent
	wg.Add(1)
	go write("jr_2")
	for s.commit.queuedBatches() < 1 {
		runtime.Gosched()
	}
	wg.Add(1)
	go write("jr_3")
	for {
		s.commit.mu.Lock()
		w := s.commit.waiting
		s.commit.mu.Unlock()
		if w == 1 {
			break
		}
		runtime.Gosched()
	}
	if n := s.commit.queuedBatches(); n != 1 {
		t.Errorf("%d batches queued with a buffer of one row, want 1", n)
	}
	close(release)
	wg.Wait()
	var sizes []int
	for _, in := range srv.Inserts() {
		if in.Table == "job_runs" {
			sizes = append(sizes, len(in.InsertIDs))
		}
	}
	if !slices.Equal(sizes, []int{1, 1, 1}) {
		t.Errorf("insertAll row counts %v, want [1 1 1]: no request over the buffer", sizes)
	}
}

func TestQueryJobErrorsAreClassed(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a transaction aborted by a concurrent update is retried",
			&bigquery.Error{Reason: "invalidQuery", Message: "Transaction is aborted due to concurrent update against table p.kant.source_health."}, true},
		{"a backend error of the job is retried", &bigquery.Error{Reason: "backendError", Message: "Backend error"}, true},
		{"a job rate limit is retried", &bigquery.Error{Reason: "jobRateLimitExceeded"}, true},
		{"an invalid query is not retried", &bigquery.Error{Reason: "invalidQuery", Message: "Syntax error"}, false},
		{"a 400 aborting a transaction for a concurrent update is retried",
			&googleapi.Error{Code: 400, Message: "Transaction is aborted due to concurrent update against table x"}, true},
		{"a plain 400 is not retried", &googleapi.Error{Code: 400, Message: "Invalid value"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Retryable(fmt.Errorf("wrapped: %w", tc.err)); got != tc.want {
				t.Errorf("Retryable = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTheFakeRunsMergeAsBigQueryDoes checks the fake's MERGE on the leases
// table: the first WHEN MATCHED clause that holds applies, unmatched source
// rows are inserted, @@row_count counts both, and a target row matched by
// two source rows is an error that changes nothing.
func TestTheFakeRunsMergeAsBigQueryDoes(t *testing.T) {
	s := open(t, testConfig(newFake(t), nil))
	ctx := context.Background()
	s.attempts = 1
	tbl := s.table("leases")
	insert := `INSERT INTO ` + tbl + ` (name, holder, generation, since, expires, since_ns, expires_ns)
VALUES ('a', 'x', 1, TIMESTAMP_MICROS(0), TIMESTAMP_MICROS(0), 0, 0), ('b', 'x', 5, TIMESTAMP_MICROS(0), TIMESTAMP_MICROS(0), 0, 0)`
	if _, err := s.query(ctx, insert, nil); err != nil {
		t.Fatal(err)
	}
	merge := `MERGE ` + tbl + ` AS l
USING (SELECT 'a' AS name UNION ALL SELECT 'b' AS name UNION ALL SELECT 'c' AS name) AS n
ON l.name = n.name
WHEN MATCHED AND l.generation > 2 THEN UPDATE SET holder = 'big'
WHEN MATCHED THEN UPDATE SET holder = CASE WHEN l.generation = 1 THEN 'one' ELSE 'other' END
WHEN NOT MATCHED BY TARGET THEN INSERT (name, holder, generation, since, expires, since_ns, expires_ns)
  VALUES (n.name, 'new', 1, TIMESTAMP_MICROS(0), TIMESTAMP_MICROS(0), 0, 0);
SELECT @@row_count AS n`
	rows, err := s.query(ctx, merge, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || asInt(rows[0][0]) != 3 {
		t.Errorf("@@row_count after the MERGE = %v, want 3", rows)
	}
	got, err := s.query(ctx, `SELECT name, holder FROM `+tbl+` ORDER BY name`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[[a one] [b big] [c new]]" {
		t.Errorf("after the MERGE: %v, want a one, b big, c new", got)
	}
	dup := `MERGE ` + tbl + ` AS l USING (SELECT 'a' AS name UNION ALL SELECT 'a' AS name) AS n ON l.name = n.name
WHEN MATCHED THEN UPDATE SET holder = 'twice'`
	if _, err := s.query(ctx, dup, nil); err == nil || !strings.Contains(err.Error(), "at most one source row") {
		t.Errorf("a target row matched twice: %v, want BigQuery's error", err)
	}
	if got, _ := s.query(ctx, `SELECT holder FROM `+tbl+` WHERE name = 'a'`, nil); fmt.Sprint(got) != "[[one]]" {
		t.Errorf("the refused MERGE changed a to %v", got)
	}
}
