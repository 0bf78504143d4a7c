package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	logpb "cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kantproject/kant/store/bigquery/bqtest"
)

// fakeLogging is an in-process Cloud Logging API (LoggingServiceV2) that
// keeps the run IDs of the entries written to it, or refuses every write.
type fakeLogging struct {
	logpb.UnimplementedLoggingServiceV2Server
	refuse bool
	mu     sync.Mutex
	runIDs []string
}

func (f *fakeLogging) WriteLogEntries(_ context.Context, req *logpb.WriteLogEntriesRequest) (*logpb.WriteLogEntriesResponse, error) {
	if f.refuse {
		return nil, status.Error(codes.PermissionDenied, "logging.logEntries.create denied")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range req.Entries {
		if id := e.GetJsonPayload().GetFields()["run_id"].GetStringValue(); id != "" {
			f.runIDs = append(f.runIDs, id)
		}
	}
	return &logpb.WriteLogEntriesResponse{}, nil
}

func startLogging(t *testing.T, f *fakeLogging) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	logpb.RegisterLoggingServiceV2Server(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func importWithExport(t *testing.T, f *fakeLogging, lines ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "kant.yaml")
	yaml := "store:\n  sqlite: {path: " + filepath.Join(dir, "kant.db") + "}\nexport:\n  cloud_logging: {project: kant-test}\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "runs.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{EnvCloudLoggingEmulator: startLogging(t, f)}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"import", "-config", cfgPath, file}, env(vars), nil, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func runLine(id, state string) string {
	return `{"source":"onprem","job":"load","run_id":"` + id + `","state":"` + state + `","started_at":"2026-06-01T01:00:00Z","finished_at":"2026-06-01T02:00:00Z"}`
}

// TestAnImportExportsItsNewObservations is the defect of issue 12: kant
// import wired its own store and skipped the Cloud Logging export that
// every other way in has.
func TestAnImportExportsItsNewObservations(t *testing.T) {
	f := &fakeLogging{}
	code, stdout, stderr := importWithExport(t, f, runLine("1", "succeeded"), runLine("2", "failed"), runLine("2", "failed"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "3 observations read, 2 new") {
		t.Errorf("stdout %q", stdout)
	}
	// Close flushed the export before the command returned.
	slices.Sort(f.runIDs)
	if !slices.Equal(f.runIDs, []string{"1", "2"}) {
		t.Errorf("exported run observations %v, want the 2 new ones", f.runIDs)
	}
}

// TestAnExportThatCannotFlushFailsTheCommand is the defect of issue 12:
// a command run once exited 0 when the Cloud Logging flush failed, so a
// cron job never saw it.
func TestAnExportThatCannotFlushFailsTheCommand(t *testing.T) {
	code, _, stderr := importWithExport(t, &fakeLogging{refuse: true}, runLine("1", "succeeded"))
	if code != exitFail || !strings.Contains(stderr, "flush the Cloud Logging export") {
		t.Errorf("exit %d, stderr %q; want 1 and the flush failure", code, stderr)
	}
}

// TestCollectOnceFailsWhenItsExportCannotFlush is the defect of issue 12:
// `kant collect -once` exited 0 when the Cloud Logging flush at its end
// failed (the error of Close was dropped), so a cron job never saw it.
func TestCollectOnceFailsWhenItsExportCannotFlush(t *testing.T) {
	const token = "s3cr3t-airflow-token"
	srv := fakeAirflow3(t, token)
	config := func(t *testing.T) string {
		dir := t.TempDir() // a store of its own: every run polls one new observation
		path := filepath.Join(dir, "kant.yaml")
		yaml := `store:
  sqlite: {path: ` + filepath.Join(dir, "kant.db") + `}
export:
  cloud_logging: {project: kant-test}
sources:
  - name: socrates
    type: airflow
    url: ` + srv.URL + `
    auth: bearer
    token: ${AIRFLOW_TOKEN}
    dags: ["daily_*"]
`
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name   string
		refuse bool
		code   int
	}{
		{"an export that gets out leaves collect -once at 0", false, exitOK},
		{"an export refused at the flush makes collect -once exit 1", true, exitFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeLogging{refuse: tc.refuse}
			vars := map[string]string{"AIRFLOW_TOKEN": token, EnvCloudLoggingEmulator: startLogging(t, f)}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"collect", "-once", "-config", config(t)}, env(vars), nil, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout %s\nstderr %s", code, tc.code, stdout.String(), stderr.String())
			}
			if tc.refuse && !strings.Contains(stderr.String(), "flush the Cloud Logging export") {
				t.Errorf("stderr does not say the export failed: %s", stderr.String())
			}
			if !tc.refuse && len(f.runIDs) == 0 {
				t.Error("the polled run was not exported")
			}
		})
	}
}

// TestAnImportWithABigQueryExportKeepsTheBITablesOnce: with the store on
// SQLite, export.bigquery writes the new observations and the evaluation
// to the BigQuery tables, and importing the same file again (another
// replica, a retried cron job) adds nothing there.
func TestAnImportWithABigQueryExportKeepsTheBITablesOnce(t *testing.T) {
	bq := bqtest.New(t, "kant-test", "kant_bi", "asia-northeast1")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "kant.yaml")
	yaml := "store:\n  sqlite: {path: " + filepath.Join(dir, "kant.db") + "}\n" +
		"export:\n  bigquery: {project: kant-test, dataset: kant_bi, location: asia-northeast1}\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "runs.jsonl")
	if err := os.WriteFile(file, []byte(runLine("1", "succeeded")+"\n"+runLine("2", "failed")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{EnvBigQueryEmulator: bq.URL}
	counts := func() (runs, results, days int) {
		t.Helper()
		var err error
		for _, c := range []struct {
			table string
			n     *int
		}{{"job_runs", &runs}, {"slo_results", &results}, {"sla_daily", &days}} {
			if *c.n, err = bq.Count("kant_bi", c.table); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	var first [3]int
	for i := range 2 {
		// The second import starts from an empty SQLite file (another
		// replica's, a new leader's): it sends the same rows again.
		if i == 1 {
			if err := os.Remove(filepath.Join(dir, "kant.db")); err != nil {
				t.Fatal(err)
			}
		}
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"import", "-config", cfgPath, file}, env(vars), nil, &stdout, &stderr); code != 0 {
			t.Fatalf("import %d: exit %d: %s", i+1, code, stderr.String())
		}
		runs, results, days := counts()
		if runs != 2 || results == 0 || days == 0 {
			t.Errorf("after import %d BigQuery holds %d observations, %d results, %d days; want 2 and some of each", i+1, runs, results, days)
		}
		if i == 0 {
			first = [3]int{runs, results, days}
		} else if got := [3]int{runs, results, days}; got != first {
			t.Errorf("the second import changed the BigQuery row counts from %v to %v", first, got)
		}
	}
}
