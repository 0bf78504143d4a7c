package airflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

func TestAuth(t *testing.T) {
	t.Run("basic auth sends the username and password", func(t *testing.T) {
		h := newHarness(t, APIv1)
		h.cfg.Auth, h.cfg.Username, h.cfg.Password = AuthBasic, "kant", "s3cret"
		h.fake.auth = func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "kant" && p == "s3cret"
		}
		h.fake.addDAGs("d")
		pollOK(t, h.poller(t))
	})
	t.Run("Composer-style google auth sends the OAuth2 access token as a bearer", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.Auth = AuthGoogle
		h.deps.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.test-token", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)})
		var seen []string
		h.fake.auth = func(r *http.Request) bool {
			seen = append(seen, r.Header.Get("Authorization"))
			return r.Header.Get("Authorization") == "Bearer ya29.test-token"
		}
		h.fake.addDAGs("d")
		pollOK(t, h.poller(t))
		if len(seen) == 0 {
			t.Error("no authorized request reached the fake")
		}
	})
	t.Run("a static bearer token is sent as is", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.Auth, h.cfg.Token = AuthBearer, "static-tok"
		h.fake.auth = func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer static-tok" }
		h.fake.addDAGs("d")
		pollOK(t, h.poller(t))
	})
	t.Run("bearer auth with a username gets a JWT from /auth/token and a new one after a 401", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.Auth, h.cfg.Username, h.cfg.Password = AuthBearer, "kant", "s3cret"
		valid := "Bearer jwt-1"
		h.fake.auth = func(r *http.Request) bool { return r.Header.Get("Authorization") == valid }
		h.fake.addDAGs("d")
		p := h.poller(t)
		pollOK(t, p)
		valid = "Bearer jwt-2" // the first token expired
		h.clock.Advance(2 * time.Minute)
		pollOK(t, p)
		if h.fake.tokens != 2 {
			t.Errorf("tokens issued = %d, want 2", h.fake.tokens)
		}
	})
}

func TestAuthFailure(t *testing.T) {
	cases := []struct {
		name   string
		api    string
		status int
		want   []string
	}{
		{"a 401 from Airflow 2 is reported with its problem title and detail, and not retried", APIv1, 401, []string{"401 Unauthorized", "Invalid credentials", "authentication failed with auth basic"}},
		{"a 401 from Airflow 3 is reported with its detail, and not retried", APIv2, 401, []string{"401 Unauthorized", "Invalid credentials"}},
		{"a 403 names the permission to grant", APIv1, 403, []string{"403 Forbidden", "Viewer role"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.api)
			h.cfg.API = c.api
			h.cfg.Auth, h.cfg.Username, h.cfg.Password = AuthBasic, "kant", "wrong"
			h.fake.addDAGs("d")
			if c.status == 401 {
				h.fake.auth = func(*http.Request) bool { return false }
			} else {
				h.fake.failNext(fakeFault{Status: c.status})
			}
			p := h.poller(t)
			_, err := p.PollOnce(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("the password leaked into the error: %v", err)
			}
			if collector.IsRetryable(err) {
				t.Errorf("%d is retryable", c.status)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || !apiErr.Unauthorized() {
				t.Errorf("err %T is not an unauthorized APIError", err)
			}
			if reqs, _ := h.fake.stats(); reqs != 1 {
				t.Errorf("%d requests, want 1: a refusal is not retried", reqs)
			}
			if h.health.Last() == "" || !strings.Contains(h.health.Last(), "401") && !strings.Contains(h.health.Last(), "403") {
				t.Errorf("health = %q", h.health.Last())
			}
			if len(h.sleeps.Durations()) != 0 {
				t.Errorf("slept %v", h.sleeps.Durations())
			}
		})
	}
	t.Run("a wrong password at /auth/token is reported without the password", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.API = APIv2
		h.cfg.Auth, h.cfg.Username, h.cfg.Password = AuthBearer, "kant", "nope-nope"
		h.fake.addDAGs("d")
		_, err := h.poller(t).PollOnce(context.Background())
		if err == nil || !strings.Contains(err.Error(), "/auth/token: 401") || strings.Contains(err.Error(), "nope-nope") || collector.IsRetryable(err) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestServerErrors(t *testing.T) {
	t.Run("a 429 is tried again after its Retry-After", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.API = APIv2
		h.fake.addDAGs("d")
		h.fake.failNext(fakeFault{Status: 429, Header: http.Header{"Retry-After": {"7"}}})
		pollOK(t, h.poller(t))
		if len(h.sleeps.Durations()) != 1 || h.sleeps.Durations()[0] != 7*time.Second {
			t.Errorf("slept %v, want [7s]", h.sleeps.Durations())
		}
	})
	t.Run("5xx answers are tried a bounded number of times, then reported as retryable with the problem", func(t *testing.T) {
		h := newHarness(t, APIv1)
		h.cfg.API = APIv1
		h.fake.addDAGs("d")
		h.fake.failNext(fakeFault{Status: 503}, fakeFault{Status: 503}, fakeFault{Status: 503})
		n, err := h.poller(t).PollOnce(context.Background())
		if err == nil || n != 0 || !collector.IsRetryable(err) || !strings.Contains(err.Error(), "503 Service Unavailable: fault from the fake") {
			t.Fatalf("PollOnce = %d, %v", n, err)
		}
		if reqs, _ := h.fake.stats(); reqs != DefaultMaxTries {
			t.Errorf("%d requests, want %d", reqs, DefaultMaxTries)
		}
		if !strings.Contains(h.health.Last(), "503") {
			t.Errorf("health = %q", h.health.Last())
		}
	})
	t.Run("a failed poll keeps the checkpoint, so the next poll reads the same window", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.API = APIv2
		h.fake.addDAGs("d")
		p := h.poller(t)
		pollOK(t, p)
		h.clock.Advance(2 * time.Minute)
		h.fake.failNext(fakeFault{Status: 500}, fakeFault{Status: 500}, fakeFault{Status: 500})
		if _, err := p.PollOnce(context.Background()); err == nil {
			t.Fatal("no error")
		}
		h.clock.Advance(2 * time.Minute)
		h.fake.resetStats()
		pollOK(t, p)
		if got, want := h.fake.bodies[0]["end_date_gte"], wireTime(t0.Add(-DefaultOverlap)); got != want {
			t.Errorf("window starts at %v, want %v", got, want)
		}
	})
}

func TestRun(t *testing.T) {
	cases := []struct {
		name   string
		fault  int
		sooner bool
	}{
		{"after a retryable failure the next cycle comes sooner than the interval", 503, true},
		{"after an auth failure the next cycle waits the full interval", 401, false},
		{"after a success the next cycle waits the interval", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, APIv2)
			h.cfg.API = APIv2
			h.interval = time.Minute
			h.fake.addDAGs("d")
			switch c.fault {
			case 401:
				h.fake.auth = func(*http.Request) bool { return false }
			case 503:
				h.fake.failNext(fakeFault{Status: 503}, fakeFault{Status: 503}, fakeFault{Status: 503})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var waits []time.Duration
			h.deps.Sleep = func(ctx context.Context, d time.Duration) error {
				waits = append(waits, d)
				if d == time.Minute || len(waits) > 3 || d < time.Minute && c.fault == 503 && len(waits) == 3 {
					cancel() // the cycle's wait: stop here
				}
				return ctx.Err()
			}
			if err := h.poller(t).Run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v", err)
			}
			last := waits[len(waits)-1]
			if c.sooner != (last < time.Minute) {
				t.Errorf("waits %v: sooner = %v, want %v", waits, last < time.Minute, c.sooner)
			}
		})
	}
}

func TestNew(t *testing.T) {
	deps := Deps{}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"a source without url is refused", Config{Source: "s", DAGs: []string{"*"}}, "url: required"},
		{"an unknown auth is refused", Config{Source: "s", URL: "http://a", DAGs: []string{"*"}, Auth: "kerberos"}, "auth:"},
		{"basic auth without a password is refused", Config{Source: "s", URL: "http://a", DAGs: []string{"*"}, Auth: AuthBasic, Username: "u"}, "basic auth"},
		{"mwaa without an environment is refused", Config{Source: "s", DAGs: []string{"*"}, Auth: AuthMWAA, Region: "ap-northeast-1"}, "environment"},
		{"a bad level is refused", Config{Source: "s", URL: "http://a", DAGs: []string{"*"}, Level: "pipeline"}, "level"},
		{"a bad api is refused", Config{Source: "s", URL: "http://a", DAGs: []string{"*"}, API: "v3"}, "api"},
		{"no DAGs is refused", Config{Source: "s", URL: "http://a"}, "dags"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(context.Background(), c.cfg, deps)
			if err == nil || kant.ErrorCode(err) != kant.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want invalid: %s", err, c.want)
			}
		})
	}
	t.Run("a password never appears in a config error", func(t *testing.T) {
		_, err := New(context.Background(), Config{Source: "s", DAGs: []string{"*"}, Auth: AuthBasic, Password: "hunter2"}, deps)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New = %v", err)
		}
	})
}

func TestSecretsStayOut(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(*Config)
	}{
		{"basic auth", func(c *Config) { c.Auth, c.Username, c.Password = AuthBasic, "kant", "pw-Zx81q" }},
		{"a static bearer token", func(c *Config) { c.Auth, c.Token = AuthBearer, "pw-Zx81q" }},
		{"a JWT exchange", func(c *Config) { c.Auth, c.Username, c.Password = AuthBearer, "kant", "pw-Zx81q" }},
	}
	for _, c := range cases {
		t.Run("with "+c.name+" no secret reaches a log line, an error or the health record", func(t *testing.T) {
			var logs strings.Builder
			h := newHarness(t, APIv2)
			c.cfg(&h.cfg)
			h.cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			h.fake.addDAGs("d")
			h.fake.auth = func(*http.Request) bool { return false }
			p := h.poller(t)
			_, err1 := p.PollOnce(context.Background())
			h.fake.auth = nil
			h.fake.failNext(fakeFault{Status: 503}, fakeFault{Status: 503}, fakeFault{Status: 503})
			_, err2 := p.PollOnce(context.Background())
			if err1 == nil || err2 == nil {
				t.Fatalf("errors = %v, %v", err1, err2)
			}
			for what, s := range map[string]string{"logs": logs.String(), "error 1": err1.Error(), "error 2": err2.Error(), "health": fmt.Sprint(h.health.Records())} {
				if strings.Contains(s, "pw-Zx81q") {
					t.Errorf("the secret is in the %s: %s", what, s)
				}
			}
		})
	}
}
