package terraform_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// A module is one Terraform module's .tf files, parsed, and what the checks
// read from them. It evaluates the module's own expressions the way
// Terraform would, with test values for the variables and stand-ins for
// what only a provider knows (every resource and data attribute is the
// string "type.name.attr", "type.name[i].attr" for counted ones, and
// "data.type.name.attr" for data sources).
type module struct {
	dir       string
	files     map[string][]byte
	variables map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	resources map[string]*hclsyntax.Block // "type.name"
	data      map[string]*hclsyntax.Block // "type.name"
	providers []*hclsyntax.Block
}

// loadModule parses every .tf file of dir, failing the test on any parse
// error.
func loadModule(t *testing.T, dir string) *module {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	m := &module{dir: dir, files: map[string][]byte{}, variables: map[string]*hclsyntax.Block{},
		outputs: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{},
		resources: map[string]*hclsyntax.Block{}, data: map[string]*hclsyntax.Block{}}
	p := hclparse.NewParser()
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m.files[path] = src
		f, diags := p.ParseHCL(src, path)
		if diags.HasErrors() {
			t.Fatalf("%s does not parse: %s", path, diags.Error())
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			key := strings.Join(b.Labels, ".")
			switch b.Type {
			case "variable":
				m.variables[key] = b
			case "output":
				m.outputs[key] = b
			case "resource":
				m.resources[key] = b
			case "data":
				m.data[key] = b
			case "provider":
				m.providers = append(m.providers, b)
			case "locals":
				for name, a := range b.Body.Attributes {
					m.locals[name] = a
				}
			}
		}
	}
	return m
}

// mockAttrs are the attributes every stand-in resource or data source has.
var mockAttrs = []string{"id", "name", "arn", "email", "member", "unique_id", "secret_id",
	"version", "connection_name", "dataset_id", "uri", "location", "result", "number",
	"account_id", "partition", "json"}

func mock(prefix string) cty.Value {
	attrs := map[string]cty.Value{}
	for _, a := range mockAttrs {
		attrs[a] = cty.StringVal(prefix + "." + a)
	}
	// The stand-ins of a few provider-computed names that modules use as
	// values; data.aws_region's name is a region, so that ARNs look like ARNs.
	switch {
	case strings.HasPrefix(prefix, "data.aws_region."):
		attrs["name"] = cty.StringVal("ap-northeast-1")
	case strings.HasPrefix(prefix, "data.aws_caller_identity."):
		attrs["account_id"] = cty.StringVal("123456789012")
	case strings.HasPrefix(prefix, "data.google_project."):
		attrs["number"] = cty.StringVal("123456789012")
	case strings.HasPrefix(prefix, "data.aws_partition."):
		attrs["partition"] = cty.StringVal("aws")
	}
	return cty.ObjectVal(attrs)
}

// eval is a module evaluated with test values for its variables.
type eval struct {
	m   *module
	ctx *hcl.EvalContext
	// counts holds, per "type.name" of a counted or for_each resource, its
	// instance keys: "0", "1", ... for count, the map's keys for for_each.
	counts map[string][]string
	locals map[string]cty.Value
}

// evaluate builds the evaluation context of m with vars (by name; the
// others take their defaults), resolving locals, counts and for_each in as
// many rounds as their references need. A variable without a default and
// without a test value fails the test.
func (m *module) evaluate(t *testing.T, vars map[string]cty.Value) *eval {
	t.Helper()
	v := map[string]cty.Value{}
	for name, b := range m.variables {
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(b.Body.Attributes["type"].Expr)
		if diags.HasErrors() {
			t.Fatalf("variable %q: type: %s", name, diags.Error())
		}
		val, given := vars[name]
		if !given {
			d, ok := b.Body.Attributes["default"]
			if !ok {
				t.Fatalf("variable %q has no default and the test gives it no value", name)
			}
			val, diags = d.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("variable %q: default: %s", name, diags.Error())
			}
		}
		if defaults != nil {
			val = defaults.Apply(val)
		}
		cv, err := convert.Convert(val, ty)
		if err != nil {
			t.Fatalf("variable %q: value %#v does not convert to its type: %v", name, val, err)
		}
		v[name] = cv
	}
	for name := range vars {
		if _, ok := m.variables[name]; !ok {
			t.Fatalf("the test sets variable %q, which %s does not declare", name, m.dir)
		}
	}
	e := &eval{m: m, counts: map[string][]string{}, locals: map[string]cty.Value{}}
	e.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":  cty.ObjectVal(v),
			"path": cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(m.dir)}),
		},
		Functions: functions(),
	}
	// Rounds: each resolves what the previous ones made resolvable.
	for round := 0; round < 10; round++ {
		progress := false
		for name, a := range m.locals {
			if _, done := e.locals[name]; done {
				continue
			}
			if val, diags := a.Expr.Value(e.ctx); !diags.HasErrors() {
				e.locals[name] = val
				progress = true
			}
		}
		for key, b := range m.resources {
			if e.resolveInstances(key, b) {
				progress = true
			}
		}
		e.rebuild()
		if !progress {
			break
		}
	}
	return e
}

// resolveInstances settles the instance keys of a counted or for_each
// resource once its count or for_each evaluates; it reports whether it did.
func (e *eval) resolveInstances(key string, b *hclsyntax.Block) bool {
	if _, done := e.counts[key]; done {
		return false
	}
	if a, ok := b.Body.Attributes["count"]; ok {
		val, diags := a.Expr.Value(e.ctx)
		if diags.HasErrors() || !val.IsKnown() {
			return false
		}
		var n int
		if err := gocty(val, &n); err != nil {
			return false
		}
		keys := []string{}
		for i := 0; i < n; i++ {
			keys = append(keys, fmt.Sprint(i))
		}
		e.counts[key] = keys
		return true
	}
	if a, ok := b.Body.Attributes["for_each"]; ok {
		val, diags := a.Expr.Value(e.ctx)
		if diags.HasErrors() || !val.IsKnown() {
			return false
		}
		keys := []string{}
		for it := val.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			keys = append(keys, k.AsString())
		}
		sort.Strings(keys)
		e.counts[key] = keys
		return true
	}
	return false
}

// rebuild puts the locals and the stand-ins of resources and data sources
// resolved so far into the context.
func (e *eval) rebuild() {
	e.ctx.Variables["local"] = cty.ObjectVal(e.locals)
	types := map[string]map[string]cty.Value{}
	for key, b := range e.m.resources {
		typ, name := b.Labels[0], b.Labels[1]
		var val cty.Value
		_, counted := b.Body.Attributes["count"]
		_, each := b.Body.Attributes["for_each"]
		keys, resolved := e.counts[key]
		switch {
		case (counted || each) && !resolved:
			continue
		case counted:
			elems := []cty.Value{}
			for _, k := range keys {
				elems = append(elems, mock(typ+"."+name+"["+k+"]"))
			}
			val = cty.TupleVal(elems)
		case each:
			elems := map[string]cty.Value{}
			for _, k := range keys {
				elems[k] = mock(typ + "." + name + "[" + k + "]")
			}
			val = cty.ObjectVal(elems)
		default:
			val = mock(typ + "." + name)
		}
		if types[typ] == nil {
			types[typ] = map[string]cty.Value{}
		}
		types[typ][name] = val
	}
	for typ, byName := range types {
		e.ctx.Variables[typ] = cty.ObjectVal(byName)
	}
	data := map[string]map[string]cty.Value{}
	for _, b := range e.m.data {
		typ, name := b.Labels[0], b.Labels[1]
		if data[typ] == nil {
			data[typ] = map[string]cty.Value{}
		}
		data[typ][name] = mock("data." + typ + "." + name)
	}
	d := map[string]cty.Value{}
	for typ, byName := range data {
		d[typ] = cty.ObjectVal(byName)
	}
	e.ctx.Variables["data"] = cty.ObjectVal(d)
}

// local returns a local value, failing the test when it did not evaluate.
func (e *eval) local(t *testing.T, name string) cty.Value {
	t.Helper()
	if v, ok := e.locals[name]; ok {
		return v
	}
	a, ok := e.m.locals[name]
	if !ok {
		t.Fatalf("%s has no local %q", e.m.dir, name)
	}
	_, diags := a.Expr.Value(e.ctx)
	t.Fatalf("local %q does not evaluate: %s", name, diags.Error())
	return cty.NilVal
}

// instances returns how many instances a resource has: 1 for a plain one.
func (e *eval) instances(t *testing.T, key string) int {
	t.Helper()
	b, ok := e.m.resources[key]
	if !ok {
		t.Fatalf("%s has no resource %s", e.m.dir, key)
	}
	_, counted := b.Body.Attributes["count"]
	_, each := b.Body.Attributes["for_each"]
	if !counted && !each {
		return 1
	}
	keys, ok := e.counts[key]
	if !ok {
		t.Fatalf("the count or for_each of %s does not evaluate", key)
	}
	return len(keys)
}

// A node is a block body evaluated in a context: a resource, a data source,
// or a nested (possibly dynamic) block of one.
type node struct {
	body *hclsyntax.Body
	ctx  *hcl.EvalContext
	at   string // for messages
}

// resource returns the body of a resource; with count or for_each, of its
// first instance (count.index 0, each.key and each.value of the first key).
func (e *eval) resource(t *testing.T, key string) node {
	t.Helper()
	b, ok := e.m.resources[key]
	if !ok {
		t.Fatalf("%s has no resource %s", e.m.dir, key)
	}
	return e.instance(t, b, key)
}

func (e *eval) dataSource(t *testing.T, key string) node {
	t.Helper()
	b, ok := e.m.data[key]
	if !ok {
		t.Fatalf("%s has no data source %s", e.m.dir, key)
	}
	return node{body: b.Body, ctx: e.ctx, at: "data." + key}
}

func (e *eval) instance(t *testing.T, b *hclsyntax.Block, key string) node {
	t.Helper()
	ctx := e.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{}
	if _, ok := b.Body.Attributes["count"]; ok {
		ctx.Variables["count"] = cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(0)})
	}
	if a, ok := b.Body.Attributes["for_each"]; ok {
		val, diags := a.Expr.Value(e.ctx)
		if diags.HasErrors() {
			t.Fatalf("%s: for_each: %s", key, diags.Error())
		}
		it := val.ElementIterator()
		if !it.Next() {
			t.Fatalf("%s has no instance", key)
		}
		k, v := it.Element()
		ctx.Variables["each"] = cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})
	}
	return node{body: b.Body, ctx: ctx, at: key}
}

// attr evaluates an attribute; a missing one fails the test.
func (n node) attr(t *testing.T, name string) cty.Value {
	t.Helper()
	a, ok := n.body.Attributes[name]
	if !ok {
		t.Fatalf("%s has no attribute %q", n.at, name)
	}
	v, diags := a.Expr.Value(n.ctx)
	if diags.HasErrors() {
		t.Fatalf("%s.%s does not evaluate: %s", n.at, name, diags.Error())
	}
	return v
}

// str evaluates a string attribute.
func (n node) str(t *testing.T, name string) string {
	t.Helper()
	v := n.attr(t, name)
	var s string
	if err := gocty(v, &s); err != nil {
		t.Fatalf("%s.%s: %v", n.at, name, err)
	}
	return s
}

// strs evaluates a list-of-strings attribute.
func (n node) strs(t *testing.T, name string) []string {
	t.Helper()
	v := n.attr(t, name)
	var s []string
	if err := gocty(v, &s); err != nil {
		t.Fatalf("%s.%s: %v", n.at, name, err)
	}
	return s
}

// has reports whether the block sets an attribute.
func (n node) has(name string) bool { _, ok := n.body.Attributes[name]; return ok }

// blocks returns the nested blocks of a type, static and dynamic alike, in
// order: a dynamic block contributes one node per element of its for_each,
// with the iterator (the block type, or its iterator attribute) set.
func (n node) blocks(t *testing.T, typ string) []node {
	t.Helper()
	var out []node
	for _, b := range n.body.Blocks {
		switch {
		case b.Type == typ:
			out = append(out, node{body: b.Body, ctx: n.ctx, at: n.at + "." + typ})
		case b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == typ:
			dyn := node{body: b.Body, ctx: n.ctx, at: n.at + ".dynamic." + typ}
			iter := typ
			if dyn.has("iterator") {
				iter = hcl.ExprAsKeyword(b.Body.Attributes["iterator"].Expr)
			}
			var content *hclsyntax.Body
			for _, c := range b.Body.Blocks {
				if c.Type == "content" {
					content = c.Body
				}
			}
			if content == nil {
				t.Fatalf("%s has no content block", dyn.at)
			}
			each := dyn.attr(t, "for_each")
			for it := each.ElementIterator(); it.Next(); {
				k, v := it.Element()
				ctx := n.ctx.NewChild()
				ctx.Variables = map[string]cty.Value{iter: cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})}
				out = append(out, node{body: content, ctx: ctx, at: dyn.at})
			}
		}
	}
	return out
}

// block returns the one nested block of a type, failing the test otherwise.
func (n node) block(t *testing.T, typ string) node {
	t.Helper()
	bs := n.blocks(t, typ)
	if len(bs) != 1 {
		t.Fatalf("%s has %d %s blocks, want 1", n.at, len(bs), typ)
	}
	return bs[0]
}

// functions are the Terraform functions the modules call, from cty's
// standard library where it has them.
func functions() map[string]function.Function {
	return map[string]function.Function{
		"coalesce":     stdlib.CoalesceFunc,
		"merge":        stdlib.MergeFunc,
		"jsonencode":   stdlib.JSONEncodeFunc,
		"length":       stdlib.LengthFunc,
		"keys":         stdlib.KeysFunc,
		"trimsuffix":   stdlib.TrimSuffixFunc,
		"one":          oneFunc,
		"templatefile": templateFileFunc,
	}
}

// oneFunc is Terraform's one: null for an empty list, its element for a
// one-element list, an error otherwise.
var oneFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type:   function.StaticReturnType(cty.DynamicPseudoType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		l := args[0]
		switch n := l.LengthInt(); n {
		case 0:
			return cty.NullVal(cty.DynamicPseudoType), nil
		case 1:
			return l.Index(cty.NumberIntVal(0)), nil
		default:
			return cty.NilVal, fmt.Errorf("one: %d elements", n)
		}
	},
})

// templateFileFunc is Terraform's templatefile: the file is an HCL template
// evaluated with the given variables and no functions but these.
var templateFileFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "vars", Type: cty.DynamicPseudoType}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		path := args[0].AsString()
		src, err := os.ReadFile(path)
		if err != nil {
			return cty.NilVal, err
		}
		expr, diags := hclsyntax.ParseTemplate(src, path, hcl.InitialPos)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		vars := map[string]cty.Value{}
		for it := args[1].ElementIterator(); it.Next(); {
			k, v := it.Element()
			vars[k.AsString()] = v
		}
		v, diags := expr.Value(&hcl.EvalContext{Variables: vars})
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		return convert.Convert(v, cty.String)
	},
})
