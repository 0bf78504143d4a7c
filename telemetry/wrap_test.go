package telemetry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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
			fs := &fakeStore{}
			st := tel.Metrics().WrapEvaluatorStore(fs, 7*24*time.Hour)
			ctx := context.Background()
			if err := st.WriteEvaluation(ctx, full); err != nil {
				t.Fatal(err)
			}
			if tc.fails {
				fs.writeErr = errors.New("disk full")
			}
			for _, e := range tc.then {
				err := st.WriteEvaluation(ctx, e)
				if tc.fails != (err != nil) {
					t.Fatalf("WriteEvaluation: %v", err)
				}
			}
			if got := series(t, tel, telemetry.MetricVerdicts); !equal(got, tc.want) {
				t.Errorf("kant_verdicts = %v, want %v", got, tc.want)
			}
			if len(fs.written) != 1+len(tc.then) && !tc.fails {
				t.Errorf("the store got %d writes, want %d", len(fs.written), 1+len(tc.then))
			}
		})
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

func TestEvaluationDurationRunsFromLoadingToWriting(t *testing.T) {
	clock := &stepClock{t: t0, step: 250 * time.Millisecond}
	tel := newTelemetry(t, telemetry.Config{Now: clock.now})
	fs := &fakeStore{}
	st := tel.Metrics().WrapEvaluatorStore(fs, 0)
	ctx := context.Background()

	// A write with no load before it (not an evaluation this wrapper saw
	// start) is not timed.
	st.WriteEvaluation(ctx, kant.Evaluation{SLO: "a"})
	st.LatestRuns(ctx, kant.RunFilter{})
	st.WriteEvaluation(ctx, kant.Evaluation{SLO: "a"})
	fs.writeErr = errors.New("locked")
	st.LatestRuns(ctx, kant.RunFilter{})
	st.WriteEvaluation(ctx, kant.Evaluation{SLO: "a"})

	got := series(t, tel, telemetry.MetricEvaluationDuration)
	want := map[string]float64{"ok,a": 1, "error,a": 1}
	if !equal(got, want) {
		t.Errorf("evaluation durations by result,slo = %v, want %v", got, want)
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

	fs := &fakeStore{}
	if got := m.WrapEvaluatorStore(fs, 0); got != telemetry.EvaluatorStore(fs) {
		t.Error("WrapEvaluatorStore on nil does not return its argument")
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

func TestGateMiddlewareRecordsTheFinalStatusCode(t *testing.T) {
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
			tel := newTelemetry(t, telemetry.Config{})
			rec := &flushRecorder{ResponseRecorder: httptest.NewRecorder()}
			func() {
				defer func() { recover() }()
				tel.Metrics().GateMiddleware(tc.handler).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/gate", nil))
			}()
			if got := series(t, tel, telemetry.MetricGateRequests); !equal(got, map[string]float64{tc.want: 1}) {
				t.Errorf("gate requests %v, want one %s", got, tc.want)
			}
			if strings.Contains(tc.name, "flush") && rec.flushes != 2 {
				t.Errorf("%d flushes reached the server's writer, want 2", rec.flushes)
			}
		})
	}
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

// message stands for message (not imported, so that these tests do
// not depend on a sibling that is still changing).
type message struct{ Kind, Text string }

// notifier stands for notifier.
type notifier interface {
	Post(ctx context.Context, m message) (channel, ts string, err error)
	Update(ctx context.Context, channel, ts string, m message) error
	Reply(ctx context.Context, channel, ts string, m message) error
}

// fakeNotifier fails the deliveries whose message text is "fail".
type fakeNotifier struct{ calls int }

func (f *fakeNotifier) result(m message) error {
	f.calls++
	if m.Text == "fail" {
		return errors.New("slack: 503")
	}
	return nil
}
func (f *fakeNotifier) Post(_ context.Context, m message) (string, string, error) {
	return "C1", "1.0", f.result(m)
}
func (f *fakeNotifier) Update(_ context.Context, _, _ string, m message) error { return f.result(m) }
func (f *fakeNotifier) Reply(_ context.Context, _, _ string, m message) error  { return f.result(m) }

func TestWrapNotifierCountsDeliveriesByKindAndResult(t *testing.T) {
	tel := newTelemetry(t, telemetry.Config{})
	inner := &fakeNotifier{}
	var n notifier = telemetry.WrapNotifier(tel.Metrics(), notifier(inner), func(m message) string { return m.Kind })
	ctx := context.Background()
	if ch, ts, err := n.Post(ctx, message{Kind: "missed"}); ch != "C1" || ts != "1.0" || err != nil {
		t.Errorf("Post = %q, %q, %v: not what the inner notifier returned", ch, ts, err)
	}
	n.Update(ctx, "C1", "1.0", message{Kind: "missed"})
	n.Reply(ctx, "C1", "1.0", message{Kind: "late"})
	if _, _, err := n.Post(ctx, message{Kind: "failed", Text: "fail"}); err == nil {
		t.Error("the inner error was lost")
	}
	if inner.calls != 4 {
		t.Errorf("inner notifier called %d times, want 4", inner.calls)
	}
	if got, want := series(t, tel, telemetry.MetricAlertsSent), map[string]float64{"missed": 2, "late": 1}; !equal(got, want) {
		t.Errorf("alerts sent %v, want %v", got, want)
	}
	if got, want := series(t, tel, telemetry.MetricAlertsFailed), map[string]float64{"failed": 1}; !equal(got, want) {
		t.Errorf("alerts failed %v, want %v", got, want)
	}
	var nilMetrics *telemetry.Metrics
	if got := telemetry.WrapNotifier(nilMetrics, notifier(inner), nil); got != notifier(inner) {
		t.Error("WrapNotifier with nil metrics does not return its argument")
	}
}
