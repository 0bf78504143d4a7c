// Package jsonpath reads a value out of a JSON document by a path of the
// simple kind Step Functions' InputPath uses: the logical date of an
// execution, for the Step Functions poller and for EventBridge events.
package jsonpath

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// Path is a parsed JSON path of the simple kind Step Functions' own
// InputPath uses: "$" then member names (".date", "['business date']")
// and array indexes ("[0]"). Each step is a string (a member) or an int
// (an index).
type Path []any

// Parse parses s, or says what is wrong with it.
func Parse(s string) (Path, error) {
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		return nil, fmt.Errorf("%q does not start with $", s)
	}
	var p Path
	for rest != "" {
		switch {
		case rest[0] == '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return nil, fmt.Errorf("%q: an empty member name", s)
			}
			p, rest = append(p, rest[:end]), rest[end:]
		case strings.HasPrefix(rest, "['") || strings.HasPrefix(rest, `["`):
			quote := rest[1:2]
			end := strings.Index(rest[2:], quote+"]")
			if end < 0 {
				return nil, fmt.Errorf("%q: an unclosed [%s", s, quote)
			}
			p, rest = append(p, rest[2:2+end]), rest[2+end+2:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			n, err := strconv.Atoi(rest[1:max(end, 1)])
			if end < 0 || err != nil || n < 0 {
				return nil, fmt.Errorf("%q: a bad array index", s)
			}
			p, rest = append(p, n), rest[end+1:]
		default:
			return nil, fmt.Errorf("%q: unexpected %q", s, rest[:1])
		}
	}
	return p, nil
}

// lookup returns the value at p in the JSON document doc, false when doc
// is not JSON or has nothing there.
func (p Path) Lookup(doc string) (any, bool) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return nil, false
	}
	for _, step := range p {
		switch k := step.(type) {
		case string:
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = obj[k]; !ok {
				return nil, false
			}
		case int:
			arr, ok := v.([]any)
			if !ok || k >= len(arr) {
				return nil, false
			}
			v = arr[k]
		}
	}
	return v, true
}

// Date reads a logical date from a value at the path: a YYYY-MM-DD string,
// or an RFC 3339 time (EventBridge Scheduler's <aws.scheduler.scheduled-time>)
// whose date is taken as written, in its own offset.
func Date(v any) (kant.Date, bool) {
	s, ok := v.(string)
	if !ok {
		return kant.Date{}, false
	}
	s = strings.TrimSpace(s)
	if d, err := kant.ParseDate(s); err == nil {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return kant.DateOf(t), true
	}
	return kant.Date{}, false
}
