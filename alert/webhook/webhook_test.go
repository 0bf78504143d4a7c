package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/alert/webhook"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const secret = "whsec-0123456789abcdef"

var sentAt = time.Date(2026, 6, 1, 2, 1, 30, 0, time.UTC)

func date(s string) kant.Date {
	d, err := kant.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

var failed = kant.Alert{
	ID: "job/hegel-nightly/hegel/export/2026-06-01T01:00", Kind: alert.KindFailed, SLO: "hegel-nightly",
	Job: "hegel/export", Date: date("2026-06-01"), Status: kant.AlertOpen, Channel: "#data-alerts",
	Text:      "hegel/export is being retried for 2026-06-01: attempt 2 RUNNING",
	CreatedAt: time.Date(2026, 6, 1, 2, 1, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 6, 1, 3, 1, 0, 0, time.UTC),
	Since: time.Date(2026, 6, 1, 11, 0, 0, 0, time.FixedZone("JST", 9*3600)), Owner: "@data-platform",
	Fields: []kant.AlertField{{Label: "SLO", Value: "hegel-nightly"}, {Label: "Deadline", Value: "06:00 UTC"},
		{Label: "Error", Value: "OutOfMemoryError: <Java> heap & space"}},
	Links:    []kant.AlertLink{{Text: "Glue run", URL: "https://console.aws.amazon.com/gluestudio/home?region=eu-west-1#/job/export/run/jr_2"}},
	Notes:    []string{"hegel/export is being retried for 2026-06-01: attempt 2 RUNNING"},
	Revision: 2,
}

// delivery is one request as a receiver sees it.
type delivery struct {
	Header http.Header
	Body   []byte
	Parsed webhook.Body
}

// receiver is a webhook receiver written as its documentation says:
// verify the signature over the raw body with the shared secret (computed
// here with crypto/hmac, not with webhook.Verify), then read the body. It
// answers with status (204 when 0) and keeps every request.
type receiver struct {
	t        *testing.T
	mu       sync.Mutex
	got      []delivery
	statuses []int // answers in turn; the last repeats
	header   http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	body, _ := io.ReadAll(req.Body)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("%s with content type %q, want POST of application/json", req.Method, req.Header.Get("Content-Type"))
	}
	if !hmac.Equal([]byte(req.Header.Get(webhook.HeaderSignature)), []byte(want)) {
		r.t.Errorf("signature %q, want %q", req.Header.Get(webhook.HeaderSignature), want)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	d := delivery{Header: req.Header.Clone(), Body: body}
	if err := json.Unmarshal(body, &d.Parsed); err != nil {
		r.t.Errorf("body: %v", err)
	}
	r.got = append(r.got, d)
	status := http.StatusNoContent
	if len(r.statuses) > 0 {
		status = r.statuses[0]
		if len(r.statuses) > 1 {
			r.statuses = r.statuses[1:]
		}
	}
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
}

func start(t *testing.T, r *receiver) (*webhook.Sender, *httptest.Server) {
	t.Helper()
	r.t = t
	h := httptest.NewServer(r)
	t.Cleanup(h.Close)
	s, err := webhook.New(webhook.Config{URL: h.URL + "/hooks/kant?token=receivers-own-token", Secret: secret,
		Now: func() time.Time { return sentAt }})
	if err != nil {
		t.Fatal(err)
	}
	return s, h
}

func TestAReceiverVerifiesTheSignatureAndReadsTheDocumentedBody(t *testing.T) {
	var r receiver
	s, _ := start(t, &r)
	sent, err := s.Send(context.Background(), failed, kant.Delivery{Revision: 1, Status: kant.AlertOpen})
	if err != nil || !sent {
		t.Fatalf("Send = %v, %v", sent, err)
	}
	if len(r.got) != 1 {
		t.Fatalf("%d requests, want 1", len(r.got))
	}
	d := r.got[0]
	b := d.Parsed.Alert
	if b.ID != failed.ID || b.Kind != "failed" || b.Revision != 2 || b.SLO != "hegel-nightly" || b.Job != "hegel/export" ||
		b.Date != "2026-06-01" || b.Verdict != "pending" || len(b.Links) != 1 {
		t.Errorf("body %+v", d.Parsed)
	}
	if d.Header.Get(webhook.HeaderDelivery) != d.Parsed.Delivery || d.Parsed.Delivery != webhook.DeliveryKey(failed.ID, 2) {
		t.Errorf("idempotency key: header %q, body %q", d.Header.Get(webhook.HeaderDelivery), d.Parsed.Delivery)
	}
	if !webhook.Verify(secret, d.Body, d.Header.Get(webhook.HeaderSignature)) {
		t.Error("Verify rejects the signature the receiver accepted")
	}
	golden(t, "alert", d)
}

func TestATamperedBodyOrAnotherSecretFailsVerification(t *testing.T) {
	body := []byte(`{"version":1,"alert":{"id":"a","revision":1}}`)
	sig := webhook.Sign(secret, body)
	for _, tc := range []struct {
		name         string
		secret, sig  string
		body         []byte
		wantVerified bool
	}{
		{"the body as signed verifies", secret, sig, body, true},
		{"a changed body does not", secret, sig, bytes.Replace(body, []byte(`"revision":1`), []byte(`"revision":2`), 1), false},
		{"another secret does not", "other", sig, body, false},
		{"a signature without its sha256= prefix does not", secret, strings.TrimPrefix(sig, "sha256="), body, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := webhook.Verify(tc.secret, tc.body, tc.sig); got != tc.wantVerified {
				t.Errorf("Verify = %v, want %v", got, tc.wantVerified)
			}
		})
	}
}

func TestEveryAttemptAtARevisionCarriesTheSameIdempotencyKeyAndANewRevisionANewOne(t *testing.T) {
	r := receiver{statuses: []int{http.StatusServiceUnavailable, http.StatusOK, http.StatusOK}}
	s, _ := start(t, &r)
	ctx := context.Background()
	if _, err := s.Send(ctx, failed, kant.Delivery{}); err == nil {
		t.Fatal("the 503 was not an error")
	}
	if _, err := s.Send(ctx, failed, kant.Delivery{}); err != nil {
		t.Fatal(err)
	}
	next := failed
	next.Revision = 3
	if _, err := s.Send(ctx, next, kant.Delivery{Revision: 2}); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(r.got))
	for i, d := range r.got {
		keys[i] = d.Header.Get(webhook.HeaderDelivery)
	}
	if len(keys) != 3 || keys[0] != keys[1] || keys[1] == keys[2] || keys[0] == "" {
		t.Errorf("keys %q: want the retry's the same as the first, the next revision's different", keys)
	}
}

func TestWebhookErrorsSayWhetherARetryCanHelp(t *testing.T) {
	for _, tc := range []struct {
		status    int
		header    http.Header
		ok        bool
		retryable bool
		wait      time.Duration
	}{
		{status: http.StatusOK, ok: true},
		{status: http.StatusAccepted, ok: true},
		{status: http.StatusNoContent, ok: true},
		{status: http.StatusRequestTimeout, retryable: true},
		{status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {"120"}}, retryable: true, wait: 2 * time.Minute},
		{status: http.StatusInternalServerError, retryable: true},
		{status: http.StatusBadGateway, retryable: true},
		{status: http.StatusServiceUnavailable, retryable: true},
		{status: http.StatusBadRequest},
		{status: http.StatusUnauthorized},
		{status: http.StatusNotFound},
		{status: http.StatusGone},
		{status: http.StatusUnprocessableEntity},
		{status: http.StatusMovedPermanently}, // not followed: the receiver moved
	} {
		name := fmt.Sprintf("%d %s is ", tc.status, http.StatusText(tc.status))
		switch {
		case tc.ok:
			name += "delivered"
		case tc.retryable:
			name += "retried"
		default:
			name += "given up"
		}
		t.Run(name, func(t *testing.T) {
			r := receiver{statuses: []int{tc.status}, header: tc.header}
			if tc.status == http.StatusMovedPermanently {
				r.header = http.Header{"Location": {"/elsewhere"}}
			}
			s, _ := start(t, &r)
			_, err := s.Send(context.Background(), failed, kant.Delivery{})
			if (err == nil) != tc.ok {
				t.Fatalf("Send = %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if ok, wait := alert.Retryable(err); ok != tc.retryable || wait != tc.wait {
					t.Errorf("Retryable(%v) = %v, %v; want %v, %v", err, ok, wait, tc.retryable, tc.wait)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "receivers-own-token") {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
			if len(r.got) != 1 {
				t.Errorf("%d requests, want 1", len(r.got))
			}
		})
	}
}

func TestAnUnreachableReceiverIsRetriedAndItsURLIsNotShown(t *testing.T) {
	var r receiver
	s, h := start(t, &r)
	h.Close()
	_, err := s.Send(context.Background(), failed, kant.Delivery{})
	if ok, _ := alert.Retryable(err); err == nil || !ok {
		t.Fatalf("Send = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "receivers-own-token") {
		t.Errorf("the error shows the URL: %v", err)
	}
}

func TestNewRejectsAMissingSecretOrURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  webhook.Config
	}{
		{"no secret", webhook.Config{URL: "https://hooks.example.com/kant"}},
		{"no URL", webhook.Config{Secret: secret}},
		{"a URL that is not http(s)", webhook.Config{URL: "hooks.example.com/kant", Secret: secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := webhook.New(tc.cfg); err == nil {
				t.Error("New accepted it")
			} else if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

// golden compares the signed headers and the body (indented) of d with
// testdata/name.golden.
func golden(t *testing.T, name string, d delivery) {
	t.Helper()
	var b bytes.Buffer
	for _, h := range []string{"Content-Type", webhook.HeaderEvent, webhook.HeaderDelivery, webhook.HeaderSignature} {
		fmt.Fprintf(&b, "%s: %s\n", h, d.Header.Get(h))
	}
	b.WriteByte('\n')
	if err := json.Indent(&b, d.Body, "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, b.Bytes())
	}
}
