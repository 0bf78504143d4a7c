package telemetry_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/telemetry"
)

// The recorders fit the interfaces their consumers declare.
var (
	_ collector.Observer = (*telemetry.Metrics)(nil)
	_ evaluator.Metrics  = (*telemetry.Evaluations)(nil)
	_ alert.Metrics      = (*telemetry.Metrics)(nil)
)

// stepClock advances by step on every reading, so that every measured
// duration is a known multiple of step.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

var t0 = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)

func newTelemetry(t *testing.T, cfg telemetry.Config) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	return tel
}

func date(s string) kant.Date {
	d, err := kant.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func result(job, day string, v kant.Verdict) kant.Result {
	return kant.Result{Occurrence: kant.Occurrence{SLO: "hegel-nightly", Job: kant.JobKey(job), Date: date(day)}, Verdict: v}
}

// scrape returns the /metrics body.
func scrape(t *testing.T, tel *telemetry.Telemetry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// recordKnownSet records a known set of measurements through every entry
// point, each poll lasting 2 clock steps of 1.5s (3s).
func recordKnownSet(t *testing.T, tel *telemetry.Telemetry, clock *stepClock) {
	t.Helper()
	ctx := context.Background()
	m := tel.Metrics()

	// Each cycle takes one clock step, as the engine measures it.
	polled := func(source string, err error) {
		start := clock.now()
		m.Polled(ctx, source, start, clock.now().Sub(start), err)
	}
	polled("hegel", nil)
	polled("hegel", errors.New("glue get job runs \"x\": throttled"))
	polled("socrates", nil)

	m.Observe(ctx, []kant.Run{{Source: "hegel"}, {Source: "hegel"}, {Source: "onprem"}})
	m.Observe(ctx, []kant.Run{{Source: "hegel"}})

	m.Evaluations(7*24*time.Hour).Evaluated(ctx, kant.Evaluation{SLO: "hegel-nightly", From: date("2026-05-25"), To: date("2026-06-02"),
		Results: []kant.Result{
			result("hegel/a", "2026-05-31", kant.VerdictMet),
			result("hegel/b", "2026-05-31", kant.VerdictLate),
			result("hegel/a", "2026-06-01", kant.VerdictMissed),
			result("hegel/b", "2026-06-01", kant.VerdictPending),
			result("hegel/a", "2026-06-02", kant.VerdictPending),
		}}, 1500*time.Millisecond, nil)

	m.AlertDelivered(ctx, "missed", nil)
	m.AlertDelivered(ctx, "missed", nil)
	m.AlertDelivered(ctx, "failed", errors.New("slack: 500"))

	// The gate reports each answer (gate.Metrics).
	for _, code := range []int{200, 404, 404, 409} {
		m.GateRequest(ctx, code)
	}
}

func TestMetricsShowTheRecordedMeasurements(t *testing.T) {
	clock := &stepClock{t: t0, step: 1500 * time.Millisecond}
	tel := newTelemetry(t, telemetry.Config{Version: "1.2.3", Now: clock.now})
	recordKnownSet(t, tel, clock)

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(scrape(t, tel)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}

	type want struct {
		name   string
		labels map[string]string
		value  float64 // counter, gauge, or a histogram's sample count
		sum    float64 // histograms only: the sum, -1 to skip
	}
	hist := func(name string, labels map[string]string, count, sum float64) want {
		return want{name, labels, count, sum}
	}
	for _, w := range []want{
		// hegel: polls at t0 (ok) and t0+3s (error), socrates at t0+6s;
		// each lasts 1.5s (one clock step between at and the record).
		hist(telemetry.MetricPollDuration, map[string]string{"source": "hegel", "result": "ok"}, 1, 1.5),
		hist(telemetry.MetricPollDuration, map[string]string{"source": "hegel", "result": "error"}, 1, 1.5),
		hist(telemetry.MetricPollDuration, map[string]string{"source": "socrates", "result": "ok"}, 1, 1.5),
		{telemetry.MetricSourceLastSuccess, map[string]string{"source": "hegel"}, float64(t0.Unix()), -1},
		{telemetry.MetricSourceLastSuccess, map[string]string{"source": "socrates"}, float64(t0.Add(6 * time.Second).Unix()), -1},
		{telemetry.MetricRunsIngested, map[string]string{"source": "hegel"}, 3, -1},
		{telemetry.MetricRunsIngested, map[string]string{"source": "onprem"}, 1, -1},
		{telemetry.MetricVerdicts, map[string]string{"slo": "hegel-nightly", "verdict": "met"}, 1, -1},
		{telemetry.MetricVerdicts, map[string]string{"slo": "hegel-nightly", "verdict": "late"}, 1, -1},
		{telemetry.MetricVerdicts, map[string]string{"slo": "hegel-nightly", "verdict": "missed"}, 1, -1},
		{telemetry.MetricVerdicts, map[string]string{"slo": "hegel-nightly", "verdict": "pending"}, 2, -1},
		hist(telemetry.MetricEvaluationDuration, map[string]string{"slo": "hegel-nightly", "result": "ok"}, 1, 1.5),
		{telemetry.MetricAlertsSent, map[string]string{"kind": "missed"}, 2, -1},
		{telemetry.MetricAlertsFailed, map[string]string{"kind": "failed"}, 1, -1},
		{telemetry.MetricGateRequests, map[string]string{"code": "200"}, 1, -1},
		{telemetry.MetricGateRequests, map[string]string{"code": "404"}, 2, -1},
		{telemetry.MetricGateRequests, map[string]string{"code": "409"}, 1, -1},
	} {
		mf := families[w.name]
		if mf == nil {
			t.Errorf("%s: missing from /metrics", w.name)
			continue
		}
		m := find(mf, w.labels)
		if m == nil {
			t.Errorf("%s%v: no such series", w.name, w.labels)
			continue
		}
		var got, sum float64
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			got = m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			got = m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			got, sum = float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()
		default:
			t.Errorf("%s: unexpected type %v", w.name, mf.GetType())
			continue
		}
		if got != w.value || (w.sum >= 0 && sum != w.sum) {
			t.Errorf("%s%v = %v (sum %v), want %v (sum %v)", w.name, w.labels, got, sum, w.value, w.sum)
		}
	}
	// Nothing but kant's series, the process's own (go_*, process_*) and
	// target_info, and no scope labels.
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := families[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	for name, mf := range families {
		if !strings.HasPrefix(name, "kant_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") && name != "target_info" {
			t.Errorf("unexpected family %s", name)
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.HasPrefix(l.GetName(), "otel_") {
					t.Errorf("%s has label %s", name, l.GetName())
				}
			}
		}
	}
	if ti := families["target_info"]; ti == nil || find(ti, map[string]string{"service_name": "kant", "service_version": "1.2.3"}) == nil {
		t.Errorf("target_info does not name the service and version: %v", ti)
	}
}

// find returns the series of mf whose labels include labels.
func find(mf *dto.MetricFamily, labels map[string]string) *dto.Metric {
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range labels {
			if have[k] != v {
				ok = false
			}
		}
		if ok {
			return m
		}
	}
	return nil
}

func TestPromtoolAcceptsTheMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("KANT_REQUIRE_TOOLS") != "" {
			t.Fatal("promtool is not on PATH (Debian package prometheus) and KANT_REQUIRE_TOOLS is set")
		}
		t.Skip("promtool is not on PATH (Debian package prometheus)")
	}
	clock := &stepClock{t: t0, step: time.Second}
	tel := newTelemetry(t, telemetry.Config{Now: clock.now})
	recordKnownSet(t, tel, clock)
	body := scrape(t, tel)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n--- metrics:\n%s", err, out.String(), body)
	}
}

// otlpReceiver is an in-process OTLP/HTTP trace receiver.
type otlpReceiver struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	headers []http.Header
}

func (rc *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "POST" || r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	rc.mu.Lock()
	rc.headers = append(rc.headers, r.Header.Clone())
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			rc.spans = append(rc.spans, ss.GetSpans()...)
		}
	}
	rc.mu.Unlock()
	b, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(b)
}

func TestPollAndGateSpansAreExportedByOTLPWhenAnEndpointIsSet(t *testing.T) {
	rc := &otlpReceiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	env := map[string]string{
		telemetry.EnvEndpoint: srv.URL,
		telemetry.EnvHeaders:  "x-api-key=s%20ecret",
	}
	clock := &stepClock{t: t0, step: 2 * time.Second}
	tel, err := telemetry.New(context.Background(), telemetry.Config{Getenv: func(k string) string { return env[k] }, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if got := tel.TracesEndpoint(); got != srv.URL+"/v1/traces" {
		t.Errorf("TracesEndpoint() = %q, want %q", got, srv.URL+"/v1/traces")
	}
	m := tel.Metrics()
	ctx := context.Background()
	start := clock.now()
	m.Polled(ctx, "hegel", start, clock.now().Sub(start), errors.New("access denied"))

	var innerSpan bool
	gate := m.GateMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		innerSpan = traceIDOf(r.Context()) == "4bf92f3577b34da6a3ce929d0e0e4736"
		w.WriteHeader(404)
	}))
	req := httptest.NewRequest("GET", "/v1/gate?jobs=hegel/*", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	gate.ServeHTTP(httptest.NewRecorder(), req)
	if !innerSpan {
		t.Error("the gate handler's context does not carry the caller's trace")
	}

	if err := tel.Shutdown(ctx); err != nil { // flushes the batch
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	byName := map[string]*tracepb.Span{}
	for _, s := range rc.spans {
		byName[s.GetName()] = s
	}
	poll := byName["poll hegel"]
	if poll == nil {
		t.Fatalf("no span \"poll hegel\" among %d exported", len(rc.spans))
	}
	if d := time.Duration(poll.GetEndTimeUnixNano() - poll.GetStartTimeUnixNano()); d != 2*time.Second {
		t.Errorf("poll span lasts %v, want the cycle's 2s", d)
	}
	if poll.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR || poll.GetStatus().GetMessage() != "access denied" {
		t.Errorf("poll span status %v, want error \"access denied\"", poll.GetStatus())
	}
	g := byName["GET /v1/gate"]
	if g == nil {
		t.Fatalf("no span \"GET /v1/gate\" among %d exported", len(rc.spans))
	}
	if g.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("gate span kind %v, want server", g.GetKind())
	}
	if got := hexID(g.GetTraceId()); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("gate span trace %s, want the caller's", got)
	}
	var code int64
	for _, a := range g.GetAttributes() {
		if a.GetKey() == "http.response.status_code" {
			code = a.GetValue().GetIntValue()
		}
	}
	if code != 404 {
		t.Errorf("gate span status code attribute %d, want 404", code)
	}
	if len(rc.headers) == 0 || rc.headers[0].Get("x-api-key") != "s ecret" {
		t.Errorf("export headers %v, want x-api-key from %s", rc.headers, telemetry.EnvHeaders)
	}
}

func traceIDOf(ctx context.Context) string {
	return trace.SpanContextFromContext(ctx).TraceID().String()
}

func hexID(b []byte) string { return hex.EncodeToString(b) }
