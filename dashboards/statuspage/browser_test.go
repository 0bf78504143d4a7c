package statuspage

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/dashboards/statuspage/browsertest"
	"github.com/kantproject/kant/store/sqlite"
)

// The SQLite store satisfies the readers the page declares.
var (
	_ RunReader    = (*sqlite.DB)(nil)
	_ ResultReader = (*sqlite.DB)(nil)
	_ HealthReader = (*sqlite.DB)(nil)
)

// sqliteFixture writes the fixture into a real SQLite store in a temp dir:
// runs with WriteRuns, verdicts with WriteEvaluation, polls with RecordPoll.
func sqliteFixture(t *testing.T, f *fixture) *sqlite.DB {
	t.Helper()
	db := openSQLite(t, f)
	ctx := context.Background()
	polls := []struct {
		source string
		at     time.Time
		err    string
	}{
		{"hegel", fixedNow.Add(-2 * time.Minute), ""},
		{"socrates", fixedNow.Add(-50 * time.Minute), ""},
		{"socrates", fixedNow.Add(-20 * time.Minute), "airflow list dag runs: 503 Service Unavailable"},
		{"socrates", fixedNow.Add(-10 * time.Minute), "airflow list dag runs: 503 Service Unavailable"},
		{"socrates", fixedNow.Add(-time.Minute), "airflow list dag runs: 503 Service Unavailable"},
	}
	for _, p := range polls {
		if err := db.RecordPoll(ctx, p.source, p.at, p.err); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// openSQLite opens a SQLite store in a temp dir holding f's runs and
// verdicts.
func openSQLite(t testing.TB, f *fixture) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "kant.db"), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	runs := make([]kant.Run, len(f.runs))
	for i, r := range f.runs {
		if err := r.Validate(); err != nil {
			t.Fatalf("fixture run %d: %v", i, err)
		}
		runs[i] = r
	}
	if _, err := db.WriteRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	today := kant.DateOf(fixedNow.In(tokyo))
	for _, def := range f.defs {
		e := kant.Evaluation{SLO: def.Name, From: today.AddDays(-90), To: today.AddDays(1)}
		for _, r := range f.results {
			if r.SLO == def.Name {
				e.Results = append(e.Results, r)
			}
		}
		for _, d := range f.days {
			if d.SLO == def.Name {
				e.Days = append(e.Days, d)
			}
		}
		if err := db.WriteEvaluation(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestPagesRenderInHeadlessChromium serves the pages over a real SQLite
// store, loads them in headless Chromium, checks the rendered DOM and saves
// screenshots (under $KANT_ARTIFACTS when set).
func TestPagesRenderInHeadlessChromium(t *testing.T) {
	browser := browsertest.Require(t)
	artifacts := browsertest.ArtifactDir(t)
	f := newFixture(fixedNow)
	db := sqliteFixture(t, f)
	cfg := f.config(nil)
	cfg.Runs, cfg.Results, cfg.Health = db, db, db
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx := context.Background()

	pages := []struct {
		name  string
		path  string
		check func(t *testing.T, dom string)
	}{
		{"home", "/?date=2026-06-10", checkHomeDOM},
		{"calendar", "/calendar", checkCalendarDOM},
		{"job", "/jobs/hegel/load_orders", checkJobDOM},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			dom, err := browser.DumpDOM(ctx, srv.URL+p.path)
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, dom)
			png := filepath.Join(artifacts, "statuspage-"+p.name+".png")
			if err := browser.Screenshot(ctx, srv.URL+p.path, png, 1400, 1000); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(png)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
				t.Errorf("%s is not a PNG", png)
			}
			t.Logf("screenshot: %s (%d bytes)", png, len(b))
		})
	}
}

// TestFiveHundredJobsRenderInHeadlessChromium loads a day of 500 jobs and
// saves its screenshot, to judge readability at scale.
func TestFiveHundredJobsRenderInHeadlessChromium(t *testing.T) {
	browser := browsertest.Require(t)
	artifacts := browsertest.ArtifactDir(t)
	srv := httptest.NewServer(benchHome(t))
	defer srv.Close()
	url := srv.URL + "/?date=2026-06-10"
	dom, err := browser.DumpDOM(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	doc := parseDOM(t, dom)
	if rows, bars := len(findAll(doc, "g", "row")), len(findAll(doc, "rect", "bar")); rows != 500 || bars != 500 {
		t.Errorf("rows %d, bars %d; want 500 rows and 500 bars (450 jobs ran, 50 of them twice)", rows, bars)
	}
	png := filepath.Join(artifacts, "statuspage-home-500.png")
	if err := browser.Screenshot(context.Background(), url, png, 1400, 1000); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", png)
}

// checkHomeDOM: both SLOs drawn, each job a row, bars coloured by verdict
// with a deadline line per row, the stale source flagged.
func checkHomeDOM(t *testing.T, dom string) {
	doc := parseDOM(t, dom)
	if got := len(findAll(doc, "svg", "timeline")); got != 2 {
		t.Errorf("timelines: got %d, want 2 (one per SLO)", got)
	}
	rows := findAll(doc, "g", "row")
	if len(rows) != 5 {
		t.Fatalf("timeline rows: got %d, want 5 (one per job)", len(rows))
	}
	bars := findAll(doc, "rect", "bar")
	if len(bars) != 5 {
		t.Errorf("bars: got %d, want 5 (one per run today)", len(bars))
	}
	for _, b := range bars {
		class := strings.TrimSpace(strings.TrimPrefix(attr(b, "class"), "bar"))
		want, ok := colours[class]
		if !ok || !strings.EqualFold(attr(b, "fill"), want) {
			t.Errorf("bar class %q has fill %q, want the palette colour %q", class, attr(b, "fill"), want)
		}
		if childTitle(b) == "" {
			t.Errorf("bar %q has no <title> hover text", attr(b, "class"))
		}
	}
	if got := len(findAll(doc, "line", "deadline")); got != 5 {
		t.Errorf("deadline lines: got %d, want 5 (one per row)", got)
	}
	wantRows := map[string][]string{ // job → its row class and its bars' classes
		"hegel/export_users":             {"met", "met"},
		"hegel/export_items":             {"late", "late"},
		"hegel/load_orders":              {"missed", "missed", "running"},
		"socrates/daily_load.load_users": {"running", "running"},
		"socrates/daily_load.transform":  {"pending"},
	}
	for job, want := range wantRows {
		row := byAttr(doc, "g", "data-job", job)
		if row == nil {
			t.Errorf("no row for %s", job)
			continue
		}
		if !hasClasses(row, want[0]) {
			t.Errorf("row %s: class %q, want %q", job, attr(row, "class"), want[0])
		}
		var got []string
		for _, b := range findAll(row, "rect", "bar") {
			got = append(got, strings.TrimSpace(strings.TrimPrefix(attr(b, "class"), "bar")))
		}
		if strings.Join(got, ",") != strings.Join(want[1:], ",") {
			t.Errorf("row %s: bars %v, want %v", job, got, want[1:])
		}
	}
	if row := byAttr(doc, "g", "data-job", "hegel/load_orders"); row != nil && len(findAll(row, "rect", "hatch")) != 1 {
		t.Errorf("the failed run of hegel/load_orders has no hatch pattern (a cue besides colour)")
	}
	if src := byAttr(doc, "tr", "data-state", "stale"); src == nil || !strings.Contains(text(src), "socrates") {
		t.Errorf("source socrates (last good poll 50m ago, bound 30m) is not shown stale")
	}
	if len(findAll(doc, "line", "now")) != 2 {
		t.Errorf("want a now line on both timelines")
	}
}

// checkCalendarDOM: 90 cells per SLO, coloured by class, today's unfinished
// day pending, attainment shown.
func checkCalendarDOM(t *testing.T, dom string) {
	doc := parseDOM(t, dom)
	for _, name := range []string{"hegel-nightly", "socrates-daily"} {
		row := byAttr(doc, "tr", "data-slo", name)
		if row == nil {
			t.Errorf("no calendar row for %s", name)
			continue
		}
		strip := byAttr(doc, "tr", "data-strip", name)
		if strip == nil {
			t.Errorf("no calendar strip for %s", name)
			continue
		}
		cells := findAll(strip, "rect", "cell")
		if len(cells) != 90 {
			t.Errorf("%s: %d cells, want 90", name, len(cells))
			continue
		}
		seen := map[string]int{}
		for _, c := range cells {
			class := strings.TrimSpace(strings.TrimPrefix(attr(c, "class"), "cell"))
			seen[class]++
			if want := colours[class]; !strings.EqualFold(attr(c, "fill"), want) {
				t.Errorf("%s cell %s: class %q fill %q, want %q", name, attr(c, "data-date"), class, attr(c, "fill"), want)
			}
		}
		if seen[classMet] == 0 || seen[classMissed]+seen[classSLA] == 0 {
			t.Errorf("%s: cells by class %v, want met days and missed or SLA-only days", name, seen)
		}
		if !strings.Contains(text(row), "%") || !strings.Contains(text(row), "days") {
			t.Errorf("%s: no attainment or error budget in %q", name, text(row))
		}
	}
	if row := byAttr(doc, "tr", "data-strip", "hegel-nightly"); row != nil {
		cells := findAll(row, "rect", "cell")
		if last := cells[len(cells)-1]; attr(last, "data-date") != "2026-06-10" || !hasClasses(last, classPending) {
			t.Errorf("today's hegel cell: date %s class %q, want 2026-06-10 pending (recover-by not reached)",
				attr(last, "data-date"), attr(last, "class"))
		}
	}
}

// checkJobDOM: recent runs newest first with state, error and console link;
// the duration chart has bars and deadline lines.
func checkJobDOM(t *testing.T, dom string) {
	doc := parseDOM(t, dom)
	runs := findAll(doc, "tr", "run")
	if len(runs) < 10 {
		t.Fatalf("run rows: got %d, want the recent runs", len(runs))
	}
	if attr(runs[0], "data-state") != "running" || attr(runs[1], "data-state") != "failed" {
		t.Errorf("newest runs: %s, %s; want running, failed", attr(runs[0], "data-state"), attr(runs[1], "data-state"))
	}
	if !strings.Contains(text(runs[1]), `Command failed with exit code 1 <oops & "quotes">`) {
		t.Errorf("the failed run's error message is not shown: %q", text(runs[1]))
	}
	link := findAll(runs[0], "a")
	if len(link) != 1 || !strings.HasPrefix(attr(link[0], "href"), "https://console.example.com/hegel/runs/") {
		t.Errorf("the run has no console link")
	}
	if !strings.Contains(text(runs[1]), "JST") {
		t.Errorf("run times are not in the SLO's zone: %q", text(runs[1]))
	}
	chart := findAll(doc, "svg", "durations")
	if len(chart) != 1 {
		t.Fatalf("duration charts: %d, want 1", len(chart))
	}
	if bars, lines := len(findAll(chart[0], "rect", "bar")), len(findAll(chart[0], "line", "deadline")); bars < 10 || bars != lines {
		t.Errorf("duration chart: %d bars and %d deadline lines, want one line per bar", bars, lines)
	}
}
