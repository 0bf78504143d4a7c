// Package config owns kant's configuration file (kant.yaml): its schema, its
// defaults, ${ENV} expansion, and strict validation that reports every
// problem at once as "file:line: key.path: message".
//
// It turns the file into plain values (listen address, store, tokens,
// sources, evaluation windows) and slo.Definition values, and does nothing
// else: it imports kant and slo, and its only I/O is reading the file in
// Load. The environment is read through an injected getenv function. It
// must not import collectors, stores, the HTTP layer or any cloud SDK: they
// receive plain values from cmd/kant, which is the only package that knows
// both sides.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Defaults used when the file does not set a value.
const (
	DefaultListen     = ":8080"
	DefaultSQLitePath = "kant.db"
	DefaultInterval   = 30 * time.Second
	DefaultLookback   = 7 * 24 * time.Hour
	DefaultRetention  = 90 * 24 * time.Hour
	DefaultTarget     = 0.95
	DefaultTolerance  = 10 * time.Minute
	DefaultCalendar   = "daily"

	// DefaultSLOName names the built-in SLO used when the file has no slos key.
	DefaultSLOName = "default"
)

// Config is a validated kant configuration.
type Config struct {
	// Path is the file the configuration was read from, or "" for the
	// built-in defaults.
	Path string
	// Listen is the HTTP listen address, like ":8080".
	Listen string
	// Location is the default time zone of SLOs that name none.
	Location *time.Location
	Store    Store
	Tokens   Tokens
	// Sources are the configured sources. None means that pushed runs are
	// accepted from any source name.
	Sources  []Source
	Evaluate Evaluate
	// SLOs are the SLO definitions, in file order.
	SLOs []slo.Definition
	// SLOLines holds the line of each SLO in the file, parallel to SLOs;
	// 0 for the built-in default SLO.
	SLOLines []int
}

// Store selects the storage backend. Only the embedded SQLite store is
// supported by this build.
type Store struct {
	// SQLitePath is the SQLite database file.
	SQLitePath string
}

// Tokens are the bearer tokens the HTTP API accepts. None configured means
// the corresponding endpoints are open. Tokens are secrets: String and
// GoString print only how many there are, so that printing a Config with
// fmt never shows them.
type Tokens struct {
	// Write tokens authorize POST endpoints.
	Write []string
	// Read tokens authorize the gate and the read API.
	Read []string
}

// String reports how many tokens there are, never the tokens themselves.
func (t Tokens) String() string {
	return fmt.Sprintf("{write: %d token(s), read: %d token(s)}", len(t.Write), len(t.Read))
}

// GoString is String, so that %#v does not show the tokens either.
func (t Tokens) GoString() string { return "config.Tokens" + t.String() }

// Source is one configured source of runs. Name is the first half of every
// job key from the source.
type Source struct {
	Name string
	Type string // a known source type, like "push"
	Line int    // where the source is defined in the file
}

// Evaluate sets how often and over which window the evaluator runs.
type Evaluate struct {
	// Interval is the time between evaluations.
	Interval time.Duration
	// Lookback is the window of business dates re-evaluated each tick.
	Lookback time.Duration
	// Retention is the window evaluated once at start.
	Retention time.Duration
}

// Default returns the configuration used when there is no config file:
// listen on :8080, time zone UTC, the SQLite store in kant.db, no tokens, no
// sources (so pushed runs are accepted from any source), and one built-in SLO
// named "default": every job ("*") is expected once a day (cron "0 0 * * *",
// daily calendar, in UTC) and must have succeeded by the end of its business
// date (deadline 24:00), with target 0.95 and no early-start tolerance. With
// no config, every pushed job is thus expected to succeed by the end of its
// business date.
//
// getenv is accepted so that the defaults and a file are built alike; no
// default reads the environment today. A parsed file with no slos key gets the
// same default SLO in its own time zone; "slos: []" means no SLO at all.
//
// Default fails only if package slo rejects the built-in SLO, which is a bug.
func Default(getenv func(string) string) (*Config, error) {
	_ = getenv
	c := &Config{
		Listen:   DefaultListen,
		Location: time.UTC,
		Store:    Store{SQLitePath: DefaultSQLitePath},
		Evaluate: Evaluate{
			Interval:  DefaultInterval,
			Lookback:  DefaultLookback,
			Retention: DefaultRetention,
		},
	}
	if err := c.addDefaultSLO(); err != nil {
		return nil, err
	}
	return c, nil
}

// addDefaultSLO appends the built-in SLO in c.Location.
func (c *Config) addDefaultSLO() error {
	const spec = "0 0 * * *"
	sched, err := slo.ParseSchedule(spec)
	if err != nil {
		return fmt.Errorf("config: built-in SLO schedule %q: %w", spec, err)
	}
	cal, err := slo.NewCalendar(DefaultCalendar, nil, nil)
	if err != nil {
		return fmt.Errorf("config: built-in SLO calendar %q: %w", DefaultCalendar, err)
	}
	def := slo.Definition{
		Name:      DefaultSLOName,
		Jobs:      []string{"*"},
		Schedule:  sched,
		Location:  c.Location,
		Calendar:  cal,
		Deadline:  &slo.Clock{Hour: 24, Minute: 0},
		Target:    DefaultTarget,
		Tolerance: 0,
	}
	if err := def.Validate(); err != nil {
		return fmt.Errorf("config: built-in SLO: %w", err)
	}
	c.SLOs = append(c.SLOs, def)
	c.SLOLines = append(c.SLOLines, 0)
	return nil
}

// Load reads and validates the config file at path; see Parse. An error
// opening or reading the file is returned as is (errors.Is(err,
// fs.ErrNotExist) tells a missing file); problems in its content are returned
// as *Errors.
func Load(path string, getenv func(string) string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f, getenv)
}

// Parse reads and validates a config file; name is the file name used in
// error messages and Config.Path. ${NAME} and ${NAME:-default} in string
// values are replaced by getenv(NAME) (a nil getenv is an empty environment);
// "$${" stands for a literal "${". When anything is wrong, Parse returns a
// nil Config and an *Errors listing every problem, sorted by line.
func Parse(name string, r io.Reader, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", name, err)
	}
	d := &decoder{file: name, getenv: getenv}
	c, err := Default(getenv)
	if err != nil {
		return nil, err
	}
	c.Path = name
	c.SLOs, c.SLOLines = nil, nil

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		// An empty file: every default applies.
		if err := c.addDefaultSLO(); err != nil {
			return nil, err
		}
		return c, nil
	case err != nil:
		d.syntaxError(err)
		return nil, d.result()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "", "a config file holds one YAML document; found another")
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	d.root(root, c)
	if err := d.result(); err != nil {
		return nil, err
	}
	return c, nil
}

// Summary is a short human report of c for "kant check": the service
// settings, the sources, and each SLO's jobs, schedule, deadline, calendar
// and target. Tokens are counted, never shown.
func (c *Config) Summary() string {
	var b strings.Builder
	if c.Path == "" {
		b.WriteString("config: none, built-in defaults\n")
	} else {
		fmt.Fprintf(&b, "config: %s\n", c.Path)
	}
	loc := "UTC"
	if c.Location != nil {
		loc = c.Location.String()
	}
	fmt.Fprintf(&b, "listen %s, time zone %s, store sqlite %s\n", c.Listen, loc, c.Store.SQLitePath)
	if len(c.Tokens.Write)+len(c.Tokens.Read) == 0 {
		b.WriteString("tokens: none (the API is open)\n")
	} else {
		fmt.Fprintf(&b, "tokens: %s, %s\n", countTokens(len(c.Tokens.Write), "write"), countTokens(len(c.Tokens.Read), "read"))
	}
	fmt.Fprintf(&b, "evaluate every %s, lookback %s, retention %s\n",
		formatDuration(c.Evaluate.Interval), formatDuration(c.Evaluate.Lookback), formatDuration(c.Evaluate.Retention))

	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	if len(c.Sources) == 0 {
		fmt.Fprintln(tw, "sources: none (runs are pushed from any source)")
	} else {
		fmt.Fprintf(tw, "sources (%d):\n", len(c.Sources))
		for _, s := range c.Sources {
			fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Type)
		}
	}
	if len(c.SLOs) == 0 {
		fmt.Fprintln(tw, "SLOs: none")
	} else {
		fmt.Fprintf(tw, "SLOs (%d):\n", len(c.SLOs))
		for _, s := range c.SLOs {
			by := "?"
			switch {
			case s.Deadline != nil:
				by = "deadline " + s.Deadline.String()
			case s.Within > 0:
				by = "within " + formatDuration(s.Within)
			}
			zone := "?"
			if s.Location != nil {
				zone = s.Location.String()
			}
			fmt.Fprintf(tw, "  %s\t%s\tschedule %q %s\t%s\tcalendar %s\ttarget %s\n",
				s.Name, strings.Join(s.Jobs, ","), s.Schedule.String(), zone, by, s.Calendar.Name(),
				strconv.FormatFloat(s.Target, 'f', -1, 64))
		}
	}
	tw.Flush()
	return b.String()
}

func countTokens(n int, kind string) string {
	if n == 1 {
		return "1 " + kind + " token"
	}
	return fmt.Sprintf("%d %s tokens", n, kind)
}

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

// Top-level keys.
var rootKeys = []string{"listen", "timezone", "store", "tokens", "sources", "evaluate", "slos"}

func (d *decoder) root(n *yaml.Node, c *Config) {
	m := d.mapping(n, "")
	if m == nil {
		return
	}
	m.only(rootKeys...)
	if v, p := m.get("listen"); v != nil {
		if s, ok := d.str(v, p); ok {
			if s == "" {
				d.errorf(v, p, "empty")
			} else if _, _, err := net.SplitHostPort(s); err != nil {
				d.errorf(v, p, "bad listen address %q: want host:port, like \":8080\"", s)
			} else {
				c.Listen = s
			}
		}
	}
	if v, p := m.get("timezone"); v != nil {
		if loc, ok := d.location(v, p); ok {
			c.Location = loc
		}
	}
	if v, p := m.get("store"); v != nil {
		d.store(v, p, c)
	}
	if v, p := m.get("tokens"); v != nil {
		d.tokens(v, p, c)
	}
	if v, p := m.get("evaluate"); v != nil {
		d.evaluate(v, p, c)
	}
	if v, p := m.get("sources"); v != nil {
		d.sources(v, p, c)
	}
	if v, p := m.get("slos"); v != nil {
		d.slos(v, p, c)
	} else if !m.has("slos") {
		if err := c.addDefaultSLO(); err != nil {
			// Not the file's fault, but nothing may start without it.
			d.errorf(nil, "", "%v", err)
		}
	}
}

func (d *decoder) store(n *yaml.Node, path string, c *Config) {
	m := d.mapping(n, path)
	if m == nil {
		return
	}
	m.only("sqlite", "bigquery")
	if m.has("sqlite") && m.has("bigquery") {
		d.errorf(m.key["bigquery"], path, "set one of sqlite or bigquery, not both")
	} else if !m.has("sqlite") && !m.has("bigquery") && len(m.order) == 0 {
		d.errorf(n, path, "set sqlite or bigquery")
	}
	if m.has("sqlite") {
		v, p := m.get("sqlite")
		if s := d.mapping(v, p); s != nil {
			s.only("path")
			if v, p := s.get("path"); v != nil {
				if file, ok := d.str(v, p); ok {
					if file == "" {
						d.errorf(v, p, "empty")
					} else {
						c.Store.SQLitePath = file
					}
				}
			}
		}
	}
	if m.has("bigquery") {
		v, p := m.get("bigquery")
		if s := d.mapping(v, p); s != nil {
			s.only("project", "dataset", "location")
			for _, k := range []string{"project", "dataset", "location"} {
				if v, p := s.get(k); v != nil {
					d.str(v, p)
				}
			}
		}
		d.errorf(m.key["bigquery"], p, "not supported by this build yet (use sqlite)")
	}
}

func (d *decoder) tokens(n *yaml.Node, path string, c *Config) {
	m := d.mapping(n, path)
	if m == nil {
		return
	}
	m.only("write", "read")
	if v, p := m.get("write"); v != nil {
		c.Tokens.Write = d.secrets(v, p)
	}
	if v, p := m.get("read"); v != nil {
		c.Tokens.Read = d.secrets(v, p)
	}
}

// secrets reads a list of secret strings. No message ever shows a value.
func (d *decoder) secrets(n *yaml.Node, path string) []string {
	items, _ := d.seq(n, path)
	var out []string
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, ok := d.secret(item, p)
		switch {
		case !ok:
		case s == "":
			d.errorf(item, p, "empty (is the environment variable set?)")
		case strings.TrimSpace(s) != s || strings.IndexFunc(s, isSpaceOrControl) >= 0:
			d.errorf(item, p, "contains whitespace or control characters (value not shown)")
		default:
			out = append(out, s)
		}
	}
	return out
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

func (d *decoder) evaluate(n *yaml.Node, path string, c *Config) {
	m := d.mapping(n, path)
	if m == nil {
		return
	}
	m.only("interval", "lookback", "retention")
	for _, f := range []struct {
		key string
		dst *time.Duration
	}{
		{"interval", &c.Evaluate.Interval},
		{"lookback", &c.Evaluate.Lookback},
		{"retention", &c.Evaluate.Retention},
	} {
		if v, p := m.get(f.key); v != nil {
			if dur, ok := d.duration(v, p); ok {
				if dur <= 0 {
					d.errorf(v, p, "must be positive")
				} else {
					*f.dst = dur
				}
			}
		}
	}
	if c.Evaluate.Retention < c.Evaluate.Lookback {
		at, p := m.get("retention")
		if at == nil {
			at, p = m.get("lookback")
		}
		d.errorf(at, p, "retention (%s) is shorter than lookback (%s)",
			formatDuration(c.Evaluate.Retention), formatDuration(c.Evaluate.Lookback))
	}
}

// sourceType decodes and validates the keys a source type adds to the
// common ones (name, type). A new type (glue, airflow) declares its keys
// and a decode function that reads them into new fields of Source; decode
// reports problems through d and may leave src partly filled.
type sourceType struct {
	keys   []string
	decode func(d *decoder, m *mapping, src *Source)
}

// sourceTypes is every source type this build supports, by type name.
var sourceTypes = map[string]sourceType{
	// push: runs arrive on POST /v1/runs or /api/v1/lineage; no settings.
	"push": {decode: func(*decoder, *mapping, *Source) {}},
}

// sourceCommonKeys are the keys every source has.
var sourceCommonKeys = []string{"name", "type"}

func knownSourceTypes() string {
	names := make([]string, 0, len(sourceTypes))
	for n := range sourceTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func (d *decoder) sources(n *yaml.Node, path string, c *Config) {
	first := map[string]int{}
	items, _ := d.seq(n, path)
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		m := d.mapping(item, p)
		if m == nil {
			continue
		}
		src := Source{Line: item.Line}
		nameOK := false
		if v, kp := m.get("name"); v != nil {
			if s, ok := d.str(v, kp); ok {
				if err := checkName(s); err != "" {
					d.errorf(v, kp, "%s", err)
				} else if line, dup := first[s]; dup {
					d.errorf(v, kp, "duplicate source name %q (first at line %d)", s, line)
				} else {
					first[s] = v.Line
					src.Name = s
					nameOK = true
				}
			}
		}
		var st sourceType
		typeOK := false
		if v, kp := m.get("type"); v != nil {
			if s, ok := d.str(v, kp); ok {
				if st, typeOK = sourceTypes[s]; typeOK {
					src.Type = s
				} else {
					d.errorf(v, kp, "unknown source type %q (known: %s)", s, knownSourceTypes())
				}
			}
		}
		m.require("name", "type")
		if typeOK {
			m.only(append(slices.Clone(sourceCommonKeys), st.keys...)...)
			st.decode(d, m, &src)
		}
		if nameOK {
			// Kept even when the type is bad, so that SLOs selecting the
			// source are not reported as well.
			c.Sources = append(c.Sources, src)
		}
	}
}

// checkName returns why s cannot name a source or an SLO, or "".
func checkName(s string) string {
	if s == "" {
		return "empty"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Sprintf("bad name %q: use letters, digits, '-', '_' or '.'", s)
		}
	}
	return ""
}

// SLO keys.
var sloKeys = []string{
	"name", "jobs", "schedule", "timezone", "calendar", "extra_holidays", "extra_workdays",
	"deadline", "within", "recover_by", "target", "tolerance", "owner", "channel",
}

func (d *decoder) slos(n *yaml.Node, path string, c *Config) {
	first := map[string]int{}
	items, _ := d.seq(n, path)
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		before := len(d.problems)
		def, ok := d.slo(item, p, c, first)
		if !ok || len(d.problems) > before {
			continue
		}
		if err := def.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				d.errorf(item, p, "%s", line)
			}
			continue
		}
		c.SLOs = append(c.SLOs, def)
		c.SLOLines = append(c.SLOLines, item.Line)
	}
}

func (d *decoder) slo(n *yaml.Node, path string, c *Config, first map[string]int) (slo.Definition, bool) {
	def := slo.Definition{
		Location:  c.Location,
		Target:    DefaultTarget,
		Tolerance: DefaultTolerance,
	}
	m := d.mapping(n, path)
	if m == nil {
		return def, false
	}
	m.only(sloKeys...)
	m.require("name", "jobs", "schedule")

	if v, p := m.get("name"); v != nil {
		if s, ok := d.str(v, p); ok {
			if err := checkName(s); err != "" {
				d.errorf(v, p, "%s", err)
			} else if line, dup := first[s]; dup {
				d.errorf(v, p, "duplicate SLO name %q (first at line %d)", s, line)
			} else {
				first[s] = v.Line
				def.Name = s
			}
		}
	}
	if v, p := m.get("jobs"); v != nil {
		items, ok := d.seq(v, p)
		if ok && len(items) == 0 {
			d.errorf(v, p, "empty: list job keys or globs, like \"hegel/*\"")
		}
		for i, item := range items {
			ip := fmt.Sprintf("%s[%d]", p, i)
			if s, ok := d.str(item, ip); ok && d.jobPattern(item, ip, s, c.Sources) {
				def.Jobs = append(def.Jobs, s)
			}
		}
	}
	if v, p := m.get("schedule"); v != nil {
		if s, ok := d.str(v, p); ok {
			sched, err := slo.ParseSchedule(s)
			if err != nil {
				d.errorf(v, p, "%s", withValue("bad cron", s, err))
			} else {
				def.Schedule = sched
			}
		}
	}
	if v, p := m.get("timezone"); v != nil {
		if loc, ok := d.location(v, p); ok {
			def.Location = loc
		}
	}

	calName := DefaultCalendar
	calOK := true
	if v, p := m.get("calendar"); v != nil {
		s, ok := d.str(v, p)
		calName, calOK = s, ok
	}
	holidays, ok1 := d.dates(m, "extra_holidays")
	workdays, ok2 := d.dates(m, "extra_workdays")
	if calOK && ok1 && ok2 {
		cal, err := slo.NewCalendar(calName, holidays, workdays)
		if err != nil {
			at, p := m.get("calendar")
			if at == nil {
				at, p = n, path
			}
			d.errorf(at, p, "%s", err)
		} else {
			def.Calendar = cal
		}
	}

	dv, dp := m.get("deadline")
	wv, wp := m.get("within")
	switch {
	case dv != nil && wv != nil:
		d.errorf(wv, wp, "set deadline or within, not both")
	case dv == nil && wv == nil:
		d.errorf(n, path, "set deadline (a time of day, like \"06:00\") or within (a duration after the tick, like 5h)")
	case dv != nil:
		if clock, ok := d.clock(dv, dp); ok {
			def.Deadline = &clock
		}
	default:
		if dur, ok := d.duration(wv, wp); ok {
			if dur <= 0 {
				d.errorf(wv, wp, "must be positive")
			} else {
				def.Within = dur
			}
		}
	}
	if v, p := m.get("recover_by"); v != nil {
		if clock, ok := d.clock(v, p); ok {
			def.RecoverBy = &clock
		}
	}
	if v, p := m.get("target"); v != nil {
		if t, ok := d.float(v, p); ok {
			if !(t > 0 && t <= 1) {
				d.errorf(v, p, "%s is out of range: want a share in (0, 1], like 0.95", strconv.FormatFloat(t, 'g', -1, 64))
			} else {
				def.Target = t
			}
		}
	}
	if v, p := m.get("tolerance"); v != nil {
		if dur, ok := d.duration(v, p); ok {
			if dur < 0 {
				d.errorf(v, p, "must not be negative")
			} else {
				def.Tolerance = dur
			}
		}
	}
	if v, p := m.get("owner"); v != nil {
		def.Owner, _ = d.str(v, p)
	}
	if v, p := m.get("channel"); v != nil {
		def.Channel, _ = d.str(v, p)
	}
	return def, true
}

// jobPattern checks one SLO job key or glob against the configured sources
// and reports whether it is usable. "*" alone selects every job.
func (d *decoder) jobPattern(n *yaml.Node, path, pattern string, sources []Source) bool {
	if pattern == "*" {
		return true
	}
	src, job, found := strings.Cut(pattern, "/")
	if !found || src == "" || job == "" {
		d.errorf(n, path, "%q is not source/job: want a job key or glob like \"hegel/export_users\" or \"hegel/*\"", pattern)
		return false
	}
	if len(sources) == 0 {
		return true
	}
	names := make([]string, len(sources))
	for i, s := range sources {
		if kant.Match(src, kant.JobKey(s.Name)) {
			return true
		}
		names[i] = s.Name
	}
	hint := "configured: " + strings.Join(names, ", ")
	if s := closest(src, names); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	}
	d.errorf(n, path, "%q selects no configured source (%s)", pattern, hint)
	return false
}

// dates reads the list of YYYY-MM-DD dates under key of m; ok is false when
// any was bad.
func (d *decoder) dates(m *mapping, key string) ([]kant.Date, bool) {
	v, p := m.get(key)
	if v == nil {
		return nil, true
	}
	items, ok := d.seq(v, p)
	if !ok {
		return nil, false
	}
	var out []kant.Date
	for i, item := range items {
		ip := fmt.Sprintf("%s[%d]", p, i)
		s, sok := d.str(item, ip)
		if !sok {
			ok = false
			continue
		}
		date, err := kant.ParseDate(s)
		if err != nil {
			d.errorf(item, ip, "%s", kant.ErrorMessage(err))
			ok = false
			continue
		}
		out = append(out, date)
	}
	return out, ok
}

// location reads an IANA time zone name.
func (d *decoder) location(n *yaml.Node, path string) (*time.Location, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return nil, false
	}
	if s == "" {
		d.errorf(n, path, "empty")
		return nil, false
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		d.errorf(n, path, "unknown time zone %q: want an IANA name, like \"Asia/Tokyo\" or \"UTC\"", s)
		return nil, false
	}
	return loc, true
}

// clock reads an "HH:MM" wall-clock time.
func (d *decoder) clock(n *yaml.Node, path string) (slo.Clock, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return slo.Clock{}, false
	}
	c, err := slo.ParseClock(s)
	if err != nil {
		d.errorf(n, path, "%s", withValue("bad time of day", s, err))
		return slo.Clock{}, false
	}
	return c, true
}

// duration reads a duration: a Go duration ("90s", "1h30m") optionally
// preceded by whole days ("7d", "1d12h").
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	dur, err := ParseDuration(s)
	if err != nil {
		d.errorf(n, path, "%s", err)
		return 0, false
	}
	return dur, true
}

// float reads a number. A quoted number (as from ${ENV}) is accepted.
func (d *decoder) float(n *yaml.Node, path string) (float64, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		d.errorf(n, path, "want a number, got %q", s)
		return 0, false
	}
	return f, true
}

// ParseDuration parses a Go duration ("30s", "5m", "1h30m") optionally
// preceded by a whole number of days ("7d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad duration %q: want a number and a unit (s, m, h or d), like 30s, 5m or 7d", s)
	rest := s
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n > int64(1<<63-1)/int64(24*time.Hour) || n < -int64(1<<63-1)/int64(24*time.Hour) {
			return 0, bad
		}
		days = time.Duration(n) * 24 * time.Hour
		rest = s[i+1:]
		if rest == "" {
			return days, nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, bad
		}
	}
	dur, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	if days < 0 {
		dur = -dur
	}
	return days + dur, nil
}

// formatDuration writes d the way it would be written in the file: "7d",
// "1d12h", "30s", "1h30m".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	const day = 24 * time.Hour
	if d >= day {
		fmt.Fprintf(&b, "%dd", d/day)
		d %= day
	}
	if d > 0 {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}

// withValue phrases a parse error of value as `what "value": reason`. The
// slo parsers start their messages with their own `name "value": `, which
// is replaced so that the key path and the message do not stutter.
func withValue(what, value string, err error) string {
	msg, q := err.Error(), strconv.Quote(value)
	if i := strings.Index(msg, q+": "); i >= 0 {
		msg = msg[i+len(q)+2:]
	}
	return fmt.Sprintf("%s %s: %s", what, q, msg)
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names the kind of a node for type errors. It never shows the
// node's value.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	return "a string"
}

// str reads a scalar as a string, expanding ${ENV} in string scalars. ok is
// false (and a problem recorded) when n is not a scalar or expansion failed.
// Messages show the variable's name, never its value.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a string, got %s", describe(n))
		return "", false
	}
	if n.Tag != "!!str" {
		return n.Value, true
	}
	s, err := expand(n.Value, d.getenv)
	if err != nil {
		d.errorf(n, path, "%s", err)
		return "", false
	}
	return s, true
}

// secret is str for values that must never be shown. str never shows a
// value in its messages; secret exists so that call sites say so.
func (d *decoder) secret(n *yaml.Node, path string) (string, bool) { return d.str(n, path) }

// seq returns the items of a list node; ok is false (and a problem
// recorded) when n is not a list. A null node is an empty list.
func (d *decoder) seq(n *yaml.Node, path string) (items []*yaml.Node, ok bool) {
	n = resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", describe(n))
		return nil, false
	}
	return n.Content, true
}

// mapping is a YAML mapping being decoded: its keys, in order, with the
// nodes of their keys and values.
type mapping struct {
	d     *decoder
	node  *yaml.Node
	path  string
	order []string
	key   map[string]*yaml.Node
	val   map[string]*yaml.Node
	// suggested holds the known keys that an unknown key was taken to be a
	// misspelling of, so that they are not also reported missing.
	suggested map[string]bool
}

// mapping checks that n is a mapping with distinct string keys and returns
// it; nil (and a problem) when n is not a mapping. A null node is an empty
// mapping.
func (d *decoder) mapping(n *yaml.Node, path string) *mapping {
	n = resolve(n)
	m := &mapping{d: d, node: n, path: path, key: map[string]*yaml.Node{}, val: map[string]*yaml.Node{}, suggested: map[string]bool{}}
	if isNull(n) {
		return m
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", describe(n))
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be strings, got %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.errorf(k, path, "merge keys (<<) are not supported")
			continue
		}
		if first, dup := m.key[k.Value]; dup {
			d.errorf(k, join(path, k.Value), "duplicate key (first at line %d)", first.Line)
			continue
		}
		m.order = append(m.order, k.Value)
		m.key[k.Value] = k
		m.val[k.Value] = v
	}
	return m
}

// only reports every key of m that is not in known, suggesting the closest
// known key when one is near.
func (m *mapping) only(known ...string) {
	for _, k := range m.order {
		if slices.Contains(known, k) {
			continue
		}
		if s := closest(k, known); s != "" && !m.has(s) {
			m.suggested[s] = true
			m.d.errorf(m.key[k], m.path, "unknown key %q (did you mean %q?)", k, s)
		} else {
			m.d.errorf(m.key[k], m.path, "unknown key %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
}

// require reports each key that m lacks, unless an unknown key was taken
// to be its misspelling.
func (m *mapping) require(keys ...string) {
	for _, k := range keys {
		switch {
		case m.suggested[k]:
		case !m.has(k):
			m.d.errorf(m.node, m.path, "missing required key %q", k)
		case isNull(m.val[k]):
			m.d.errorf(m.key[k], join(m.path, k), "required, got nothing")
		}
	}
}

// has reports whether key is present, even with a null value.
func (m *mapping) has(key string) bool {
	_, ok := m.key[key]
	return ok
}

// get returns the value of key and its path; a nil node when key is absent
// or null.
func (m *mapping) get(key string) (*yaml.Node, string) {
	v := m.val[key]
	if isNull(v) {
		return nil, join(m.path, key)
	}
	return v, join(m.path, key)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// closest returns the candidate nearest to s by edit distance when it is
// near enough to be a likely misspelling, or "".
func closest(s string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		dist := editDistance(strings.ToLower(s), strings.ToLower(c))
		if best == "" || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	limit := min(2, max(1, len(s)/3))
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// characters each cost 1, so "hegle" is 1 from "hegel".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// expand replaces ${NAME} and ${NAME:-default} in s with values from getenv.
// "$${" is a literal "${"; any other "$" is kept. A variable that is unset
// or empty with no default is an error naming it. Errors never show s or a
// variable's value.
func expand(s string, getenv func(string) string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errors.New("unterminated ${ (write $${ for a literal ${)")
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", errors.New("bad environment variable name in ${...}: want letters, digits and _")
		}
		v := getenv(name)
		if v == "" {
			if !hasDef {
				return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} for a default)", name, name)
			}
			v = def
		}
		b.WriteString(v)
	}
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
