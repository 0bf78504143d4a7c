// Package webhook sends kant alerts to any HTTP receiver: one signed JSON
// POST per revision of an alert (the body is documented in
// docs/alerts-destinations.md). The body is signed with HMAC-SHA256 under a
// shared secret (header X-Kant-Signature: sha256=<hex>), and every request
// carries an idempotency key (X-Kant-Delivery, also in the body) that is
// the same for every attempt at one revision, so a receiver can drop
// repeats. Errors are classed for alert.Engine, which retries with backoff:
// 408, 429 (Retry-After honoured), 5xx and network errors are retryable;
// other 4xx are not. The secret never appears in errors or logs.
//
// It imports kant and alert; nothing else of kant's.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
)

// The request headers.
const (
	HeaderSignature = "X-Kant-Signature" // "sha256=" + hex HMAC-SHA256 of the body
	HeaderDelivery  = "X-Kant-Delivery"  // the idempotency key
	HeaderEvent     = "X-Kant-Event"     // "alert"
)

// Version is the body's schema version, in its "version" key; it changes
// only when a key changes meaning or goes away (new keys may be added).
const Version = 1

// Config configures a Sender.
type Config struct {
	URL    string // required: where to POST
	Secret string // required: the shared HMAC key
	// HTTPClient makes the requests; default a client with a 30s timeout
	// that does not follow redirects (a receiver that moved says so).
	HTTPClient *http.Client
	Now        func() time.Time // default time.Now; the body's sent_at
}

// Sender posts alerts to a webhook. It implements alert.Sender.
type Sender struct {
	cfg Config
}

var _ alert.Sender = (*Sender)(nil)

// New validates cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if u, err := url.Parse(cfg.URL); cfg.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("webhook: url must be an http(s) URL")
	}
	if cfg.Secret == "" {
		return nil, errors.New("webhook: a secret is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{cfg: cfg}, nil
}

// Body is the JSON a webhook receives.
type Body struct {
	Version  int       `json:"version"`
	Event    string    `json:"event"`    // "alert"
	Delivery string    `json:"delivery"` // the idempotency key, as in X-Kant-Delivery
	SentAt   time.Time `json:"sent_at"`  // this attempt
	Alert    Alert     `json:"alert"`
}

// Alert is an alert at one revision.
type Alert struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Status   string `json:"status"` // open, resolved
	Revision int    `json:"revision"`
	SLO      string `json:"slo,omitempty"`
	Job      string `json:"job,omitempty"`
	Date     string `json:"date,omitempty"` // business date, YYYY-MM-DD
	// Verdict is the occurrence's verdict as the alert's kind tells it
	// (pending, missed, late, met); omitted for alerts about no occurrence
	// (stale sources, budgets, the digest).
	Verdict   string            `json:"verdict,omitempty"`
	Text      string            `json:"text"`
	Owner     string            `json:"owner,omitempty"`
	Since     time.Time         `json:"since,omitzero"` // when the incident began
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Fields    []kant.AlertField `json:"fields"`
	Links     []kant.AlertLink  `json:"links"`
	Notes     []string          `json:"notes"`
}

// Send posts a at its current revision. Every revision is sent.
func (s *Sender) Send(ctx context.Context, a kant.Alert, last kant.Delivery) (bool, error) {
	key := DeliveryKey(a.ID, a.Revision)
	body, err := alert.MarshalBody(BodyOf(a, key, s.cfg.Now()))
	if err != nil {
		return true, fmt.Errorf("webhook %s: %w", a.ID, err)
	}
	return true, s.post(ctx, "webhook "+a.ID, key, body)
}

// BodyOf returns the body of a's current revision, sent at now.
func BodyOf(a kant.Alert, key string, now time.Time) Body {
	w := Alert{ID: a.ID, Kind: a.Kind, Status: a.Status, Revision: a.Revision, SLO: a.SLO, Job: string(a.Job),
		Verdict: verdict(a.Kind), Text: a.Text, Owner: a.Owner, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(),
		Fields: a.Fields, Links: a.Links, Notes: a.Notes}
	if !a.Date.IsZero() {
		w.Date = a.Date.String()
	}
	if !a.Since.IsZero() {
		w.Since = a.Since.UTC()
	}
	// Lists are [] rather than null, so receivers need not check.
	w.Fields, w.Links, w.Notes = orEmpty(w.Fields), orEmpty(w.Links), orEmpty(w.Notes)
	return Body{Version: Version, Event: "alert", Delivery: key, SentAt: now.UTC(), Alert: w}
}

func orEmpty[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

func verdict(kind string) string {
	switch kind {
	case alert.KindFailed:
		return string(kant.VerdictPending)
	case alert.KindMissed:
		return string(kant.VerdictMissed)
	case alert.KindLate:
		return string(kant.VerdictLate)
	case alert.KindRecovered:
		return string(kant.VerdictMet)
	}
	return ""
}

// DeliveryKey returns the idempotency key of revision rev of the alert
// with that ID: the same for every attempt at it, different for every
// other alert or revision. It is hex, so any header can carry it.
func DeliveryKey(id string, rev int) string {
	sum := sha256.Sum256([]byte(id + "\x00" + strconv.Itoa(rev)))
	return hex.EncodeToString(sum[:16])
}

// Sign returns the X-Kant-Signature value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature (an X-Kant-Signature value) is body's
// under secret, in constant time: what a receiver does first.
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// post sends body and classes the outcome.
func (s *Sender) post(ctx context.Context, op, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", op, redact(err, s.cfg.URL))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kant-webhook/1")
	req.Header.Set(HeaderEvent, "alert")
	req.Header.Set(HeaderDelivery, key)
	req.Header.Set(HeaderSignature, Sign(s.cfg.Secret, body))
	res, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		// The URL may hold a token of the receiver's: not in the error.
		return &alert.Error{Retryable: !errors.Is(ctx.Err(), context.Canceled), Err: fmt.Errorf("%s: %w", op, redact(err, s.cfg.URL))}
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 == 2 {
		return nil
	}
	code := res.StatusCode // 408, 429 and 5xx are worth another try, other 4xx not
	return alert.ResponseError(fmt.Errorf("%s: %s", op, res.Status), res,
		code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500)
}

// redact keeps err's class but drops its text, which names the URL.
func redact(err error, u string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: "<webhook url>", Err: ue.Err}
	}
	return err
}
