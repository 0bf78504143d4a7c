package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kantproject/kant/api"
)

// FuzzReadQueries asks GET /v1/runs, /v1/slo and /v1/sla with any query
// string and checks that the answer is 200, or a 4xx whose JSON error
// names a parameter; never a 5xx.
func FuzzReadQueries(f *testing.F) {
	for _, q := range []string{"", "job=hegel/*&from=2026-06-01&to=2026-06-02&limit=10", "limit=0", "limit=99999999999999999999",
		"from=2026-06-03&to=2026-06-01", "from=0000-01-01&to=9999-12-31", "to=0001-01-01", "slo=hegel-nightly&date=2026-02-30",
		"slo=nope", "job=%ff&date=2026-06-01", "from=2025-01-01", "slo=hegel-nightly&from=2026-05-01"} {
		for path := range 3 {
			f.Add(uint8(path), q)
		}
	}
	h := newServer(f, &fakeStore{}, api.Config{})
	params := []string{"job", "from", "to", "limit", "slo", "date"}
	f.Fuzz(func(t *testing.T, path uint8, rawQuery string) {
		if len(rawQuery) > 4<<10 {
			t.Skip()
		}
		p := []string{"/v1/runs", "/v1/slo", "/v1/sla"}[int(path)%3]
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = &url.URL{Path: p, RawQuery: rawQuery}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("GET %s?%s: %d, body not JSON: %q", p, rawQuery, rec.Code, rec.Body)
		}
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code >= 400 && rec.Code < 500:
			msg, _ := body["error"].(string)
			named := false
			for _, name := range params {
				named = named || strings.Contains(msg, name)
			}
			if !named {
				t.Fatalf("GET %s?%s: %d, error %q names no parameter", p, rawQuery, rec.Code, msg)
			}
		default:
			t.Fatalf("GET %s?%s: %d %s", p, rawQuery, rec.Code, rec.Body)
		}
	})
}
