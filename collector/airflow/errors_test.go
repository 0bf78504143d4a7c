package airflow

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseProblem(t *testing.T) {
	cases := []struct {
		name          string
		body          string
		title, detail string
	}{
		{"an RFC 7807 problem of Airflow 2 gives its title and detail",
			`{"type":"https://airflow.apache.org/x","title":"Forbidden","status":403,"detail":"missing can_read on DAGs"}`, "Forbidden", "missing can_read on DAGs"},
		{"an Airflow 3 string detail is kept", `{"detail":"Not authenticated"}`, "", "Not authenticated"},
		{"an Airflow 3 validation error list is kept as compact JSON",
			`{"detail": [{"loc": ["body", "execution_date_gte"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}]}`,
			"", `[{"loc":["body","execution_date_gte"],"msg":"Extra inputs are not permitted","type":"extra_forbidden"}]`},
		{"an HTML error page is not quoted", `<html><body>502 Bad Gateway</body></html>`, "", ""},
		{"a plain text body is quoted", "upstream connect error", "", "upstream connect error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			title, detail := parseProblem([]byte(c.body))
			if title != c.title || detail != c.detail {
				t.Errorf("parseProblem = %q, %q; want %q, %q", title, detail, c.title, c.detail)
			}
		})
	}
	t.Run("a very long detail is cut", func(t *testing.T) {
		_, detail := parseProblem([]byte(`{"detail":"` + strings.Repeat("x", 5000) + `"}`))
		if len(detail) > maxDetail+len("…") {
			t.Errorf("detail has %d bytes", len(detail))
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 10, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"seconds are read", "12", 12 * time.Second},
		{"an HTTP date is read relative to now", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"a date in the past is no wait", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"garbage is no wait", "soon", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := retryAfter(http.Header{"Retry-After": {c.value}}, now); got != c.want {
				t.Errorf("retryAfter(%q) = %v, want %v", c.value, got, c.want)
			}
		})
	}
}
