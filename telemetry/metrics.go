package telemetry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/kantproject/kant"
)

// The exported metric names, as /metrics shows them. Labels are bounded:
// source, slo and kind by the configuration (and MaxLabelValues), result
// by ok|error, verdict by the four verdicts, code by the HTTP status codes
// the gate answers.
const (
	MetricPollDuration       = "kant_poll_duration_seconds"                 // histogram {source, result}
	MetricSourceLastSuccess  = "kant_source_last_success_timestamp_seconds" // gauge {source}
	MetricRunsIngested       = "kant_runs_ingested_total"                   // counter {source}
	MetricVerdicts           = "kant_verdicts"                              // gauge {slo, verdict}
	MetricEvaluationDuration = "kant_evaluation_duration_seconds"           // histogram {slo, result}
	MetricAlertsSent         = "kant_alerts_sent_total"                     // counter {kind}
	MetricAlertsFailed       = "kant_alerts_failed_total"                   // counter {kind}
	MetricGateRequests       = "kant_gate_requests_total"                   // counter {code}
	MetricLeader             = "kant_leader"                                // gauge: 1 while this replica leads
	MetricGateWaiting        = "kant_gate_waiting"                          // gauge: long-polls held
)

// Label names and values, and span names and attributes.
const (
	labelOther              = "other"
	resultOK, resultError   = "ok", "error"
	attrSource, attrSLO     = "source", "slo"
	attrKind, attrCode      = "kind", "code"
	attrResult, attrVerdict = "result", "verdict"

	spanPollPrefix     = "poll " // + source
	spanGate           = "GET /v1/gate"
	attrSpanSource     = "kant.source"
	attrSpanPollError  = "kant.poll.error"
	attrSpanHTTPMethod = "http.request.method"
	attrSpanHTTPStatus = "http.response.status_code"
	attrSpanHTTPRoute  = "http.route"
	maxSpanErrorLen    = 512
)

// Bucket boundaries, in seconds.
var (
	pollBuckets       = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	evaluationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
)

// verdicts are the values of the verdict label, all reported for every SLO
// so that a verdict that disappears goes to 0 rather than keeping its count.
var verdicts = []kant.Verdict{kant.VerdictPending, kant.VerdictMet, kant.VerdictLate, kant.VerdictMissed}

// Metrics records kant's measurements and the spans that go with them. A
// nil *Metrics is valid: every method does nothing, and every wrapper
// returns what it wraps, so parts built without telemetry need no checks.
// Its methods are safe for concurrent use.
type Metrics struct {
	meter  metric.Meter
	tracer trace.Tracer
	now    func() time.Time

	pollDuration       metric.Float64Histogram
	lastSuccess        metric.Float64Gauge
	runsIngested       metric.Int64Counter
	verdicts           metric.Int64Gauge
	evaluationDuration metric.Float64Histogram
	alertsSent         metric.Int64Counter
	alertsFailed       metric.Int64Counter
	gateRequests       metric.Int64Counter
	leader             metric.Int64Gauge

	sources, slos, kinds *limiter

	traced    bool                             // spans are exported (else the tracer is a no-op)
	codeAttrs map[int]metric.MeasurementOption // read-only after newMetrics: the gate's usual codes
}

func newMetrics(meter metric.Meter, tracer trace.Tracer, traced bool, now func() time.Time, maxLabels int) (*Metrics, error) {
	m := &Metrics{meter: meter,
		tracer: tracer, now: now, traced: traced,
		sources: newLimiter(maxLabels), slos: newLimiter(maxLabels), kinds: newLimiter(maxLabels),
		codeAttrs: map[int]metric.MeasurementOption{},
	}
	// The gate's answers, prepared once: the gate is the hot path.
	for _, code := range []int{200, 400, 401, 403, 404, 405, 409, 429, 500, 503} {
		m.codeAttrs[code] = metric.WithAttributeSet(attribute.NewSet(attribute.Int(attrCode, code)))
	}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	m.pollDuration, err = meter.Float64Histogram("kant_poll_duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of one poll cycle of a source, by result (ok or error)."),
		metric.WithExplicitBucketBoundaries(pollBuckets...))
	check(err)
	m.lastSuccess, err = meter.Float64Gauge("kant_source_last_success_timestamp",
		metric.WithUnit("s"),
		metric.WithDescription("Unix time at which the last successful poll cycle of a source started."))
	check(err)
	m.runsIngested, err = meter.Int64Counter("kant_runs_ingested",
		metric.WithUnit("{run}"),
		metric.WithDescription("Run observations stored as new, by source (polled or pushed)."))
	check(err)
	m.verdicts, err = meter.Int64Gauge("kant_verdicts",
		metric.WithUnit("{occurrence}"),
		metric.WithDescription("Occurrences in the evaluator's recent window, by SLO and verdict (pending, met, late, missed)."))
	check(err)
	m.evaluationDuration, err = meter.Float64Histogram("kant_evaluation_duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of one evaluation of an SLO (load runs, judge, write), by result."),
		metric.WithExplicitBucketBoundaries(evaluationBuckets...))
	check(err)
	m.alertsSent, err = meter.Int64Counter("kant_alerts_sent",
		metric.WithUnit("{alert}"),
		metric.WithDescription("Alert messages delivered, by kind."))
	check(err)
	m.alertsFailed, err = meter.Int64Counter("kant_alerts_failed",
		metric.WithUnit("{alert}"),
		metric.WithDescription("Alert deliveries that failed, by kind."))
	check(err)
	m.gateRequests, err = meter.Int64Counter("kant_gate_requests",
		metric.WithUnit("{request}"),
		metric.WithDescription("Gate requests answered, by HTTP status code (200 open, 404 not yet, 409 failed, 400 bad request)."))
	check(err)
	m.leader, err = meter.Int64Gauge("kant_leader",
		metric.WithDescription("1 while this replica holds the leader lease (it polls, evaluates, alerts and exports), else 0."))
	check(err)
	if len(errs) > 0 {
		return nil, fmt.Errorf("telemetry: instruments: %w", errs[0])
	}
	return m, nil
}

// GateWaiting reports the gate's long-polls held now, read from waiting
// at each scrape.
func (m *Metrics) GateWaiting(waiting func() int) error {
	if m == nil {
		return nil
	}
	_, err := m.meter.Int64ObservableGauge(MetricGateWaiting,
		metric.WithUnit("{request}"),
		metric.WithDescription("Gate long-polls (wait=) held open now, waiting for their answer to change."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(waiting()))
			return nil
		}))
	return err
}

// Leading records whether this replica leads (leader.Metrics).
func (m *Metrics) Leading(ctx context.Context, leading bool) {
	if m == nil {
		return
	}
	v := int64(0)
	if leading {
		v = 1
	}
	m.leader.Record(ctx, v)
}

// Polled records one poll cycle of source that started at start, took
// took and ended with err (nil: success): its duration and result in
// kant_poll_duration_seconds, the last success time, and a span
// "poll <source>" from start to start+took. With it, *Metrics is a
// collector.Metrics: the poll engine tells it of every cycle, in
// `kant serve`. A nil m records nothing.
func (m *Metrics) Polled(ctx context.Context, source string, start time.Time, took time.Duration, err error) {
	if m == nil {
		return
	}
	msg := ""
	if err != nil {
		msg = err.Error()
		if msg == "" {
			msg = "error"
		}
	}
	m.poll(ctx, source, start, start.Add(took), msg)
}

// poll records a poll cycle of source from start to end; pollErr is empty
// on success.
func (m *Metrics) poll(ctx context.Context, source string, start, end time.Time, pollErr string) {
	src := m.sources.value(source)
	result := resultOK
	if pollErr != "" {
		result = resultError
	}
	dur := max(end.Sub(start), 0)
	m.pollDuration.Record(ctx, dur.Seconds(), metric.WithAttributes(
		attribute.String(attrSource, src), attribute.String(attrResult, result)))
	if pollErr == "" {
		m.lastSuccess.Record(ctx, unixSeconds(start), metric.WithAttributes(attribute.String(attrSource, src)))
	}
	// The span is recorded once the cycle is over, with its real start:
	// the poller calls nothing of telemetry before it.
	_, span := m.tracer.Start(ctx, spanPollPrefix+source,
		trace.WithTimestamp(start),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String(attrSpanSource, source)))
	if pollErr != "" {
		span.SetStatus(codes.Error, truncate(pollErr, maxSpanErrorLen))
		span.SetAttributes(attribute.String(attrSpanPollError, truncate(pollErr, maxSpanErrorLen)))
	}
	span.End(trace.WithTimestamp(end))
}

// RunsIngested counts n new run observations of source.
func (m *Metrics) RunsIngested(ctx context.Context, source string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.runsIngested.Add(ctx, int64(n), metric.WithAttributes(attribute.String(attrSource, m.sources.value(source))))
}

// Observe counts newly stored observations by source. With it, *Metrics is
// a collector.Observer: pass it to collector.NewSink among the observers.
func (m *Metrics) Observe(ctx context.Context, runs []kant.Run) {
	if m == nil || len(runs) == 0 {
		return
	}
	bySource := map[string]int{}
	for _, r := range runs {
		bySource[r.Source]++
	}
	for s, n := range bySource {
		m.RunsIngested(ctx, s, n)
	}
}

// Verdicts sets the number of occurrences of slo in each verdict; a verdict
// missing from counts is set to 0. Keys that are not verdicts are ignored.
// The evaluator's store wrapper (WrapEvaluatorStore) calls it.
func (m *Metrics) Verdicts(ctx context.Context, slo string, counts map[kant.Verdict]int) {
	if m == nil {
		return
	}
	s := m.slos.value(slo)
	for _, v := range verdicts {
		m.verdicts.Record(ctx, int64(counts[v]), metric.WithAttributes(
			attribute.String(attrSLO, s), attribute.String(attrVerdict, string(v))))
	}
}

// EvaluationDone records one evaluation of slo that took dur and ended
// with err (nil: success).
func (m *Metrics) EvaluationDone(ctx context.Context, slo string, dur time.Duration, err error) {
	if m == nil {
		return
	}
	result := resultOK
	if err != nil {
		result = resultError
	}
	m.evaluationDuration.Record(ctx, max(dur, 0).Seconds(), metric.WithAttributes(
		attribute.String(attrSLO, m.slos.value(slo)), attribute.String(attrResult, result)))
}

// AlertDelivered counts one alert message of kind (failed, missed, late,
// stale, budget, digest, …) as sent when err is nil, else as failed.
func (m *Metrics) AlertDelivered(ctx context.Context, kind string, err error) {
	if m == nil {
		return
	}
	attrs := metric.WithAttributes(attribute.String(attrKind, m.kinds.value(kind)))
	if err != nil {
		m.alertsFailed.Add(ctx, 1, attrs)
		return
	}
	m.alertsSent.Add(ctx, 1, attrs)
}

// GateRequest counts one gate request answered with status code. It
// implements gate.Metrics: the gate calls it for every answer.
func (m *Metrics) GateRequest(ctx context.Context, code int) {
	if m == nil {
		return
	}
	opt, ok := m.codeAttrs[code]
	if !ok {
		opt = metric.WithAttributes(attribute.Int(attrCode, code))
	}
	m.gateRequests.Add(ctx, 1, opt)
}

// limiter bounds the distinct values of one label: the first max values are
// kept, later ones become "other", so that a misbehaving client (a push
// naming a new source per request) cannot grow /metrics without bound.
type limiter struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func newLimiter(max int) *limiter { return &limiter{max: max, seen: map[string]struct{}{}} }

func (l *limiter) value(v string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[v]; ok {
		return v
	}
	if len(l.seen) >= l.max {
		return labelOther
	}
	l.seen[v] = struct{}{}
	return v
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return kant.Truncate(s, n) + "…"
}
