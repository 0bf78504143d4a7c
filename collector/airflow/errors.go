package airflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/internal/awsclient"
)

// APIError is an Airflow API answer other than 2xx: its status and, when the
// body was a problem document (RFC 7807 in Airflow 2, {"detail": ...} in
// Airflow 3), its title and detail. It never carries credentials.
type APIError struct {
	Method, Path string
	Status       int
	Title        string
	Detail       string
	// RetryAfter is the server's Retry-After on a 429 or 503, or 0.
	RetryAfter time.Duration
	// Auth is the auth mode in use, named in the hint of a 401 or 403.
	Auth string
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "airflow %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Title != "" && e.Title != http.StatusText(e.Status) {
		b.WriteString(": " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	switch e.Status {
	case http.StatusUnauthorized:
		fmt.Fprintf(&b, " (authentication failed with auth %s: check the credentials; not retried until the next poll)", e.Auth)
	case http.StatusForbidden:
		fmt.Fprintf(&b, " (auth %s authenticated but may not read this: grant the Airflow Viewer role or the IAM permission in docs/airflow.md; not retried until the next poll)", e.Auth)
	}
	return b.String()
}

// Retryable reports whether trying again soon can help: 429 and 5xx.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Unauthorized reports whether the error is a 401 or 403.
func (e *APIError) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// maxDetail caps the problem detail kept in an error.
const maxDetail = 512

// parseProblem reads the title and detail of an error body: an RFC 7807
// problem ({"type", "title", "status", "detail"}) or Airflow 3's
// {"detail": string | object | [validation errors]}. Other bodies give a
// short excerpt when they look like text.
func parseProblem(body []byte) (title, detail string) {
	var p struct {
		Title  string          `json:"title"`
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &p); err == nil {
		title = p.Title
		var s string
		switch {
		case len(p.Detail) == 0 || string(p.Detail) == "null":
		case json.Unmarshal(p.Detail, &s) == nil:
			detail = s
		default:
			var c bytes.Buffer
			if json.Compact(&c, p.Detail) == nil {
				detail = c.String()
			}
		}
	} else if t := strings.TrimSpace(string(body)); t != "" && !strings.HasPrefix(t, "<") {
		detail = t
	}
	if len(detail) > maxDetail {
		detail = detail[:maxDetail] + "…"
	}
	if len(title) > maxDetail {
		title = title[:maxDetail]
	}
	return title, detail
}

// mwaaRetryableCodes are MWAA error codes for which trying again can help.
var mwaaRetryableCodes = map[string]bool{
	"InternalServerException":  true,
	"ThrottlingException":      true,
	"TooManyRequestsException": true,
	"ServiceUnavailable":       true,
	"RequestTimeout":           true,
}

// classify marks a failed request as retryable when trying again soon can
// help: a 429 or 5xx from Airflow (with its Retry-After), a transient MWAA
// code or a 5xx from MWAA. Network errors and timeouts are retryable as
// they are (see collector.IsRetryable); 401, 403, 404 and invalid input are
// not: they are reported and wait for the next regular poll.
func classify(err error) error {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		if apiErr.Retryable() {
			return collector.Retryable(err, apiErr.RetryAfter)
		}
		return err
	}
	return awsclient.Classify(err, mwaaRetryableCodes)
}
