package config

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

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

// syntaxError records a YAML parse error, with its line when yaml.v3 gives one.
func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if yamlParserProblems[m[2]] {
			line++
		}
		d.problems = append(d.problems, Problem{File: d.file, Line: line, Message: "YAML syntax: " + m[2]})
		return
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if yamlParserProblems[msg] {
		line = 1 // yaml.v3 omits line 0, the first line
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Message: "YAML syntax: " + msg})
}
