package jsonpath_test

import (
	"testing"

	"github.com/kantproject/kant/collector/internal/jsonpath"
)

func TestParsePath(t *testing.T) {
	doc := `{"date": "2026-06-01", "params": {"business date": "2026-06-02", "days": ["2026-06-03"]}, "n": 5}`
	tests := []struct {
		name, path string
		want       string // the date found, "none", or "error"
	}{
		{"a top-level member", "$.date", "2026-06-01"},
		{"a quoted member inside another", "$.params['business date']", "2026-06-02"},
		{"an array index", "$.params.days[0]", "2026-06-03"},
		{"a missing member finds nothing", "$.params.missing", "none"},
		{"an index past the end finds nothing", "$.params.days[1]", "none"},
		{"a number is not a date", "$.n", "none"},
		{"a path not starting with $ is refused", "date", "error"},
		{"an empty member is refused", "$..date", "error"},
		{"an unclosed bracket is refused", "$['date", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := jsonpath.Parse(tt.path)
			got := "none"
			switch {
			case err != nil:
				got = "error"
			default:
				if v, ok := p.Lookup(doc); ok {
					if d, ok := jsonpath.Date(v); ok {
						got = d.String()
					}
				}
			}
			if got != tt.want {
				t.Errorf("%s: %s, want %s", tt.path, got, tt.want)
			}
		})
	}
}
