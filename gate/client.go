package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Exit statuses of `kant gate wait`.
const (
	ExitOpen    = 0 // every job succeeded
	ExitFailed  = 1 // upstream failed (409)
	ExitTimeout = 2 // still not open when the timeout ran out
	ExitError   = 3 // bad request, bad token, or kant unreachable
)

// Client waits on a kant gate over HTTP.
type Client struct {
	URL    string       // kant's base URL, like http://localhost:8080
	Token  string       // bearer token for the gate, if kant requires one
	HTTP   *http.Client // default: a client with no overall timeout (long-polls)
	Now    func() time.Time
	Output io.Writer // progress lines; default discards

	// MaxConnErrors is how many consecutive connection errors or 5xx
	// answers are retried before giving up (default 5).
	MaxConnErrors int
	// Backoff is the pause after a connection error (default 2s, doubling
	// up to 30s).
	Backoff time.Duration
	// MinInterval is the least time between two requests (default 1s), for
	// answers that come back at once (a date kant answers from its store).
	MinInterval time.Duration
}

// Wait long-polls the gate for jobs (or an SLO) and date until it opens,
// fails, or timeout passes, and returns the exit status and the last answer.
// An empty date lets kant pick the current occurrence.
func (c *Client) Wait(ctx context.Context, jobs, sloName, date string, timeout time.Duration) (int, Answer, error) {
	if (jobs == "") == (sloName == "") {
		return ExitError, Answer{}, errors.New("give exactly one of -jobs or -slo")
	}
	c = c.withDefaults() // a copy: the caller's Client is only read
	base, err := url.Parse(strings.TrimRight(c.URL, "/") + "/v1/gate")
	if err != nil || base.Host == "" {
		return ExitError, Answer{}, fmt.Errorf("bad -url %q", c.URL)
	}
	deadline := c.Now().Add(timeout)
	backoff := c.Backoff
	connErrors := 0
	var last Answer
	for {
		left := deadline.Sub(c.Now())
		if left <= 0 {
			return ExitTimeout, last, fmt.Errorf("timed out after %s: %s", timeout, pending(last))
		}
		q := url.Values{}
		if jobs != "" {
			q.Set("jobs", jobs)
		} else {
			q.Set("slo", sloName)
		}
		if date != "" {
			q.Set("date", date)
		}
		q.Set("wait", min(left, MaxWait).Round(time.Second).String())
		u := *base
		u.RawQuery = q.Encode()
		sent := time.Now()
		status, a, msg, retryAfter, err := c.get(ctx, u.String(), min(left, MaxWait)+15*time.Second)
		if ctx.Err() != nil {
			return ExitError, last, ctx.Err()
		}
		switch {
		case err != nil || status >= 500:
			connErrors++
			if err == nil {
				err = fmt.Errorf("kant answered %d: %s", status, msg)
			}
			if connErrors >= c.MaxConnErrors {
				return ExitError, last, fmt.Errorf("giving up after %d errors: %w", connErrors, err)
			}
			// A busy kant (503) says when to ask again; otherwise back off.
			pause := backoff
			if retryAfter > 0 {
				pause = min(retryAfter, maxRetryAfter)
			}
			fmt.Fprintf(c.Output, "gate: %v; retrying in %s\n", err, pause)
			select {
			case <-ctx.Done():
				return ExitError, last, ctx.Err()
			case <-time.After(min(pause, max(left, 0))):
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		case status == http.StatusOK:
			return ExitOpen, a, nil
		case status == http.StatusConflict:
			return ExitFailed, a, fmt.Errorf("upstream failed: %s", failures(a))
		case status == http.StatusNotFound && msg != "":
			// A 404 that is not a gate answer: a wrong -url.
			return ExitError, last, fmt.Errorf("kant answered 404: %s (is -url kant's base URL?)", msg)
		case status == http.StatusNotFound:
			connErrors, backoff, last = 0, c.Backoff, a
			fmt.Fprintf(c.Output, "gate: %s not open yet: %s\n", a.Date, pending(a))
			if pause := c.MinInterval - time.Since(sent); pause > 0 {
				select {
				case <-ctx.Done():
					return ExitError, last, ctx.Err()
				case <-time.After(pause):
				}
			}
		default:
			return ExitError, last, fmt.Errorf("kant answered %d: %s", status, msg)
		}
	}
}

// withDefaults returns a copy of c with its unset settings defaulted: Wait
// never writes to its receiver, so that one Client can serve several Waits
// at once.
func (c *Client) withDefaults() *Client {
	d := *c
	if d.HTTP == nil {
		d.HTTP = &http.Client{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Output == nil {
		d.Output = io.Discard
	}
	if d.MaxConnErrors <= 0 {
		d.MaxConnErrors = 5
	}
	if d.Backoff <= 0 {
		d.Backoff = 2 * time.Second
	}
	if d.MinInterval <= 0 {
		d.MinInterval = time.Second
	}
	return &d
}

// maxRetryAfter caps how long a Retry-After makes Wait pause.
const maxRetryAfter = time.Minute

// get performs one gate request; msg is the error text of a JSON error
// body, retryAfter the Retry-After (in seconds) of a 429 or 503.
func (c *Client) get(ctx context.Context, u string, timeout time.Duration) (status int, a Answer, msg string, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, a, "", 0, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, a, "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, a, "", 0, err
	}
	var shape struct {
		Open  *bool            `json:"open"`
		Jobs  *json.RawMessage `json:"jobs"`
		Error string           `json:"error"`
	}
	_ = json.Unmarshal(body, &shape)
	switch {
	case shape.Open != nil && shape.Jobs != nil &&
		(resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusConflict):
		if err := json.Unmarshal(body, &a); err != nil {
			return 0, a, "", 0, fmt.Errorf("bad gate answer (status %d): %w", resp.StatusCode, err)
		}
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusConflict:
		return 0, a, "", 0, fmt.Errorf("not a gate answer (status %d): is -url kant's base URL?", resp.StatusCode)
	default:
		if msg = shape.Error; msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
	}
	if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests {
		if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
			retryAfter = time.Duration(secs) * time.Second
		}
	}
	return resp.StatusCode, a, msg, retryAfter, nil
}

// pending lists the jobs that are not done, with their reasons.
func pending(a Answer) string {
	var parts []string
	for _, j := range a.Jobs {
		if j.Reason != ReasonSucceeded {
			parts = append(parts, fmt.Sprintf("%s %s", j.Job, j.Reason))
		}
	}
	if len(parts) == 0 {
		return "no answer yet"
	}
	if len(parts) > 5 {
		parts = append(parts[:5], fmt.Sprintf("and %d more", len(parts)-5))
	}
	return strings.Join(parts, ", ")
}

// failures lists the failed jobs with their error messages.
func failures(a Answer) string {
	var parts []string
	for _, j := range a.Jobs {
		if j.Reason == ReasonFailed {
			s := string(j.Job)
			if j.Error != "" {
				s += " (" + j.Error + ")"
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}
