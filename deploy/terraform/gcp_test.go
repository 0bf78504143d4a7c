package terraform_test

import (
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/kantproject/kant/config"
)

// gcpVars are the GCP module's required variables, with test values.
func gcpVars(extra map[string]cty.Value) map[string]cty.Value {
	v := map[string]cty.Value{
		"project":         cty.StringVal("my-project"),
		"image":           cty.StringVal("asia-northeast1-docker.pkg.dev/my-project/kant/kant:v1"),
		"slack_bot_token": cty.StringVal("xoxb-test"),
	}
	for k, x := range extra {
		v[k] = x
	}
	return v
}

// env holds values of the shape kant validates, for the secrets it does.
var env = map[string]string{
	"SLACK_BOT_TOKEN":   "xoxb-1-2-test",
	"KANT_POSTGRES_DSN": "host=/cloudsql/my-project:asia-northeast1:kant-pg dbname=kant user=kant password=test",
}

const airflowSource = `sources:
  - name: aristotle
    type: airflow
    url: https://airflow.internal
    auth: bearer
    username: kant
    password: ${AIRFLOW_PASSWORD}
`

func TestTheCloudRunServiceGetsEverySecretItsKantYAMLReads(t *testing.T) {
	tests := []struct {
		name        string
		vars        map[string]cty.Value
		wantStore   string // "bigquery" or "postgres"
		wantExport  []string
		wantSecrets []string // environment variables the config reads
	}{
		{
			name:        "the BigQuery store with the Cloud Logging export reads the Slack and write tokens",
			vars:        gcpVars(nil),
			wantStore:   "bigquery",
			wantExport:  []string{"cloud_logging"},
			wantSecrets: []string{"KANT_WRITE_TOKEN", "SLACK_BOT_TOKEN"},
		},
		{
			name:        "the BigQuery store without export reads the same tokens",
			vars:        gcpVars(map[string]cty.Value{"cloud_logging_export": cty.False}),
			wantStore:   "bigquery",
			wantSecrets: []string{"KANT_WRITE_TOKEN", "SLACK_BOT_TOKEN"},
		},
		{
			name: "Cloud SQL as the store, with BigQuery as the export, also reads the DSN",
			vars: gcpVars(map[string]cty.Value{
				"cloud_sql": cty.ObjectVal(map[string]cty.Value{"availability_type": cty.StringVal("REGIONAL")}),
				"replicas":  cty.NumberIntVal(3),
			}),
			wantStore:   "postgres",
			wantExport:  []string{"bigquery", "cloud_logging"},
			wantSecrets: []string{"KANT_POSTGRES_DSN", "KANT_WRITE_TOKEN", "SLACK_BOT_TOKEN"},
		},
		{
			name:        "a read token secret makes the config read KANT_READ_TOKEN too",
			vars:        gcpVars(map[string]cty.Value{"read_token_secret": cty.StringVal("kant-read-token")}),
			wantStore:   "bigquery",
			wantExport:  []string{"cloud_logging"},
			wantSecrets: []string{"KANT_READ_TOKEN", "KANT_WRITE_TOKEN", "SLACK_BOT_TOKEN"},
		},
		{
			name: "an Airflow source in config_extra reads its password from an extra secret",
			vars: gcpVars(map[string]cty.Value{
				"config_extra":     cty.StringVal(airflowSource),
				"extra_secret_env": cty.MapVal(map[string]cty.Value{"AIRFLOW_PASSWORD": cty.StringVal("kant-airflow-password")}),
				"timezone":         cty.StringVal("Asia/Tokyo"),
			}),
			wantStore:   "bigquery",
			wantExport:  []string{"cloud_logging"},
			wantSecrets: []string{"AIRFLOW_PASSWORD", "KANT_WRITE_TOKEN", "SLACK_BOT_TOKEN"},
		},
	}
	m := loadModule(t, "gcp")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := m.evaluate(t, tt.vars)

			// The kant.yaml Terraform renders is a valid kant configuration;
			// record what it reads from the environment.
			yaml := e.local(t, "kant_yaml").AsString()
			read := map[string]bool{}
			getenv := func(name string) string {
				read[name] = true
				if v, ok := env[name]; ok {
					return v
				}
				return "test-" + strings.ToLower(name)
			}
			cfg, err := config.Parse("kant.yaml", strings.NewReader(yaml), getenv)
			if err != nil {
				t.Fatalf("the rendered kant.yaml is refused: %v\n%s", err, yaml)
			}
			if got := sortedKeys(read); !slices.Equal(got, tt.wantSecrets) {
				t.Errorf("the config reads %v from the environment, want %v", got, tt.wantSecrets)
			}
			checkStore(t, cfg, tt.wantStore, tt.wantExport)
			wantRead := 0
			if slices.Contains(tt.wantSecrets, "KANT_READ_TOKEN") {
				wantRead = 1
			}
			if len(cfg.Tokens.Read) != wantRead {
				t.Errorf("read tokens %v, want %d", cfg.Tokens, wantRead)
			}

			svc := e.resource(t, "google_cloud_run_v2_service.kant")
			tmpl := svc.block(t, "template")
			if got, want := tmpl.str(t, "service_account"), "google_service_account.kant.email"; got != want {
				t.Errorf("the service runs as %q, want %q", got, want)
			}
			ctr := tmpl.block(t, "containers")

			// Every variable the config reads is set from a secret the
			// service account may access.
			accessible := map[string]bool{}
			for _, id := range e.local(t, "secret_env").AsValueMap() {
				accessible[id.AsString()] = true
			}
			accessors := e.m.resources["google_secret_manager_secret_iam_member.kant_accessor"]
			if accessors == nil {
				t.Fatal("no google_secret_manager_secret_iam_member.kant_accessor")
			}
			acc := e.resource(t, "google_secret_manager_secret_iam_member.kant_accessor")
			if got := acc.str(t, "member"); got != "google_service_account.kant.member" {
				t.Errorf("the secrets are opened to %q, not kant's service account", got)
			}
			if got := acc.str(t, "role"); got != "roles/secretmanager.secretAccessor" {
				t.Errorf("the secrets' role is %q", got)
			}
			granted := map[string]bool{}
			for it := acc.attr(t, "for_each").ElementIterator(); it.Next(); {
				_, id := it.Element()
				granted[id.AsString()] = true
			}
			fromSecret := map[string]string{}
			for _, env := range ctr.blocks(t, "env") {
				name := env.str(t, "name")
				if env.has("value") {
					continue
				}
				ref := env.block(t, "value_source").block(t, "secret_key_ref")
				fromSecret[name] = ref.str(t, "secret")
				if v := ref.str(t, "version"); v == "" {
					t.Errorf("env %s: no secret version", name)
				}
			}
			for name := range read {
				id, ok := fromSecret[name]
				switch {
				case !ok:
					t.Errorf("the config reads ${%s}, which the service does not set from a secret (it sets %v)", name, sortedKeys(fromSecret))
				case !granted[id]:
					t.Errorf("${%s} comes from secret %q, which kant's service account may not access (granted: %v)", name, id, sortedKeys(granted))
				}
			}
			builtIn := map[string]string{
				"SLACK_BOT_TOKEN":   "google_secret_manager_secret.slack_bot_token.secret_id",
				"KANT_WRITE_TOKEN":  "google_secret_manager_secret.write_token.secret_id",
				"KANT_POSTGRES_DSN": "google_secret_manager_secret.postgres_dsn[0].secret_id",
			}
			for name, want := range builtIn {
				if got, ok := fromSecret[name]; ok && got != want {
					t.Errorf("${%s} comes from %q, want %q", name, got, want)
				}
			}

			// The config is the file -config names, mounted from its secret
			// (the version Terraform wrote), which the account may read.
			args := ctr.strs(t, "args")
			i := slices.Index(args, "-config")
			if len(args) == 0 || args[0] != "serve" || i < 0 || i+1 >= len(args) {
				t.Fatalf("the container runs %v, want serve -config FILE", args)
			}
			file := args[i+1]
			var mounted string
			for _, vm := range ctr.blocks(t, "volume_mounts") {
				if vm.str(t, "mount_path") == path.Dir(file) {
					mounted = vm.str(t, "name")
				}
			}
			if mounted == "" {
				t.Fatalf("nothing is mounted at %s", path.Dir(file))
			}
			var found bool
			for _, vol := range tmpl.blocks(t, "volumes") {
				if vol.str(t, "name") != mounted {
					continue
				}
				found = true
				sec := vol.block(t, "secret")
				if got := sec.str(t, "secret"); got != "google_secret_manager_secret.config.secret_id" || !granted[got] {
					t.Errorf("the config volume is secret %q (granted: %v)", got, granted[got])
				}
				item := sec.block(t, "items")
				if got := item.str(t, "path"); got != path.Base(file) {
					t.Errorf("the config volume holds %q, want %q", got, path.Base(file))
				}
				if got := item.str(t, "version"); got != "google_secret_manager_secret_version.config.version" {
					t.Errorf("the config volume reads version %q, not the one Terraform wrote", got)
				}
			}
			if !found {
				t.Errorf("no volume %q", mounted)
			}
			if got := e.resource(t, "google_secret_manager_secret_version.config").str(t, "secret_data"); got != yaml {
				t.Errorf("the config secret holds something else than the rendered kant.yaml")
			}

			// Always on: kant polls and alerts between requests.
			scaling := tmpl.block(t, "scaling")
			var min int
			if err := gocty(scaling.attr(t, "min_instance_count"), &min); err != nil || min < 1 {
				t.Errorf("min_instance_count is %d (%v), want at least 1", min, err)
			}
			if idle := ctr.block(t, "resources").attr(t, "cpu_idle"); !idle.RawEquals(cty.False) {
				t.Errorf("cpu_idle is %#v, want false (CPU always allocated)", idle)
			}

			if tt.wantStore == "postgres" {
				checkCloudSQL(t, e, tmpl, ctr)
			} else if n := e.instances(t, "google_sql_database_instance.kant"); n != 0 {
				t.Errorf("%d Cloud SQL instances without cloud_sql", n)
			}
		})
	}
}

func checkStore(t *testing.T, cfg *config.Config, store string, export []string) {
	t.Helper()
	switch {
	case store == "bigquery" && (cfg.Store.BigQuery == nil || cfg.Store.BigQuery.Project != "my-project" || cfg.Store.BigQuery.Dataset != "kant"):
		t.Errorf("store is %+v, want BigQuery my-project and the module's dataset", cfg.Store)
	case store == "postgres" && (cfg.Store.Postgres == nil || cfg.Store.Postgres.DSN != env["KANT_POSTGRES_DSN"]):
		t.Errorf("store is %+v, want PostgreSQL with the DSN from the environment", cfg.Store)
	}
	var got []string
	if cfg.Export.BigQuery != nil {
		got = append(got, "bigquery")
	}
	if cfg.Export.CloudLogging != nil {
		got = append(got, "cloud_logging")
	}
	if !slices.Equal(got, export) {
		t.Errorf("exports %v, want %v", got, export)
	}
	if len(cfg.Tokens.Write) != 1 || cfg.Tokens.Write[0] != "test-kant_write_token" {
		t.Errorf("write tokens %v, want the one from KANT_WRITE_TOKEN", cfg.Tokens)
	}
}

// checkCloudSQL checks that the DSN kant reads points at the instance Cloud
// Run connects to, as the user Terraform created, and that the account may
// connect.
func checkCloudSQL(t *testing.T, e *eval, tmpl, ctr node) {
	t.Helper()
	dsn := e.resource(t, "google_secret_manager_secret_version.postgres_dsn").str(t, "secret_data")
	for _, want := range []string{
		"host=/cloudsql/google_sql_database_instance.kant[0].connection_name ",
		"user=google_sql_user.kant[0].name ",
		"password=random_password.postgres[0].result",
		"dbname=google_sql_database.kant[0].name ",
	} {
		if !strings.Contains(dsn+" ", want) {
			t.Errorf("the DSN %q lacks %q", dsn, want)
		}
	}
	var mounted bool
	for _, vm := range ctr.blocks(t, "volume_mounts") {
		mounted = mounted || vm.str(t, "mount_path") == "/cloudsql"
	}
	var instances []string
	for _, vol := range tmpl.blocks(t, "volumes") {
		for _, c := range vol.blocks(t, "cloud_sql_instance") {
			instances = append(instances, c.strs(t, "instances")...)
		}
	}
	if !mounted || !slices.Equal(instances, []string{"google_sql_database_instance.kant[0].connection_name"}) {
		t.Errorf("/cloudsql mounted %v, instances %v", mounted, instances)
	}
	if n := e.instances(t, "google_project_iam_member.kant_cloudsql_client"); n != 1 {
		t.Errorf("%d cloudsql.client grants", n)
	}
}

func TestKantsServiceAccountHasTheRolesItsStoreAndExportsNeed(t *testing.T) {
	m := loadModule(t, "gcp")
	e := m.evaluate(t, gcpVars(nil))
	const member = "google_service_account.kant.member"
	editor := e.resource(t, "google_bigquery_dataset_iam_member.kant_data_editor")
	if editor.str(t, "role") != "roles/bigquery.dataEditor" || editor.str(t, "dataset_id") != "google_bigquery_dataset.kant.dataset_id" || editor.str(t, "member") != member {
		t.Errorf("dataset grant: %s on %s to %s", editor.str(t, "role"), editor.str(t, "dataset_id"), editor.str(t, "member"))
	}
	var roles []string
	for key, b := range m.resources {
		if b.Labels[0] != "google_project_iam_member" || e.instances(t, key) == 0 {
			continue
		}
		r := e.resource(t, key)
		if r.str(t, "member") != member || r.str(t, "project") != "my-project" {
			t.Errorf("%s grants to %s on %s", key, r.str(t, "member"), r.str(t, "project"))
		}
		roles = append(roles, r.str(t, "role"))
	}
	sort.Strings(roles)
	if want := []string{"roles/bigquery.jobUser", "roles/logging.logWriter"}; !slices.Equal(roles, want) {
		t.Errorf("project roles %v, want exactly %v", roles, want)
	}
	for _, name := range []string{"kant", "ab", "a-twenty-two-char-name"} {
		e := m.evaluate(t, gcpVars(map[string]cty.Value{"name": cty.StringVal(name)}))
		id := e.resource(t, "google_service_account.kant").str(t, "account_id")
		if !regexp.MustCompile(`^[a-z][-a-z0-9]{4,28}[a-z0-9]$`).MatchString(id) {
			t.Errorf("with name %q the service account ID is %q, which IAM refuses (6 to 30 characters)", name, id)
		}
	}
	ds := e.resource(t, "google_bigquery_dataset.kant")
	if ds.str(t, "location") != "asia-northeast1" || !ds.attr(t, "labels").RawEquals(cty.MapVal(map[string]cty.Value{"app": cty.StringVal("kant")})) {
		t.Errorf("dataset location %q, labels %#v", ds.str(t, "location"), ds.attr(t, "labels"))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestTheTokensGivenToTerraformAreWrittenToTheirSecretsWriteOnly(t *testing.T) {
	m := loadModule(t, "gcp")
	for _, name := range []string{"slack_bot_token", "write_token"} {
		v := m.variables[name]
		for _, flag := range []string{"sensitive", "ephemeral"} {
			a, ok := v.Body.Attributes[flag]
			if val, _ := a.Expr.Value(nil); !ok || !val.RawEquals(cty.True) {
				t.Errorf("variable %q is not %s", name, flag)
			}
		}
		ver := m.resources["google_secret_manager_secret_version."+name]
		if ver == nil {
			t.Fatalf("no secret version for %s", name)
		}
		if _, ok := ver.Body.Attributes["secret_data"]; ok {
			t.Errorf("%s is written as secret_data, which the state keeps; want secret_data_wo", name)
		}
		e := m.evaluate(t, gcpVars(map[string]cty.Value{"write_token": cty.StringVal("w-token")}))
		if got, want := e.resource(t, "google_secret_manager_secret_version."+name).str(t, "secret_data_wo"), map[string]string{"slack_bot_token": "xoxb-test", "write_token": "w-token"}[name]; got != want {
			t.Errorf("%s: secret_data_wo is %q, want %q", name, got, want)
		}
	}
	e := m.evaluate(t, gcpVars(nil))
	if got := e.resource(t, "google_secret_manager_secret_version.write_token").str(t, "secret_data_wo"); got != "random_password.write_token.result" {
		t.Errorf("without write_token the secret holds %q, want the generated one", got)
	}
}
