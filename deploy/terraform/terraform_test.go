package terraform_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// modules are the Terraform modules of deploy/terraform.
var modules = []string{"gcp", "aws"}

func TestEveryTerraformFileParsesAndIsCanonicallyFormatted(t *testing.T) {
	var paths []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".tf") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 2*3 {
		t.Fatalf("found only %d .tf files: %v", len(paths), paths)
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
				t.Fatalf("does not parse: %s", diags.Error())
			}
			if got := hclwrite.Format(src); !bytes.Equal(got, src) {
				t.Errorf("not in canonical format (terraform fmt would change it); formatted:\n%s", got)
			}
		})
	}
	templates, _ := filepath.Glob("*/*.tftpl")
	for _, path := range templates {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, diags := hclsyntax.ParseTemplate(src, path, hcl.InitialPos); diags.HasErrors() {
			t.Errorf("template %s does not parse: %s", path, diags.Error())
		}
	}
}

func TestEveryVariableHasATypeAndADescriptionAndEveryOutputADescription(t *testing.T) {
	for _, dir := range modules {
		m := loadModule(t, dir)
		if len(m.variables) == 0 || len(m.outputs) == 0 {
			t.Errorf("%s: %d variables, %d outputs", dir, len(m.variables), len(m.outputs))
		}
		for name, b := range m.variables {
			if _, ok := b.Body.Attributes["type"]; !ok {
				t.Errorf("%s: variable %q has no type", dir, name)
			}
			if d := literal(t, b, "description"); len(d) < 10 {
				t.Errorf("%s: variable %q has no description worth the name: %q", dir, name, d)
			}
		}
		for name, b := range m.outputs {
			if d := literal(t, b, "description"); len(d) < 10 {
				t.Errorf("%s: output %q has no description worth the name: %q", dir, name, d)
			}
		}
	}
}

// literal returns a block's string attribute that needs no context, or "".
func literal(t *testing.T, b *hclsyntax.Block, name string) string {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		return ""
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
		t.Errorf("%s %q: %s is not a literal string", b.Type, strings.Join(b.Labels, "."), name)
		return ""
	}
	return v.AsString()
}

func TestNoResourceCreatesAnAccessKeyAndNoModuleConfiguresCredentials(t *testing.T) {
	forbidden := map[string]string{
		"aws_iam_access_key":         "an AWS access key",
		"aws_iam_user":               "an IAM user (whose only use from GCP would be an access key)",
		"aws_iam_user_login_profile": "an IAM user's password",
		"google_service_account_key": "a Google service account key",
		"google_storage_hmac_key":    "a Cloud Storage HMAC key",
		"google_apikeys_key":         "a Google API key",
	}
	credentialAttrs := []string{"access_key", "secret_key", "credentials", "access_token"}
	for _, dir := range modules {
		m := loadModule(t, dir)
		for key, b := range m.resources {
			if what, bad := forbidden[b.Labels[0]]; bad {
				t.Errorf("%s: resource %s creates %s", dir, key, what)
			}
		}
		if len(m.providers) > 0 {
			t.Errorf("%s: configures %d provider(s); a module takes its providers (and their credentials) from its caller", dir, len(m.providers))
		}
		for path, src := range m.files {
			f, _ := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
			hclsyntax.VisitAll(f.Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
				if a, ok := n.(*hclsyntax.Attribute); ok {
					for _, c := range credentialAttrs {
						if a.Name == c {
							t.Errorf("%s: attribute %s sets credentials", a.SrcRange, a.Name)
						}
					}
				}
				return nil
			})
		}
	}
}
