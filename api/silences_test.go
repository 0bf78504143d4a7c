package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant/api"
	"github.com/kantproject/kant/store/sqlite"
)

var _ api.SilenceStore = (*sqlite.DB)(nil)

func newSilenceServer(t *testing.T) http.Handler {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := func() time.Time { return time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC) }
	n := 0
	sil, err := api.NewSilences(api.SilencesConfig{Store: db, SLOs: []string{"hegel-nightly"}, Now: now,
		NewID: func() string { n++; return "sil_" + string(rune('0'+n)) }})
	if err != nil {
		t.Fatal(err)
	}
	return newServer(t, &fakeStore{}, api.Config{WriteTokens: []string{"w-token"}, SilenceHandler: sil})
}

func do(t *testing.T, h http.Handler, method, path, body, token string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: body %q is not JSON", method, path, rec.Body.String())
	}
	return rec.Code, out
}

func TestSilences(t *testing.T) {
	h := newSilenceServer(t)
	const ok = `{"end": "2026-06-02T21:00:00+09:00", "reason": "Glue upgrade", "jobs": ["hegel/*"], "slos": ["hegel-nightly"]}`

	tests := []struct {
		name, method, path, body, token string
		status                          int
		errHas                          string
	}{
		{"creating a silence without a token is unauthorized", "POST", "/v1/silences", ok, "", 401, "bearer"},
		{"creating a silence with a wrong token is unauthorized", "POST", "/v1/silences", ok, "nope", 401, "bearer"},
		{"a silence without an end is rejected", "POST", "/v1/silences", `{"reason": "x"}`, "w-token", 400, "end"},
		{"a silence without a reason is rejected", "POST", "/v1/silences", `{"end": "2026-06-03T00:00:00Z"}`, "w-token", 400, "reason"},
		{"a silence that already ended is rejected", "POST", "/v1/silences", `{"end": "2026-06-02T08:00:00Z", "start": "2026-06-02T07:00:00Z", "reason": "x"}`, "w-token", 400, "future"},
		{"a silence naming an unknown SLO is rejected", "POST", "/v1/silences", `{"end": "2026-06-03T00:00:00Z", "reason": "x", "slos": ["typo"]}`, "w-token", 400, "typo"},
		{"a body with an unknown field is rejected", "POST", "/v1/silences", `{"end": "2026-06-03T00:00:00Z", "reason": "x", "until": 1}`, "w-token", 400, "until"},
		{"deleting an unknown silence is not found", "DELETE", "/v1/silences/sil_x", "", "w-token", 404, "not found"},
		{"deleting without a token is unauthorized", "DELETE", "/v1/silences/sil_x", "", "", 401, "bearer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(t, h, tc.method, tc.path, tc.body, tc.token)
			if status != tc.status || !strings.Contains(body["error"].(string), tc.errHas) {
				t.Errorf("%d %v, want %d with an error naming %q", status, body, tc.status, tc.errHas)
			}
		})
	}

	t.Run("a silence is created, listed, and deleted", func(t *testing.T) {
		status, body := do(t, h, "POST", "/v1/silences", ok, "w-token")
		if status != 201 {
			t.Fatalf("create: %d %v", status, body)
		}
		s := body["silence"].(map[string]any)
		if s["id"] != "sil_1" || s["start"] != "2026-06-02T09:00:00Z" || s["end"] != "2026-06-02T12:00:00Z" ||
			s["reason"] != "Glue upgrade" || len(s["jobs"].([]any)) != 1 {
			t.Errorf("created %v", s)
		}
		status, list := do(t, h, "GET", "/v1/silences", "", "")
		if l := list["silences"].([]any); status != 200 || len(l) != 1 || l[0].(map[string]any)["id"] != "sil_1" {
			t.Errorf("list: %d %v", status, list)
		}
		if status, body := do(t, h, "DELETE", "/v1/silences/sil_1", "", "w-token"); status != 200 || body["deleted"] != "sil_1" {
			t.Errorf("delete: %d %v", status, body)
		}
		if _, list := do(t, h, "GET", "/v1/silences", "", ""); len(list["silences"].([]any)) != 0 {
			t.Errorf("list after delete: %v", list)
		}
	})
}
