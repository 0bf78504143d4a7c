package statuspage

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// parseDOM parses an HTML document.
func parseDOM(t testing.TB, doc string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return n
}

// findAll returns the elements under n named tag (any when "") that have
// every class in classes, in document order.
func findAll(n *html.Node, tag string, classes ...string) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type != html.ElementNode || (tag != "" && c.Data != tag) {
			continue
		}
		if hasClasses(c, classes...) {
			out = append(out, c)
		}
	}
	return out
}

func hasClasses(n *html.Node, classes ...string) bool {
	have := strings.Fields(attr(n, "class"))
	for _, c := range classes {
		if !slices.Contains(have, c) {
			return false
		}
	}
	return true
}

// attr returns the value of n's attribute key, or "".
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// text returns the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// byAttr returns the first element under n whose attribute key is val.
func byAttr(n *html.Node, tag, key, val string) *html.Node {
	for _, c := range findAll(n, tag) {
		if attr(c, key) == val {
			return c
		}
	}
	return nil
}

// childTitle returns the text of n's <title> child, the hover text of an
// SVG shape.
func childTitle(n *html.Node) string {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "title" {
			return text(c)
		}
	}
	return ""
}
