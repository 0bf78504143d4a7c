package lineage_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// contractsDir holds the OpenLineage JSON Schema and facet schemas, copied
// unchanged from the OpenLineage spec (see contracts/README.md).
const contractsDir = "../../contracts"

// schemas is the compiled OpenLineage schema: the event schema, and the schemas
// of the standard run and job facets kant reads, each a schema for the
// whole facets object that checks the facet it names.
type schemas struct {
	event     *jsonschema.Schema
	runFacets []*jsonschema.Schema
	jobFacets []*jsonschema.Schema
}

var loadSpec = sync.OnceValues(func() (*schemas, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat() // uuid, date-time and uri are checked, as a strict consumer would
	files := map[string]string{"openlineage-2-0-2.json": ""}
	facetFiles, err := filepath.Glob(filepath.Join(contractsDir, "openlineage-facets", "*.json"))
	if err != nil {
		return nil, err
	}
	for _, f := range facetFiles {
		files[filepath.Join("openlineage-facets", filepath.Base(f))] = ""
	}
	for name := range files {
		b, err := os.ReadFile(filepath.Join(contractsDir, name))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			return nil, fmt.Errorf("%s: no $id", name)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		files[name] = id
	}
	s := &schemas{}
	if s.event, err = c.Compile(files["openlineage-2-0-2.json"]); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		list *[]*jsonschema.Schema
	}{
		{"NominalTimeRunFacet.json", &s.runFacets},
		{"ErrorMessageRunFacet.json", &s.runFacets},
		{"ParentRunFacet.json", &s.runFacets},
		{"JobDependenciesRunFacet.json", &s.runFacets},
		{"JobTypeJobFacet.json", &s.jobFacets},
		{"OwnershipJobFacet.json", &s.jobFacets},
		{"TagsJobFacet.json", &s.jobFacets},
	} {
		sch, err := c.Compile(files[filepath.Join("openlineage-facets", f.name)])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.list = append(*f.list, sch)
	}
	return s, nil
})

// validateSpec checks body, one event or an array of them, against the
// OpenLineage schema and the standard facet schemas. It returns the first
// violation, or nil when the body is what the spec defines.
func validateSpec(t testing.TB, body string) error {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatalf("loading the OpenLineage schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	events := []any{doc}
	if list, ok := doc.([]any); ok {
		events = list
	}
	for i, ev := range events {
		if err := s.validateEvent(ev); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
	}
	return nil
}

func (s *schemas) validateEvent(ev any) error {
	if err := s.event.Validate(ev); err != nil {
		return err
	}
	obj, _ := ev.(map[string]any)
	for part, schemas := range map[string][]*jsonschema.Schema{"run": s.runFacets, "job": s.jobFacets} {
		p, _ := obj[part].(map[string]any)
		facets, ok := p["facets"]
		if !ok {
			continue
		}
		for _, sch := range schemas {
			if err := sch.Validate(facets); err != nil {
				return fmt.Errorf("%s.facets: %w", part, err)
			}
		}
	}
	return nil
}

func TestTheSpecCheckerRejectsWhatTheSpecRejects(t *testing.T) {
	// The checker itself must be able to fail, or the tests that rely on it
	// prove nothing.
	tests := []struct {
		name string
		body string
	}{
		{"an event without a run id", `{"eventTime":"2026-06-01T00:00:00Z","producer":"https://p","schemaURL":"https://s","run":{},"job":{"namespace":"n","name":"j"}}`},
		{"a run id that is not a UUID", `{"eventTime":"2026-06-01T00:00:00Z","producer":"https://p","schemaURL":"https://s","run":{"runId":"r1"},"job":{"namespace":"n","name":"j"}}`},
		{"a nominal time facet without its start", `{"eventTime":"2026-06-01T00:00:00Z","producer":"https://p","schemaURL":"https://s","run":{"runId":"3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b","facets":{"nominalTime":{"_producer":"https://p","_schemaURL":"https://s","nominalEndTime":"2026-06-01T00:00:00Z"}}},"job":{"namespace":"n","name":"j"}}`},
		{"an ownership facet whose owner has no name", `{"eventTime":"2026-06-01T00:00:00Z","producer":"https://p","schemaURL":"https://s","run":{"runId":"3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"},"job":{"namespace":"n","name":"j","facets":{"ownership":{"_producer":"https://p","_schemaURL":"https://s","owners":[{"type":"MAINTAINER"}]}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validateSpec(t, tt.body); err == nil {
				t.Fatal("the schema accepted it")
			}
		})
	}
}
