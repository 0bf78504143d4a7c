// Package pagerduty sends kant alerts to PagerDuty through the Events API
// v2: an alert that opens triggers an incident whose dedup_key is kant's
// alert ID, and the same alert resolved resolves it; the changes in between
// are not sent (PagerDuty keeps one incident per dedup_key, and Slack's
// thread tells the story). Errors are classed for alert.Engine: 429, 5xx
// and network errors are retryable; 400 (an invalid event) and other 4xx
// are not. The routing key never appears in errors or logs.
//
// It imports kant and alert; nothing else of kant's, and no PagerDuty SDK
// (the Events API is one POST).
package pagerduty

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
)

// DefaultURL is the Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// Config configures a Sender.
type Config struct {
	// RoutingKey is the integration key of a PagerDuty service (Events API
	// v2); required.
	RoutingKey string
	// URL is the endpoint; default DefaultURL (an EU account, a proxy, a
	// test server).
	URL string
	// Source is payload.source, the system the incident is about; default
	// "kant".
	Source string
	// ClientURL, when set, is the link to kant shown with the incident
	// (its status page).
	ClientURL string
	// HTTPClient makes the requests; default a client with a 30s timeout.
	HTTPClient *http.Client
}

// Sender sends alerts to PagerDuty. It implements alert.Sender.
type Sender struct {
	cfg Config
}

var _ alert.Sender = (*Sender)(nil)

// New validates cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if cfg.RoutingKey == "" {
		return nil, errors.New("pagerduty: a routing key is required")
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("pagerduty: url %q must be an http(s) URL", cfg.URL)
	}
	if cfg.Source == "" {
		cfg.Source = "kant"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Sender{cfg: cfg}, nil
}

// Send triggers an incident for an open alert that PagerDuty was not told
// is open, and resolves it once the alert is resolved; it sends nothing for
// other changes (sent is false).
func (s *Sender) Send(ctx context.Context, a kant.Alert, last kant.Delivery) (bool, error) {
	var action string
	switch {
	case a.Status == kant.AlertOpen && last.Status != kant.AlertOpen:
		action = "trigger"
	case a.Status == kant.AlertResolved && last.Status == kant.AlertOpen:
		action = "resolve"
	default:
		return false, nil
	}
	body, err := alert.MarshalBody(Event(s.cfg, a, action))
	if err != nil {
		return true, fmt.Errorf("pagerduty %s %s: %w", action, a.ID, err)
	}
	return true, s.post(ctx, "pagerduty "+action+" "+a.ID, body)
}

// Message is an Events API v2 event.
type Message struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"` // trigger, resolve
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"` // trigger only
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
	Links       []Link   `json:"links,omitempty"`
}

// Payload describes the incident of a trigger event.
type Payload struct {
	Summary       string         `json:"summary"` // at most 1024 characters
	Source        string         `json:"source"`
	Severity      string         `json:"severity"` // critical, error, warning, info
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link shown with the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// maxSummary and maxDedupKey are the Events API's limits.
const (
	maxSummary  = 1024
	maxDedupKey = 255
)

// Event returns the event of action (trigger, resolve) for a: dedup_key
// is a's ID (its SHA-256 when longer than PagerDuty allows); a trigger
// carries the summary (a's text), severity by kind, the job as component,
// the SLO as group, the kind as class, and the fields as custom details.
func Event(cfg Config, a kant.Alert, action string) Message {
	m := Message{RoutingKey: cfg.RoutingKey, EventAction: action, DedupKey: DedupKey(a.ID)}
	if action != "trigger" {
		return m
	}
	m.Client, m.ClientURL = "kant", cfg.ClientURL
	details := map[string]any{"alert_id": a.ID, "status": a.Status, "revision": a.Revision}
	if !a.Date.IsZero() {
		details["date"] = a.Date.String()
	}
	if a.Owner != "" {
		details["owner"] = a.Owner
	}
	for _, f := range a.Fields {
		details[f.Label] = f.Value
	}
	at := a.Since
	if at.IsZero() {
		at = a.CreatedAt
	}
	source := cfg.Source
	if source == "" {
		source = "kant"
	}
	m.Payload = &Payload{Summary: truncate(a.Text, maxSummary), Source: source, Severity: Severity(a.Kind),
		Component: string(a.Job), Group: a.SLO, Class: a.Kind, CustomDetails: details}
	if !at.IsZero() {
		m.Payload.Timestamp = at.UTC().Format(time.RFC3339)
	}
	for _, l := range a.Links {
		m.Links = append(m.Links, Link{Href: l.URL, Text: l.Text})
	}
	return m
}

// DedupKey returns the dedup_key of the alert with that ID.
func DedupKey(id string) string {
	if len(id) <= maxDedupKey {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "kant-" + hex.EncodeToString(sum[:])
}

// Severity returns the PagerDuty severity of an alert kind: error for a
// failed or missed job or a failed store write, warning for staleness and
// budgets (and kinds it does not know), info for the rest.
func Severity(kind string) string {
	switch kind {
	case alert.KindFailed, alert.KindMissed, alert.KindStore:
		return "error"
	case alert.KindLate, alert.KindRecovered, alert.KindDigest:
		return "info"
	}
	return "warning"
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// post sends body and classes the outcome.
func (s *Sender) post(ctx context.Context, op string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		// A transport failure or a timeout: worth another try. The
		// error names the URL, never the routing key (it is in the body).
		return &alert.Error{Retryable: !errors.Is(ctx.Err(), context.Canceled), Err: fmt.Errorf("%s: %w", op, err)}
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	io.Copy(io.Discard, res.Body)
	if res.StatusCode/100 == 2 {
		return nil
	}
	var reply struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	why := res.Status
	if json.Unmarshal(data, &reply) == nil && reply.Message != "" {
		why += ": " + reply.Message
		for _, e := range reply.Errors {
			why += "; " + e
		}
	}
	// PagerDuty: 429 and 5xx are worth another try, 400 (invalid) is not.
	return alert.ResponseError(fmt.Errorf("%s: %s", op, why), res,
		res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500)
}
