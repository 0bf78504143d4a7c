package helm

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/kantproject/kant/config"
)

func TestTheChartRendersEachValuesFile(t *testing.T) {
	tests := []struct {
		name   string
		values string // "" for the chart's defaults
		golden string
		check  func(t *testing.T, r *rendered)
	}{
		{
			name:   "the defaults run one kant on SQLite in an emptyDir",
			golden: "default.yaml",
			check: func(t *testing.T, r *rendered) {
				d := only(t, r, "kant")
				sqlitePod(t, d)
				if v := volume(t, d, "data"); v.EmptyDir == nil {
					t.Errorf("data volume = %+v, want an emptyDir", v.VolumeSource)
				}
				wantObjects(t, r, "ConfigMap/kant", "Deployment/kant", "Service/kant", "ServiceAccount/kant")
				if img := d.Spec.Template.Spec.Containers[0].Image; img != "kant:0.1.0" {
					t.Errorf("image = %q, want the chart's appVersion", img)
				}
			},
		},
		{
			name:   "single-replica SQLite keeps its file on a claim and reads Slack's token from a Secret",
			values: "examples/sqlite.yaml",
			golden: "sqlite.yaml",
			check: func(t *testing.T, r *rendered) {
				d := only(t, r, "kant")
				sqlitePod(t, d)
				if v := volume(t, d, "data"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "kant-data" {
					t.Errorf("data volume = %+v, want the claim kant-data", v.VolumeSource)
				}
				wantObjects(t, r, "ConfigMap/kant", "Deployment/kant", "PersistentVolumeClaim/kant-data", "Service/kant", "ServiceAccount/kant")
				if got := r.claims[0].Annotations["helm.sh/resource-policy"]; got != "keep" {
					t.Errorf("claim resource-policy = %q, want keep: the SQLite file outlives an uninstall", got)
				}
				envFrom := d.Spec.Template.Spec.Containers[0].EnvFrom
				if len(envFrom) != 1 || envFrom[0].SecretRef == nil || envFrom[0].SecretRef.Name != "kant-env" {
					t.Errorf("envFrom = %+v, want the existing Secret kant-env", envFrom)
				}
				if got := r.serviceAccount[0].Annotations["iam.gke.io/gcp-service-account"]; got != "kant@my-project.iam.gserviceaccount.com" {
					t.Errorf("service account annotation = %q, want the GKE Workload Identity binding", got)
				}
			},
		},
		{
			name:   "HA PostgreSQL runs leader-eligible pods and followers behind one Service",
			values: "examples/ha-postgres.yaml",
			golden: "ha-postgres.yaml",
			check: func(t *testing.T, r *rendered) {
				wantObjects(t, r, "ConfigMap/kant", "Deployment/kant", "Deployment/kant-follower",
					"PodDisruptionBudget/kant", "Service/kant", "ServiceAccount/kant", "ServiceMonitor/kant")
				lead, follow := r.deployments["kant"], r.deployments["kant-follower"]
				if lead == nil || follow == nil {
					t.Fatalf("deployments %v, want kant and kant-follower", r.deployments)
				}
				if *lead.Spec.Replicas != 2 || *follow.Spec.Replicas != 1 {
					t.Errorf("replicas = %d leader-eligible, %d followers; want 2 and 1", *lead.Spec.Replicas, *follow.Spec.Replicas)
				}
				if args := lead.Spec.Template.Spec.Containers[0].Args; slices.Contains(args, "-role") {
					t.Errorf("leader-eligible args %q name a role", args)
				}
				if args := follow.Spec.Template.Spec.Containers[0].Args; !containsSeq(args, "-role", "follower") {
					t.Errorf("follower args %q lack -role follower", args)
				}
				for _, d := range []*appsv1.Deployment{lead, follow} {
					if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
						t.Errorf("%s strategy = %s, want RollingUpdate", d.Name, d.Spec.Strategy.Type)
					}
					if hasMount(d, "/var/lib/kant") {
						t.Errorf("%s mounts a data volume; the store is PostgreSQL", d.Name)
					}
					m := mount(t, d, "secret-0")
					if m.MountPath != "/var/run/secrets/kant/kant-postgres" || !m.ReadOnly {
						t.Errorf("%s mounts the DSN's Secret at %s (read-only %v), want /var/run/secrets/kant/kant-postgres read-only", d.Name, m.MountPath, m.ReadOnly)
					}
					if s := volume(t, d, "secret-0").Secret; s == nil || s.SecretName != "kant-postgres" || *s.DefaultMode != 0o440 {
						t.Errorf("%s secret volume = %+v, want kant-postgres with mode 0440", d.Name, s)
					}
					if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, "registry.example.com/kant@sha256:") {
						t.Errorf("%s image = %q, want the digest", d.Name, img)
					}
				}
				pods := labels.Set(follow.Spec.Template.Labels)
				for _, d := range []*appsv1.Deployment{lead, follow} {
					other := labels.SelectorFromSet(d.Spec.Selector.MatchLabels)
					if d != follow && other.Matches(pods) {
						t.Errorf("%s's selector also selects the followers' pods", d.Name)
					}
				}
				pdb := r.pdbs[0]
				sel := labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels)
				if !sel.Matches(labels.Set(lead.Spec.Template.Labels)) || !sel.Matches(pods) {
					t.Errorf("the disruption budget does not cover both roles: %v", pdb.Spec.Selector.MatchLabels)
				}
				if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
					t.Errorf("maxUnavailable = %v, want 1", pdb.Spec.MaxUnavailable)
				}
				sm := r.monitors[0]
				if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" {
					t.Errorf("ServiceMonitor endpoints = %+v, want port http, /metrics", sm.Spec.Endpoints)
				}
				if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(r.services[0].Labels)) {
					t.Errorf("the ServiceMonitor does not select the Service")
				}
				if got := r.serviceAccount[0].Annotations["eks.amazonaws.com/role-arn"]; got != "arn:aws:iam::123456789012:role/kant" {
					t.Errorf("service account annotation = %q, want the IRSA role", got)
				}
				if !strings.Contains(r.configMaps[0].Data["kant.yaml"], `dsn: "${FILE:/var/run/secrets/kant/kant-postgres/dsn}"`) {
					t.Errorf("kant.yaml does not read the DSN from the mounted Secret:\n%s", r.configMaps[0].Data["kant.yaml"])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := render(t, tt.values)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			golden(t, tt.golden, r.text)
			every(t, r)
			tt.check(t, r)
		})
	}
}

// every checks what holds for any values: the pods run restricted, are
// probed on /healthz and /readyz, mount what they declare, and the Service
// reaches them.
func every(t *testing.T, r *rendered) {
	t.Helper()
	if len(r.services) != 1 || len(r.configMaps) != 1 {
		t.Fatalf("%d Services, %d ConfigMaps; want one of each", len(r.services), len(r.configMaps))
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(r.configMaps[0].Data["kant.yaml"]), &cfg); err != nil || len(cfg) == 0 {
		t.Errorf("ConfigMap kant.yaml is not a YAML mapping (%v):\n%s", err, r.configMaps[0].Data["kant.yaml"])
	}
	svc := labels.SelectorFromSet(r.services[0].Spec.Selector)
	for _, d := range r.deployments {
		pod := d.Spec.Template.Spec
		if !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: selector %v does not match its pods' labels %v", d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
		if !svc.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: the Service does not select its pods", d.Name)
		}
		psc := pod.SecurityContext
		if psc == nil || !deref(psc.RunAsNonRoot) || deref(psc.RunAsUser) != 65532 || deref(psc.RunAsGroup) != 65532 || deref(psc.FSGroup) != 65532 ||
			psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext = %+v, want non-root 65532 with RuntimeDefault seccomp", d.Name, psc)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%s: %d containers, want 1", d.Name, len(pod.Containers))
		}
		c := pod.Containers[0]
		sc := c.SecurityContext
		if sc == nil || !deref(sc.ReadOnlyRootFilesystem) || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			deref(sc.Privileged) || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("%s: container securityContext = %+v, want a read-only root, no privilege escalation, every capability dropped", d.Name, sc)
		}
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: liveness probe %+v, want GET /healthz", d.Name, c.LivenessProbe)
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: readiness probe %+v, want GET /readyz", d.Name, c.ReadinessProbe)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: resources %+v, want memory requests and limits", d.Name, c.Resources)
		}
		if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 || !containsSeq(c.Args, "-listen", ":8080") {
			t.Errorf("%s: ports %+v and args %q, want kant listening on http 8080", d.Name, c.Ports, c.Args)
		}
		if !containsSeq(c.Args, "serve", "-config", "/etc/kant/kant.yaml") || !containsSeq(c.Args, "-replica-id", "$(KANT_POD_NAME)") {
			t.Errorf("%s: args %q, want serve on the mounted kant.yaml, named by its pod", d.Name, c.Args)
		}
		if !hasMount(d, "/tmp") || !hasMount(d, "/etc/kant") {
			t.Errorf("%s: mounts %+v, want /etc/kant and a writable /tmp", d.Name, c.VolumeMounts)
		}
		for _, m := range c.VolumeMounts {
			volume(t, d, m.Name)
		}
		if cm := volume(t, d, "config").ConfigMap; cm == nil || cm.Name != r.configMaps[0].Name {
			t.Errorf("%s: config volume %+v, want ConfigMap %s", d.Name, cm, r.configMaps[0].Name)
		}
		if pod.ServiceAccountName != r.serviceAccount[0].Name || deref(pod.AutomountServiceAccountToken) {
			t.Errorf("%s: service account %q (automount %v), want %s without a token", d.Name, pod.ServiceAccountName, pod.AutomountServiceAccountToken, r.serviceAccount[0].Name)
		}
		if deref(pod.EnableServiceLinks) {
			t.Errorf("%s: service links put KANT_* variables in kant's environment", d.Name)
		}
		if d.Spec.Template.Annotations["checksum/config"] == "" {
			t.Errorf("%s: no checksum/config annotation: a config change would not roll the pods", d.Name)
		}
	}
}

// sqlitePod checks what SQLite needs: one pod at a time on a writable
// /var/lib/kant.
func sqlitePod(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy = %s, want Recreate: two pods must not open the SQLite file at once", d.Spec.Strategy.Type)
	}
	if m := mount(t, d, "data"); m.MountPath != "/var/lib/kant" || m.ReadOnly {
		t.Errorf("data mounted at %s (read-only %v), want a writable /var/lib/kant", m.MountPath, m.ReadOnly)
	}
}

func TestTheChartRefusesWhatKantCannotServe(t *testing.T) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		values string
		want   string
	}{
		{"two replicas on SQLite are refused", "replicas: 2", "config keeps the store in SQLite, which one pod holds on its own volume"},
		{"a follower on SQLite is refused", "followers: {replicas: 1}", "set replicas: 1 and followers.replicas: 0"},
		{"a SQLite file outside the writable volume is refused", "config: \"store:\\n  sqlite: {path: /data/kant.db}\\n\"", "store.sqlite.path /data/kant.db is outside /var/lib/kant"},
		{"a config that is not YAML is refused", "config: \"store: [\"", "config is not a YAML mapping"},
		{"no leader-eligible replica is refused by the schema", "config: \"store: {postgres: {dsn: x}}\"\nreplicas: 0\nfollowers: {replicas: 2}", "replicas"},
		{"a misspelt value is refused by the schema", "replica: 2", "replica"},
		{"a bad image digest is refused by the schema", "image: {repository: kant, digest: latest}", "digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var vals map[string]any
			if err := yaml.Unmarshal([]byte(tt.values), &vals); err != nil {
				t.Fatal(err)
			}
			_, err := renderValues(t, ch, vals)
			if err == nil {
				t.Fatal("the chart rendered, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	t.Run("several replicas on PostgreSQL are accepted", func(t *testing.T) {
		var vals map[string]any
		if err := yaml.Unmarshal([]byte("config: \"store: {postgres: {dsn: x}}\"\nreplicas: 3"), &vals); err != nil {
			t.Fatal(err)
		}
		r, err := renderValues(t, ch, vals)
		if err != nil {
			t.Fatal(err)
		}
		if d := r.deployments["kant"]; d == nil || *d.Spec.Replicas != 3 || len(r.pdbs) != 1 {
			t.Errorf("deployments %v, %d disruption budgets; want 3 replicas and a budget", r.deployments, len(r.pdbs))
		}
	})
}

func TestTheChartPassesHelmLint(t *testing.T) {
	for _, values := range []string{"", "examples/sqlite.yaml", "examples/ha-postgres.yaml"} {
		t.Run("values "+values, func(t *testing.T) {
			vals := map[string]any{}
			if values != "" {
				b, err := readFile(values)
				if err != nil {
					t.Fatal(err)
				}
				if err := yaml.Unmarshal(b, &vals); err != nil {
					t.Fatal(err)
				}
			}
			l := lint.RunAll(chartDir, vals, namespace)
			for _, m := range l.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
}

func only(t *testing.T, r *rendered, name string) *appsv1.Deployment {
	t.Helper()
	if len(r.deployments) != 1 || r.deployments[name] == nil {
		t.Fatalf("deployments %v, want only %s", r.deployments, name)
	}
	return r.deployments[name]
}

func wantObjects(t *testing.T, r *rendered, want ...string) {
	t.Helper()
	var got []string
	for _, o := range r.objects {
		got = append(got, o.Kind+"/"+o.Name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("objects:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func volume(t *testing.T, d *appsv1.Deployment, name string) corev1.Volume {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("%s: no volume %q", d.Name, name)
	return corev1.Volume{}
}

func mount(t *testing.T, d *appsv1.Deployment, name string) corev1.VolumeMount {
	t.Helper()
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("%s: no mount of %q", d.Name, name)
	return corev1.VolumeMount{}
}

func hasMount(d *appsv1.Deployment, path string) bool {
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// containsSeq reports whether seq appears in args, in order and adjacent.
func containsSeq(args []string, seq ...string) bool {
	for i := 0; i+len(seq) <= len(args); i++ {
		if slices.Equal(args[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestTheExamplesConfigsLoadInKant parses the kant.yaml that each values
// file puts in the ConfigMap with kant's own config package, its secret
// files and variables provided as the pod would have them.
func TestTheExamplesConfigsLoadInKant(t *testing.T) {
	fileRef := regexp.MustCompile(`\$\{FILE:(/var/run/secrets/kant/[^}]+)\}`)
	for _, values := range []string{"", "examples/sqlite.yaml", "examples/ha-postgres.yaml"} {
		t.Run("values "+values, func(t *testing.T) {
			r, err := render(t, values)
			if err != nil {
				t.Fatal(err)
			}
			text := r.configMaps[0].Data["kant.yaml"]
			dir := t.TempDir()
			text = fileRef.ReplaceAllStringFunc(text, func(ref string) string {
				path := filepath.Join(dir, fileRef.FindStringSubmatch(ref)[1])
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte("postgres://kant:pw@db.internal:5432/kant\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return "${FILE:" + path + "}"
			})
			env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-test"}
			cfg, err := config.Parse("kant.yaml", strings.NewReader(text), func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("kant rejects the chart's kant.yaml:\n%v\n%s", err, text)
			}
			shared := cfg.Store.Postgres != nil || cfg.Store.BigQuery != nil
			if pods := len(r.deployments); shared != (pods > 1 || *r.deployments["kant"].Spec.Replicas > 1) {
				t.Errorf("store shared %v, but %d deployments", shared, pods)
			}
			if !shared && cfg.Store.SQLitePath != "/var/lib/kant/kant.db" {
				t.Errorf("SQLite path %q, want it on the data volume", cfg.Store.SQLitePath)
			}
		})
	}
}
