package airflow

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

const mwaaModel = "../../contracts/mwaa-2020-07-01.json"

// mwaaShapes reads the members of the MWAA model's shapes.
func mwaaShapes(t testing.TB) map[string]struct {
	Required []string                   `json:"required"`
	Members  map[string]json.RawMessage `json:"members"`
} {
	t.Helper()
	b, err := os.ReadFile(mwaaModel)
	if os.IsNotExist(err) {
		t.Fatalf("MWAA contract %s is absent", mwaaModel)
	}
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Shapes map[string]struct {
			Required []string                   `json:"required"`
			Members  map[string]json.RawMessage `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Shapes
}

// fakeMWAA is a local MWAA API (REST-JSON) in front of a fakeAirflow:
// InvokeRestApi (POST /restapi/{Name}) forwards to the Airflow stand-in,
// whose spec checks apply; CreateWebLoginToken (POST /webtoken/{Name})
// hands out a token for the webserver fakeWeb. Requests and responses are
// checked against the MWAA model's members.
type fakeMWAA struct {
	t        testing.TB
	airflow  *fakeAirflow
	env      string
	webHost  string // WebServerHostname of CreateWebLoginToken
	noInvoke bool   // InvokeRestApi answers ValidationException (Airflow < 2.4.3)

	mu      sync.Mutex
	invokes int
	logins  int
	authz   []string
}

func (m *fakeMWAA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	shapes := mwaaShapes(m.t)
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	m.authz = append(m.authz, r.Header.Get("Authorization"))
	m.mu.Unlock()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		m.t.Errorf("MWAA request not signed with the test credentials: %q", r.Header.Get("Authorization"))
	}
	name, isInvoke := strings.CutPrefix(r.URL.Path, "/restapi/")
	if !isInvoke {
		var ok bool
		if name, ok = strings.CutPrefix(r.URL.Path, "/webtoken/"); !ok || r.Method != http.MethodPost {
			m.t.Errorf("unexpected MWAA request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(404)
			return
		}
	}
	if name != m.env {
		m.writeError(w, 404, "ResourceNotFoundException", map[string]any{"Message": "no environment " + name})
		return
	}
	if !isInvoke {
		m.mu.Lock()
		m.logins++
		m.mu.Unlock()
		m.write(w, shapes["CreateWebLoginTokenResponse"].Members, map[string]any{"WebToken": "wt-secret", "WebServerHostname": m.webHost, "IamIdentity": "assumed-role/kant/test"})
		return
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		m.t.Errorf("InvokeRestApi body is not JSON: %q", body)
	}
	shape := shapes["InvokeRestApiRequest"]
	for k := range in {
		if _, ok := shape.Members[k]; !ok || k == "Name" {
			m.t.Errorf("InvokeRestApi body member %q is not in the model (or belongs in the URI)", k)
		}
	}
	var req struct {
		Method, Path    string
		QueryParameters map[string]any
		Body            json.RawMessage
	}
	json.Unmarshal(body, &req)
	if !slices.Contains([]string{"GET", "PUT", "POST", "PATCH", "DELETE"}, req.Method) || req.Path == "" || len(req.Path) > 64 {
		m.t.Errorf("InvokeRestApi Method %q Path %q break the model", req.Method, req.Path)
	}
	if m.noInvoke {
		m.writeError(w, 400, "ValidationException", map[string]any{"Message": "InvokeRestApi is not supported for this Airflow version"})
		return
	}
	m.mu.Lock()
	m.invokes++
	m.mu.Unlock()
	q := url.Values{}
	for k, v := range req.QueryParameters {
		q.Set(k, fmt.Sprint(v))
	}
	hdr := http.Header{}
	var fwd []byte
	if len(req.Body) > 0 && string(req.Body) != "null" {
		hdr.Set("Content-Type", "application/json")
		fwd = req.Body
	}
	status, _, out := m.airflow.serve(req.Method, "/api/"+m.airflow.api+req.Path, q.Encode(), hdr, fwd)
	answer := map[string]any{"RestApiStatusCode": status, "RestApiResponse": json.RawMessage(out)}
	switch {
	case status >= 500:
		m.writeError(w, 400, "RestApiServerException", answer)
	case status >= 400:
		m.writeError(w, 400, "RestApiClientException", answer)
	default:
		m.write(w, shapes["InvokeRestApiResponse"].Members, answer)
	}
}

func (m *fakeMWAA) write(w http.ResponseWriter, members map[string]json.RawMessage, out map[string]any) {
	for k := range out {
		if _, ok := members[k]; !ok {
			m.t.Errorf("the fake's MWAA answer member %q is not in the model", k)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (m *fakeMWAA) writeError(w http.ResponseWriter, status int, typ string, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// fakeWeb is an MWAA webserver: /aws_mwaa/login exchanges a web login
// token for a session cookie, and the REST API wants that cookie.
type fakeWeb struct {
	airflow *fakeAirflow
	t       testing.TB
}

func (wb *fakeWeb) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/aws_mwaa/login" {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.PostForm.Get("token") != "wt-secret" {
			wb.t.Errorf("bad login %s %v", r.Method, r.PostForm)
			w.WriteHeader(401)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "sess-1", Path: "/", HttpOnly: true, Secure: true})
		http.Redirect(w, r, "/home", http.StatusFound)
		return
	}
	if c, err := r.Cookie("session"); err != nil || c.Value != "sess-1" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		w.Write(wb.airflow.problem(401, "no session"))
		return
	}
	wb.airflow.ServeHTTP(w, r)
}

func testAWSConfig() *aws.Config {
	return &aws.Config{
		Region:      "ap-northeast-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

func newMWAAHarness(t *testing.T) (*harness, *fakeMWAA) {
	h := newHarness(t, APIv1)
	m := &fakeMWAA{t: t, airflow: h.fake, env: "kant-prod"}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	h.cfg.URL = ""
	h.cfg.Auth, h.cfg.Environment, h.cfg.Region, h.cfg.Endpoint = AuthMWAA, "kant-prod", "ap-northeast-1", srv.URL
	h.deps.AWSConfig = testAWSConfig()
	return h, m
}

func TestMWAA(t *testing.T) {
	t.Run("InvokeRestApi through the real SDK reaches Airflow and its answers are mapped", func(t *testing.T) {
		h, m := newMWAAHarness(t)
		h.fake.addDAGs("d")
		r := day("d", 9, "success")
		h.fake.addRun(r)
		h.fake.addTI(ti(r, "t", "success", 1, 0))
		p := h.poller(t)
		pollOK(t, p)
		runs := h.take()
		if len(runs) != 1 || runs[0].Job != "socrates/d.t" || runs[0].State != kant.StateSucceeded || runs[0].LogicalDate.Day != 9 {
			t.Fatalf("runs = %+v", runs)
		}
		if h.src.api != APIv1 {
			t.Errorf("api = %q, want v1 from version %s", h.src.api, h.fake.version)
		}
		if m.invokes == 0 || m.logins != 0 {
			t.Errorf("invokes %d logins %d", m.invokes, m.logins)
		}
	})
	t.Run("an Airflow error through InvokeRestApi is reported with its status and problem", func(t *testing.T) {
		h, _ := newMWAAHarness(t)
		h.fake.addDAGs("d")
		h.fake.failNext(fakeFault{Status: 403})
		_, err := h.poller(t).PollOnce(t.Context())
		if err == nil || !strings.Contains(err.Error(), "403 Forbidden") || !strings.Contains(err.Error(), "fault from the fake") || collector.IsRetryable(err) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("an Airflow 5xx through InvokeRestApi is retryable", func(t *testing.T) {
		h, _ := newMWAAHarness(t)
		h.cfg.API = APIv1
		h.fake.addDAGs("d")
		h.fake.failNext(fakeFault{Status: 502}, fakeFault{Status: 502}, fakeFault{Status: 502})
		_, err := h.poller(t).PollOnce(t.Context())
		if err == nil || !collector.IsRetryable(err) || !strings.Contains(err.Error(), "502") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("an unknown environment is reported and not retried", func(t *testing.T) {
		h, _ := newMWAAHarness(t)
		h.cfg.Environment = "nope"
		h.fake.addDAGs("d")
		_, err := h.poller(t).PollOnce(t.Context())
		if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") || collector.IsRetryable(err) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("where InvokeRestApi is refused, a web login session is used instead", func(t *testing.T) {
		h, m := newMWAAHarness(t)
		web := httptest.NewTLSServer(&fakeWeb{airflow: h.fake, t: t})
		t.Cleanup(web.Close)
		m.webHost = strings.TrimPrefix(web.URL, "https://")
		m.noInvoke = true
		h.deps.HTTPClient = web.Client()
		h.cfg.API = APIv1
		h.fake.addDAGs("d")
		r := day("d", 9, "success")
		h.fake.addRun(r)
		h.fake.addTI(ti(r, "t", "success", 1, 0))
		p := h.poller(t)
		pollOK(t, p)
		if runs := h.take(); len(runs) != 1 {
			t.Fatalf("stored %d runs", len(runs))
		}
		if m.logins != 1 {
			t.Errorf("logins = %d, want 1 (the session is reused)", m.logins)
		}
		h.clock.Advance(2 * time.Minute)
		pollOK(t, p)
		if m.logins != 1 {
			t.Errorf("logins after a second poll = %d, want 1", m.logins)
		}
	})
}
