package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Top-level keys.
var rootKeys = []string{"listen", "timezone", "store", "export", "alerts", "tokens", "sources", "evaluate", "slos"}

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
	if v, p := m.get("export"); v != nil {
		d.export(v, p, c)
	}
	if v, p := m.get("alerts"); v != nil {
		d.alerts(v, p, c)
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
	d.checkAlertRefs(c)
}

func (d *decoder) store(n *yaml.Node, path string, c *Config) {
	m := d.mapping(n, path)
	if m == nil {
		return
	}
	m.only("sqlite", "bigquery", "postgres")
	var set []string
	for _, k := range []string{"sqlite", "bigquery", "postgres"} {
		if m.has(k) {
			set = append(set, k)
		}
	}
	if len(set) > 1 {
		later := set[0] // the error points at the backend set last in the file
		for _, k := range set {
			if m.key[k].Line > m.key[later].Line {
				later = k
			}
		}
		d.errorf(m.key[later], path, "set one of sqlite, bigquery or postgres, not %s", strings.Join(set, " and "))
	} else if len(set) == 0 && len(m.order) == 0 {
		d.errorf(n, path, "set sqlite, bigquery or postgres")
	}
	if m.has("postgres") {
		v, p := m.block("postgres")
		if s := d.mapping(v, p); s != nil {
			s.only("dsn")
			s.require("dsn")
			if v, p := s.get("dsn"); v != nil {
				// The DSN may hold a password: no message shows it.
				if dsn, ok := d.secret(v, p); ok {
					switch {
					case dsn == "":
						d.errorf(v, p, "empty (is the environment variable set?)")
					case strings.IndexFunc(dsn, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0:
						d.errorf(v, p, "contains control characters (value not shown)")
					default:
						c.Store.Postgres = &Postgres{DSN: dsn}
					}
				}
			}
		}
	}
	if m.has("sqlite") {
		v, p := m.block("sqlite")
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
		v, p := m.block("bigquery")
		if bq := d.bigquery(v, p); bq != nil {
			c.Store.BigQuery = bq
		}
	}
}

// bigquery reads a {project, dataset, location} block (store.bigquery,
// export.bigquery); nil when it is not a mapping.
func (d *decoder) bigquery(v *yaml.Node, p string) *BigQuery {
	s := d.mapping(v, p)
	if s == nil {
		return nil
	}
	s.only("project", "dataset", "location")
	s.require("project", "dataset")
	bq := &BigQuery{}
	for _, k := range []struct {
		key string
		dst *string
	}{{"project", &bq.Project}, {"dataset", &bq.Dataset}, {"location", &bq.Location}} {
		if v, p := s.get(k.key); v != nil {
			if str, ok := d.str(v, p); ok {
				if str == "" {
					d.errorf(v, p, "empty")
				}
				*k.dst = str
			}
		}
	}
	if v, p := s.get("dataset"); v != nil && bq.Dataset != "" && !validDatasetID(bq.Dataset) {
		d.errorf(v, p, "bad dataset id %q: use letters, digits and underscores", bq.Dataset)
	}
	return bq
}

// validDatasetID reports whether s is a BigQuery dataset id.
func validDatasetID(s string) bool {
	if s == "" || len(s) > 1024 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func (d *decoder) export(n *yaml.Node, path string, c *Config) {
	m := d.mapping(n, path)
	if m == nil {
		return
	}
	m.only("cloud_logging", "bigquery")
	if v, p := m.get("bigquery"); v != nil {
		if bq := d.bigquery(v, p); bq != nil {
			// The store is decoded first.
			if c.Store.BigQuery != nil {
				d.errorf(v, p, "the store is BigQuery already (store.bigquery): its tables are the BI tables; an export would write every row twice")
			} else {
				c.Export.BigQuery = bq
			}
		}
	}
	if v, p := m.get("cloud_logging"); v != nil {
		if s := d.mapping(v, p); s != nil {
			s.only("project", "log_id")
			s.require("project")
			cl := &CloudLogging{LogID: "kant"}
			if v, p := s.get("project"); v != nil {
				cl.Project, _ = d.str(v, p)
			}
			if v, p := s.get("log_id"); v != nil {
				if id, ok := d.str(v, p); ok {
					if id == "" || strings.ContainsAny(id, " /") {
						d.errorf(v, p, "bad log id %q: letters, digits, '-', '_', '.'", id)
					}
					cl.LogID = id
				}
			}
			c.Export.CloudLogging = cl
		}
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
	// glue: AWS Glue job runs, polled.
	"glue": {keys: glueKeys, decode: (*decoder).glue},
	// airflow: Airflow 2 and 3 task instances or DAG runs, polled.
	"airflow": {keys: airflowKeys, decode: (*decoder).airflow},
	// stepfunctions: AWS Step Functions executions, polled (aws.go).
	"stepfunctions": {keys: stepFunctionsKeys, decode: (*decoder).stepFunctions},
}

// glueKeys are the keys of a glue source.
var glueKeys = []string{"region", "jobs", "interval", "poll_timeout", "endpoint", "role_arn",
	"web_identity_audience", "logical_date_argument", "logical_date_offset", "backfill", "account", "workflows"}

// glue decodes the keys of a glue source.
func (d *decoder) glue(m *mapping, src *Source) {
	g := &Glue{Jobs: []string{"*"}, Interval: DefaultPollInterval, Backfill: DefaultBackfill}
	m.require("region")
	for _, k := range []struct {
		key string
		dst *string
	}{{"region", &g.Region}, {"endpoint", &g.Endpoint}, {"role_arn", &g.RoleARN},
		{"web_identity_audience", &g.WebIdentityAudience}, {"logical_date_argument", &g.LogicalDateArgument}} {
		if v, p := m.get(k.key); v != nil {
			if s, ok := d.str(v, p); ok {
				*k.dst = s
			}
		}
	}
	d.awsRole(m, g.RoleARN, g.WebIdentityAudience, &g.Account)
	if v, p := m.get("workflows"); v != nil {
		g.Workflows = d.strs(v, p, "empty: list Glue workflow names or globs, like \"nightly_*\"")
		if !m.has("jobs") {
			g.Jobs = nil // workflows only, unless jobs are listed too
		}
	}
	if v, p := m.get("jobs"); v != nil {
		g.Jobs = d.strs(v, p, "empty: list Glue job names or globs, like \"export_*\"")
	}
	d.awsDurations(m, &g.Interval, &g.LogicalDateOffset, &g.Backfill)
	src.Glue = g
}

// sourceCommonKeys are the keys every source has.
var sourceCommonKeys = []string{"name", "type", "stale_after"}

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
		if v, kp := m.get("stale_after"); v != nil {
			if dur, ok := d.duration(v, kp); ok {
				if dur <= 0 {
					d.errorf(v, kp, "must be positive")
				}
				src.StaleAfter = dur
			}
		}
		if typeOK {
			m.only(append(slices.Clone(sourceCommonKeys), st.keys...)...)
			st.decode(d, m, &src)
			// poll_timeout is a key of the polled types only (m.only above).
			if v, kp := m.get("poll_timeout"); v != nil {
				if dur, ok := d.duration(v, kp); ok {
					if dur <= 0 {
						d.errorf(v, kp, "must be positive")
					}
					src.PollTimeout = dur
				}
			}
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
	"upstream", "exclude_silenced", "at_risk",
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
		if ch, ok := d.str(v, p); ok && d.channel(v, p, ch) {
			def.Channel = ch
		}
	}
	if v, p := m.get("upstream"); v != nil {
		def.Upstream = d.strs(v, p, "")
	}
	if v, p := m.get("exclude_silenced"); v != nil {
		def.ExcludeSilenced, _ = d.boolean(v, p)
	}
	if v, p := m.get("at_risk"); v != nil {
		def.AtRisk = d.atRisk(v, p)
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
