// Package telemetry owns kant's own observability: the OpenTelemetry meter
// provider whose instruments are exported for Prometheus on /metrics, the
// tracer provider that exports spans of poll cycles and gate requests by
// OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and the recorders the other
// parts report to through the small interfaces they declare themselves
// (collector.Metrics, evaluator.Metrics, alert.Metrics, gate.Metrics, a
// collector Observer): telemetry
// wraps none of their dependencies and relies on no order of their calls.
//
// It imports kant and the OpenTelemetry and Prometheus client libraries; it must not
// import collector, evaluator, gate or any cloud SDK. It sets no global
// state: no otel.SetMeterProvider, no otel.SetTracerProvider, no
// prometheus.DefaultRegisterer.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// The environment variables read through Config.Getenv (the OpenTelemetry
// SDK's standard names).
const (
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"        // base URL; /v1/traces is appended
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" // full URL, used as is; wins over EnvEndpoint
	EnvHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"         // k=v,k2=v2 (values URL-encoded)
	EnvTracesHeaders  = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"  // same, for traces only; wins per key
	EnvTracesExporter = "OTEL_TRACES_EXPORTER"               // "none" disables export even with an endpoint
)

// DefaultMaxLabelValues bounds the distinct values of one label (source,
// slo, kind) before further values are reported as "other".
const DefaultMaxLabelValues = 256

// Config configures Telemetry.
type Config struct {
	// ServiceName is the service.name of every span and of target_info.
	// Default "kant".
	ServiceName string
	// Version is the service.version. Optional.
	Version string
	// Getenv reads the OTEL_* variables above. Default: none is set, so
	// traces are not exported.
	Getenv func(string) string
	// Logger receives what telemetry itself has to say. Default: discard.
	Logger *slog.Logger
	// Now is the clock durations are measured with. Default time.Now.
	Now func() time.Time
	// MaxLabelValues bounds the distinct values of each label. Default
	// DefaultMaxLabelValues.
	MaxLabelValues int
}

// Telemetry is kant's meter and tracer providers, and the /metrics handler.
type Telemetry struct {
	registry *prometheus.Registry
	mp       *sdkmetric.MeterProvider
	tp       *sdktrace.TracerProvider // nil when traces are not exported
	metrics  *Metrics
	endpoint string // where spans go, "" when nowhere
	logger   *slog.Logger
}

// New builds the meter provider, exporting to a Prometheus registry of its
// own, and the tracer provider: exporting by OTLP/HTTP when an endpoint is
// configured through cfg.Getenv, a no-op otherwise. It starts no goroutine
// but the span batcher, and connects to nothing until a span is exported.
func New(ctx context.Context, cfg Config) (*Telemetry, error) {
	if cfg.ServiceName == "" {
		cfg.ServiceName = "kant"
	}
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxLabelValues <= 0 {
		cfg.MaxLabelValues = DefaultMaxLabelValues
	}
	logger := cfg.Logger.With("component", "telemetry")

	attrs := []attribute.KeyValue{attribute.String("service.name", cfg.ServiceName)}
	if cfg.Version != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.Version))
	}
	res := resource.NewSchemaless(attrs...)

	reg := prometheus.NewRegistry()
	// The process's own figures: goroutines, heap, resident memory, open
	// files (go_*, process_*).
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exp),
		sdkmetric.WithResource(res),
		sdkmetric.WithExemplarFilter(exemplar.AlwaysOffFilter),
	)

	t := &Telemetry{registry: reg, mp: mp, logger: logger}
	var tracer trace.Tracer = noop.NewTracerProvider().Tracer("")
	opts, endpoint, err := traceOptions(cfg.Getenv)
	if err != nil {
		_ = mp.Shutdown(ctx)
		return nil, err
	}
	if endpoint != "" {
		te, err := otlptracehttp.New(ctx, opts...)
		if err != nil {
			_ = mp.Shutdown(ctx)
			return nil, fmt.Errorf("telemetry: OTLP trace exporter: %w", err)
		}
		t.tp = sdktrace.NewTracerProvider(sdktrace.WithBatcher(te), sdktrace.WithResource(res))
		t.endpoint = endpoint
		tracer = t.tp.Tracer(instrumentationName)
		logger.Info("exporting traces", "endpoint", redactURL(endpoint))
	}

	t.metrics, err = newMetrics(mp.Meter(instrumentationName), tracer, t.tp != nil, cfg.Now, cfg.MaxLabelValues)
	if err != nil {
		_ = t.Shutdown(ctx)
		return nil, err
	}
	return t, nil
}

// instrumentationName names kant's meter and tracer.
const instrumentationName = "github.com/kantproject/kant"

// traceOptions reads the OTLP trace exporter's endpoint and headers through
// getenv (never the process environment directly, so tests and embedding
// callers decide). endpoint is "" when traces are not to be exported.
func traceOptions(getenv func(string) string) (opts []otlptracehttp.Option, endpoint string, err error) {
	if strings.EqualFold(strings.TrimSpace(getenv(EnvTracesExporter)), "none") {
		return nil, "", nil
	}
	endpoint = strings.TrimSpace(getenv(EnvTracesEndpoint))
	if endpoint == "" {
		if base := strings.TrimSpace(getenv(EnvEndpoint)); base != "" {
			endpoint = strings.TrimRight(base, "/") + "/v1/traces"
		}
	}
	if endpoint == "" {
		return nil, "", nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("telemetry: %s: %q is not an http(s) URL", EnvTracesEndpoint+" or "+EnvEndpoint, redactURL(endpoint))
	}
	opts = append(opts, otlptracehttp.WithEndpointURL(endpoint))
	headers := map[string]string{}
	for _, name := range []string{EnvHeaders, EnvTracesHeaders} {
		if err := parseHeaders(getenv(name), headers); err != nil {
			return nil, "", fmt.Errorf("telemetry: %s: %w", name, err)
		}
	}
	if len(headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(headers))
	}
	return opts, endpoint, nil
}

// parseHeaders adds the k=v pairs of s (comma-separated, values
// URL-encoded) to into. Values are never part of the error: they are
// typically credentials.
func parseHeaders(s string, into map[string]string) error {
	for i, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("entry %d is not key=value", i+1)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("entry %d (%s): value is not URL-encoded", i+1, k)
		}
		into[k] = dv
	}
	return nil
}

// redactURL drops user info and the query from u, for logs and errors.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.User, p.RawQuery, p.Fragment = nil, "", ""
	return p.String()
}

// Metrics returns the instruments the other parts record to. It is nil when
// t is nil, and every method of a nil *Metrics does nothing.
func (t *Telemetry) Metrics() *Metrics {
	if t == nil {
		return nil
	}
	return t.metrics
}

// Handler serves the metrics in the Prometheus text format, for GET
// /metrics. Errors gathering one metric are logged and the rest is served.
func (t *Telemetry) Handler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{t.logger},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Gatherer returns the registry /metrics serves, for tests and for callers
// that register collectors of their own (e.g. Go runtime metrics).
func (t *Telemetry) Gatherer() *prometheus.Registry { return t.registry }

// TracesEndpoint returns the URL spans are exported to, or "" when they are
// not exported.
func (t *Telemetry) TracesEndpoint() string { return t.endpoint }

// Shutdown flushes spans not yet exported and stops both providers. It is
// safe to call more than once; later calls return an error from the SDK
// that can be ignored.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.tp != nil {
		if err := t.tp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("telemetry: tracer shutdown: %w", err))
		}
	}
	if err := t.mp.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("telemetry: meter shutdown: %w", err))
	}
	return errors.Join(errs...)
}

// slogPrinter adapts a slog.Logger to promhttp's Logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.l.Error("serving metrics failed", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}
