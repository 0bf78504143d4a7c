package cloudlogging

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	logpb "cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/api/option"
	ltype "google.golang.org/genproto/googleapis/logging/type"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kantproject/kant"
)

// fakeLogging is an in-process LoggingServiceV2 that records what is
// written.
type fakeLogging struct {
	logpb.UnimplementedLoggingServiceV2Server
	mu       sync.Mutex
	requests []*logpb.WriteLogEntriesRequest
	got      chan struct{} // one token per request
}

func (f *fakeLogging) WriteLogEntries(ctx context.Context, req *logpb.WriteLogEntriesRequest) (*logpb.WriteLogEntriesResponse, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	f.got <- struct{}{}
	return &logpb.WriteLogEntriesResponse{}, nil
}

// entry is a written entry with the log it went to.
type entry struct {
	logName string
	*logpb.LogEntry
}

// entries returns the entries written to logID, in order.
func (f *fakeLogging) entries(logID string) []entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []entry
	for _, req := range f.requests {
		for _, e := range req.Entries {
			name := e.LogName
			if name == "" {
				name = req.LogName
			}
			if strings.HasSuffix(name, "/logs/"+logID) { // not the client's diagnostic entry
				out = append(out, entry{name, e})
			}
		}
	}
	return out
}

// requestLabels returns the labels of every request.
func (f *fakeLogging) requestLabels() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]string
	for _, req := range f.requests {
		out = append(out, req.Labels)
	}
	return out
}

func startFake(t *testing.T) (*fakeLogging, string) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLogging{got: make(chan struct{}, 100)}
	srv := grpc.NewServer()
	logpb.RegisterLoggingServiceV2Server(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return f, lis.Addr().String()
}

func newExporter(t *testing.T, addr string, cfg Config) *Exporter {
	cfg.Project = "kant-test"
	cfg.ClientOptions = []option.ClientOption{
		option.WithEndpoint(addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var t0 = time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)

func run(id string, state kant.State) kant.Run {
	return kant.Run{Source: "hegel", Job: "hegel/export", RunID: id, Attempt: 1, State: state, SourceState: strings.ToUpper(string(state)),
		LogicalDate: kant.Date{Year: 2026, Month: 6, Day: 1}, StartedAt: t0, ObservedAt: t0.Add(time.Minute),
		Attributes: map[string]string{"--target_date": "2026-05-31"}}
}

func TestObservationsAreWrittenWithLabelsSeverityAndPayload(t *testing.T) {
	f, addr := startFake(t)
	e := newExporter(t, addr, Config{LogID: "kant-runs", CommonLabels: map[string]string{"env": "test"}, DelayThreshold: time.Hour})
	failed := run("jr_2", kant.StateFailed)
	failed.FinishedAt, failed.ErrorMessage = t0.Add(90*time.Second), "boom"
	e.Observe(context.Background(), []kant.Run{run("jr_1", kant.StateRunning), failed, run("jr_3", kant.StateSkipped)})
	if err := e.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	got := f.entries("kant-runs")
	if len(got) != 3 {
		t.Fatalf("%d entries, want 3", len(got))
	}
	for i, tc := range []struct {
		runID    string
		severity ltype.LogSeverity
		state    string
	}{
		{"jr_1", ltype.LogSeverity_INFO, "running"},
		{"jr_2", ltype.LogSeverity_ERROR, "failed"},
		{"jr_3", ltype.LogSeverity_INFO, "skipped"},
	} {
		g := got[i]
		if g.logName != "projects/kant-test/logs/kant-runs" {
			t.Errorf("[%d] log %q", i, g.logName)
		}
		if g.Severity != tc.severity {
			t.Errorf("[%d] severity %v, want %v", i, g.Severity, tc.severity)
		}
		labels := g.Labels
		want := map[string]string{"kind": "run", "source": "hegel", "job": "hegel/export", "state": tc.state}
		for k, v := range want {
			if labels[k] != v {
				t.Errorf("[%d] label %s = %q, want %q (labels %v)", i, k, labels[k], v, labels)
			}
		}
		p := g.GetJsonPayload().GetFields()
		if p["run_id"].GetStringValue() != tc.runID || p["kind"].GetStringValue() != "run" ||
			p["logical_date"].GetStringValue() != "2026-06-01" || p["observed_at"].GetStringValue() != "2026-06-01T01:01:00Z" ||
			p["attributes"].GetStructValue().GetFields()["--target_date"].GetStringValue() != "2026-05-31" {
			t.Errorf("[%d] payload %v", i, p)
		}
		if !g.Timestamp.AsTime().Equal(t0.Add(time.Minute)) {
			t.Errorf("[%d] timestamp %v, want the observation time", i, g.Timestamp.AsTime())
		}
		if g.InsertId == "" || g.Operation.GetId() != "hegel/export/"+tc.runID+"#1" {
			t.Errorf("[%d] insert ID %q, operation %v", i, g.InsertId, g.Operation)
		}
	}
	if p := got[1].GetJsonPayload().GetFields(); p["error_message"].GetStringValue() != "boom" || p["duration_s"].GetNumberValue() != 90 {
		t.Errorf("failed run payload %v", p)
	}
	// Common labels travel with the request (or the entries).
	found := false
	for _, l := range f.requestLabels() {
		found = found || l["env"] == "test"
	}
	for _, g := range got {
		found = found || g.Labels["env"] == "test"
	}
	if !found {
		t.Error("the common label env=test was not written")
	}
}

func TestVerdictsAreWrittenOncePerChangeWithWarningsForLateAndMissed(t *testing.T) {
	f, addr := startFake(t)
	e := newExporter(t, addr, Config{LogID: "kant-verdicts", DelayThreshold: time.Hour})
	res := func(job kant.JobKey, v kant.Verdict) kant.Result {
		return kant.Result{Occurrence: kant.Occurrence{SLO: "hegel-nightly", Job: job, Date: kant.Date{Year: 2026, Month: 6, Day: 1},
			ExpectedAt: t0, Deadline: t0.Add(5 * time.Hour)}, Verdict: v, EvaluatedAt: t0.Add(6 * time.Hour)}
	}
	missed := res("hegel/b", kant.VerdictMissed)
	missed.Reason = kant.ReasonFailed
	ctx := context.Background()
	e.ExportResults(ctx, []kant.Result{res("hegel/a", kant.VerdictMet), missed, res("hegel/c", kant.VerdictPending)})
	// The next tick: nothing changed but hegel/c, which became late.
	late := res("hegel/c", kant.VerdictLate)
	late.SucceededAt, late.Lateness = t0.Add(5*time.Hour+time.Minute), time.Minute
	e.ExportResults(ctx, []kant.Result{res("hegel/a", kant.VerdictMet), missed, late})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	got := f.entries("kant-verdicts")
	var summary []string
	for _, g := range got {
		summary = append(summary, g.Labels["job"]+" "+g.Labels["verdict"]+" "+g.Severity.String()+" "+g.Labels["slo"]+" "+g.Labels["source"])
	}
	want := []string{
		"hegel/a met INFO hegel-nightly hegel",
		"hegel/b missed WARNING hegel-nightly hegel",
		"hegel/c pending INFO hegel-nightly hegel",
		"hegel/c late WARNING hegel-nightly hegel",
	}
	if !slices.Equal(summary, want) {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
	if len(got) == 4 {
		p := got[3].GetJsonPayload().GetFields()
		if p["lateness_s"].GetNumberValue() != 60 || p["succeeded_at"].GetStringValue() != "2026-06-01T06:01:00Z" || p["kind"].GetStringValue() != "verdict" {
			t.Errorf("late payload %v", p)
		}
		if p := got[1].GetJsonPayload().GetFields(); p["reason"].GetStringValue() != "failed" {
			t.Errorf("missed payload %v", p)
		}
	}
}

func TestAfterARestartSeededVerdictsAreNotWrittenAgain(t *testing.T) {
	f, addr := startFake(t)
	e := newExporter(t, addr, Config{LogID: "kant-restart", DelayThreshold: time.Hour})
	res := func(job kant.JobKey, v kant.Verdict) kant.Result {
		return kant.Result{Occurrence: kant.Occurrence{SLO: "hegel-nightly", Job: job, Date: kant.Date{Year: 2026, Month: 6, Day: 1},
			ExpectedAt: t0, Deadline: t0.Add(5 * time.Hour)}, Verdict: v, EvaluatedAt: t0.Add(6 * time.Hour)}
	}
	// What the store held before the restart.
	e.Seed([]kant.Result{res("hegel/a", kant.VerdictMet), res("hegel/b", kant.VerdictPending)})
	// The first evaluation after the restart judges both again; only b changed.
	e.ExportResults(context.Background(), []kant.Result{res("hegel/a", kant.VerdictMet), res("hegel/b", kant.VerdictMissed)})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	got := f.entries("kant-restart")
	if len(got) != 1 || got[0].Labels["job"] != "hegel/b" || got[0].Labels["verdict"] != "missed" {
		t.Errorf("%d entries (%v), want only hegel/b's new verdict", len(got), got)
	}
}

func TestEntriesAreBatchedAndTheRestFlushedOnClose(t *testing.T) {
	f, addr := startFake(t)
	e := newExporter(t, addr, Config{LogID: "kant-batch", EntryCountThreshold: 2, DelayThreshold: time.Hour})
	var runs []kant.Run
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		runs = append(runs, run(id, kant.StateSucceeded))
	}
	e.Observe(context.Background(), runs)
	// Two full batches go out without waiting for the hour.
	<-f.got
	<-f.got
	if n := len(f.entries("kant-batch")); n != 4 {
		t.Errorf("before Close: %d entries written, want 4 (two batches of 2)", n)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	got := f.entries("kant-batch")
	var ids []string
	for _, g := range got {
		ids = append(ids, g.GetJsonPayload().GetFields()["run_id"].GetStringValue())
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("after Close: runs %v, want all five", ids)
	}
	f.mu.Lock()
	for i, req := range f.requests {
		n := 0
		for _, en := range req.Entries {
			name := en.LogName
			if name == "" {
				name = req.LogName
			}
			if strings.HasSuffix(name, "/kant-batch") {
				n++
			}
		}
		if n > 2 {
			t.Errorf("request %d carried %d entries, over the threshold of 2", i, n)
		}
	}
	f.mu.Unlock()
	// Writing after Close drops the entry rather than panicking.
	e.Observe(context.Background(), runs[:1])
}

func TestAProjectIsRequired(t *testing.T) {
	if _, err := New(context.Background(), Config{}); err == nil || !strings.Contains(err.Error(), "project is required") {
		t.Errorf("New without a project: %v", err)
	}
}
