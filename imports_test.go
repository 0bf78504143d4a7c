package kant_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/kantproject/kant"

// domain lists the packages that hold kant's logic and the packages of this
// module each may import (besides itself and its own subpackages' test
// helpers). They speak the vocabulary of the root package; storage, sources
// and cloud services reach them only through interfaces they declare.
var domain = map[string][]string{
	"":                      {},
	"slo":                   {""},
	"alert":                 {"", "slo"},
	"gate":                  {"", "slo"},
	"evaluator":             {"", "slo"},
	"api":                   {"", "slo"},
	"collector":             {""},
	"leader":                {""},
	"dashboards/statuspage": {"", "slo"},
	"dashboards/views":      {},
	"telemetry":             {""},
}

// sdkAllowed are the domain packages that are themselves an adapter to one
// technology and so may depend on its SDK: telemetry wraps OpenTelemetry,
// whose OTLP exporter pulls in gRPC and whose semconv names database/sql.
// Their imports of this module are still held to the table above.
var sdkAllowed = map[string]bool{"telemetry": true}

// forbidden are the module paths no domain package may depend on, directly
// or through another package: cloud SDKs, Slack, database drivers.
var forbidden = []string{
	"cloud.google.com/",
	"github.com/aws/",
	"google.golang.org/api",
	"google.golang.org/grpc",
	"github.com/slack-go/",
	"modernc.org/sqlite",
	"github.com/jackc/pgx",
	"database/sql",
}

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// goList returns what `go list -deps=false -json` says of the module's
// packages (not their tests: a test may use a real SQLite store).
func goList(t *testing.T) map[string]listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// importProblems lists every import of a domain package that breaks the
// rule, as "pkg imports what".
func importProblems(pkgs map[string]listed) []string {
	var problems []string
	for rel, allowed := range domain {
		path := strings.TrimSuffix(module+"/"+rel, "/")
		p, ok := pkgs[path]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: not found by go list", path))
			continue
		}
		for _, imp := range p.Imports {
			sub, inModule := strings.CutPrefix(imp, module+"/")
			if imp == module {
				sub, inModule = "", true
			}
			if !inModule || sub == rel {
				continue
			}
			if !slices.Contains(allowed, sub) {
				problems = append(problems, fmt.Sprintf("%s imports %s", path, imp))
			}
		}
		if sdkAllowed[rel] {
			continue
		}
		for _, dep := range p.Deps {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f) {
					problems = append(problems, fmt.Sprintf("%s depends on %s", path, dep))
					break
				}
			}
		}
	}
	slices.Sort(problems)
	return problems
}

// TestDomainPackagesImportOnlyTheVocabulary holds the import rule of
// DESIGN.md: domain packages import kant and slo, never the store
// contract, a backend, a source adapter or a cloud SDK.
func TestDomainPackagesImportOnlyTheVocabulary(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go command is needed to list imports: %v", err)
	}
	for _, p := range importProblems(goList(t)) {
		t.Error(p)
	}
}

// TestTheImportRuleCatchesAForbiddenImport shows the check above can fail:
// a domain package that imported the store contract, an adapter or a cloud
// SDK (directly or through another package) is reported.
func TestTheImportRuleCatchesAForbiddenImport(t *testing.T) {
	pkgs := map[string]listed{}
	for rel := range domain {
		path := strings.TrimSuffix(module+"/"+rel, "/")
		pkgs[path] = listed{ImportPath: path}
	}
	gate := pkgs[module+"/gate"]
	gate.Imports = []string{"context", module, module + "/slo", module + "/store", module + "/collector/push"}
	pkgs[module+"/gate"] = gate
	alert := pkgs[module+"/alert"]
	alert.Deps = []string{"context", "github.com/slack-go/slack", "modernc.org/sqlite/lib"}
	pkgs[module+"/alert"] = alert
	got := importProblems(pkgs)
	want := []string{
		module + "/alert depends on github.com/slack-go/slack",
		module + "/alert depends on modernc.org/sqlite/lib",
		module + "/gate imports " + module + "/collector/push",
		module + "/gate imports " + module + "/store",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTheCommandEmbedsTheTimeZoneDatabase: the container image has no
// /usr/share/zoneinfo, so cmd/kant links time/tzdata, and a config naming
// Asia/Tokyo loads there too (deploy/image/build.sh runs it so).
func TestTheCommandEmbedsTheTimeZoneDatabase(t *testing.T) {
	p, ok := goList(t)[module+"/cmd/kant"]
	if !ok {
		t.Fatal("cmd/kant not found by go list")
	}
	if !slices.Contains(p.Imports, "time/tzdata") {
		t.Errorf("cmd/kant does not import time/tzdata; it imports %s", strings.Join(p.Imports, ", "))
	}
}
