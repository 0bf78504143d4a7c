package airflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mwaa"
	"github.com/aws/aws-sdk-go-v2/service/mwaa/document"
	"github.com/aws/aws-sdk-go-v2/service/mwaa/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kantproject/kant/collector/internal/awsclient"
)

// mwaaAPI lists the MWAA calls the poller makes; *mwaa.Client satisfies it.
type mwaaAPI interface {
	InvokeRestApi(ctx context.Context, in *mwaa.InvokeRestApiInput, optFns ...func(*mwaa.Options)) (*mwaa.InvokeRestApiOutput, error)
	CreateWebLoginToken(ctx context.Context, in *mwaa.CreateWebLoginTokenInput, optFns ...func(*mwaa.Options)) (*mwaa.CreateWebLoginTokenOutput, error)
}

var _ mwaaAPI = (*mwaa.Client)(nil)

// mwaaTransport calls Airflow through MWAA's InvokeRestApi (Airflow 2.4.3
// and later). Where InvokeRestApi is refused as invalid (older Airflow), it
// switches for good to the web login: a CreateWebLoginToken token exchanged
// at https://<webserver>/aws_mwaa/login for a session cookie, then plain
// HTTP to the webserver's REST API.
type mwaaTransport struct {
	client mwaaAPI
	env    string
	log    *slog.Logger
	web    *httpTransport

	mu     sync.Mutex
	useWeb bool
}

func newMWAATransport(ctx context.Context, cfg Config, deps Deps, log *slog.Logger) (*mwaaTransport, error) {
	awsCfg, err := awsclient.Config(ctx, deps.AWSConfig, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("mwaa auth: load AWS config: %w", err)
	}
	client := mwaa.NewFromConfig(awsCfg, func(o *mwaa.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			// InvokeRestApi and CreateWebLoginToken go to "env." + host;
			// an explicit endpoint is used as given.
			o.APIOptions = append(o.APIOptions, noHostPrefix)
		}
	})
	t := &mwaaTransport{client: client, env: cfg.Environment, log: log}
	s := &webSession{client: client, env: cfg.Environment, http: deps.HTTPClient}
	t.web = &httpTransport{base: s.base, client: deps.HTTPClient, auth: s}
	return t, nil
}

// noHostPrefix stops the SDK from prefixing the endpoint's host with "env.".
func noHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("kantNoHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

func (t *mwaaTransport) roundTrip(ctx context.Context, req request) (int, http.Header, []byte, error) {
	t.mu.Lock()
	web := t.useWeb
	t.mu.Unlock()
	if web {
		return t.web.roundTrip(ctx, req)
	}
	status, body, err := t.invoke(ctx, req)
	var sErr smithy.APIError
	if errors.As(err, &sErr) && sErr.ErrorCode() == "ValidationException" {
		t.log.Warn("MWAA InvokeRestApi refused; using the web login token session instead", "error", sErr.ErrorMessage())
		t.mu.Lock()
		t.useWeb = true
		t.mu.Unlock()
		return t.web.roundTrip(ctx, req)
	}
	return status, nil, body, err
}

// invoke calls InvokeRestApi. Airflow's own error answers arrive as
// RestApiClientException and RestApiServerException and are returned as a
// status and body like any other answer.
func (t *mwaaTransport) invoke(ctx context.Context, req request) (int, []byte, error) {
	in := &mwaa.InvokeRestApiInput{
		Name:   aws.String(t.env),
		Method: types.RestApiMethod(req.method),
		Path:   aws.String(req.path),
	}
	if len(req.query) > 0 {
		q := make(map[string]any, len(req.query))
		for k, v := range req.query {
			if len(v) == 1 {
				q[k] = v[0]
			} else {
				q[k] = v
			}
		}
		in.QueryParameters = document.NewLazyDocument(q)
	}
	if req.body != nil {
		in.Body = document.NewLazyDocument(req.body)
	}
	out, err := t.client.InvokeRestApi(ctx, in)
	if err != nil {
		var ce *types.RestApiClientException
		if errors.As(err, &ce) {
			return restAPIAnswer(ce.RestApiStatusCode, ce.RestApiResponse, 400)
		}
		var se *types.RestApiServerException
		if errors.As(err, &se) {
			return restAPIAnswer(se.RestApiStatusCode, se.RestApiResponse, 500)
		}
		return 0, nil, fmt.Errorf("mwaa invoke rest api: %w", err)
	}
	return restAPIAnswer(out.RestApiStatusCode, out.RestApiResponse, 200)
}

func restAPIAnswer(status *int32, doc document.Interface, def int) (int, []byte, error) {
	code := def
	if status != nil {
		code = int(*status)
	}
	if doc == nil {
		return code, nil, nil
	}
	b, err := doc.MarshalSmithyDocument()
	if err != nil {
		return 0, nil, fmt.Errorf("mwaa invoke rest api: read answer: %w", err)
	}
	if len(b) > maxBody {
		return 0, nil, errTooLarge
	}
	return code, b, nil
}

// webSession is the authorizer of MWAA's web login: a session cookie from
// /aws_mwaa/login, got again after a 401.
type webSession struct {
	client mwaaAPI
	env    string
	http   *http.Client

	mu     sync.Mutex
	host   string
	cookie *http.Cookie
}

func (s *webSession) base(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loginLocked(ctx); err != nil {
		return "", err
	}
	return "https://" + s.host, nil
}

func (s *webSession) authorize(ctx context.Context, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loginLocked(ctx); err != nil {
		return err
	}
	r.AddCookie(s.cookie)
	return nil
}

func (s *webSession) refresh() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cookie = nil
	return true
}

func (s *webSession) loginLocked(ctx context.Context) error {
	if s.cookie != nil {
		return nil
	}
	out, err := s.client.CreateWebLoginToken(ctx, &mwaa.CreateWebLoginTokenInput{Name: aws.String(s.env)})
	if err != nil {
		return fmt.Errorf("mwaa create web login token: %w", err)
	}
	host := aws.ToString(out.WebServerHostname)
	if host == "" || strings.ContainsAny(host, "/?#@") {
		return fmt.Errorf("mwaa create web login token: unusable webserver hostname %q", host)
	}
	form := url.Values{"token": {aws.ToString(out.WebToken)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+host+"/aws_mwaa/login", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("mwaa web login: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The login answers with a redirect and the cookie: read the cookie
	// from that answer instead of following it.
	c := *s.http
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("mwaa web login: %w", err)
	}
	defer drain(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.Name == "session" && ck.Value != "" {
			s.host, s.cookie = host, &http.Cookie{Name: "session", Value: ck.Value}
			return nil
		}
	}
	return &APIError{Method: http.MethodPost, Path: "/aws_mwaa/login", Status: resp.StatusCode, Detail: "no session cookie in the answer", Auth: AuthMWAA}
}
