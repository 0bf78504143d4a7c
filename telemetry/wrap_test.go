package telemetry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/telemetry"
)

// series returns the value of every series of the family name, keyed by
// its labels' values joined by "," in label-name order (counters and
// gauges; histograms give their sample count).
func series(t *testing.T, tel *telemetry.Telemetry, name string) map[string]float64 {
	t.Helper()
	families, err := tel.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, l := range m.GetLabel() {
				vals = append(vals, l.GetValue())
			}
			var v float64
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			out[strings.Join(vals, ",")] = v
		}
	}
	return out
}

func TestVerdictGaugesFollowWhatTheEvaluatorWrites(t *testing.T) {
	const slo = "hegel-nightly"
	full := kant.Evaluation{SLO: slo, From: date("2026-05-25"), To: date("2026-06-02"), Results: []kant.Result{
		result("hegel/a", "2026-05-31", kant.VerdictMet),
		result("hegel/b", "2026-05-31", kant.VerdictMet),
		result("hegel/a", "2026-06-01", kant.VerdictMissed),
		result("hegel/b", "2026-06-01", kant.VerdictPending),
	}}
	for _, tc := range []struct {
		name  string
		then  []kant.Evaluation
		want  map[string]float64 // by "slo,verdict"
		fails bool               // the store refuses the later writes
	}{
		{
			name: "a full evaluation sets every verdict, absent ones to zero",
			want: map[string]float64{slo + ",met": 2, slo + ",missed": 1, slo + ",pending": 1, slo + ",late": 0},
		},
		{
			name: "re-evaluating one job replaces that job's verdicts only",
			then: []kant.Evaluation{{SLO: slo, From: date("2026-06-01"), To: date("2026-06-01"), Jobs: []kant.JobKey{"hegel/b"},
				Results: []kant.Result{result("hegel/b", "2026-06-01", kant.VerdictMet)}}},
			want: map[string]float64{slo + ",met": 3, slo + ",missed": 1, slo + ",pending": 0, slo + ",late": 0},
		},
		{
			name: "a range evaluation without jobs replaces every job on its dates",
			then: []kant.Evaluation{{SLO: slo, From: date("2026-06-01"), To: date("2026-06-01"),
				Results: []kant.Result{result("hegel/a", "2026-06-01", kant.VerdictLate)}}},
			want: map[string]float64{slo + ",met": 2, slo + ",late": 1, slo + ",missed": 0, slo + ",pending": 0},
		},
		{
			name: "a backfill older than the window changes no gauge",
			then: []kant.Evaluation{{SLO: slo, From: date("2026-04-01"), To: date("2026-04-01"),
				Results: []kant.Result{result("hegel/a", "2026-04-01", kant.VerdictMissed)}}},
			want: map[string]float64{slo + ",met": 2, slo + ",missed": 1, slo + ",pending": 1, slo + ",late": 0},
		},
		{
			name: "a wider write replaces every date it covers",
			then: []kant.Evaluation{{SLO: slo, From: date("2026-05-31"), To: date("2026-06-08"), Results: []kant.Result{
				result("hegel/a", "2026-06-08", kant.VerdictPending),
			}}},
			// 05-31 and 06-01 are replaced by this write, which has no result for them.
			want: map[string]float64{slo + ",met": 0, slo + ",missed": 0, slo + ",pending": 1, slo + ",late": 0},
		},
		{
			name: "an older window no longer counted is dropped when a later write moves the window",
			then: []kant.Evaluation{{SLO: slo, From: date("2026-06-09"), To: date("2026-06-10"), Results: []kant.Result{
				result("hegel/a", "2026-06-10", kant.VerdictMet),
			}}},
			// 2026-06-10 minus 8 days is 06-02: 05-31 and 06-01 are dropped.
			want: map[string]float64{slo + ",met": 1, slo + ",missed": 0, slo + ",pending": 0, slo + ",late": 0},
		},
		{
			name: "a write the store refuses changes no gauge",
			then: []kant.Evaluation{{SLO: slo, From: date("2026-05-25"), To: date("2026-06-02")}},
			want: map[string]float64{slo + ",met": 2, slo + ",missed": 1, slo + ",pending": 1, slo + ",late": 0}, fails: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTelemetry(t, telemetry.Config{})
			rec := tel.Metrics().Evaluations(7 * 24 * time.Hour)
			ctx := context.Background()
			rec.Evaluated(ctx, full, time.Second, nil)
			var writeErr error
			if tc.fails {
				writeErr = errors.New("disk full")
			}
			for _, e := range tc.then {
				rec.Evaluated(ctx, e, time.Second, writeErr)
			}
			if got := series(t, tel, telemetry.MetricVerdicts); !equal(got, tc.want) {
				t.Errorf("kant_verdicts = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDaysSettledFromTheStoreCountUntilAnEvaluationOfTheirDatesReplacesThem(t *testing.T) {
	const slo = "hegel-nightly"
	tel := newTelemetry(t, telemetry.Config{})
	rec := tel.Metrics().Evaluations(7 * 24 * time.Hour)
	ctx := context.Background()
	rec.Restored(ctx, slo, []kant.Day{
		{SLO: slo, Date: date("2026-05-30"), Occurrences: 3, Met: 2, Missed: 1, Final: true},
		{SLO: slo, Date: date("2026-05-31"), Occurrences: 3, Met: 2, Late: 1, Final: true},
	})
	want := map[string]float64{slo + ",met": 4, slo + ",missed": 1, slo + ",late": 1, slo + ",pending": 0}
	if got := series(t, tel, telemetry.MetricVerdicts); !equal(got, want) {
		t.Errorf("after the restored days, kant_verdicts = %v, want %v", got, want)
	}
	// Today judged, and 2026-05-31 judged again: its restored counts go.
	rec.Evaluated(ctx, kant.Evaluation{SLO: slo, From: date("2026-05-31"), To: date("2026-06-01"), Results: []kant.Result{
		result("hegel/a", "2026-05-31", kant.VerdictMet),
		result("hegel/a", "2026-06-01", kant.VerdictPending),
	}}, time.Second, nil)
	want = map[string]float64{slo + ",met": 3, slo + ",missed": 1, slo + ",late": 0, slo + ",pending": 1}
	if got := series(t, tel, telemetry.MetricVerdicts); !equal(got, want) {
		t.Errorf("after judging 05-31 and 06-01, kant_verdicts = %v, want %v", got, want)
	}
}

func equal(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestEvaluationDurationsAreRecordedByResultAndSLO(t *testing.T) {
	tel := newTelemetry(t, telemetry.Config{})
	rec := tel.Metrics().Evaluations(0)
	ctx := context.Background()
	rec.Evaluated(ctx, kant.Evaluation{SLO: "a"}, 250*time.Millisecond, nil)
	rec.Evaluated(ctx, kant.Evaluation{SLO: "a"}, time.Second, errors.New("locked"))
	rec.Evaluated(ctx, kant.Evaluation{SLO: "b"}, time.Second, nil)

	got := series(t, tel, telemetry.MetricEvaluationDuration)
	want := map[string]float64{"ok,a": 1, "error,a": 1, "ok,b": 1}
	if !equal(got, want) {
		t.Errorf("evaluation durations by result,slo = %v, want %v", got, want)
	}
	if got := series(t, tel, telemetry.MetricVerdicts); len(got) != 0 && got["a,met"] != 0 {
		t.Errorf("verdicts %v from evaluations without results", got)
	}
}

func TestPolledRecordsAFailedCycleWithoutALastSuccess(t *testing.T) {
	tel := newTelemetry(t, telemetry.Config{Now: (&stepClock{t: t0, step: time.Second}).now})
	tel.Metrics().Polled(context.Background(), "hegel", t0, time.Second, errors.New("boom"))
	if got := series(t, tel, telemetry.MetricPollDuration); got["error,hegel"] != 1 {
		t.Errorf("poll durations %v, want one error for hegel", got)
	}
	if got := series(t, tel, telemetry.MetricSourceLastSuccess); len(got) != 0 {
		t.Errorf("a failed poll set the last success: %v", got)
	}
}

func TestLabelValuesAreBounded(t *testing.T) {
	tel := newTelemetry(t, telemetry.Config{MaxLabelValues: 2})
	m := tel.Metrics()
	ctx := context.Background()
	for _, s := range []string{"a", "b", "c", "d", "a"} {
		m.RunsIngested(ctx, s, 1)
	}
	want := map[string]float64{"a": 2, "b": 1, "other": 2}
	if got := series(t, tel, telemetry.MetricRunsIngested); !equal(got, want) {
		t.Errorf("runs ingested by source = %v, want %v", got, want)
	}
}

func TestANilMetricsDoesNothingAndWrapsNothing(t *testing.T) {
	var tel *telemetry.Telemetry
	m := tel.Metrics()
	if m != nil {
		t.Fatal("a nil Telemetry has metrics")
	}
	ctx := context.Background()
	m.Polled(ctx, "s", t0, time.Second, nil)
	m.RunsIngested(ctx, "s", 1)
	m.Observe(ctx, []kant.Run{{Source: "s"}})
	m.Verdicts(ctx, "slo", nil)
	m.EvaluationDone(ctx, "slo", time.Second, nil)
	m.AlertDelivered(ctx, "missed", nil)
	m.GateRequest(ctx, 200)

	if rec := m.Evaluations(0); rec != nil {
		t.Error("Evaluations on nil metrics is not nil")
	} else {
		rec.Evaluated(ctx, kant.Evaluation{SLO: "slo"}, time.Second, nil) // does nothing, does not panic
	}
	handler := http.NotFoundHandler()
	rec := httptest.NewRecorder()
	m.GateMiddleware(handler).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/gate", nil))
	if rec.Code != 404 {
		t.Errorf("the unwrapped handler answered %d", rec.Code)
	}
}

func TestPolledRecordsWhatItIsGiven(t *testing.T) {
	tel := newTelemetry(t, telemetry.Config{Now: func() time.Time { return t0 }})
	m := tel.Metrics()
	m.Polled(context.Background(), "socrates", t0.Add(-3*time.Second), 3*time.Second, nil)
	m.Polled(context.Background(), "socrates", t0, time.Second, errors.New(""))
	if got, want := series(t, tel, telemetry.MetricPollDuration), map[string]float64{"ok,socrates": 1, "error,socrates": 1}; !equal(got, want) {
		t.Errorf("polls %v, want %v", got, want)
	}
	// The success started 3s before now.
	if got := series(t, tel, telemetry.MetricSourceLastSuccess)["socrates"]; got != float64(t0.Add(-3*time.Second).Unix()) {
		t.Errorf("last success %v, want %v", got, t0.Add(-3*time.Second).Unix())
	}
}

// flushRecorder is a ResponseWriter that is an http.Flusher.
type flushRecorder struct {
	*httptest.ResponseRecorder
	flushes int
}

func (f *flushRecorder) Flush() { f.flushes++; f.ResponseRecorder.Flush() }

func TestTheGateSpanCarriesTheFinalStatusCode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"a handler that writes nothing answers 200", func(w http.ResponseWriter, r *http.Request) {}, "200"},
		{"a body without a header is a 200", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }, "200"},
		{"an informational header is not the answer", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusConflict)
		}, "409"},
		{"a second WriteHeader does not change the answer", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			w.WriteHeader(http.StatusOK)
		}, "400"},
		{"a flush through http.ResponseController reaches the server's writer", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
			w.(http.Flusher).Flush()
		}, "404"},
		{"a handler that panics before answering counts as a 500", func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, "500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := &otlpReceiver{}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			tel, err := telemetry.New(context.Background(), telemetry.Config{
				Getenv: func(k string) string { return map[string]string{telemetry.EnvEndpoint: srv.URL}[k] }})
			if err != nil {
				t.Fatal(err)
			}
			rec := &flushRecorder{ResponseRecorder: httptest.NewRecorder()}
			func() {
				defer func() { recover() }()
				tel.Metrics().GateMiddleware(tc.handler).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/gate", nil))
			}()
			if err := tel.Shutdown(context.Background()); err != nil { // flushes the span
				t.Fatal(err)
			}
			if got := gateSpanCode(t, rc); strconv.FormatInt(got, 10) != tc.want {
				t.Errorf("gate span status code %d, want %s", got, tc.want)
			}
			if got := series(t, tel, telemetry.MetricGateRequests); len(got) != 0 {
				t.Errorf("the middleware counted %v: counting is the gate's (gate.Metrics)", got)
			}
			if strings.Contains(tc.name, "flush") && rec.flushes != 2 {
				t.Errorf("%d flushes reached the server's writer, want 2", rec.flushes)
			}
		})
	}
}

// gateSpanCode returns the status code attribute of the one gate span rc
// received.
func gateSpanCode(t *testing.T, rc *otlpReceiver) int64 {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, s := range rc.spans {
		if s.GetName() != "GET /v1/gate" {
			continue
		}
		for _, a := range s.GetAttributes() {
			if a.GetKey() == "http.response.status_code" {
				return a.GetValue().GetIntValue()
			}
		}
	}
	t.Fatalf("no gate span with a status code among %d", len(rc.spans))
	return 0
}

func TestTracesAreExportedOnlyWhenConfigured(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    string // TracesEndpoint(); "" when not exported
		wantErr string // part of New's error
	}{
		{name: "no endpoint means no export", env: nil, want: ""},
		{name: "the base endpoint gets /v1/traces",
			env: map[string]string{telemetry.EnvEndpoint: "http://collector:4318/"}, want: "http://collector:4318/v1/traces"},
		{name: "the traces endpoint is used as is and wins",
			env:  map[string]string{telemetry.EnvEndpoint: "http://a:4318", telemetry.EnvTracesEndpoint: "https://b/otlp/traces"},
			want: "https://b/otlp/traces"},
		{name: "OTEL_TRACES_EXPORTER=none disables export",
			env: map[string]string{telemetry.EnvEndpoint: "http://a:4318", telemetry.EnvTracesExporter: "none"}, want: ""},
		{name: "an endpoint that is not an http URL is an error",
			env: map[string]string{telemetry.EnvEndpoint: "collector:4318"}, wantErr: "is not an http(s) URL"},
		{name: "a malformed header is an error that does not show its value",
			env:     map[string]string{telemetry.EnvEndpoint: "http://a:4318", telemetry.EnvHeaders: "authorization=Bearer t0ps3cret,broken"},
			wantErr: "entry 2 is not key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel, err := telemetry.New(context.Background(), telemetry.Config{Getenv: func(k string) string { return tc.env[k] }})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New: %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "t0ps3cret") {
					t.Errorf("the error shows a header value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			if got := tel.TracesEndpoint(); got != tc.want {
				t.Errorf("TracesEndpoint() = %q, want %q", got, tc.want)
			}
		})
	}
}

// newOnly is a collector.RunWriter that stores every run but the repeats
// of a run ID it has seen.
type newOnly map[string]bool

func (s newOnly) WriteRuns(_ context.Context, runs []kant.Run) ([]kant.Run, error) {
	var out []kant.Run
	for _, r := range runs {
		if !s[r.RunID] {
			s[r.RunID] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func TestASinkObservedByMetricsCountsOnlyNewRunsBySource(t *testing.T) {
	tel := newTelemetry(t, telemetry.Config{})
	sink := collector.NewSink(newOnly{}, nil, tel.Metrics())
	ctx := context.Background()
	sink.Ingest(ctx, []kant.Run{{Source: "hegel", RunID: "1"}, {Source: "hegel", RunID: "2"}, {Source: "onprem", RunID: "3"}})
	sink.Ingest(ctx, []kant.Run{{Source: "hegel", RunID: "1"}, {Source: "hegel", RunID: "4"}}) // 1 is a repeat
	want := map[string]float64{"hegel": 3, "onprem": 1}
	if got := series(t, tel, telemetry.MetricRunsIngested); !equal(got, want) {
		t.Errorf("runs ingested %v, want %v", got, want)
	}
}
