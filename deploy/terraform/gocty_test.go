package terraform_test

import (
	"reflect"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctygocty "github.com/zclconf/go-cty/cty/gocty"
)

// gocty decodes a cty value into *out, converting it first to out's type
// (a tuple of strings to a []string, a number to an int).
func gocty(v cty.Value, out any) error {
	ty, err := ctygocty.ImpliedType(reflect.Zero(reflect.TypeOf(out).Elem()).Interface())
	if err != nil {
		return err
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		return err
	}
	return ctygocty.FromCtyValue(cv, out)
}
