package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/telemetry"
)

// BenchmarkGateMiddleware measures what the middleware adds to a gate
// request when tracing is not exported (it then returns the handler: the
// gate counts its answers itself), against the bare handler.
func BenchmarkGateMiddleware(b *testing.B) {
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	tel, err := telemetry.New(context.Background(), telemetry.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	req := httptest.NewRequest("GET", "/v1/gate?jobs=hegel/*", nil)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", answer}, {"measured", tel.Metrics().GateMiddleware(answer)}} {
		b.Run(bc.name, func(b *testing.B) {
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkObserve measures counting a batch of 100 new runs from 2 sources.
func BenchmarkObserve(b *testing.B) {
	tel, err := telemetry.New(context.Background(), telemetry.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	runs := make([]kant.Run, 100)
	for i := range runs {
		runs[i].Source = []string{"hegel", "onprem"}[i%2]
	}
	m := tel.Metrics()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(ctx, runs)
	}
}
