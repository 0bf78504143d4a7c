package config

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Secret is a string that must never be printed: String and GoString show
// only whether it is set.
type Secret string

// String reports whether the secret is set, never its value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString is String, so that %#v does not show the value either.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Format prints s as String (GoString for %#v) whatever the verb, so that
// no verb (%d, %x, %q) shows the value.
func (s Secret) Format(f fmt.State, verb rune) { formatSecret(f, verb, s.String(), s.GoString()) }

// formatSecret writes what a Format method of a type holding secrets
// shows: plain for every verb, goString for %#v.
func formatSecret(f fmt.State, verb rune, plain, goString string) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, goString)
		return
	}
	io.WriteString(f, plain)
}

// Airflow is the configuration of an Airflow source: Airflow 2 or 3,
// self-hosted, on Cloud Composer or on MWAA.
type Airflow struct {
	// URL is the Airflow web server (for Composer, the environment's
	// airflowUri). Required except with auth mwaa.
	URL string
	// API is "v1" (Airflow 2), "v2" (Airflow 3) or "" to detect it.
	API string
	// DAGs lists DAG ids or globs; default all.
	DAGs []string
	// Level is "task" (one job per task) or "dag" (one job per DAG run).
	Level    string
	Interval time.Duration // poll period
	Backfill time.Duration // how far back the first poll reads

	// Auth is google, mwaa, basic, bearer or none.
	Auth     string
	Username string
	Password Secret
	Token    Secret
	// Environment and Region name the MWAA environment (auth mwaa);
	// Endpoint overrides the MWAA API endpoint.
	Environment string
	Region      string
	Endpoint    string
}

// Format prints a with its password and token redacted, whatever the
// verb. Without it, fmt prints a *Airflow inside a Config under %s as a
// bad verb, and reads its fields without their String methods.
func (a Airflow) Format(f fmt.State, verb rune) {
	type fields Airflow // the same fields, without this method
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "config.Airflow%+v", fields(a))
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "%+v", fields(a))
	default:
		fmt.Fprintf(f, "%v", fields(a))
	}
}

// Airflow defaults.
const (
	DefaultAirflowInterval = 2 * time.Minute
	DefaultAirflowLevel    = "task"
)

var airflowKeys = []string{"url", "api", "dags", "level", "interval", "poll_timeout", "backfill", "auth",
	"username", "password", "token", "environment", "region", "endpoint"}

var airflowAuths = []string{"google", "mwaa", "basic", "bearer", "none"}

// airflow decodes the keys of an airflow source.
func (d *decoder) airflow(m *mapping, src *Source) {
	a := &Airflow{DAGs: []string{"*"}, Level: DefaultAirflowLevel, Interval: DefaultAirflowInterval, Backfill: DefaultBackfill}
	m.require("auth")
	for _, k := range []struct {
		key string
		dst *string
	}{{"url", &a.URL}, {"api", &a.API}, {"level", &a.Level}, {"auth", &a.Auth}, {"username", &a.Username},
		{"environment", &a.Environment}, {"region", &a.Region}, {"endpoint", &a.Endpoint}} {
		if v, p := m.get(k.key); v != nil {
			if s, ok := d.str(v, p); ok {
				*k.dst = s
			}
		}
	}
	for _, k := range []struct {
		key string
		dst *Secret
	}{{"password", &a.Password}, {"token", &a.Token}} {
		if v, p := m.get(k.key); v != nil {
			if s, ok := d.secret(v, p); ok {
				if s == "" {
					d.errorf(v, p, "empty (is the environment variable set?)")
				}
				*k.dst = Secret(s)
			}
		}
	}
	if v, p := m.get("url"); v != nil && a.URL != "" {
		u, err := url.Parse(a.URL)
		switch {
		case err == nil && u.User != nil:
			d.errorf(v, p, "put credentials in username and password, not in the URL (value not shown)")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			shown := a.URL
			if strings.Contains(shown, "@") {
				shown = "(value not shown)"
			}
			d.errorf(v, p, "%q is not an http(s) URL, like \"https://airflow.example.com\"", shown)
		}
	}
	if v, p := m.get("api"); v != nil && a.API != "v1" && a.API != "v2" {
		d.errorf(v, p, "unknown api %q: want v1 (Airflow 2) or v2 (Airflow 3); omit to detect", a.API)
	}
	if v, p := m.get("level"); v != nil && a.Level != "task" && a.Level != "dag" {
		d.errorf(v, p, "unknown level %q: want task (one job per task) or dag (one job per DAG run)", a.Level)
	}
	if v, p := m.get("dags"); v != nil {
		a.DAGs = d.strs(v, p, "empty: list DAG ids or globs, like \"daily_*\"")
	}
	for _, k := range []struct {
		key string
		dst *time.Duration
	}{{"interval", &a.Interval}, {"backfill", &a.Backfill}} {
		if v, p := m.get(k.key); v != nil {
			if dur, ok := d.duration(v, p); ok {
				if dur <= 0 {
					d.errorf(v, p, "must be positive")
				}
				*k.dst = dur
			}
		}
	}

	av, ap := m.get("auth")
	need := func(keys ...string) {
		for _, k := range keys {
			if !m.has(k) {
				d.errorf(av, ap, "auth %s needs %s", a.Auth, k)
			}
		}
	}
	forbid := func(keys ...string) {
		for _, k := range keys {
			if v, p := m.get(k); v != nil {
				d.errorf(v, p, "not used with auth %s", a.Auth)
			}
		}
	}
	switch a.Auth {
	case "":
		// Reported by require.
	case "google", "none":
		need("url")
		forbid("username", "password", "token", "environment", "region", "endpoint")
	case "basic":
		need("url", "username", "password")
		forbid("token", "environment", "region", "endpoint")
	case "bearer":
		need("url")
		switch {
		case m.has("token") && (m.has("username") || m.has("password")):
			d.errorf(av, ap, "auth bearer takes token, or username and password (exchanged at /auth/token), not both")
		case m.has("token"):
		case m.has("username") || m.has("password"):
			need("username", "password")
		default:
			d.errorf(av, ap, "auth bearer needs token, or username and password")
		}
		forbid("environment", "region", "endpoint")
	case "mwaa":
		need("environment", "region")
		forbid("username", "password", "token")
	default:
		hint := "known: " + strings.Join(airflowAuths, ", ")
		if s := closest(a.Auth, airflowAuths); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		d.errorf(av, ap, "unknown auth %q (%s)", a.Auth, hint)
	}
	src.Airflow = a
}
