package telemetry

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kantproject/kant"
)

// EvaluatorStore is what the evaluator reads and writes (the same method
// set as evaluator.Store, so the wrapper is one).
type EvaluatorStore interface {
	LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error)
	Jobs(ctx context.Context) ([]kant.JobInfo, error)
	WriteEvaluation(ctx context.Context, e kant.Evaluation) error
}

// WrapEvaluatorStore returns an EvaluatorStore that passes every call to
// next and, from what the evaluator writes, keeps kant_verdicts: per SLO,
// the verdicts of the occurrences dated within window (the evaluator's
// Lookback) plus one day before the newest date written, which is the
// range the evaluator's periodic pass covers. It also records
// kant_evaluation_duration_seconds per SLO, from the LatestRuns call that
// starts an evaluation to the end of its WriteEvaluation; that relies on
// the evaluator loading and writing one SLO at a time, which it does (it
// serializes evaluations), so give the wrapper to the evaluator only.
// With a nil m it returns next.
func (m *Metrics) WrapEvaluatorStore(next EvaluatorStore, window time.Duration) EvaluatorStore {
	if m == nil {
		return next
	}
	if window <= 0 {
		window = 7 * 24 * time.Hour
	}
	return &evaluationRecorder{m: m, next: next, days: int(window / (24 * time.Hour)), bySLO: map[string]*sloVerdicts{}}
}

type evaluationRecorder struct {
	m    *Metrics
	next EvaluatorStore
	days int

	mu      sync.Mutex
	started time.Time // of the LatestRuns that began the current evaluation
	bySLO   map[string]*sloVerdicts
}

// sloVerdicts is the latest verdict of each occurrence (job and date) of one
// SLO that the evaluator wrote, within the window ending at newest.
type sloVerdicts struct {
	newest kant.Date
	byOcc  map[occurrence]kant.Verdict
}

type occurrence struct {
	job  kant.JobKey
	date kant.Date
}

func (r *evaluationRecorder) LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	start := r.m.now()
	r.mu.Lock()
	r.started = start
	r.mu.Unlock()
	return r.next.LatestRuns(ctx, f)
}

func (r *evaluationRecorder) Jobs(ctx context.Context) ([]kant.JobInfo, error) {
	return r.next.Jobs(ctx)
}

func (r *evaluationRecorder) WriteEvaluation(ctx context.Context, e kant.Evaluation) error {
	err := r.next.WriteEvaluation(ctx, e)
	end := r.m.now()
	r.mu.Lock()
	started := r.started
	r.started = time.Time{}
	var counts map[kant.Verdict]int
	if err == nil {
		counts = r.applyLocked(e)
	}
	r.mu.Unlock()
	if !started.IsZero() {
		r.m.EvaluationDone(ctx, e.SLO, end.Sub(started), err)
	}
	if counts != nil {
		r.m.Verdicts(ctx, e.SLO, counts)
	}
	return err
}

// applyLocked replaces what e replaces (its dates, restricted to its jobs
// when it names some) by its results, drops the dates that fell out of the
// window, and returns the counts by verdict.
func (r *evaluationRecorder) applyLocked(e kant.Evaluation) map[kant.Verdict]int {
	v := r.bySLO[e.SLO]
	if v == nil {
		v = &sloVerdicts{byOcc: map[occurrence]kant.Verdict{}}
		r.bySLO[e.SLO] = v
	}
	jobs := map[kant.JobKey]bool{}
	for _, j := range e.Jobs {
		jobs[j] = true
	}
	for o := range v.byOcc {
		if (len(jobs) == 0 || jobs[o.job]) && inRange(o.date, e.From, e.To) {
			delete(v.byOcc, o)
		}
	}
	for _, res := range e.Results {
		v.byOcc[occurrence{res.Job, res.Date}] = res.Verdict
		if res.Date.After(v.newest) {
			v.newest = res.Date
		}
	}
	if !e.To.IsZero() && e.To.After(v.newest) {
		v.newest = e.To
	}
	counts := map[kant.Verdict]int{}
	oldest := v.newest.AddDays(-(r.days + 1))
	for o, verdict := range v.byOcc {
		if o.date.Before(oldest) {
			delete(v.byOcc, o)
			continue
		}
		counts[verdict]++
	}
	return counts
}

// inRange reports whether d is in [from, to]; a zero bound is open.
func inRange(d, from, to kant.Date) bool {
	return (from.IsZero() || !d.Before(from)) && (to.IsZero() || !d.After(to))
}

// GateMiddleware returns h measured: every request counts in
// kant_gate_requests_total by the status code it was answered with, and
// runs in a server span "GET /v1/gate" that continues the caller's trace
// when the request carries a W3C traceparent header. The response writer
// keeps http.Flusher and http.Hijacker when the server's has them, and
// unwraps for http.ResponseController. With a nil m it returns h.
func (m *Metrics) GateMiddleware(h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	if !m.traced {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w}
			defer func() { m.GateRequest(r.Context(), rec.status()) }()
			h.ServeHTTP(rec, r)
			rec.done = true
		})
	}
	propagator := propagation.TraceContext{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := m.tracer.Start(ctx, spanGate,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String(attrSpanHTTPMethod, r.Method),
				attribute.String(attrSpanHTTPRoute, "/v1/gate"),
			))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			code := rec.status()
			span.SetAttributes(attribute.Int(attrSpanHTTPStatus, code))
			if code >= 500 {
				span.SetStatus(codes.Error, http.StatusText(code))
			}
			span.End()
			m.GateRequest(ctx, code)
		}()
		h.ServeHTTP(rec, r.WithContext(ctx))
		rec.done = true
	})
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	code int  // the final status written, 0 before
	done bool // the handler returned (did not panic)
}

// status is the code the response was answered with. When nothing was
// written, net/http answers 200 if the handler returned, and resets the
// connection if it panicked: counted as a 500.
func (s *statusRecorder) status() int {
	switch {
	case s.code != 0:
		return s.code
	case s.done:
		return http.StatusOK
	}
	return http.StatusInternalServerError
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && code >= 200 { // 1xx are informational: the final code comes later
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush flushes the underlying writer when it can.
func (s *statusRecorder) Flush() {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hijacks the underlying connection when the writer allows it.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := s.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("telemetry: the response writer cannot be hijacked")
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Notifier is an alert transport over messages of type M (alert.Notifier
// is Notifier[alert.Message]); declared generically so that telemetry does
// not import its sibling alert.
type Notifier[M any] interface {
	Post(ctx context.Context, msg M) (channel, ts string, err error)
	Update(ctx context.Context, channel, ts string, msg M) error
	Reply(ctx context.Context, channel, ts string, msg M) error
}

// WrapNotifier returns a Notifier that passes every call to next and counts
// it, by the message's kind (kindOf), in kant_alerts_sent_total when it
// succeeded and kant_alerts_failed_total when it failed: a post, an update
// and a thread reply each count as one delivery. With a nil m it returns
// next. For alert: WrapNotifier(m, n, func(msg alert.Message) string {
// return msg.Kind }).
//
// A next that can also find an interrupted post (alert.Finder's Find) keeps
// that ability: the wrapper then has Find too, passed through uncounted.
func WrapNotifier[M any](m *Metrics, next Notifier[M], kindOf func(M) string) Notifier[M] {
	if m == nil {
		return next
	}
	r := notifierRecorder[M]{m: m, next: next, kindOf: kindOf}
	if f, ok := next.(finder); ok {
		return findingRecorder[M]{notifierRecorder: r, finder: f}
	}
	return r
}

// finder is alert.Finder, declared here so as not to import alert.
type finder interface {
	Find(ctx context.Context, channel, alertID string, since time.Time) (foundChannel, ts string, err error)
}

// findingRecorder is a notifierRecorder whose notifier can also find.
type findingRecorder[M any] struct {
	notifierRecorder[M]
	finder
}

type notifierRecorder[M any] struct {
	m      *Metrics
	next   Notifier[M]
	kindOf func(M) string
}

func (n notifierRecorder[M]) Post(ctx context.Context, msg M) (string, string, error) {
	channel, ts, err := n.next.Post(ctx, msg)
	n.m.AlertDelivered(ctx, n.kindOf(msg), err)
	return channel, ts, err
}

func (n notifierRecorder[M]) Update(ctx context.Context, channel, ts string, msg M) error {
	err := n.next.Update(ctx, channel, ts, msg)
	n.m.AlertDelivered(ctx, n.kindOf(msg), err)
	return err
}

func (n notifierRecorder[M]) Reply(ctx context.Context, channel, ts string, msg M) error {
	err := n.next.Reply(ctx, channel, ts, msg)
	n.m.AlertDelivered(ctx, n.kindOf(msg), err)
	return err
}
