// Package config owns kant's configuration file (kant.yaml): its schema, its
// defaults, ${ENV} and ${FILE:/path} expansion, and strict validation that
// reports every problem at once as "file:line: key.path: message".
//
// It turns the file into plain values (listen address, store, tokens,
// sources, evaluation windows) and slo.Definition values, and does nothing
// else: it imports kant and slo, and its only I/O is reading the file in
// Load and the secret files that ${FILE:/path} names. The environment is
// read through an injected getenv function. It
// must not import collectors, stores, the HTTP layer or any cloud SDK: they
// receive plain values from cmd/kant, which is the only package that knows
// both sides.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

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

	DefaultPollInterval = 5 * time.Minute
	DefaultBackfill     = 7 * 24 * time.Hour

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
	Export   Export
	Alerts   Alerts
	Tokens   Tokens
	// Sources are the configured sources. None means that pushed runs are
	// accepted from any source name (see PushSources).
	Sources  []Source
	Evaluate Evaluate
	// SLOs are the SLO definitions, in file order.
	SLOs []slo.Definition
	// SLOLines holds the line of each SLO in the file, parallel to SLOs;
	// 0 for the built-in default SLO.
	SLOLines []int
}

// Store selects the storage backend: the embedded SQLite file (the
// default), BigQuery when BigQuery is set, or PostgreSQL when Postgres is.
type Store struct {
	// SQLitePath is the SQLite database file.
	SQLitePath string
	// BigQuery, when set, selects the BigQuery backend instead.
	BigQuery *BigQuery
	// Postgres, when set, selects the PostgreSQL backend instead.
	Postgres *Postgres
}

// Postgres locates kant's PostgreSQL database.
type Postgres struct {
	// DSN is a secret (it may hold a password): String, GoString and
	// Summary print Redacted.
	DSN string
}

// String prints the DSN redacted.
func (p Postgres) String() string { return "{dsn: " + p.Redacted() + "}" }

// GoString is String, so that %#v does not show the password either.
func (p Postgres) GoString() string { return "config.Postgres" + p.String() }

// Format prints p as String (GoString for %#v) whatever the verb, so that
// no verb (%d, %x) shows the DSN.
func (p Postgres) Format(f fmt.State, verb rune) { formatSecret(f, verb, p.String(), p.GoString()) }

// Redacted returns the DSN without its password: a URL's password
// becomes "xxxxx", as does the value of a password key in key=value form;
// a DSN that is neither is not shown at all.
func (p Postgres) Redacted() string {
	dsn := strings.TrimSpace(p.DSN)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "(a dsn that is not a valid URL, not shown)"
		}
		// A URL's user part ends at its host's '@', but its authority ends
		// at the first '/', '?' or '#': a password holding one of those
		// (unescaped) would be read as the path, and shown.
		_, rest, _ := strings.Cut(dsn, "://")
		if at := strings.LastIndexByte(rest, '@'); at >= 0 && strings.ContainsAny(rest[:at], "/?#") {
			return "(a dsn URL whose user part cannot be read, not shown: escape '/', '?' and '#' in a password)"
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	fields := strings.Fields(dsn)
	for i, f := range fields {
		k, _, ok := strings.Cut(f, "=")
		if !ok {
			return "(a dsn that is neither a URL nor key=value pairs, not shown)"
		}
		if k == "password" {
			fields[i] = "password=xxxxx"
		}
	}
	return strings.Join(fields, " ")
}

// BigQuery locates kant's dataset.
type BigQuery struct {
	Project  string
	Dataset  string
	Location string // where the dataset is created if missing, like "asia-northeast1"
}

// Export configures optional copies of observations and verdicts.
type Export struct {
	// CloudLogging, when set, writes each observation and verdict as a
	// structured Cloud Logging entry.
	CloudLogging *CloudLogging
	// BigQuery, when set, keeps the BigQuery store's job_runs, slo_results
	// and sla_daily tables and the BI views in that dataset while the
	// store is another backend (PostgreSQL, SQLite): the leader writes every
	// new observation and evaluation there too. Not with store.bigquery.
	BigQuery *BigQuery
}

// CloudLogging names the Cloud Logging log entries are written to.
type CloudLogging struct {
	Project string
	LogID   string
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

// Format prints t as String (GoString for %#v) whatever the verb, so that
// no verb (%d, %x) shows a token.
func (t Tokens) Format(f fmt.State, verb rune) { formatSecret(f, verb, t.String(), t.GoString()) }

// Source is one configured source of runs. Name is the first half of every
// job key from the source.
type Source struct {
	Name string
	Type string // a known source type, like "push"
	Line int    // where the source is defined in the file

	// StaleAfter, when set, is how long the source may go unheard (no good
	// poll; for a push source, no new observation) before the gate answers
	// "stale" for its jobs instead of anything that could open.
	StaleAfter time.Duration
	// PollTimeout bounds one poll cycle of a polled source (glue,
	// airflow); zero is the collector's default, 5 minutes.
	PollTimeout time.Duration

	Glue          *Glue          // the settings of a glue source
	Airflow       *Airflow       // the settings of an airflow source
	StepFunctions *StepFunctions // the settings of a stepfunctions source
}

// Glue is the configuration of an AWS Glue source.
type Glue struct {
	Region   string
	Jobs     []string      // Glue job names or globs; default all
	Interval time.Duration // poll period
	Endpoint string        // API endpoint override (VPC endpoints, tests)
	RoleARN  string        // assumed through STS and refreshed before expiry
	// WebIdentityAudience, with RoleARN, assumes the role with a Google ID
	// token of this audience (on GCP: no AWS keys stored there).
	WebIdentityAudience string
	// LogicalDateArgument names the run argument carrying the business
	// date; LogicalDateOffset is how far that date is before the business
	// date (24h when it names the data date, the day before the tick).
	LogicalDateArgument string
	LogicalDateOffset   time.Duration
	Backfill            time.Duration // how far back the first poll of a job reads
	// Account is the AWS account of the jobs, for matching events; default:
	// the account in RoleARN.
	Account string
	// Workflows lists Glue workflow names or globs whose runs are watched
	// as the jobs "workflow:NAME"; default none.
	Workflows []string
}

// StepFunctions is the configuration of an AWS Step Functions source.
type StepFunctions struct {
	Region              string
	StateMachines       []string      // ARNs or name globs; default all
	Interval            time.Duration // poll period
	Endpoint            string
	RoleARN             string
	WebIdentityAudience string
	Account             string // the AWS account, for matching events; default: the account in RoleARN
	LogicalDatePath     string // e.g. "$.date": a JSON path into the execution input
	LogicalDateOffset   time.Duration
	Backfill            time.Duration
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
		Alerts:   Alerts{BudgetBelow: DefaultBudgetBelow},
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
// values are replaced by getenv(NAME) (a nil getenv is an empty environment),
// ${FILE:/path} by the contents of that file less its trailing line breaks
// (a secret mounted from a Kubernetes Secret); "$${" stands for a literal
// "${". When anything is wrong, Parse returns a
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

	// YAML may come in UTF-16 or -32, but then its lines are not the
	// file's: kant reads UTF-8 only, and says so at the first bad line.
	if line, ok := notUTF8(data); ok {
		d.problems = append(d.problems, Problem{File: name, Line: line,
			Message: "the file is not UTF-8 text: save it as UTF-8"})
		return nil, d.result()
	}
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
		d.syntaxError(err, data)
		return nil, d.result()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "", "a config file holds one YAML document; found another")
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err, data)
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
	store := "sqlite " + c.Store.SQLitePath
	if bq := c.Store.BigQuery; bq != nil {
		store = fmt.Sprintf("bigquery %s.%s", bq.Project, bq.Dataset)
	}
	if pg := c.Store.Postgres; pg != nil {
		store = "postgres " + pg.Redacted()
	}
	fmt.Fprintf(&b, "listen %s, time zone %s, store %s\n", c.Listen, loc, store)
	if cl := c.Export.CloudLogging; cl != nil {
		fmt.Fprintf(&b, "export: cloud logging projects/%s/logs/%s\n", cl.Project, cl.LogID)
	}
	if bq := c.Export.BigQuery; bq != nil {
		fmt.Fprintf(&b, "export: bigquery %s.%s\n", bq.Project, bq.Dataset)
	}
	b.WriteString(c.Alerts.summary())
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
			detail := ""
			if g := s.Glue; g != nil {
				jobs := strings.Join(g.Jobs, ",")
				if jobs == "" {
					jobs = "none"
				}
				detail = fmt.Sprintf("region %s, jobs %s, every %s", g.Region, jobs, formatDuration(g.Interval))
				if len(g.Workflows) > 0 {
					detail = fmt.Sprintf("region %s, jobs %s, workflows %s, every %s", g.Region, jobs,
						strings.Join(g.Workflows, ","), formatDuration(g.Interval))
				}
			}
			if sf := s.StepFunctions; sf != nil {
				detail = fmt.Sprintf("region %s, state machines %s, every %s", sf.Region, strings.Join(sf.StateMachines, ","), formatDuration(sf.Interval))
			}
			if a := s.Airflow; a != nil {
				where := a.URL
				if a.Auth == "mwaa" {
					where = "MWAA " + a.Environment + " (" + a.Region + ")"
				}
				api := a.API
				if api == "" {
					api = "api detected"
				}
				detail = fmt.Sprintf("%s, auth %s, %s, dags %s, level %s, every %s", where, a.Auth, api,
					strings.Join(a.DAGs, ","), a.Level, formatDuration(a.Interval))
			}
			if s.StaleAfter > 0 {
				detail = strings.TrimPrefix(detail+", stale after "+formatDuration(s.StaleAfter), ", ")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Type, detail)
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

// PushSources are the sources that may push runs (POST /v1/runs, kant
// import, OpenLineage): nil, meaning any source, when no source is
// configured; otherwise the configured push sources, an empty list when
// none is a push source, so that pushes are refused rather than accepted
// from any source name.
func (c *Config) PushSources() []string {
	if len(c.Sources) == 0 {
		return nil
	}
	out := []string{}
	for _, s := range c.Sources {
		if s.Type == "push" {
			out = append(out, s.Name)
		}
	}
	return out
}

// notUTF8 returns the first line of data that is not UTF-8 text, or that
// starts with a UTF-16 or UTF-32 byte order mark, and true; false when
// every line is UTF-8.
func notUTF8(data []byte) (int, bool) {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) ||
		bytes.HasPrefix(data, []byte{0, 0, 0xfe, 0xff}) {
		return 1, true
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if !utf8.Valid(line) {
			return i + 1, true
		}
	}
	return 0, false
}
