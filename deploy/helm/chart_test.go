package helm

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	chartDir  = "kant"
	release   = "kant"
	namespace = "batch"
)

// rendered is the chart's output for one set of values: the manifests as
// text, and each decoded into its API type.
type rendered struct {
	text           string
	objects        []object
	deployments    map[string]*appsv1.Deployment
	services       []*corev1.Service
	configMaps     []*corev1.ConfigMap
	serviceAccount []*corev1.ServiceAccount
	pdbs           []*policyv1.PodDisruptionBudget
	claims         []*corev1.PersistentVolumeClaim
	monitors       []*monitoringv1.ServiceMonitor
}

// object names one rendered manifest.
type object struct{ Kind, Name string }

// render renders the chart with the values in file ("" for the defaults) as
// `helm install kant -n batch` would, validating them against
// values.schema.json.
func render(t *testing.T, file string) (*rendered, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals := map[string]any{}
	if file != "" {
		v, err := common.ReadValuesFile(file)
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		vals = v
	}
	return renderValues(t, ch, vals)
}

func renderValues(t *testing.T, ch *chart.Chart, vals map[string]any) (*rendered, error) {
	t.Helper()
	top, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}, nil)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		return nil, err
	}
	return decode(t, files), nil
}

// decode splits the rendered files into manifests and decodes each strictly
// (unknown or duplicate fields are errors) into its API type.
func decode(t *testing.T, files map[string]string) *rendered {
	t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	r := &rendered{deployments: map[string]*appsv1.Deployment{}}
	var text strings.Builder
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		reader := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(files[name])))
		for {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			fmt.Fprintf(&text, "---\n# Source: %s\n%s", name, strings.TrimLeft(string(doc), "-\n"))
			r.add(t, name, doc)
		}
	}
	r.text = text.String()
	return r
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

func (r *rendered) add(t *testing.T, file string, doc []byte) {
	t.Helper()
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	gvk := schema.FromAPIVersionAndKind(meta.APIVersion, meta.Kind)
	strict := func(into any) {
		t.Helper()
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			t.Fatalf("%s: %s %s does not decode strictly into %T: %v", file, meta.Kind, meta.Metadata.Name, into, err)
		}
	}
	switch gvk {
	case appsv1.SchemeGroupVersion.WithKind("Deployment"):
		o := &appsv1.Deployment{}
		strict(o)
		r.deployments[o.Name] = o
	case corev1.SchemeGroupVersion.WithKind("Service"):
		o := &corev1.Service{}
		strict(o)
		r.services = append(r.services, o)
	case corev1.SchemeGroupVersion.WithKind("ConfigMap"):
		o := &corev1.ConfigMap{}
		strict(o)
		r.configMaps = append(r.configMaps, o)
	case corev1.SchemeGroupVersion.WithKind("ServiceAccount"):
		o := &corev1.ServiceAccount{}
		strict(o)
		r.serviceAccount = append(r.serviceAccount, o)
	case corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"):
		o := &corev1.PersistentVolumeClaim{}
		strict(o)
		r.claims = append(r.claims, o)
	case policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"):
		o := &policyv1.PodDisruptionBudget{}
		strict(o)
		r.pdbs = append(r.pdbs, o)
	case monitoringv1.SchemeGroupVersion.WithKind("ServiceMonitor"):
		o := &monitoringv1.ServiceMonitor{}
		strict(o)
		r.monitors = append(r.monitors, o)
	default:
		t.Fatalf("%s: unexpected %s %s", file, meta.APIVersion, meta.Kind)
	}
	if meta.Metadata.Namespace != namespace {
		t.Errorf("%s %s: namespace %q, want the release's %q", meta.Kind, meta.Metadata.Name, meta.Metadata.Namespace, namespace)
	}
	r.objects = append(r.objects, object{meta.Kind, meta.Metadata.Name})
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("rendered manifests differ from %s (go test -update rewrites it):\n%s", path, diff(string(want), got))
	}
}

// diff shows the first lines where want and got differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, wl, gl)
		}
	}
	return ""
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
