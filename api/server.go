// Package api is kant's HTTP surface: the push endpoint, the read API over
// runs, verdicts and attainment, health endpoints, and the routes of the
// parts passed in as handlers (the gate, the status page, silences,
// metrics), all on one http.ServeMux with method patterns and the tokens
// each needs, one JSON writer and one error mapping (kant.HTTPStatus). It imports kant
// and slo (for attainment); it never imports the store contract or a
// backend: its dependencies are the small interfaces below.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// RunReader reads the newest observation of runs.
type RunReader interface {
	LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error)
}

// ResultReader reads stored verdicts and per-day summaries.
type ResultReader interface {
	Results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error)
	Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error)
}

// Ingester stores pushed observations all or nothing and returns how many
// were new.
type Ingester interface {
	Ingest(ctx context.Context, runs []kant.Run) (int, error)
}

// Decoder turns a pushed body into runs, observed at now. An error with
// code EINVALID names what was wrong; nothing of a body that fails is kept.
// collector/push (POST /v1/runs) and collector/lineage (OpenLineage) have
// one each; cmd/kant passes them in.
type Decoder interface {
	DecodeBody(body []byte, now time.Time) ([]kant.Run, error)
}

// EventDecoder turns one EventBridge delivery into runs, observed at now.
// ignored, when not empty, says why a valid event gives no run (it belongs
// to no configured source); the answer is then 200, which EventBridge does
// not retry. An EINVALID error names what was wrong; an EUNAVAILABLE one
// (a source could not be read now) is answered 503, which it retries.
// collector/eventbridge has one; cmd/kant passes it in.
type EventDecoder interface {
	DecodeEvent(ctx context.Context, body []byte, now time.Time) (runs []kant.Run, ignored string, err error)
}

// Config holds the server's dependencies and settings.
type Config struct {
	Runs     RunReader    // required
	Results  ResultReader // required
	Ingester Ingester     // required
	Push     Decoder      // decodes POST /v1/runs; required
	// Lineage decodes OpenLineage RunEvents (POST /api/v1/lineage); when
	// nil the endpoint is not served.
	Lineage Decoder
	// Events decodes EventBridge API-destination deliveries (POST
	// /v1/events/aws); when nil the endpoint is not served. It takes the
	// write token as a bearer token, as the password of basic auth, or in
	// the X-Kant-Token header: the ways an EventBridge connection sends one.
	Events   EventDecoder
	SLOs     []slo.Definition
	Location *time.Location // zone of dates in queries that name no SLO; default UTC

	// WriteTokens, when not empty, are required as bearer tokens on write
	// endpoints; ReadTokens likewise on read endpoints.
	WriteTokens []string
	ReadTokens  []string

	// Kept, when set, returns the first date of def whose verdicts are
	// stored (evaluate.retention); Results judges older dates on demand
	// from the stored runs, and the answers of /v1/slo and /v1/sla say so.
	Kept func(def slo.Definition, now time.Time) kant.Date

	// Silences, when set, returns the silences (posted and maintenance
	// windows) overlapping [from, to), so that /v1/sla leaves silenced days
	// out of the attainment of SLOs with ExcludeSilenced.
	Silences func(ctx context.Context, from, to time.Time) ([]kant.Silence, error)

	// The handlers of the parts cmd/kant builds beside the API; each nil
	// one is not served. api registers their routes with the auth they
	// need; it never imports the packages that build them.
	//
	// Gate serves GET /v1/gate (a read token when read tokens are set).
	Gate http.Handler
	// StatusPage serves the status page's routes, GET /{$}, /calendar,
	// /jobs/{key...} and /static/, without a token (browsers send none:
	// cmd/kant leaves it nil when read tokens are set).
	StatusPage http.Handler
	// SilenceHandler serves /v1/silences (see NewSilences): POST /v1/silences and
	// DELETE /v1/silences/{id} with a write token, GET /v1/silences with a
	// read token.
	SilenceHandler http.Handler
	// Metrics serves GET /metrics (Prometheus), without a token.
	Metrics http.Handler

	// Status, when set, tells this replica's view of the leadership
	// (GET /v1/status).
	Status func() kant.ReplicaStatus

	// Ready reports whether the service can answer correctly yet (nil: always).
	Ready func() error
	// Degraded, when set, reports what a ready replica cannot do now (its
	// store takes no writes): /readyz answers 200 with status "degraded"
	// and the reason, since the gate and the reads still answer and taking
	// the replica out of its load balancer would stop them too.
	Degraded func() error
	// OnShutdown, when set, is called as graceful shutdown begins: for
	// long-polls to answer rather than hold the server.
	OnShutdown func()

	MaxBody int64 // largest request body; default 8 MiB
	// MaxReads bounds the reads of many rows served at once (GET /v1/runs,
	// /v1/slo, /v1/sla and the status page's pages), and with them the
	// memory a burst of them holds: at 10,000 jobs one status page is
	// 8.5 MB of HTML and one 90-day /v1/sla 0.9 MB of JSON. The others
	// queue, up to ReadWait, then get 503 with Retry-After. Default
	// GOMAXPROCS, at least 2: these reads are bound by the CPU anyway.
	MaxReads int
	ReadWait time.Duration    // default 30s
	Now      func() time.Time // default time.Now
	Logger   *slog.Logger     // default discards
}

// Server serves the HTTP API.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	methods map[string][]string // path → the methods it serves, for 405s
	write   [][32]byte
	read    [][32]byte
	logger  *slog.Logger
	reads   chan struct{} // a slot per bounded read in progress
}

// New validates cfg and returns a Server. It starts nothing.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Runs == nil:
		return nil, errors.New("api: Runs is required")
	case cfg.Results == nil:
		return nil, errors.New("api: Results is required")
	case cfg.Ingester == nil:
		return nil, errors.New("api: Ingester is required")
	case cfg.Push == nil:
		return nil, errors.New("api: Push is required")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 8 << 20
	}
	if cfg.MaxReads <= 0 {
		cfg.MaxReads = max(2, runtime.GOMAXPROCS(0))
	}
	if cfg.ReadWait <= 0 {
		cfg.ReadWait = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Ready == nil {
		cfg.Ready = func() error { return nil }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), methods: map[string][]string{}, logger: cfg.Logger.With("component", "api"),
		reads: make(chan struct{}, cfg.MaxReads)}
	for _, t := range cfg.WriteTokens {
		s.write = append(s.write, sha256.Sum256([]byte(t)))
	}
	for _, t := range cfg.ReadTokens {
		s.read = append(s.read, sha256.Sum256([]byte(t)))
	}
	s.routes()
	return s, nil
}

// routes registers every route kant serves: the API's own, and those of
// the handlers passed in Config.
func (s *Server) routes() {
	s.handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.handle("GET /readyz", http.HandlerFunc(s.readyz))
	s.handle("GET /v1/runs", s.auth(s.read, s.bounded(http.HandlerFunc(s.listRuns))))
	s.handle("POST /v1/runs", s.auth(s.write, http.HandlerFunc(s.postRuns)))
	if s.cfg.Lineage != nil {
		s.handle("POST /api/v1/lineage", s.auth(s.write, http.HandlerFunc(s.postLineage)))
	}
	if s.cfg.Events != nil {
		s.handle("POST /v1/events/aws", s.authEvents(s.write, http.HandlerFunc(s.postEvents)))
	}
	s.handle("GET /v1/slo", s.auth(s.read, s.bounded(http.HandlerFunc(s.getSLO))))
	s.handle("GET /v1/sla", s.auth(s.read, s.bounded(http.HandlerFunc(s.getSLA))))
	if h := s.cfg.Gate; h != nil {
		s.handle("GET /v1/gate", s.auth(s.read, h))
	}
	if h := s.cfg.SilenceHandler; h != nil {
		s.handle("POST /v1/silences", s.auth(s.write, h))
		s.handle("DELETE /v1/silences/{id}", s.auth(s.write, h))
		s.handle("GET /v1/silences", s.auth(s.read, h))
	}
	if h := s.cfg.StatusPage; h != nil {
		for _, p := range []string{"GET /{$}", "GET /calendar", "GET /jobs/{key...}"} {
			s.handle(p, s.bounded(h))
		}
		s.handle("GET /static/", h)
	}
	if h := s.cfg.Metrics; h != nil {
		s.handle("GET /metrics", h)
	}
	if s.cfg.Status != nil {
		s.handle("GET /v1/status", s.auth(s.read, http.HandlerFunc(s.getStatus)))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allowed := s.methods[r.URL.Path]; len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: fmt.Sprintf("%s %s: method not allowed (allowed: %s)",
				r.Method, r.URL.Path, strings.Join(allowed, ", "))})
			return
		}
		s.error(w, r, kant.Errorf(kant.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
}

// bounded serves h as one of at most MaxReads reads at once: a request
// beyond waits for a turn, up to ReadWait (503 with Retry-After: 1 then),
// or until its client goes away.
func (s *Server) bounded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.reads <- struct{}{}:
		default:
			t := time.NewTimer(s.cfg.ReadWait)
			select {
			case s.reads <- struct{}{}:
				t.Stop()
			case <-t.C:
				s.error(w, r, kant.Unavailable(nil, time.Second, "%d reads in progress, the most kant serves at once (api.MaxReads); ask again", cap(s.reads)))
				return
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		defer func() { <-s.reads }()
		h.ServeHTTP(w, r)
	})
}

// handle adds h for a "METHOD /path" pattern, remembering the methods of
// each path for 405 answers.
func (s *Server) handle(pattern string, h http.Handler) {
	if method, path, ok := strings.Cut(pattern, " "); ok {
		s.methods[path] = append(s.methods[path], method)
	}
	s.mux.Handle(pattern, h)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully,
// letting requests in flight finish for up to 10 seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.cfg.OnShutdown != nil {
		srv.RegisterOnShutdown(s.cfg.OnShutdown)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http serve: %w", err)
	}
	return nil
}

// auth requires one of tokens as a bearer token, when any are configured.
// Tokens are compared by their SHA-256 in constant time, so neither their
// content nor their length leaks through timing.
func (s *Server) auth(tokens [][32]byte, h http.Handler) http.Handler {
	if len(tokens) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, given, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		ok = ok && strings.EqualFold(scheme, "Bearer")
		sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
		match := 0
		for _, t := range tokens {
			match |= subtle.ConstantTimeCompare(sum[:], t[:])
		}
		if !ok || match != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kant"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "missing or invalid bearer token"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TokenHeader is the header an EventBridge connection with API-key auth
// may carry the write token in, instead of "Authorization: Bearer".
const TokenHeader = "X-Kant-Token"

// authEvents is auth for EventBridge deliveries: an EventBridge connection
// authorizes with basic auth or with an API key, a header of its choosing.
// The token is taken from "Authorization: Bearer <token>", from the
// password of "Authorization: Basic" (any user name), or from the
// X-Kant-Token header. A delivery refused here is answered 401, which
// EventBridge retries until its retry policy gives up: a wrong token shows
// as failed invocations, not as lost events.
func (s *Server) authEvents(tokens [][32]byte, h http.Handler) http.Handler {
	if len(tokens) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var given []string
		if v := r.Header.Get(TokenHeader); v != "" {
			given = append(given, strings.TrimSpace(v))
		}
		if scheme, v, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			given = append(given, strings.TrimSpace(v))
		}
		if _, password, ok := r.BasicAuth(); ok {
			given = append(given, password)
		}
		match := 0
		for _, g := range given {
			sum := sha256.Sum256([]byte(g))
			for _, t := range tokens {
				match |= subtle.ConstantTimeCompare(sum[:], t[:])
			}
		}
		if match != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="kant"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "missing or invalid token: send the write token as a bearer token, as the basic-auth password, or in " + TokenHeader})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// getStatus answers this replica's id and role, the leader's id, since
// when it leads, and the lease generation.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Status())
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Ready(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
		return
	}
	if s.cfg.Degraded != nil {
		if err := s.cfg.Degraded(); err != nil {
			writeJSON(w, http.StatusOK, map[string]string{"status": "degraded", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
