package telemetry

import (
	"bufio"
	"errors"
	"net"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// GateMiddleware returns h traced: every request runs in a server span
// "GET /v1/gate" that continues the caller's trace when the request carries
// a W3C traceparent header, and carries the status code it was answered
// with. It counts nothing: the gate reports its answers itself, through
// gate.Metrics, which *Metrics implements with GateRequest. The response
// writer keeps http.Flusher and http.Hijacker when the server's has them,
// and unwraps for http.ResponseController. With a nil m, or when spans are
// not exported, it returns h.
func (m *Metrics) GateMiddleware(h http.Handler) http.Handler {
	if m == nil || !m.traced {
		return h
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
