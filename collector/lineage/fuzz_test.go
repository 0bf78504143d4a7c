package lineage_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector/lineage"
)

// FuzzDecodeBody checks that an OpenLineage body is either rejected with
// an EINVALID error or decoded into valid runs, only when it is one JSON
// value, and the same runs every time.
func FuzzDecodeBody(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(append(append([]byte("["), b...), ']'))
		f.Add(append(b, '}'))
	}
	f.Add([]byte(`[]`))
	d := lineage.Decoder{}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 64<<10 {
			t.Skip()
		}
		runs, err := d.DecodeBody(body, now)
		if err != nil {
			if kant.ErrorCode(err) != kant.EINVALID || !utf8.ValidString(kant.ErrorMessage(err)) {
				t.Fatalf("DecodeBody(%q): error %q is not EINVALID or not UTF-8", body, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("DecodeBody(%q) accepted a body that is not one JSON value", body)
		}
		for _, r := range runs {
			if err := r.Validate(); err != nil {
				t.Fatalf("DecodeBody(%q) gave an invalid run: %v", body, err)
			}
		}
		again, err := d.DecodeBody(body, now)
		if err != nil || len(again) != len(runs) {
			t.Fatalf("DecodeBody(%q) twice: %d runs, then %d, %v", body, len(runs), len(again), err)
		}
	})
}
