package gate_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/gate"
	"github.com/kantproject/kant/slo"
)

// FuzzQuery asks GET /v1/gate with any query string and checks that the
// answer is an answer (200, 404 or 409) or a 400 whose JSON error names a
// parameter; never a 5xx. The handler is closed first, so that a wait=
// answers at once.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{"jobs=hegel/export_users&date=2026-06-01", "jobs=hegel/*", "slo=hegel-nightly", "slo=hegel-nightly&jobs=hegel/*",
		"jobs=hegel/export_userz", "jobs=,,", "jobs=hegel/*&date=2026-13-01", "jobs=hegel/*&wait=30s", "jobs=hegel/*&wait=-1s",
		"jobs=hegel/*&wait=99999999999h", "jobs=hegel/*&date=1900-01-01", "jobs=[", "", "slo=nope", "jobs=hegel/export_users%ff"} {
		f.Add(q)
	}
	now := at("2026-06-01T09:00:00+09:00")
	ix := gate.New(gate.Config{
		SLOs:     []slo.Definition{nightly(f)},
		Sources:  []gate.Source{{Name: "hegel"}, {Name: "glue_prod", StaleAfter: 30 * time.Minute}},
		Location: tokyo,
		Now:      func() time.Time { return now },
	})
	ix.Observe(context.Background(), []kant.Run{
		run("hegel/export_users", "r1", 1, kant.StateSucceeded, "2026-06-01T01:30:00+09:00"),
		run("hegel/export_orders", "r2", 1, kant.StateFailed, "2026-06-01T01:40:00+09:00"),
	})
	h := gate.NewHandler(ix, nil)
	h.Close()
	params := []string{"jobs", "job", "slo", "date", "wait"}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if len(rawQuery) > 4<<10 {
			t.Skip()
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = &url.URL{Path: "/v1/gate", RawQuery: rawQuery}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("GET /v1/gate?%s: %d, body not JSON: %q", rawQuery, rec.Code, rec.Body)
		}
		switch rec.Code {
		case http.StatusOK, http.StatusNotFound, http.StatusConflict:
			if _, ok := body["jobs"]; !ok {
				t.Fatalf("GET /v1/gate?%s: %d without jobs: %s", rawQuery, rec.Code, rec.Body)
			}
		case http.StatusBadRequest:
			msg, _ := body["error"].(string)
			named := false
			for _, name := range params {
				named = named || strings.Contains(msg, name)
			}
			if !named {
				t.Fatalf("GET /v1/gate?%s: 400, error %q names no parameter", rawQuery, msg)
			}
		default:
			t.Fatalf("GET /v1/gate?%s: %d %s", rawQuery, rec.Code, rec.Body)
		}
	})
}
