package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/api"
)

// leavingIngester stands for a store and its observers: its client leaves
// (leave cancels the request's context) after the write is durable, and it
// records whether the context of the work after the commit was still live.
type leavingIngester struct {
	fakeStore
	leave    context.CancelFunc
	ctxErr   error
	value    any
	ingested int
}

func (l *leavingIngester) Ingest(ctx context.Context, runs []kant.Run) (int, error) {
	l.ingested += len(runs) // the write is durable
	l.leave()               // the client goes away
	l.ctxErr = ctx.Err()    // what the observers (the evaluation) would see
	l.value = ctx.Value(traceKey{})
	return len(runs), nil
}

type traceKey struct{}

func TestAPushWhoseClientLeavesStillFinishesItsWork(t *testing.T) {
	ing := &leavingIngester{}
	h := newServer(t, &ing.fakeStore, api.Config{Ingester: ing})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ing.leave = cancel
	ctx = context.WithValue(ctx, traceKey{}, "trace")
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/runs",
		strings.NewReader(`{"source": "onprem", "job": "nightly_export", "run_id": "r1", "state": "succeeded"}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || ing.ingested != 1 {
		t.Fatalf("push: %d %s, %d ingested; want 200 and 1", rec.Code, rec.Body.String(), ing.ingested)
	}
	if ing.ctxErr != nil {
		t.Errorf("the work after the commit saw %v once the client left; want it to go on", ing.ctxErr)
	}
	if ing.value != "trace" {
		t.Errorf("the work after the commit lost the request's values (%v): its trace would be cut", ing.value)
	}
}
