package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/api"
)

// events is an EventDecoder that answers what it is given.
type events struct {
	runs    []kant.Run
	ignored string
	err     error
}

func (e events) DecodeEvent(context.Context, []byte, time.Time) ([]kant.Run, string, error) {
	return e.runs, e.ignored, e.err
}

// countingIngester records what it stores and says each run is new.
type countingIngester struct {
	fakeStore
	got []kant.Run
}

func (c *countingIngester) Ingest(_ context.Context, runs []kant.Run) (int, error) {
	c.got = append(c.got, runs...)
	return len(runs), nil
}

func TestEventBridgeDeliveries(t *testing.T) {
	run := kant.Run{Source: "hegel", Job: "hegel/export_users", RunID: "jr_1", State: kant.StateSucceeded}
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name   string
		dec    events
		header map[string]string
		status int
		body   string // a part of the answer
		stored int
	}{
		{name: "an API-key connection sending Authorization: Bearer with the write token is accepted",
			dec: events{runs: []kant.Run{run}}, header: map[string]string{"Authorization": "Bearer w-token"},
			status: 200, body: `"stored":1`, stored: 1},
		{name: "an API-key connection sending the token in X-Kant-Token is accepted",
			dec: events{runs: []kant.Run{run}}, header: map[string]string{"X-Kant-Token": "w-token"}, status: 200, stored: 1},
		{name: "a basic-auth connection with the token as its password is accepted",
			dec: events{runs: []kant.Run{run}}, header: map[string]string{"Authorization": basic("eventbridge", "w-token")}, status: 200, stored: 1},
		{name: "a wrong token is a 401 and stores nothing",
			dec: events{runs: []kant.Run{run}}, header: map[string]string{"X-Kant-Token": "nope"}, status: 401, body: "X-Kant-Token"},
		{name: "a basic-auth connection with a wrong password is a 401",
			dec: events{runs: []kant.Run{run}}, header: map[string]string{"Authorization": basic("w-token", "nope")}, status: 401},
		{name: "no token is a 401", dec: events{runs: []kant.Run{run}}, status: 401},
		{name: "an event no source watches is a 200 saying why, so that EventBridge does not retry it",
			dec: events{ignored: "no glue source watches \"x\" in account 999999999999, region r"}, header: map[string]string{"X-Kant-Token": "w-token"},
			status: 200, body: `"ignored":"no glue source watches`},
		{name: "a malformed event is a 400 naming the field",
			dec: events{err: kant.Errorf(kant.EINVALID, "detail.jobRunId: required")}, header: map[string]string{"X-Kant-Token": "w-token"},
			status: 400, body: "detail.jobRunId"},
		{name: "a source that cannot be read now is a 503 with Retry-After, which EventBridge retries",
			dec: events{err: kant.Unavailable(errors.New("throttled"), 0, "could not read the run")}, header: map[string]string{"X-Kant-Token": "w-token"},
			status: 503, body: "could not read the run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &countingIngester{}
			h := newServer(t, &ing.fakeStore, api.Config{Ingester: ing, Events: tt.dec, WriteTokens: []string{"w-token"}})
			req := httptest.NewRequest(http.MethodPost, "/v1/events/aws", strings.NewReader(`{}`))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) || len(ing.got) != tt.stored {
				t.Fatalf("answer %d %s, %d stored; want %d with %q and %d stored", rec.Code, rec.Body.String(), len(ing.got), tt.status, tt.body, tt.stored)
			}
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("not JSON: %s", rec.Body.String())
			}
			if tt.status == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

func TestTheEventsEndpointIsServedOnlyWithADecoderAndTakesNoBasicAuthElsewhere(t *testing.T) {
	h := newServer(t, &fakeStore{}, api.Config{WriteTokens: []string{"w-token"}})
	req := httptest.NewRequest(http.MethodPost, "/v1/events/aws", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer w-token")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("without a decoder: %d, want 404", rec.Code)
	}
	req = httptest.NewRequest(http.MethodPost, "/v1/runs", strings.NewReader(`{"source":"a","job":"b","run_id":"c","state":"succeeded"}`))
	req.Header.Set("X-Kant-Token", "w-token")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("POST /v1/runs with X-Kant-Token: %d, want 401 (only the events endpoint takes it)", rec.Code)
	}
}
