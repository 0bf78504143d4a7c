package airflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/kantproject/kant/collector"
)

// request is one call of the Airflow REST API.
type request struct {
	method string
	api    string     // APIv1 or APIv2
	path   string     // below the API root, e.g. "/dags"
	query  url.Values // may be nil
	body   any        // sent as JSON when not nil
}

func (r request) String() string { return r.method + " /api/" + r.api + r.path }

// transport sends requests to Airflow: over HTTP with a credential, or
// through MWAA's InvokeRestApi. It returns Airflow's status, headers and
// body (at most maxBody bytes); an error means no answer from Airflow was
// had (network, credentials, the MWAA API itself).
type transport interface {
	roundTrip(ctx context.Context, req request) (int, http.Header, []byte, error)
}

// newTransport returns the transport for cfg.Auth.
func newTransport(ctx context.Context, cfg Config, deps Deps, log *slog.Logger) (transport, error) {
	base := func(context.Context) (string, error) { return cfg.URL, nil }
	h := &httpTransport{base: base, client: deps.HTTPClient}
	switch cfg.Auth {
	case AuthNone:
		h.auth = noAuth{}
	case AuthBasic:
		h.auth = basicAuth{user: cfg.Username, password: cfg.Password}
	case AuthBearer:
		if cfg.Token != "" {
			h.auth = bearerAuth{token: cfg.Token}
		} else {
			h.auth = &jwtAuth{url: cfg.URL + "/auth/token", client: deps.HTTPClient, user: cfg.Username, password: cfg.Password}
		}
	case AuthGoogle:
		g := &googleAuth{ctx: context.WithoutCancel(ctx)}
		if deps.TokenSource != nil {
			g.ts = oauth2.ReuseTokenSource(nil, deps.TokenSource)
		}
		h.auth = g
	case AuthMWAA:
		return newMWAATransport(ctx, cfg, deps, log)
	}
	return h, nil
}

// googleScope is the OAuth2 scope Cloud Composer's Airflow accepts.
const googleScope = "https://www.googleapis.com/auth/cloud-platform"

// authorizer adds a credential to a request. refresh forgets a cached
// credential after a 401 and reports whether sending again can help.
type authorizer interface {
	authorize(ctx context.Context, r *http.Request) error
	refresh() bool
}

type noAuth struct{}

func (noAuth) authorize(context.Context, *http.Request) error { return nil }
func (noAuth) refresh() bool                                  { return false }

type basicAuth struct{ user, password string }

func (a basicAuth) authorize(_ context.Context, r *http.Request) error {
	r.SetBasicAuth(a.user, a.password)
	return nil
}
func (basicAuth) refresh() bool { return false }

type bearerAuth struct{ token string }

func (a bearerAuth) authorize(_ context.Context, r *http.Request) error {
	r.Header.Set("Authorization", "Bearer "+a.token)
	return nil
}
func (bearerAuth) refresh() bool { return false }

// googleAuth sends a Google OAuth2 access token. Without an injected
// token source it finds Application Default Credentials on first use, so
// that New makes no network call.
type googleAuth struct {
	ctx  context.Context // for the token source's own requests; never cancelled
	once sync.Once
	ts   oauth2.TokenSource
	err  error
}

func (a *googleAuth) authorize(_ context.Context, r *http.Request) error {
	a.once.Do(func() {
		if a.ts != nil {
			return
		}
		ts, err := google.DefaultTokenSource(a.ctx, googleScope)
		if err != nil {
			a.err = fmt.Errorf("google auth: application default credentials: %w", err)
			return
		}
		a.ts = oauth2.ReuseTokenSource(nil, ts)
	})
	if a.err != nil {
		return a.err
	}
	tok, err := a.ts.Token()
	if err != nil {
		return fmt.Errorf("google auth: get access token: %w", err)
	}
	tok.SetAuthHeader(r)
	return nil
}

func (*googleAuth) refresh() bool { return false }

// jwtAuth exchanges a username and password for a JWT at Airflow 3's
// POST /auth/token, keeps it, and gets a new one after a 401.
type jwtAuth struct {
	url            string
	client         *http.Client
	user, password string

	mu    sync.Mutex
	token string
}

func (a *jwtAuth) authorize(ctx context.Context, r *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == "" {
		tok, err := a.fetch(ctx)
		if err != nil {
			return err
		}
		a.token = tok
	}
	r.Header.Set("Authorization", "Bearer "+a.token)
	return nil
}

func (a *jwtAuth) refresh() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.token = ""
	return true
}

func (a *jwtAuth) fetch(ctx context.Context) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": a.user, "password": a.password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("airflow auth token: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("airflow POST /auth/token: %w", err)
	}
	defer drain(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("airflow POST /auth/token: read: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		title, detail := parseProblem(b)
		return "", &APIError{Method: http.MethodPost, Path: "/auth/token", Status: resp.StatusCode, Title: title, Detail: detail, Auth: AuthBearer}
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("airflow POST /auth/token: no access_token in the answer")
	}
	return out.AccessToken, nil
}

// httpTransport calls Airflow over HTTP at base + /api/<version>.
type httpTransport struct {
	base   func(ctx context.Context) (string, error)
	client *http.Client
	auth   authorizer
}

func (t *httpTransport) roundTrip(ctx context.Context, req request) (int, http.Header, []byte, error) {
	status, header, body, err := t.send(ctx, req)
	if err == nil && status == http.StatusUnauthorized && t.auth.refresh() {
		return t.send(ctx, req)
	}
	return status, header, body, err
}

func (t *httpTransport) send(ctx context.Context, req request) (int, http.Header, []byte, error) {
	base, err := t.base(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	u := base + "/api/" + req.api + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var rd io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	hr.Header.Set("Accept", "application/json")
	if rd != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if err := t.auth.authorize(ctx, hr); err != nil {
		return 0, nil, nil, err
	}
	resp, err := t.client.Do(hr)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is known to the caller; keep query strings out of errors
		}
		return 0, nil, nil, err
	}
	defer drain(resp.Body)
	b, err := readLimited(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

// errTooLarge is a response over maxBody.
var errTooLarge = fmt.Errorf("response larger than %d bytes", maxBody)

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(b) > maxBody {
		return nil, errTooLarge
	}
	return b, nil
}

// drain reads what is left of a body (a little) and closes it, so that the
// connection can be reused.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	_ = rc.Close()
}

// call sends req and decodes a 2xx JSON answer into out (when not nil).
// Failures a retry can help with (429, 5xx, network) are tried again up to
// DefaultMaxTries times, after a jittered backoff or the server's
// Retry-After; others return at once.
func (p *Poller) call(ctx context.Context, req request, out any) error {
	for try := 1; ; try++ {
		rctx, cancel := context.WithTimeout(ctx, p.cfg.RequestTimeout)
		status, header, body, err := p.tr.roundTrip(rctx, req)
		cancel()
		if err == nil && status/100 == 2 {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("airflow %s: decode answer: %w", req, err)
			}
			return nil
		}
		var wait time.Duration
		if err == nil {
			title, detail := parseProblem(body)
			apiErr := &APIError{Method: req.method, Path: "/api/" + req.api + req.path, Status: status, Title: title, Detail: detail, Auth: p.cfg.Auth}
			apiErr.RetryAfter = retryAfter(header, p.now())
			wait = apiErr.RetryAfter
			err = apiErr
		} else {
			err = fmt.Errorf("airflow %s: %w", req, err)
		}
		err = classify(err)
		if try >= DefaultMaxTries || !collector.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		if wait <= 0 {
			wait = time.Duration(rand.Float64() * float64(time.Second<<(try-1)))
		}
		p.log.Debug("airflow request failed, trying again", "request", req.String(), "error", err, "wait", wait)
		if serr := p.sleep(ctx, min(wait, maxRetryAfter)); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
