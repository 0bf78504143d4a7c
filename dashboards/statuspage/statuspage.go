// Package statuspage is kant's built-in status page: server-rendered HTML
// (html/template parsed once from embedded files, inline SVG, embedded CSS
// and a tiny optional refresh script, no build step) showing each SLO's
// occurrences on a date as a timeline against their deadlines, the state of
// each source, a 90-day attainment calendar, and a page per job with its
// recent runs. Every page works with JavaScript disabled.
//
// It reads through the small interfaces below, which the store backends
// satisfy; it imports kant and slo and never the store
// contract, a storage backend, a cloud SDK or the api package.
package statuspage

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
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

// HealthReader reads the polling health of sources.
type HealthReader interface {
	SourceHealth(ctx context.Context) ([]kant.SourceHealth, error)
}

// Config holds the status page's dependencies and settings.
type Config struct {
	Runs    RunReader    // required
	Results ResultReader // required
	Health  HealthReader // optional: without it the page shows no source state

	// SLOs are the configured SLOs; stored verdicts of other SLOs are not
	// shown.
	SLOs []slo.Definition
	// Location is the zone of the default date and of jobs no SLO selects.
	// Default UTC.
	Location *time.Location
	// StaleAfter is each source's staleness bound: a source whose last
	// successful poll is older is shown as stale. Sources not listed are
	// never stale.
	StaleAfter map[string]time.Duration
	// Silences, when set, returns the silences overlapping [from, to), so
	// that silenced days leave the attainment of SLOs with ExcludeSilenced.
	Silences func(ctx context.Context, from, to time.Time) ([]kant.Silence, error)
	// ConsoleLink, when set, returns a link to a run in its source's console
	// (Glue, Airflow), or "" for none.
	ConsoleLink func(kant.Run) string
	// Replica, when set, tells this replica's view of the leadership,
	// shown in the page's header: which replica leads, since when.
	Replica func() kant.ReplicaStatus

	Title        string           // page title; default "kant"
	CalendarDays int              // days in the attainment calendar; default 90
	RecentRuns   int              // runs on a job page; default 50
	JobDays      int              // how far back a job page looks, in days; default 30
	Now          func() time.Time // default time.Now
	Logger       *slog.Logger     // default discards
}

// Handler serves the status page. It is an http.Handler for its own routes
// and can register them on another mux with Register.
type Handler struct {
	cfg    Config
	pages  map[string]*template.Template
	static http.Handler
	mux    *http.ServeMux
	logger *slog.Logger
	bufs   sync.Pool
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New validates cfg, parses the templates and returns a Handler. It starts
// nothing.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Runs == nil:
		return nil, errors.New("statuspage: Runs is required")
	case cfg.Results == nil:
		return nil, errors.New("statuspage: Results is required")
	}
	for i, d := range cfg.SLOs {
		if d.Name == "" {
			return nil, fmt.Errorf("statuspage: SLO %d has no name", i)
		}
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Title == "" {
		cfg.Title = "kant"
	}
	if cfg.CalendarDays <= 0 {
		cfg.CalendarDays = 90
	}
	if cfg.RecentRuns <= 0 {
		cfg.RecentRuns = 50
	}
	if cfg.JobDays <= 0 {
		cfg.JobDays = 30
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, pages: map[string]*template.Template{}, logger: cfg.Logger.With("component", "statuspage")}
	h.bufs.New = func() any { return new(bytes.Buffer) }

	base, err := template.New("base").Funcs(template.FuncMap{}).ParseFS(templateFS, "templates/base.html")
	if err != nil {
		return nil, fmt.Errorf("statuspage: parse templates: %w", err)
	}
	for _, name := range []string{"home", "calendar", "job", "error"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("statuspage: parse %s template: %w", name, err)
		}
		h.pages[name] = t
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("statuspage: static files: %w", err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	h.static = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})

	h.mux = http.NewServeMux()
	h.Register(h.mux)
	return h, nil
}

// Routes returns the status page's handlers by ServeMux pattern:
// "GET /{$}" (the home page, ?date=YYYY-MM-DD), "GET /calendar",
// "GET /jobs/{key...}" and "GET /static/".
func (h *Handler) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /{$}":           h.wrap(h.home),
		"GET /calendar":      h.wrap(h.calendar),
		"GET /jobs/{key...}": h.wrap(h.job),
		"GET /static/":       h.static,
	}
}

// Register adds the status page's routes (see Routes) to mux. kant serve
// instead passes the Handler to api.Config.StatusPage, which registers
// the same patterns.
func (h *Handler) Register(mux interface{ Handle(string, http.Handler) }) {
	for pattern, handler := range h.Routes() {
		mux.Handle(pattern, handler)
	}
}

// ServeHTTP serves the status page's routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// pageFunc builds a page: the template name and its data, or an error.
type pageFunc func(r *http.Request, now time.Time) (string, any, error)

// wrap renders the page built by f into a buffer and writes it, or renders
// the error page with the error's status.
func (h *Handler) wrap(f pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := h.cfg.Now()
		name, data, err := f(r, now)
		status := http.StatusOK
		if err != nil {
			// The status of kant.HTTPStatus, the one table the API and
			// the gate answer with too.
			status = kant.HTTPStatus(err)
			msg := kant.ErrorMessage(err)
			switch {
			case status == http.StatusServiceUnavailable:
				w.Header().Set("Retry-After", strconv.Itoa(kant.RetryAfterSeconds(err)))
				h.logger.Warn("status page unavailable", "path", r.URL.Path, "err", err)
			case status >= 500:
				h.logger.Error("status page", "path", r.URL.Path, "err", err)
				msg = "internal error"
			}
			name, data = "error", errorView{page: h.newPage("", now, r), Status: status,
				StatusText: http.StatusText(status), Message: msg}
		}
		buf := h.bufs.Get().(*bytes.Buffer)
		buf.Reset()
		defer h.bufs.Put(buf)
		if err := h.pages[name].ExecuteTemplate(buf, "base", data); err != nil {
			h.logger.Error("status page render", "path", r.URL.Path, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		hdr := w.Header()
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		hdr.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	})
}

// page is what every page's layout needs.
type page struct {
	Title     string
	Active    string // nav entry: home, calendar, job
	Generated string // when the page was rendered, in the default zone
	// Refresh, when positive, adds a meta refresh of that many seconds
	// (?refresh=N; works without JavaScript). AutoRefresh marks pages the
	// small script reloads every 60 s while visible.
	Refresh     int
	AutoRefresh bool
	// Leader says which replica leads and which one rendered the page, when
	// the page knows (Config.Replica).
	Leader string
}

func (h *Handler) newPage(active string, now time.Time, r *http.Request) page {
	p := page{Title: h.cfg.Title, Active: active, Generated: now.In(h.cfg.Location).Format("2006-01-02 15:04:05 MST")}
	if h.cfg.Replica != nil {
		p.Leader = leaderLine(h.cfg.Replica(), h.cfg.Location)
	}
	if v := r.URL.Query().Get("refresh"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 10 && n <= 3600 {
			p.Refresh = n
		}
	}
	return p
}

// leaderLine says which replica leads, since when, and which one answers.
func leaderLine(s kant.ReplicaStatus, loc *time.Location) string {
	switch {
	case s.Leader == "":
		return fmt.Sprintf("no leader (this is %s, %s)", s.Replica, s.Role)
	case s.Leader == s.Replica:
		return fmt.Sprintf("leader %s since %s (this replica; lease generation %d)", s.Leader, s.LeaderSince.In(loc).Format("2006-01-02 15:04:05"), s.Generation)
	}
	return fmt.Sprintf("leader %s since %s (this is %s, %s; lease generation %d)", s.Leader, s.LeaderSince.In(loc).Format("2006-01-02 15:04:05"),
		s.Replica, s.Role, s.Generation)
}

type errorView struct {
	page
	Status     int
	StatusText string
	Message    string
}
