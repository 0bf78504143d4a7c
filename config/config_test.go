package config_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/slo"
)

// env returns a getenv over a fixed map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func parse(t *testing.T, text string, vars map[string]string) (*config.Config, error) {
	t.Helper()
	return config.Parse("kant.yaml", strings.NewReader(text), env(vars))
}

func mustParse(t *testing.T, text string, vars map[string]string) *config.Config {
	t.Helper()
	c, err := parse(t, text, vars)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// problems returns the lines of err, which must be a *config.Errors.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var errs *config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T) is not *config.Errors", err, err)
	}
	if errs.Len() != len(errs.Problems) {
		t.Errorf("Len() = %d, want %d", errs.Len(), len(errs.Problems))
	}
	out := make([]string, len(errs.Problems))
	for i, p := range errs.Problems {
		out[i] = p.String()
	}
	if got := strings.Join(out, "\n"); got != err.Error() {
		t.Errorf("Error() = %q, want the problems joined by newlines %q", err.Error(), got)
	}
	return out
}

func tokyo(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestLoadFullConfig(t *testing.T) {
	c, err := config.Load(filepath.Join("testdata", "full.yaml"), env(map[string]string{
		"KANT_WRITE_TOKEN": "write-token-from-env",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Path != filepath.Join("testdata", "full.yaml") {
		t.Errorf("Path = %q", c.Path)
	}
	if c.Listen != "127.0.0.1:9090" {
		t.Errorf("Listen = %q", c.Listen)
	}
	if c.Location.String() != "Asia/Tokyo" {
		t.Errorf("Location = %v", c.Location)
	}
	if c.Store.SQLitePath != "/var/lib/kant/kant.db" {
		t.Errorf("Store = %+v", c.Store)
	}
	wantTokens := config.Tokens{
		Write: []string{"write-token-from-env", "second-write-token"},
		Read:  []string{"fallback-read-token"},
	}
	if !reflect.DeepEqual(c.Tokens, wantTokens) {
		t.Errorf("Tokens = %#v, want %#v", c.Tokens.Write, wantTokens.Write)
	}
	wantSources := []config.Source{{Name: "hegel", Type: "push", Line: 11}, {Name: "onprem", Type: "push", Line: 13, StaleAfter: 26 * time.Hour}}
	if !reflect.DeepEqual(c.Sources, wantSources) {
		t.Errorf("Sources = %+v, want %+v", c.Sources, wantSources)
	}
	wantEval := config.Evaluate{Interval: time.Minute, Lookback: 3 * 24 * time.Hour, Retention: 30 * 24 * time.Hour}
	if c.Evaluate != wantEval {
		t.Errorf("Evaluate = %+v, want %+v", c.Evaluate, wantEval)
	}
	if len(c.SLOs) != 2 || !reflect.DeepEqual(c.SLOLines, []int{21, 33}) {
		t.Fatalf("got %d SLOs at lines %v, want 2 at [21 33]", len(c.SLOs), c.SLOLines)
	}

	s := c.SLOs[0]
	if s.Name != "hegel-nightly" || !reflect.DeepEqual(s.Jobs, []string{"hegel/*"}) {
		t.Errorf("SLO 0 = %q %v", s.Name, s.Jobs)
	}
	if s.Location.String() != "Asia/Tokyo" {
		t.Errorf("SLO 0 location = %v, want the top-level Asia/Tokyo", s.Location)
	}
	if s.Calendar == nil {
		t.Errorf("SLO 0 has no calendar")
	}
	if s.Deadline == nil || *s.Deadline != (slo.Clock{Hour: 6}) || s.Within != 0 {
		t.Errorf("SLO 0 deadline = %v within %v, want 06:00", s.Deadline, s.Within)
	}
	if s.RecoverBy == nil || *s.RecoverBy != (slo.Clock{Hour: 23, Minute: 59}) {
		t.Errorf("SLO 0 recover_by = %v, want 23:59", s.RecoverBy)
	}
	if s.Target != 0.99 || s.Tolerance != 15*time.Minute || s.Owner != "@data-platform" || s.Channel != "#data-alerts" {
		t.Errorf("SLO 0 target %v tolerance %v owner %q channel %q", s.Target, s.Tolerance, s.Owner, s.Channel)
	}

	s = c.SLOs[1]
	if s.Name != "onprem-hourly" || !reflect.DeepEqual(s.Jobs, []string{"onprem/export_*", "*/shared_job"}) {
		t.Errorf("SLO 1 = %q %v", s.Name, s.Jobs)
	}
	if s.Location != time.UTC {
		t.Errorf("SLO 1 location = %v, want its own UTC", s.Location)
	}
	if s.Deadline != nil || s.Within != 45*time.Minute || s.RecoverBy != nil {
		t.Errorf("SLO 1 deadline %v within %v recover_by %v, want within 45m", s.Deadline, s.Within, s.RecoverBy)
	}
	if s.Target != config.DefaultTarget || s.Tolerance != config.DefaultTolerance || s.Calendar == nil {
		t.Errorf("SLO 1 target %v tolerance %v calendar %v, want the defaults", s.Target, s.Tolerance, s.Calendar)
	}
}

func TestDesignExampleParses(t *testing.T) {
	c, err := config.Load(filepath.Join("testdata", "design.yaml"), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.SLOs) != 1 {
		t.Fatalf("got %d SLOs, want 1", len(c.SLOs))
	}
	s := c.SLOs[0]
	if s.Name != "hegel-nightly" || s.Location.String() != "Asia/Tokyo" || s.Target != 0.95 ||
		s.Deadline == nil || *s.Deadline != (slo.Clock{Hour: 6}) ||
		s.RecoverBy == nil || *s.RecoverBy != (slo.Clock{Hour: 23, Minute: 59}) {
		t.Errorf("SLO = %+v", s)
	}
	if len(c.Sources) != 0 {
		t.Errorf("Sources = %v, want none", c.Sources)
	}
}

func TestThreeMistakesAreAllReportedWithLines(t *testing.T) {
	_, err := config.Load(filepath.Join("testdata", "three-mistakes.yaml"), nil)
	got := problems(t, err)
	file := filepath.Join("testdata", "three-mistakes.yaml")
	want := []string{
		file + `:2: timezone: unknown time zone "Asia/Tokio"`,
		file + `:11: slos[0].target: 1.5 is out of range`,
		file + `:13: slos[1].jobs[0]: "onprem/*" selects no configured source`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		// want holds, for each problem in order, a prefix of its text.
		want []string
	}{
		{
			name: "a misspelled key is reported with the closest known key",
			yaml: `slos:
  - name: a
    jobs: ["x/y"]
    schedul: "0 1 * * *"
    deadline: "06:00"
`,
			want: []string{`kant.yaml:4: slos[0]: unknown key "schedul" (did you mean "schedule"?)`},
		},
		{
			name: "an unknown key far from any known key lists the known keys",
			yaml: "listen: \":8080\"\nfrobnicate: true\n",
			want: []string{`kant.yaml:2: unknown key "frobnicate" (known: listen, timezone, store, export, alerts, tokens, sources, evaluate, slos)`},
		},
		{
			name: "an unknown source type lists the known types",
			yaml: `sources:
  - name: hegel
    type: glue2
`,
			want: []string{`kant.yaml:3: sources[0].type: unknown source type "glue2" (known: airflow, glue, push, stepfunctions)`},
		},
		{
			name: "a source needs a name and a type",
			yaml: `sources:
  - {type: push}
  - name: b
`,
			want: []string{
				`kant.yaml:2: sources[0]: missing required key "name"`,
				`kant.yaml:3: sources[1]: missing required key "type"`,
			},
		},
		{
			name: "a push source takes no other keys",
			yaml: `sources:
  - name: onprem
    type: push
    region: eu-west-1
`,
			want: []string{`kant.yaml:4: sources[0]: unknown key "region" (known: name, type, stale_after)`},
		},
		{
			name: "an unset environment variable is named",
			yaml: "listen: \"${KANT_LISTEN}\"\n",
			want: []string{`kant.yaml:1: listen: environment variable KANT_LISTEN is not set`},
		},
		{
			name: "an SLO selecting no configured source is an error",
			yaml: `sources:
  - name: hegel
    type: push
slos:
  - name: a
    jobs: ["hegle/*", "heg*/x", "*/y", "*"]
    schedule: "@daily"
    deadline: "06:00"
`,
			want: []string{`kant.yaml:6: slos[0].jobs[0]: "hegle/*" selects no configured source (did you mean "hegel"?)`},
		},
		{
			name: "a job pattern must be source/job",
			yaml: `slos:
  - name: a
    jobs:
      - export_users
      - hegel/
    schedule: "@daily"
    deadline: "06:00"
`,
			want: []string{
				`kant.yaml:4: slos[0].jobs[0]: "export_users" is not source/job`,
				`kant.yaml:5: slos[0].jobs[1]: "hegel/" is not source/job`,
			},
		},
		{
			name: "duplicate SLO and source names are errors",
			yaml: `sources:
  - {name: hegel, type: push}
  - {name: hegel, type: push}
slos:
  - {name: a, jobs: ["hegel/x"], schedule: "@daily", deadline: "06:00"}
  - {name: a, jobs: ["hegel/y"], schedule: "@daily", deadline: "07:00"}
`,
			want: []string{
				`kant.yaml:3: sources[1].name: duplicate source name "hegel" (first at line 2)`,
				`kant.yaml:6: slos[1].name: duplicate SLO name "a" (first at line 5)`,
			},
		},
		{
			name: "a bad time zone is an error, at the top level and in an SLO",
			yaml: `timezone: Mars/Olympus
slos:
  - name: a
    jobs: ["x/y"]
    schedule: "@daily"
    timezone: Asia/Toky0
    deadline: "06:00"
`,
			want: []string{
				`kant.yaml:1: timezone: unknown time zone "Mars/Olympus"`,
				`kant.yaml:6: slos[0].timezone: unknown time zone "Asia/Toky0"`,
			},
		},
		{
			name: "an SLO sets deadline or within, not both and not neither",
			yaml: `slos:
  - name: both
    jobs: ["x/y"]
    schedule: "@daily"
    deadline: "06:00"
    within: 5h
  - name: neither
    jobs: ["x/y"]
    schedule: "@daily"
`,
			want: []string{
				`kant.yaml:6: slos[0].within: set deadline or within, not both`,
				`kant.yaml:7: slos[1]: set deadline`,
			},
		},
		{
			name: "an SLO needs a name, jobs and a schedule",
			yaml: `slos:
  - deadline: "06:00"
    jobs: []
`,
			want: []string{
				`kant.yaml:2: slos[0]: missing required key "name"`,
				`kant.yaml:2: slos[0]: missing required key "schedule"`,
				`kant.yaml:3: slos[0].jobs: empty`,
			},
		},
		{
			name: "bad cron, clock, duration, target and dates are reported where they are",
			yaml: `slos:
  - name: a
    jobs: ["x/y"]
    schedule: "0 25 * * *"
    deadline: "6am"
    recover_by: "23:59"
    tolerance: 10 minutes
    target: 0
    extra_holidays: [2026-02-30]
`,
			want: []string{
				`kant.yaml:4: slos[0].schedule: bad cron "0 25 * * *": hour 25 out of range`,
				`kant.yaml:5: slos[0].deadline: bad time of day "6am": `,
				`kant.yaml:7: slos[0].tolerance: bad duration "10 minutes"`,
				`kant.yaml:8: slos[0].target: 0 is out of range: want a share in (0, 1]`,
				`kant.yaml:9: slos[0].extra_holidays[0]: bad date "2026-02-30"`,
			},
		},
		{
			name: "an unknown calendar is an error",
			yaml: `slos:
  - name: a
    jobs: ["x/y"]
    schedule: "@daily"
    calendar: martian-business-days
    deadline: "06:00"
`,
			want: []string{`kant.yaml:5: slos[0].calendar: unknown calendar "martian-business-days"`},
		},
		{
			name: "wrong types are reported without their values",
			yaml: `listen: [":8080"]
tokens:
  write: "a-token"
sources: {name: hegel}
slos:
  - name: a
    jobs: "x/y"
    schedule: {cron: "@daily"}
    deadline: "06:00"
`,
			want: []string{
				`kant.yaml:1: listen: want a string, got a list`,
				`kant.yaml:3: tokens.write: want a list, got a string`,
				`kant.yaml:4: sources: want a list, got a mapping`,
				`kant.yaml:7: slos[0].jobs: want a list, got a string`,
				`kant.yaml:8: slos[0].schedule: want a string, got a mapping`,
			},
		},
		{
			name: "an empty token is an error",
			yaml: `tokens:
  write: ["${KANT_WRITE_TOKEN:-}"]
  read: [""]
`,
			want: []string{
				`kant.yaml:2: tokens.write[0]: empty (is the environment variable set?)`,
				`kant.yaml:3: tokens.read[0]: empty (is the environment variable set?)`,
			},
		},
		{
			name: "a bigquery store needs a project and a valid dataset id",
			yaml: `store:
  bigquery: {dataset: kant-prod, location: asia-northeast1}
`,
			want: []string{
				`kant.yaml:2: store.bigquery: missing required key "project"`,
				`kant.yaml:2: store.bigquery.dataset: bad dataset id "kant-prod"`,
			},
		},
		{
			name: "a store sets one backend",
			yaml: `store:
  sqlite: {path: a.db}
  bigquery: {project: p, dataset: kant}
`,
			want: []string{
				`kant.yaml:3: store: set one of sqlite, bigquery or postgres, not sqlite and bigquery`,
			},
		},
		{
			name: "a postgres store takes only a dsn, and one backend only",
			yaml: `store:
  postgres: {dsn: "postgres://kant@db/kant", pool: 4}
  sqlite: {path: a.db}
`,
			want: []string{
				`kant.yaml:2: store.postgres: unknown key "pool"`,
				`kant.yaml:3: store: set one of sqlite, bigquery or postgres, not sqlite and postgres`,
			},
		},
		{
			name: "a postgres store needs a dsn that is set",
			yaml: `store:
  postgres: {dsn: "${KANT_POSTGRES_DSN:-}"}
`,
			want: []string{
				`kant.yaml:2: store.postgres.dsn: empty (is the environment variable set?)`,
			},
		},
		{
			name: "cloud logging export needs a project",
			yaml: `export:
  cloud_logging: {log_id: "bad id"}
`,
			want: []string{
				`kant.yaml:2: export.cloud_logging: missing required key "project"`,
				`kant.yaml:2: export.cloud_logging.log_id: bad log id "bad id"`,
			},
		},
		{
			name: "a bigquery export needs a dataset and is refused beside a bigquery store",
			yaml: `store:
  bigquery: {project: p, dataset: kant}
export:
  bigquery: {project: p, dataset: "bad-id", region: x}
`,
			want: []string{
				`kant.yaml:4: export.bigquery: unknown key "region" (known: project, dataset, location)`,
				`kant.yaml:4: export.bigquery.dataset: bad dataset id "bad-id": use letters, digits and underscores`,
				`kant.yaml:4: export.bigquery: the store is BigQuery already (store.bigquery): its tables are the BI tables; an export would write every row twice`,
			},
		},
		{
			name: "a bigquery export names its project",
			yaml: `export:
  bigquery:
    dataset: kant
`,
			want: []string{
				`kant.yaml:3: export.bigquery: missing required key "project"`,
			},
		},
		{
			name: "an airflow source names its auth and what that auth needs",
			yaml: `sources:
  - name: socrates
    type: airflow
    url: https://airflow.example.com
    auth: basic
    username: kant
  - name: plato
    type: airflow
    url: ftp://x
    auth: goggle
    level: dags
    api: v3
  - name: mwaa
    type: airflow
    auth: mwaa
    environment: prod
`,
			want: []string{
				`kant.yaml:5: sources[0].auth: auth basic needs password`,
				`kant.yaml:9: sources[1].url: "ftp://x" is not an http(s) URL`,
				`kant.yaml:10: sources[1].auth: unknown auth "goggle" (did you mean "google"?)`,
				`kant.yaml:11: sources[1].level: unknown level "dags"`,
				`kant.yaml:12: sources[1].api: unknown api "v3"`,
				`kant.yaml:15: sources[2].auth: auth mwaa needs region`,
			},
		},
		{
			name: "bearer auth takes a token or a username and password, not both",
			yaml: `sources:
  - name: socrates
    type: airflow
    url: https://airflow.example.com
    auth: bearer
    token: ${AIRFLOW_TOKEN}
    username: kant
`,
			env:  map[string]string{"AIRFLOW_TOKEN": "s3cr3t-token"},
			want: []string{`kant.yaml:5: sources[0].auth: auth bearer takes token, or username and password`},
		},
		{
			name: "an airflow password that expands to nothing is an error that shows no value",
			yaml: `sources:
  - name: socrates
    type: airflow
    url: https://airflow.example.com
    auth: basic
    username: kant
    password: ${AIRFLOW_PASSWORD}
`,
			want: []string{`kant.yaml:7: sources[0].password: environment variable AIRFLOW_PASSWORD is not set`},
		},
		{
			name: "alerts check the slack token, routes, digest and maintenance windows",
			yaml: `alerts:
  slack:
    token: ${SLACK_BOT_TOKEN}
    channel: "#data alerts"
  digest: "25:00"
  budget_below: 1.5
  routes:
    failure: {channel: "#x"}
  flapping: {flips: 2.5, window: 30m}
  maintenance:
    - name: upgrade
      from: 2026-12-31
      to: 2026-12-30
    - name: weekly
      schedule: "0 3 * * 0"
slos:
  - name: nightly
    jobs: ["*"]
    schedule: "0 1 * * *"
    deadline: "06:00"
`,
			env: map[string]string{"SLACK_BOT_TOKEN": "not-a-token"},
			want: []string{
				`kant.yaml:3: alerts.slack.token: not a Slack token: want a bot token starting "xoxb-" (value not shown)`,
				`kant.yaml:4: alerts.slack.channel: bad channel "#data alerts"`,
				`kant.yaml:5: alerts.digest: bad time of day "25:00"`,
				`kant.yaml:6: alerts.budget_below: 1.5 is out of range`,
				`kant.yaml:8: alerts.routes: unknown key "failure"`,
				`kant.yaml:9: alerts.flapping.flips: 2.5: want a whole number of flips`,
				`kant.yaml:9: alerts.flapping.window: 30m0s: want a window from 1h to 7d`,
				`kant.yaml:13: alerts.maintenance[0].to: ends before it starts`,
				`kant.yaml:14: alerts.maintenance[1]: missing required key "duration"`,
				`kant.yaml:17: slos: SLO "nightly" has no channel and alerts.slack sets no default channel`,
			},
		},
		{
			name: "an SLO's upstream names another SLO or a job",
			yaml: `slos:
  - name: nightly
    jobs: ["*"]
    schedule: "0 1 * * *"
    deadline: "06:00"
    upstream: [nightly]
  - name: reports
    jobs: ["*"]
    schedule: "0 2 * * *"
    deadline: "07:00"
    upstream: [nigthly, "hegel/*"]
    exclude_silenced: true
  - name: weekly
    jobs: ["*"]
    schedule: "0 2 * * 1"
    deadline: "07:00"
    exclude_silenced: yes
`,
			want: []string{
				`kant.yaml:2: slos: SLO "nightly" lists itself as upstream`,
				`kant.yaml:7: slos: SLO "reports": upstream "nigthly" is neither an SLO nor a job key like "hegel/*" (did you mean "nightly"?)`,
				`kant.yaml:17: slos[2].exclude_silenced: want true or false, got "yes"`,
			},
		},
		{
			name: "alerts that belong to no SLO need a channel when a bot token is set",
			yaml: `alerts:
  slack: {token: xoxb-1}
  digest: "09:00"
sources:
  - {name: hegel, type: push, stale_after: 26h}
slos:
  - {name: nightly, jobs: ["*"], schedule: "0 1 * * *", deadline: "06:00", channel: "#data"}
`,
			want: []string{
				`kant.yaml:3: alerts.digest: the digest has no channel: set alerts.slack.channel or alerts.routes.digest`,
				`kant.yaml:5: sources: source "hegel" has stale_after, but stale alerts have no channel`,
			},
		},
		{
			name: "a webhook takes no api_url, and a URL with credentials is never shown",
			yaml: `alerts:
  slack: {webhook_url: "https://hooks.slack.com/services/T/B/X", api_url: "https://slack.example.gov/api/"}
sources:
  - name: socrates
    type: airflow
    url: ${AIRFLOW_URL}
    auth: google
    region: us-east-1
`,
			env: map[string]string{"AIRFLOW_URL": "htps://admin:pw@airflow.example.com"},
			want: []string{
				`kant.yaml:2: alerts.slack: api_url is for the Web API (token)`,
				`kant.yaml:6: sources[0].url: put credentials in username and password, not in the URL (value not shown)`,
				`kant.yaml:8: sources[0].region: not used with auth google`,
			},
		},
		{
			name: "a maintenance window names SLOs that exist",
			yaml: `alerts:
  maintenance:
    - name: upgrade
      from: 2026-12-30T22:00:00+09:00
      to: 2026-12-31
      slos: [nightyl]
slos:
  - name: nightly
    jobs: ["*"]
    schedule: "0 1 * * *"
    deadline: "06:00"
`,
			want: []string{`kant.yaml:3: alerts.maintenance: window "upgrade": unknown SLO "nightyl" (did you mean "nightly"?)`},
		},
		{
			name: "evaluate windows are positive and retention covers lookback",
			yaml: `evaluate:
  interval: 0s
  lookback: 30d
  retention: 7d
`,
			want: []string{
				`kant.yaml:2: evaluate.interval: must be positive`,
				`kant.yaml:4: evaluate.retention: retention (7d) is shorter than lookback (30d)`,
			},
		},
		{
			name: "a duplicate key is an error",
			yaml: "listen: \":1\"\nlisten: \":2\"\n",
			want: []string{`kant.yaml:2: listen: duplicate key (first at line 1)`},
		},
		{
			name: "a YAML syntax error is reported with its line",
			yaml: "listen: \":8080\"\nslos:\n\t- name: a\n",
			want: []string{`kant.yaml:3: YAML syntax: found character that cannot start any token`},
		},
		{
			name: "a YAML structure error is reported at the start of its block",
			yaml: "listen: \":8080\"\nslos:\n  - name: a\n   jobs: [x]\n",
			want: []string{`kant.yaml:3: YAML syntax: did not find expected '-' indicator`},
		},
		{
			name: "a file that is not a mapping is an error",
			yaml: "- listen\n",
			want: []string{`kant.yaml:1: want a mapping, got a list`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse(t, tt.yaml, tt.env)
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want %d problems", c, len(tt.want))
			}
			if c != nil {
				t.Errorf("Parse returned a Config with an error")
			}
			got := problems(t, err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range tt.want {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestEnvExpansion(t *testing.T) {
	tests := []struct {
		name  string
		value string
		env   map[string]string
		want  string
	}{
		{"a variable is replaced by its value", "${A}", map[string]string{"A": "x"}, "x"},
		{"a default is used when the variable is unset", "${A:-fallback}", nil, "fallback"},
		{"a default is not used when the variable is set", "${A:-fallback}", map[string]string{"A": "x"}, "x"},
		{"an empty default is allowed", "pre${A:-}post", nil, "prepost"},
		{"several variables expand in one value", "${A}:${B}", map[string]string{"A": "x", "B": "y"}, "x:y"},
		{"a lone dollar is kept", "a$b$", nil, "a$b$"},
		{"a doubled dollar escapes expansion", "$${A}", map[string]string{"A": "x"}, "${A}"},
		{"a value with YAML syntax stays one string", "${A}", map[string]string{"A": `x"],slos:[]#`}, `x"],slos:[]#`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, "tokens:\n  write: [\""+tt.value+"\"]\nslos: []\nlisten: ${PORT:-:9999}\n", tt.env)
			if len(c.Tokens.Write) != 1 || c.Tokens.Write[0] != tt.want {
				t.Errorf("token = %q, want %q", c.Tokens.Write, tt.want)
			}
			if c.Listen != ":9999" {
				t.Errorf("Listen = %q, want the default :9999", c.Listen)
			}
		})
	}
}

func TestFileExpansion(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	token := write("token", "s3cr3t-token\n")
	crlf := write("crlf", "s3cr3t-token\r\n\n")
	nested := write("nested", "${A}")
	dsn := write("dsn", "postgres://kant:pa55word@db:5432/kant\n")
	tests := []struct {
		name  string
		value string
		env   map[string]string
		want  string
	}{
		{"a mounted secret is read without its trailing newline", "${FILE:" + token + "}", nil, "s3cr3t-token"},
		{"trailing carriage returns and blank lines are dropped too", "${FILE:" + crlf + "}", nil, "s3cr3t-token"},
		{"a file is spliced into the value around it", "pre-${FILE:" + token + "}!", nil, "pre-s3cr3t-token!"},
		{"a file's contents are not expanded again", "${FILE:" + nested + "}", map[string]string{"A": "x"}, "${A}"},
		{"a variable named FILE with a default is still a variable", "${FILE:-fallback}", nil, "fallback"},
		{"a doubled dollar escapes a file too", "$${FILE:" + token + "}", nil, "${FILE:" + token + "}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, "tokens:\n  write: [\""+tt.value+"\"]\n", tt.env)
			if len(c.Tokens.Write) != 1 || c.Tokens.Write[0] != tt.want {
				t.Errorf("token = %q, want %q", c.Tokens.Write, tt.want)
			}
		})
	}
	t.Run("a postgres dsn is read from a file", func(t *testing.T) {
		c := mustParse(t, "store:\n  postgres: {dsn: \"${FILE:"+dsn+"}\"}\n", nil)
		if c.Store.Postgres == nil || c.Store.Postgres.DSN != "postgres://kant:pa55word@db:5432/kant" {
			t.Errorf("Postgres = %v, want the file's DSN", c.Store.Postgres)
		}
	})
}

func TestFileExpansionErrorsNameTheFileNeverItsContents(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const secret = "s3cr3t: {value} [yaml]"
	bad := write("bad", " "+secret+"\n") // a token may not start with a space
	empty := write("empty", "\n")
	big := write("big", strings.Repeat("x", 1<<20+1))
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "a missing file is named with its line and key",
			yaml: "listen: \":8080\"\ntokens:\n  write: [\"${FILE:" + missing + "}\"]\n",
			want: []string{"kant.yaml:3: tokens.write[0]: cannot read ${FILE:" + missing + "}: no such file or directory"},
		},
		{
			name: "an empty file is an error, as an unset variable is",
			yaml: "tokens:\n  write: [\"${FILE:" + empty + "}\"]\n",
			want: []string{"kant.yaml:2: tokens.write[0]: ${FILE:" + empty + "} is empty"},
		},
		{
			name: "a directory is not a secret",
			yaml: "tokens:\n  write: [\"${FILE:" + dir + "}\"]\n",
			want: []string{"kant.yaml:2: tokens.write[0]: cannot read ${FILE:" + dir + "}: is a directory"},
		},
		{
			name: "a file over 1 MiB is refused",
			yaml: "tokens:\n  write: [\"${FILE:" + big + "}\"]\n",
			want: []string{"kant.yaml:2: tokens.write[0]: ${FILE:" + big + "} is larger than 1 MiB"},
		},
		{
			name: "a bad value read from a file is reported without the value",
			yaml: "tokens:\n  write: [\"${FILE:" + bad + "}\"]\nlisten: [1]\n",
			want: []string{"kant.yaml:2: tokens.write[0]: ", "kant.yaml:3: listen: "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.yaml, nil)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			got := problems(t, err)
			if len(got) != len(tt.want) {
				t.Fatalf("problems:\n%s\nwant %d", strings.Join(got, "\n"), len(tt.want))
			}
			for i := range tt.want {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "xxxxxxxx") {
				t.Errorf("error shows a file's contents:\n%s", err)
			}
		})
	}
}

func TestExpandedValuesCannotInjectKeys(t *testing.T) {
	const value = "x\ntokens: {write: [evil]}\n"
	c := mustParse(t, "slos:\n  - {name: a, jobs: [x/y], schedule: \"@daily\", deadline: \"06:00\", owner: \"${O}\"}\n",
		map[string]string{"O": value})
	if len(c.Tokens.Write) != 0 {
		t.Errorf("an environment value injected tokens: %d", len(c.Tokens.Write))
	}
	if c.SLOs[0].Owner != value {
		t.Errorf("Owner = %q, want %q", c.SLOs[0].Owner, value)
	}
}

func TestSecretsNeverAppearInErrors(t *testing.T) {
	const secret = "s3cr3t: {value} \"with\" [yaml] #chars"
	vars := map[string]string{"SECRET": secret, "SECRET2": secret + "\n"}
	docs := map[string]string{
		"a token with a trailing newline": "tokens:\n  write: [\"${SECRET2}\"]\n",
		"a token where a list belongs":    "tokens:\n  write: \"${SECRET}\"\n  read: ${SECRET}\n",
		"a token in a mapping":            "tokens:\n  write: [{token: \"${SECRET}\"}]\n",
		"a literal token that is bad":     "tokens:\n  write: [\" " + "literal-secret-value" + "\"]\n",
		"a token with a bad expansion":    "tokens:\n  write: [\"literal-secret-value${\"]\n",
		"a token next to other mistakes":  "tokens:\n  write: [\"${SECRET}\", \"${UNSET}\"]\nlisten: [1]\nslos:\n  - name: a\n    jobs: [\"x\"]\n    schedule: \"@daily\"\n    deadline: \"06:00\"\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			_, err := parse(t, doc, vars)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, s := range []string{secret, "s3cr3t", "literal-secret-value"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows a secret:\n%s", err)
				}
			}
		})
	}
}

func TestAPostgresStoreIsReadAndItsPasswordNeverPrinted(t *testing.T) {
	for _, tt := range []struct{ name, dsn, shown string }{
		{"a URL with a password", "postgres://kant:pa55word@db.internal:5432/kant?sslmode=require",
			"postgres://kant:xxxxx@db.internal:5432/kant?sslmode=require"},
		{"a URL with a password parameter", "postgresql://kant@db/kant?password=pa55word",
			"postgresql://kant@db/kant?password=xxxxx"},
		{"key=value pairs", "host=db user=kant password=pa55word dbname=kant",
			"host=db user=kant password=xxxxx dbname=kant"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, "store:\n  postgres: {dsn: \"${KANT_POSTGRES_DSN}\"}\n", map[string]string{"KANT_POSTGRES_DSN": tt.dsn})
			if c.Store.Postgres == nil || c.Store.Postgres.DSN != tt.dsn {
				t.Fatalf("Store.Postgres = %v, want the DSN from the environment", c.Store.Postgres)
			}
			if got := c.Store.Postgres.Redacted(); got != tt.shown {
				t.Errorf("Redacted = %q, want %q", got, tt.shown)
			}
			if !strings.Contains(c.Summary(), "store postgres "+tt.shown) {
				t.Errorf("Summary does not name the redacted store:\n%s", c.Summary())
			}
			for _, s := range []string{c.Summary(), fmtAll(c), fmtAll(*c), fmtAll(c.Store)} {
				if strings.Contains(s, "pa55word") {
					t.Errorf("output shows the password:\n%s", s)
				}
			}
		})
	}
}

func TestTokensAreNotPrinted(t *testing.T) {
	c := mustParse(t, "tokens: {write: [abcdef-token], read: [ghijkl-token]}\n", nil)
	for _, s := range []string{c.Summary(), fmtAll(c), fmtAll(*c)} {
		if strings.Contains(s, "abcdef") || strings.Contains(s, "ghijkl") {
			t.Errorf("output shows a token:\n%s", s)
		}
	}
}

// fmtAll prints v every way fmt can.
func fmtAll(v any) string { return fmt.Sprintf("%v %+v %#v %s", v, v, v, v) }

func TestDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "30s", want: 30 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "0d", want: 0},
		{in: "1.5d", bad: true},
		{in: "d", bad: true},
		{in: "7", bad: true},
		{in: "7days", bad: true},
		{in: "1d-1h", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := config.ParseDuration(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestSevenDayDurationInConfig(t *testing.T) {
	c := mustParse(t, "evaluate:\n  lookback: 7d\n  retention: 14d\n", nil)
	if c.Evaluate.Lookback != 7*24*time.Hour || c.Evaluate.Retention != 14*24*time.Hour {
		t.Errorf("Evaluate = %+v", c.Evaluate)
	}
}

func TestDefaults(t *testing.T) {
	check := func(t *testing.T, c *config.Config, loc *time.Location) {
		t.Helper()
		if c.Listen != ":8080" || c.Store.SQLitePath != "kant.db" || c.Location.String() != loc.String() {
			t.Errorf("Listen %q Store %+v Location %v", c.Listen, c.Store, c.Location)
		}
		if len(c.Sources) != 0 || len(c.Tokens.Write) != 0 || len(c.Tokens.Read) != 0 {
			t.Errorf("Sources %v, %d write and %d read tokens, want none", c.Sources, len(c.Tokens.Write), len(c.Tokens.Read))
		}
		want := config.Evaluate{Interval: 30 * time.Second, Lookback: 7 * 24 * time.Hour, Retention: 90 * 24 * time.Hour}
		if c.Evaluate != want {
			t.Errorf("Evaluate = %+v, want %+v", c.Evaluate, want)
		}
		if len(c.SLOs) != 1 {
			t.Fatalf("got %d SLOs, want the default one", len(c.SLOs))
		}
		s := c.SLOs[0]
		if s.Name != "default" || !reflect.DeepEqual(s.Jobs, []string{"*"}) || s.Location.String() != loc.String() ||
			s.Deadline == nil || *s.Deadline != (slo.Clock{Hour: 24}) || s.Within != 0 ||
			s.Target != 0.95 || s.Tolerance != 0 || s.Calendar == nil {
			t.Errorf("default SLO = %+v", s)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("default SLO does not validate: %v", err)
		}
	}
	t.Run("the built-in defaults", func(t *testing.T) {
		c, err := config.Default(nil)
		if err != nil {
			t.Fatalf("Default: %v", err)
		}
		if c.Path != "" {
			t.Errorf("Path = %q", c.Path)
		}
		check(t, c, time.UTC)
	})
	t.Run("an empty file is valid and means the defaults", func(t *testing.T) {
		check(t, mustParse(t, "", nil), time.UTC)
	})
	t.Run("a file of comments means the defaults", func(t *testing.T) {
		check(t, mustParse(t, "# nothing yet\n", nil), time.UTC)
	})
	t.Run("the default SLO is in the configured time zone", func(t *testing.T) {
		check(t, mustParse(t, "timezone: Asia/Tokyo\n", nil), tokyo(t))
	})
	t.Run("an empty slos list means no SLO", func(t *testing.T) {
		if c := mustParse(t, "slos: []\n", nil); len(c.SLOs) != 0 {
			t.Errorf("got %d SLOs, want none", len(c.SLOs))
		}
	})
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load = %v, want fs.ErrNotExist", err)
	}
}

func TestSummary(t *testing.T) {
	c, err := config.Load(filepath.Join("testdata", "full.yaml"), env(map[string]string{"KANT_WRITE_TOKEN": "w"}))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Summary()
	for _, want := range []string{
		"listen 127.0.0.1:9090, time zone Asia/Tokyo, store sqlite /var/lib/kant/kant.db",
		"tokens: 2 write tokens, 1 read token",
		"evaluate every 1m, lookback 3d, retention 30d",
		"sources (2):", "hegel", "onprem",
		"SLOs (2):", "hegel-nightly", `"0 1 * * *"`, "deadline 06:00", "calendar jp-business-days",
		"onprem-hourly", "within 45m", `"@hourly" UTC`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Summary lacks %q:\n%s", want, got)
		}
	}
	d, err := config.Default(nil)
	if err != nil {
		t.Fatal(err)
	}
	if def := d.Summary(); !strings.Contains(def, "sources: none") || !strings.Contains(def, "tokens: none") || !strings.Contains(def, "deadline 24:00") {
		t.Errorf("default Summary:\n%s", def)
	}
}

func TestGlueSources(t *testing.T) {
	yaml := `sources:
  - name: hegel
    type: glue
    region: ap-northeast-1
    role_arn: arn:aws:iam::123456789012:role/kant-reader
    jobs: ["export_*"]
    logical_date_argument: "--target_date"
    logical_date_offset: 1d
    interval: 2m
    poll_timeout: 15m
    stale_after: 30m
    account: "210987654321"
`
	c, err := config.Parse("kant.yaml", strings.NewReader(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := c.Sources[0].Glue
	want := &config.Glue{Region: "ap-northeast-1", RoleARN: "arn:aws:iam::123456789012:role/kant-reader",
		Jobs: []string{"export_*"}, LogicalDateArgument: "--target_date", LogicalDateOffset: 24 * time.Hour,
		Interval: 2 * time.Minute, Backfill: config.DefaultBackfill, Account: "210987654321"}
	if !reflect.DeepEqual(g, want) || c.Sources[0].StaleAfter != 30*time.Minute || c.Sources[0].PollTimeout != 15*time.Minute {
		t.Errorf("glue = %+v, want %+v; source %+v", g, want, c.Sources[0])
	}

	bad := `sources:
  - name: hegel
    type: glue
    role_arn: kant-reader
    interval: 0s
    jobs: []
    poll_timeout: -1m
    account: "12345"
`
	_, err = config.Parse("kant.yaml", strings.NewReader(bad), nil)
	for _, want := range []string{
		`kant.yaml:4: sources[0].role_arn: "kant-reader" is not a role ARN`,
		`kant.yaml:5: sources[0].interval: must be positive`,
		`kant.yaml:6: sources[0].jobs: empty`,
		`kant.yaml:7: sources[0].poll_timeout: must be positive`,
		`kant.yaml:8: sources[0].account: "12345" is not an AWS account ID (12 digits)`,
		`missing required key "region"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors %v do not include %q", err, want)
		}
	}
}

func TestAirflowSourcesAlertsAndBigQueryAreDecoded(t *testing.T) {
	const token, password = "xoxb-secret-bot-token", "hunter2-airflow"
	c, err := config.Load(filepath.Join("testdata", "alerts-airflow.yaml"),
		env(map[string]string{"SLACK_BOT_TOKEN": token, "AIRFLOW_PASSWORD": password}))
	if err != nil {
		t.Fatal(err)
	}
	if bq := c.Store.BigQuery; bq == nil || bq.Project != "my-project" || bq.Dataset != "kant" || bq.Location != "asia-northeast1" {
		t.Errorf("Store.BigQuery = %+v", c.Store.BigQuery)
	}
	if cl := c.Export.CloudLogging; cl == nil || cl.Project != "my-project" || cl.LogID != "kant-runs" {
		t.Errorf("Export.CloudLogging = %+v", c.Export.CloudLogging)
	}
	a := c.Alerts
	if string(a.Slack.Token) != token || a.Slack.APIURL != "https://slack.example.gov/api/" || a.Slack.Channel != "#data-alerts" {
		t.Errorf("Alerts.Slack = %+v", a.Slack)
	}
	if a.Digest == nil || a.Digest.String() != "09:00" || a.StatusURL != "https://kant.example.com" || a.BudgetBelow != 0.5 {
		t.Errorf("Alerts = %+v", a)
	}
	if a.Routes["stale"] != "#platform" {
		t.Errorf("Routes = %v", a.Routes)
	}
	if a.Flapping == nil || a.Flapping.Flips != 6 || a.Flapping.Window != 12*time.Hour {
		t.Errorf("Flapping = %+v, want 6 flips in 12h", a.Flapping)
	}
	if len(a.Maintenance) != 2 {
		t.Fatalf("Maintenance = %+v", a.Maintenance)
	}
	if w := a.Maintenance[0]; w.Schedule == nil || w.Duration != 2*time.Hour || len(w.SLOs) != 1 {
		t.Errorf("Maintenance[0] = %+v", w)
	}
	// Dates are whole days in the configuration's zone; "to" includes its day.
	if w := a.Maintenance[1]; !w.From.Equal(time.Date(2026, 12, 30, 15, 0, 0, 0, time.UTC)) ||
		!w.To.Equal(time.Date(2027, 1, 3, 15, 0, 0, 0, time.UTC)) || w.Reason != "freeze" {
		t.Errorf("Maintenance[1] = %v .. %v (%q)", w.From, w.To, w.Reason)
	}
	if len(c.Sources) != 3 {
		t.Fatalf("Sources = %+v", c.Sources)
	}
	s := c.Sources[0].Airflow
	if s == nil || s.Auth != "google" || s.API != "" || s.Level != "task" || s.Interval != time.Minute || s.DAGs[0] != "daily_*" {
		t.Errorf("socrates = %+v", s)
	}
	p := c.Sources[1].Airflow
	if p == nil || p.API != "v2" || p.Level != "dag" || p.Username != "kant" || string(p.Password) != password || p.Interval != config.DefaultAirflowInterval {
		t.Errorf("plato = %+v", p)
	}
	m := c.Sources[2].Airflow
	if m == nil || m.Auth != "mwaa" || m.Environment != "prod-env" || m.Region != "ap-northeast-1" || m.URL != "" {
		t.Errorf("aristotle = %+v", m)
	}

	// No way of printing the configuration shows a secret.
	for _, out := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
		fmt.Sprintf("%+v", *p), fmt.Sprintf("%#v", a.Slack), c.Summary()} {
		if strings.Contains(out, token) || strings.Contains(out, password) {
			t.Errorf("printed configuration shows a secret: %s", out)
		}
	}
	if sum := c.Summary(); !strings.Contains(sum, "store bigquery my-project.kant") || !strings.Contains(sum, "alerts: Slack (bot token), default channel #data-alerts, digest at 09:00, 2 maintenance window(s)") ||
		!strings.Contains(sum, "MWAA prod-env (ap-northeast-1), auth mwaa") {
		t.Errorf("Summary:\n%s", sum)
	}
}

func TestABigQueryExportBesideAnotherStoreIsDecoded(t *testing.T) {
	c, err := parse(t, `store:
  sqlite: {path: kant.db}
export:
  bigquery: {project: my-project, dataset: kant_bi, location: asia-northeast1}
  cloud_logging: {project: my-project}
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bq := c.Export.BigQuery; bq == nil || bq.Project != "my-project" || bq.Dataset != "kant_bi" || bq.Location != "asia-northeast1" {
		t.Errorf("Export.BigQuery = %+v", c.Export.BigQuery)
	}
	if c.Export.CloudLogging == nil {
		t.Error("the Cloud Logging export beside it is lost")
	}
	if !strings.Contains(c.Summary(), "export: bigquery my-project.kant_bi") {
		t.Errorf("summary does not name the export:\n%s", c.Summary())
	}
}

// The defects the fuzz targets found, each as a sentence.
func TestFuzzFindings(t *testing.T) {
	t.Run("a duration of days and hours past the largest duration is rejected, not wrapped around", func(t *testing.T) {
		for _, s := range []string{"106751d23h59m", "1d2562047h"} {
			if d, err := config.ParseDuration(s); err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", s, d)
			}
		}
	})
	t.Run("minus no days and an hour is minus an hour", func(t *testing.T) {
		if d, err := config.ParseDuration("-0d1h"); err != nil || d != -time.Hour {
			t.Errorf("ParseDuration(-0d1h) = %v, %v, want -1h", d, err)
		}
	})
	for _, tt := range []struct{ name, yaml, want string }{
		{"an empty postgres block is reported at its line", "store:\n  postgres:\n",
			`kant.yaml:2: store.postgres: missing required key "dsn"`},
		{"an empty route is reported at its line", "alerts:\n  routes:\n    stale:\n",
			`kant.yaml:3: alerts.routes.stale: missing required key "channel"`},
		{"a problem at the end of a file without a final line break is on its last line", "tokens: {write: [&a x, ",
			"kant.yaml:1: YAML syntax:"},
		{"a scanner problem on the first line is on line 1", "a: {b: @c}\n",
			"kant.yaml:1: YAML syntax: found character that cannot start any token"},
		{"a control character is reported at its line", "listen: \":8080\"\na: \x01\n",
			"kant.yaml:2: YAML syntax: control characters are not allowed"},
		{"bytes that are not UTF-8 are reported at their line", "listen: \":8080\"\n\n# \xff\n",
			"kant.yaml:3: the file is not UTF-8 text: save it as UTF-8"},
		{"a UTF-16 file, whose lines YAML would count otherwise, is refused at its first", "\xff\xfe( 00",
			"kant.yaml:1: the file is not UTF-8 text: save it as UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.yaml, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("a DSN whose password holds a slash is not shown", func(t *testing.T) {
		p := config.Postgres{DSN: "postgres://kant:pa55/word@db/kant"}
		if strings.Contains(p.Redacted(), "pa55") {
			t.Errorf("Redacted = %q", p.Redacted())
		}
	})
	t.Run("an Airflow password is not shown when a config is printed with %s or %d", func(t *testing.T) {
		c := mustParse(t, "sources:\n  - {name: p, type: airflow, url: \"https://a.example\", auth: bearer, username: u, password: \"${PW}\"}\n",
			map[string]string{"PW": "pa55word-airflow"})
		verbs := "%s %d %x %v"
		for _, s := range []string{fmt.Sprintf(verbs, *c, *c, *c, c.Sources), fmtAll(c.Sources[0].Airflow)} {
			if strings.Contains(s, "pa55word") || strings.Contains(s, fmt.Sprintf("%x", "pa55word")) {
				t.Errorf("output shows the password:\n%s", s)
			}
		}
	})
}

func TestStepFunctionsSources(t *testing.T) {
	yaml := `sources:
  - name: spinoza
    type: stepfunctions
    region: eu-west-1
    role_arn: arn:aws:iam::123456789012:role/kant-reader
    web_identity_audience: kant-aws-reader
    state_machines: ["nightly_*", "arn:aws:states:eu-west-1:123456789012:stateMachine:billing"]
    logical_date_path: "$.date"
    logical_date_offset: 1d
    interval: 2m
    backfill: 3d
    poll_timeout: 10m
`
	c, err := config.Parse("kant.yaml", strings.NewReader(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &config.StepFunctions{Region: "eu-west-1", RoleARN: "arn:aws:iam::123456789012:role/kant-reader",
		WebIdentityAudience: "kant-aws-reader", Account: "123456789012",
		StateMachines:   []string{"nightly_*", "arn:aws:states:eu-west-1:123456789012:stateMachine:billing"},
		LogicalDatePath: "$.date", LogicalDateOffset: 24 * time.Hour, Interval: 2 * time.Minute, Backfill: 72 * time.Hour}
	if got := c.Sources[0].StepFunctions; !reflect.DeepEqual(got, want) || c.Sources[0].PollTimeout != 10*time.Minute {
		t.Errorf("stepfunctions = %+v, want %+v", got, want)
	}
	if s := c.Summary(); !strings.Contains(s, "spinoza  stepfunctions  region eu-west-1, state machines nightly_*,arn:") {
		t.Errorf("Summary:\n%s", s)
	}

	defaults := "sources:\n  - name: spinoza\n    type: stepfunctions\n    region: eu-west-1\n    account: \"210987654321\"\n"
	c, err = config.Parse("kant.yaml", strings.NewReader(defaults), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sf := c.Sources[0].StepFunctions; !reflect.DeepEqual(sf.StateMachines, []string{"*"}) || sf.Account != "210987654321" ||
		sf.Interval != config.DefaultPollInterval || sf.Backfill != config.DefaultBackfill {
		t.Errorf("defaults = %+v", sf)
	}

	bad := `sources:
  - name: spinoza
    type: stepfunctions
    role_arn: kant-reader
    state_machines: ["arn:aws:states:eu-west-1:123456789012:activity:x"]
    logical_date_path: "date"
    account: "1234"
    statemachines: []
  - name: leibniz
    type: stepfunctions
    region: eu-west-1
    logical_date_offset: 1d
    web_identity_audience: aud
`
	_, err = config.Parse("kant.yaml", strings.NewReader(bad), nil)
	for _, want := range []string{
		`kant.yaml:4: sources[0].role_arn: "kant-reader" is not a role ARN`,
		`kant.yaml:5: sources[0].state_machines[0]: "arn:aws:states:eu-west-1:123456789012:activity:x" is not a state machine ARN`,
		`kant.yaml:6: sources[0].logical_date_path: "date" is not a JSON path`,
		`kant.yaml:7: sources[0].account: "1234" is not an AWS account ID`,
		`kant.yaml:8: sources[0]: unknown key "statemachines"`,
		`missing required key "region"`,
		`kant.yaml:12: sources[1].logical_date_offset: needs logical_date_path`,
		`kant.yaml:13: sources[1].web_identity_audience: needs role_arn`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors %v do not include %q", err, want)
		}
	}
}

func TestGlueWorkflowsAndAccount(t *testing.T) {
	tests := []struct {
		name, yaml string
		jobs       []string
		workflows  []string
		account    string
	}{
		{"workflows alone watch no jobs", "    workflows: [\"nightly_*\"]\n", nil, []string{"nightly_*"}, ""},
		{"workflows beside jobs watch both", "    workflows: [nightly]\n    jobs: [\"export_*\"]\n", []string{"export_*"}, []string{"nightly"}, ""},
		{"the account defaults to the role's", "    role_arn: arn:aws:iam::123456789012:role/r\n", []string{"*"}, nil, "123456789012"},
		{"an account given wins over the role's", "    role_arn: arn:aws:iam::123456789012:role/r\n    account: \"999999999999\"\n", []string{"*"}, nil, "999999999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse("kant.yaml", strings.NewReader("sources:\n  - name: hegel\n    type: glue\n    region: ap-northeast-1\n"+tt.yaml), nil)
			if err != nil {
				t.Fatal(err)
			}
			g := c.Sources[0].Glue
			if !reflect.DeepEqual(g.Jobs, tt.jobs) || !reflect.DeepEqual(g.Workflows, tt.workflows) || g.Account != tt.account {
				t.Errorf("jobs %q, workflows %q, account %q; want %q, %q, %q", g.Jobs, g.Workflows, g.Account, tt.jobs, tt.workflows, tt.account)
			}
		})
	}
	_, err := config.Parse("kant.yaml", strings.NewReader("sources:\n  - name: hegel\n    type: glue\n    region: r\n    workflows: []\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "kant.yaml:5: sources[0].workflows: empty") {
		t.Errorf("empty workflows: %v", err)
	}
}
