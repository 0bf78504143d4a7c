package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/kantproject/kant/dashboards/statuspage/browsertest"
)

// TestTheDemoPagesInHeadlessChromium starts kant demo, plays its night, and
// opens the home, calendar and job pages in Chromium: the DOM Chromium
// rendered must show the night as the demo scripted it.
func TestTheDemoPagesInHeadlessChromium(t *testing.T) {
	browser := browsertest.Require(t)
	artifacts := browsertest.ArtifactDir(t)
	base, out := demoServer(t)
	date := demoDate(t, out)
	ctx := context.Background()

	pages := []struct {
		name, path string
		check      func(t *testing.T, doc *html.Node)
	}{
		{"home", "/?date=" + date.String(), func(t *testing.T, doc *html.Node) {
			if n := len(elements(doc, "svg", "timeline")); n != 3 {
				t.Errorf("%d timelines, want 3 (hegel-nightly, socrates-daily, spinoza-nightly)", n)
			}
			rows := map[string]string{
				"hegel/export_users": "met", "hegel/export_orders": "late", "hegel/export_legacy": "missed",
				"socrates/daily_load.report": "late", "socrates/daily_load.load": "late",
				"spinoza/nightly_billing": "met",
			}
			for job, verdict := range rows {
				row := withAttr(doc, "g", "data-job", job)
				if row == nil {
					t.Errorf("no timeline row for %s", job)
					continue
				}
				if !strings.Contains(" "+attrOf(row, "class")+" ", " "+verdict+" ") {
					t.Errorf("row %s has class %q, want verdict %q", job, attrOf(row, "class"), verdict)
				}
				if len(elements(row, "line", "deadline")) == 0 {
					t.Errorf("row %s has no deadline line", job)
				}
			}
			if row := withAttr(doc, "g", "data-job", "hegel/export_items"); row == nil || len(elements(row, "rect", "bar")) != 2 {
				t.Errorf("hegel/export_items should show two bars: the failed attempt and its retry")
			}
			if row := withAttr(doc, "g", "data-job", "spinoza/nightly_billing"); row == nil || len(elements(row, "rect", "bar")) != 2 {
				t.Errorf("spinoza/nightly_billing should show two bars: the failed execution and its redrive")
			}
			fills := map[string]bool{}
			for _, b := range elements(doc, "rect", "bar") {
				fills[attrOf(b, "fill")] = true
			}
			if len(fills) < 2 {
				t.Errorf("bars have fills %v: want verdicts told apart by colour", fills)
			}
		}},
		{"calendar", "/calendar", func(t *testing.T, doc *html.Node) {
			cells := elements(doc, "rect", "cell")
			if len(cells) != 3*90 {
				t.Errorf("%d calendar cells, want 90 per SLO", len(cells))
			}
			classes := map[string]int{}
			for _, c := range cells {
				classes[strings.TrimSpace(strings.TrimPrefix(attrOf(c, "class"), "cell"))]++
			}
			if classes["met"] == 0 || classes["missed"]+classes["sla"] == 0 {
				t.Errorf("calendar cells by class %v: want met days and missed days from the history", classes)
			}
		}},
		{"job", "/jobs/hegel/export_items", func(t *testing.T, doc *html.Node) {
			if !strings.Contains(textOf(doc), "java.lang.OutOfMemoryError") {
				t.Errorf("the job page does not show the failed attempt's error")
			}
		}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			dom, err := browser.DumpDOM(ctx, base+p.path)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(strings.NewReader(dom))
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, doc)
			png := filepath.Join(artifacts, "demo-"+p.name+".png")
			if err := browser.Screenshot(ctx, base+p.path, png, 1400, 1000); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(png); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
				t.Errorf("screenshot %s is not a PNG (%v)", png, err)
			}
		})
	}
}

func elements(n *html.Node, tag, class string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag && strings.Contains(" "+attrOf(n, "class")+" ", " "+class+" ") {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func withAttr(n *html.Node, tag, key, val string) *html.Node {
	if n.Type == html.ElementNode && n.Data == tag && attrOf(n, key) == val {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := withAttr(c, tag, key, val); f != nil {
			return f
		}
	}
	return nil
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
