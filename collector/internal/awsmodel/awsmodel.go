// Package awsmodel reads AWS service models (the JSON models the AWS SDKs
// are generated from, kept in contracts/) and checks decoded JSON request
// and response bodies against their shapes: the wire-format contract that
// the AWS sources' local test servers hold every body to.
package awsmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
)

// Ref names a shape.
type Ref struct {
	Shape string `json:"shape"`
}

// Shape is one shape of a model, with the constraints Check applies.
type Shape struct {
	Type     string         `json:"type"`
	Members  map[string]Ref `json:"members"`
	Member   Ref            `json:"member"`
	Key      Ref            `json:"key"`
	Value    Ref            `json:"value"`
	Enum     []string       `json:"enum"`
	Required []string       `json:"required"`
	Min      *float64       `json:"min"`
	Max      *float64       `json:"max"`
}

// Operation is one operation of a model.
type Operation struct {
	Input  Ref   `json:"input"`
	Output Ref   `json:"output"`
	Errors []Ref `json:"errors"`
}

// Model is a service model.
type Model struct {
	Metadata struct {
		TargetPrefix string `json:"targetPrefix"`
		JSONVersion  string `json:"jsonVersion"`
	} `json:"metadata"`
	Operations map[string]Operation `json:"operations"`
	Shapes     map[string]Shape     `json:"shapes"`
}

// Read reads the model in the file at path.
func Read(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// Fill adds to m the shapes of other that m lacks, and the named
// operations of other that m lacks: an excerpt completed from the full
// model.
func (m *Model) Fill(other *Model, operations ...string) {
	for name, s := range other.Shapes {
		if _, ok := m.Shapes[name]; !ok {
			m.Shapes[name] = s
		}
	}
	for _, name := range operations {
		if op, ok := other.Operations[name]; ok {
			if _, have := m.Operations[name]; !have {
				m.Operations[name] = op
			}
		}
	}
}

// Check validates a decoded JSON value against the named shape: only the
// members a structure declares, its required members present, enum values,
// length and numeric bounds, and the JSON protocol's types (timestamps as
// epoch-second numbers, blobs as base64 strings). path names v in errors.
func (m *Model) Check(shapeName string, v any, path string) error {
	s, ok := m.Shapes[shapeName]
	if !ok {
		return fmt.Errorf("%s: shape %s not in the model", path, shapeName)
	}
	switch s.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object for %s, got %T", path, shapeName, v)
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				return fmt.Errorf("%s: required member %s missing", path, r)
			}
		}
		for k, mv := range obj {
			ref, ok := s.Members[k]
			if !ok {
				return fmt.Errorf("%s: %s is not a member of %s", path, k, shapeName)
			}
			if err := m.Check(ref.Shape, mv, path+"."+k); err != nil {
				return err
			}
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list for %s, got %T", path, shapeName, v)
		}
		for i, e := range arr {
			if err := m.Check(s.Member.Shape, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a map for %s, got %T", path, shapeName, v)
		}
		for k, e := range obj {
			if err := m.Check(s.Value.Shape, e, path+"["+k+"]"); err != nil {
				return err
			}
		}
	case "string", "blob":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string for %s, got %T", path, shapeName, v)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			return fmt.Errorf("%s: %q is not one of %s %v", path, str, shapeName, s.Enum)
		}
		if (s.Min != nil && float64(len(str)) < *s.Min) || (s.Max != nil && float64(len(str)) > *s.Max) {
			return fmt.Errorf("%s: %q has a length outside %s's bounds", path, str, shapeName)
		}
	case "integer", "long":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return fmt.Errorf("%s: want an integer for %s, got %v", path, shapeName, v)
		}
		if (s.Min != nil && f < *s.Min) || (s.Max != nil && f > *s.Max) {
			return fmt.Errorf("%s: %v is outside %s's bounds", path, f, shapeName)
		}
	case "double", "float", "timestamp":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: want a number for %s, got %T", path, shapeName, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want a boolean for %s, got %T", path, shapeName, v)
		}
	default:
		return fmt.Errorf("%s: shape %s has type %s the checker does not know", path, shapeName, s.Type)
	}
	return nil
}
