package config

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Problem is one mistake in a config file, located by line and key path.
type Problem struct {
	File    string
	Line    int    // 1-based; 0 when the problem has no line
	Path    string // the key path, like "slos[0].schedule"; "" for the whole file
	Message string
}

// String formats p as "file:line: key.path: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Errors is every problem found in a config file, sorted by line. Parse and
// Load return it as *Errors; a CLI prints it and exits with status 2.
type Errors struct {
	Problems []Problem
}

// Len returns the number of problems.
func (e *Errors) Len() int { return len(e.Problems) }

// Error lists the problems, one per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// decoder walks the YAML node tree, collecting every problem.
type decoder struct {
	file     string
	getenv   func(string) string
	problems []Problem
}

func (d *decoder) result() error {
	if len(d.problems) == 0 {
		return nil
	}
	slices.SortStableFunc(d.problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return &Errors{Problems: d.problems}
}

// errorf records a problem at n's line (0 if n is nil).
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). For these, yaml.v3 v3.0.1 reports a 0-based line (and none for
// the first line): that of the start of the enclosing block when it knows
// one, else that of the problem.
var yamlParserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxError records a YAML parse error of data, with its line when
// yaml.v3 gives one. Its reader's errors (a control character, bytes that
// are not UTF-8) come without a line: the line is that of the first
// character the reader refuses.
func (d *decoder) syntaxError(err error, data []byte) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if yamlParserProblems[m[2]] {
			line++
		}
		// A problem at the end of a file without a final line break is on
		// its last line.
		line = min(line, lineCount(data))
		d.problems = append(d.problems, Problem{File: d.file, Line: line, Message: "YAML syntax: " + m[2]})
		return
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 1 // yaml.v3 omits line 0, the first line, for its scanner and parser
	if yamlReaderProblems[msg] {
		line = unreadableLine(data)
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Message: "YAML syntax: " + msg})
}

// yamlReaderProblems are the messages of yaml.v3's reader, which give no line.
var yamlReaderProblems = map[string]bool{
	"control characters are not allowed": true,
	"invalid leading UTF-8 octet":        true,
	"invalid trailing UTF-8 octet":       true,
	"incomplete UTF-8 octet sequence":    true,
	"invalid Unicode character":          true,
}

// unreadableLine returns the line of the first character of data that
// YAML does not allow (a control character other than tab and line breaks,
// a byte that is not UTF-8), counting lines as YAML does; the last line
// when there is none.
func unreadableLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1, !yamlPrintable(r):
			return line
		case r == '\r' && i+1 < len(data) && data[i+1] == '\n':
		case r == '\n', r == '\r', r == 0x85, r == 0x2028, r == 0x2029:
			line++
		}
		i += size
	}
	return line
}

// lineCount returns the number of lines of data, counted as YAML does.
func lineCount(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == '\r' && i+1 < len(data) && data[i+1] == '\n':
		case r == '\n', r == '\r', r == 0x85, r == 0x2028, r == 0x2029:
			line++
		}
		i += size
	}
	return line
}

// yamlPrintable reports whether YAML allows r in a stream.
func yamlPrintable(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0x7E || r == 0x85 ||
		r >= 0xA0 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
