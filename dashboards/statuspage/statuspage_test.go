package statuspage

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

func TestNewValidatesItsConfig(t *testing.T) {
	st := &memStore{}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"a config without a run reader is rejected", Config{Results: st}, "Runs is required"},
		{"a config without a result reader is rejected", Config{Runs: st}, "Results is required"},
		{"an SLO without a name is rejected", Config{Runs: st, Results: st, SLOs: []slo.Definition{{}}}, "no name"},
		{"the readers alone are enough", Config{Runs: st, Results: st}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New: err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.cfg.Location != time.UTC || h.cfg.CalendarDays != 90 || h.cfg.RecentRuns != 50 || h.cfg.Now == nil || h.cfg.Title != "kant" {
				t.Errorf("defaults not applied: %+v", h.cfg)
			}
		})
	}
}

func TestSourceState(t *testing.T) {
	now := fixedNow
	h := &Handler{cfg: Config{Location: time.UTC, StaleAfter: map[string]time.Duration{"a": 30 * time.Minute}}}
	tests := []struct {
		name   string
		health kant.SourceHealth
		want   string
	}{
		{"a source polled within its bound is ok",
			kant.SourceHealth{Source: "a", LastSuccess: now.Add(-29 * time.Minute)}, "ok"},
		{"a source whose last good poll is older than its bound is stale",
			kant.SourceHealth{Source: "a", LastSuccess: now.Add(-31 * time.Minute)}, "stale"},
		{"a fresh source whose latest poll failed is failing",
			kant.SourceHealth{Source: "a", LastSuccess: now.Add(-5 * time.Minute), ConsecutiveFailures: 1, LastError: "503"}, "failing"},
		{"a source never polled successfully is stale",
			kant.SourceHealth{Source: "a", LastAttempt: now, ConsecutiveFailures: 4}, "stale: no successful poll"},
		{"a source without a bound is never stale",
			kant.SourceHealth{Source: "b", LastSuccess: now.Add(-48 * time.Hour)}, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.sourceRow(tt.health, now).State; got != tt.want {
				t.Errorf("state %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("a source with a bound that was never polled is listed as stale", func(t *testing.T) {
		rows := h.sourceRows(nil, now)
		if len(rows) != 1 || rows[0].Name != "a" || rows[0].Class != classMissed {
			t.Errorf("rows %+v, want source a, stale", rows)
		}
	})
}

func TestRunClass(t *testing.T) {
	deadline := fixedNow
	tests := []struct {
		name string
		run  kant.Run
		want string
	}{
		{"a success before the deadline is met", kant.Run{State: kant.StateSucceeded, FinishedAt: deadline.Add(-time.Minute)}, classMet},
		{"a success exactly at the deadline is met", kant.Run{State: kant.StateSucceeded, FinishedAt: deadline}, classMet},
		{"a success after the deadline is late", kant.Run{State: kant.StateSucceeded, FinishedAt: deadline.Add(time.Second)}, classLate},
		{"a success without an end is judged by when it was observed", kant.Run{State: kant.StateSucceeded, ObservedAt: deadline.Add(time.Hour)}, classLate},
		{"a failed run is missed", kant.Run{State: kant.StateFailed, FinishedAt: deadline.Add(-time.Hour)}, classMissed},
		{"an upstream-failed run is missed", kant.Run{State: kant.StateUpstreamFailed}, classMissed},
		{"a queued run is running", kant.Run{State: kant.StateQueued}, classRunning},
		{"a run in an unknown state is running", kant.Run{State: kant.StateUnknown}, classRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runClass(tt.run, deadline); got != tt.want {
				t.Errorf("runClass = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHomePage(t *testing.T) {
	h := newFixture(fixedNow).handler(t)

	t.Run("the default date is today in the default zone, with links to the days around it", func(t *testing.T) {
		_, body := get(t, h, "/")
		doc := parseDOM(t, body)
		if h1 := findAll(doc, "h1"); len(h1) != 1 || text(h1[0]) != "SLOs on 2026-06-10" {
			t.Errorf("heading: %v", body[:200])
		}
		if prev := byAttr(doc, "a", "rel", "prev"); prev == nil || attr(prev, "href") != "/?date=2026-06-09" {
			t.Errorf("no link to the previous day")
		}
		if next := byAttr(doc, "a", "rel", "next"); next == nil || attr(next, "href") != "/?date=2026-06-11" {
			t.Errorf("no link to the next day")
		}
	})
	t.Run("the problems filter hides met jobs and says how many", func(t *testing.T) {
		_, body := get(t, h, "/?only=problems")
		doc := parseDOM(t, body)
		if byAttr(doc, "g", "data-job", "hegel/export_users") != nil {
			t.Errorf("the met job hegel/export_users is shown")
		}
		if byAttr(doc, "g", "data-job", "hegel/load_orders") == nil {
			t.Errorf("the missed job hegel/load_orders is hidden")
		}
		if !strings.Contains(body, "1 met jobs hidden") {
			t.Errorf("the count of hidden jobs is not shown")
		}
	})
	t.Run("today reloads itself with the small script, other days do not", func(t *testing.T) {
		_, today := get(t, h, "/")
		_, past := get(t, h, "/?date=2026-06-01")
		if !strings.Contains(today, `src="/static/refresh.js"`) || strings.Contains(past, "refresh.js") {
			t.Errorf("refresh script: today %v, past %v", strings.Contains(today, "refresh.js"), strings.Contains(past, "refresh.js"))
		}
	})
	t.Run("refresh=N refreshes without JavaScript", func(t *testing.T) {
		_, body := get(t, h, "/?refresh=120")
		if !strings.Contains(body, `<meta http-equiv="refresh" content="120">`) || strings.Contains(body, "refresh.js") {
			t.Errorf("want a meta refresh and no script")
		}
		_, body = get(t, h, "/?refresh=1")
		if strings.Contains(body, `http-equiv="refresh"`) {
			t.Errorf("a refresh under 10 s is honoured")
		}
	})
	t.Run("text from runs is escaped", func(t *testing.T) {
		_, body := get(t, h, "/")
		if strings.Contains(body, "<oops") || !strings.Contains(body, "&lt;oops &amp;") {
			t.Errorf("the error message is not escaped")
		}
	})
	t.Run("responses forbid inline scripts and caching", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		if rec.Header().Get("Cache-Control") != "no-store" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("headers %v", rec.Header())
		}
	})
}

func TestVerdictsOfUnconfiguredSLOsAreNotShown(t *testing.T) {
	f := newFixture(fixedNow)
	st := f.store()
	cfg := f.config(st)
	cfg.SLOs = cfg.SLOs[:1] // socrates-daily removed from the configuration
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/calendar"} {
		if _, body := get(t, h, path); strings.Contains(body, "socrates-daily") || !strings.Contains(body, "hegel-nightly") {
			t.Errorf("GET %s: want hegel-nightly only", path)
		}
	}
}

func TestStoreErrorsAnswer500WithoutDetail(t *testing.T) {
	f := newFixture(fixedNow)
	st := f.store()
	st.err = errors.New("dial tcp db.internal:5432: connection refused")
	var logs bytes.Buffer
	cfg := f.config(st)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/calendar", "/jobs/hegel/load_orders"} {
		status, body := get(t, h, path)
		if status != http.StatusInternalServerError || strings.Contains(body, "db.internal") || !strings.Contains(body, "internal error") {
			t.Errorf("GET %s: status %d, body leaks or lacks the generic message", path, status)
		}
	}
	if !strings.Contains(logs.String(), "db.internal") || !strings.Contains(logs.String(), "component=statuspage") {
		t.Errorf("the cause is not logged: %s", logs.String())
	}
}

func TestJobPage(t *testing.T) {
	f := newFixture(fixedNow)
	odd := kant.JobKey("onprem/nightly export/part 1")
	f.runs = append(f.runs, kant.Run{Source: "onprem", Job: odd, RunID: "2026-06-10", Attempt: 1, State: kant.StateSucceeded,
		StartedAt: fixedNow.Add(-time.Hour), FinishedAt: fixedNow.Add(-30 * time.Minute), ObservedAt: fixedNow},
		kant.Run{Source: "onprem", Job: odd, RunID: "2026-06-09", Attempt: 1, State: kant.StateFailed,
			StartedAt: fixedNow.Add(-25 * time.Hour), FinishedAt: fixedNow.Add(-24 * time.Hour), ObservedAt: fixedNow,
			ErrorMessage: "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: bad"})
	h := f.handler(t)

	t.Run("a job key with slashes and spaces has its page", func(t *testing.T) {
		if u := jobURL(odd); u != "/jobs/onprem/nightly%20export/part%201" {
			t.Errorf("jobURL = %q", u)
		}
		status, body := get(t, h, jobURL(odd))
		doc := parseDOM(t, body)
		if status != http.StatusOK || len(findAll(doc, "h1")) != 1 || text(findAll(doc, "h1")[0]) != string(odd) {
			t.Fatalf("status %d", status)
		}
		if !strings.Contains(body, "No SLO selects this job") {
			t.Errorf("a job no SLO selects does not say so")
		}
		if rows := findAll(doc, "tr", "run"); len(rows) != 2 || attr(rows[0], "data-state") != "succeeded" {
			t.Errorf("want its two runs, newest first")
		}
	})
	t.Run("a key that is not source/job is not found", func(t *testing.T) {
		if status, _ := get(t, h, "/jobs/hegel"); status != http.StatusNotFound {
			t.Errorf("status %d, want 404", status)
		}
	})
	t.Run("occurrences are listed newest first with their verdicts", func(t *testing.T) {
		_, body := get(t, h, "/jobs/hegel/load_orders")
		occ := findAll(parseDOM(t, body), "tr", "occ")
		if len(occ) < 30 || attr(occ[0], "data-verdict") != "missed" || !strings.Contains(text(occ[0]), "2026-06-10") {
			t.Errorf("first occurrence %q", text(occ[0]))
		}
	})
	t.Run("a multi-line error folds into details under its first line", func(t *testing.T) {
		_, body := get(t, h, jobURL(odd))
		if !strings.Contains(body, "<details><summary>Traceback (most recent call last):</summary><pre>Traceback (most recent call last):\n  File &#34;x.py&#34;") {
			t.Errorf("no folded error in the runs table")
		}
	})
}

func TestStaticFilesAreEmbedded(t *testing.T) {
	h := newFixture(fixedNow).handler(t)
	for path, ctype := range map[string]string{"/static/style.css": "text/css", "/static/refresh.js": "text/javascript"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), ctype) || rec.Body.Len() == 0 {
			t.Errorf("GET %s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

// patternMux records the patterns registered on it and serves them.
type patternMux struct {
	*http.ServeMux
	patterns []string
}

func (m *patternMux) Handle(p string, h http.Handler) {
	m.patterns = append(m.patterns, p)
	m.ServeMux.Handle(p, h)
}

func TestRegisterMountsEveryRouteBesideOthers(t *testing.T) {
	h := newFixture(fixedNow).handler(t)
	mux := &patternMux{ServeMux: http.NewServeMux()}
	mux.Handle("GET /v1/runs", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("api")) }))
	h.Register(mux)
	slices.Sort(mux.patterns)
	want := []string{"GET /calendar", "GET /jobs/{key...}", "GET /static/", "GET /v1/runs", "GET /{$}"}
	if !slices.Equal(mux.patterns, want) {
		t.Errorf("patterns %v, want %v", mux.patterns, want)
	}
	for path, want := range map[string]int{"/": 200, "/calendar": 200, "/jobs/hegel/export_users": 200, "/static/style.css": 200, "/v1/runs": 200, "/nope": 404} {
		if status, _ := get(t, mux, path); status != want {
			t.Errorf("GET %s: %d, want %d", path, status, want)
		}
	}
}

func TestTimelineAxis(t *testing.T) {
	kolkata := mustLoad("Asia/Kolkata") // UTC+05:30: hours do not fall on UTC hours
	t0 := time.Date(2026, 6, 10, 1, 10, 0, 0, kolkata)
	t1 := time.Date(2026, 6, 10, 6, 5, 0, 0, kolkata)
	a, b := roundAxis(t0, t1, kolkata)
	if want := time.Date(2026, 6, 10, 1, 0, 0, 0, kolkata); !a.Equal(want) {
		t.Errorf("axis start %v, want %v", a, want)
	}
	if want := time.Date(2026, 6, 10, 7, 0, 0, 0, kolkata); !b.Equal(want) {
		t.Errorf("axis end %v, want %v", b, want)
	}
	ticks := axisTicks(a, b, kolkata, func(time.Time) float64 { return 0 })
	var labels []string
	for _, tk := range ticks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "01:00 02:00 03:00 04:00 05:00 06:00 07:00" {
		t.Errorf("ticks %q", got)
	}
	a, b = roundAxis(t0, t0.Add(time.Minute), kolkata)
	if b.Sub(a) != 2*time.Hour {
		t.Errorf("a short window spans %v, want at least 2h", b.Sub(a))
	}
	long := axisTicks(a, a.Add(48*time.Hour), kolkata, func(time.Time) float64 { return 0 })
	if len(long) > 13 {
		t.Errorf("%d ticks over 48h, want about a dozen", len(long))
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtDuration(45 * time.Second), "45s"},
		{fmtDuration(12*time.Minute + 5*time.Second), "12m05s"},
		{fmtDuration(3*time.Hour + 4*time.Minute), "3h04m"},
		{fmtDuration(51 * time.Hour), "2d03h"},
		{fmtDuration(-90 * time.Second), "-1m30s"},
		{fmtDays(-1.5), "-1.5"},
		{fmtDays(4.5000000001), "4.5"},
		{fmtDays(0), "0"},
		{fmtPercent(0.9), "90.0%"},
		{shorten("abcdef", 4), "abc…"},
		{shorten("日本語のジョブ名", 4), "日本語…"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestSilencedDaysLeaveTheCalendarsAttainmentOfAnSLOThatSaysSo(t *testing.T) {
	f := newFixture(fixedNow)
	st := f.store()
	var missed []kant.Day
	for _, d := range st.days {
		if d.SLO == "hegel-nightly" && d.Final && !d.SLOMet {
			missed = append(missed, d)
		}
	}
	if len(missed) == 0 {
		t.Fatal("the fixture has no missed hegel-nightly day to silence")
	}
	// One silence over every missed day.
	var silences []kant.Silence
	for _, d := range missed {
		start := d.Date.In(tokyo)
		silences = append(silences, kant.Silence{ID: "s" + d.Date.String(), Start: start.Add(time.Hour), End: start.Add(2 * time.Hour), Reason: "maintenance"})
	}
	for _, exclude := range []bool{false, true} {
		cfg := f.config(st)
		cfg.SLOs = slices.Clone(cfg.SLOs)
		cfg.SLOs[0].ExcludeSilenced = exclude
		cfg.Silences = func(context.Context, time.Time, time.Time) ([]kant.Silence, error) { return silences, nil }
		h, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		v, err := h.calendarView(context.Background(), fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		got := v.Rows[0].Attainment
		if exclude && got != "100.0%" {
			t.Errorf("excluding silenced days: attainment %s, want 100%% (every missed day was silenced)", got)
		}
		if !exclude && got == "100.0%" {
			t.Errorf("not excluding: attainment %s, want the missed days to count", got)
		}
	}
}
