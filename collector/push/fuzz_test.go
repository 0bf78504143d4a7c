package push_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector/push"
)

// maxFuzzBody bounds the bodies the fuzz targets try.
const maxFuzzBody = 16 << 10

var pushSeeds = []string{
	`{"source":"onprem","job":"nightly","run_id":"r1","state":"succeeded"}`,
	`[{"source":"a","job":"j","run_id":"1","state":"queued"},{"source":"a","job":"j","run_id":"2","state":"running"}]`,
	`{"source":"onprem","job":"onprem/export_orders","run_id":"2026-06-01","attempt":2,"max_attempts":3,"state":"failed",` +
		`"source_state":"FAILED","started_at":"2026-06-02T01:00:00+09:00","finished_at":"2026-06-02T01:10:00.5+09:00",` +
		`"logical_date":"2026-06-01","error_message":"disk full","attributes":{"host":"batch01"}}`,
	`{"source":"a","job":"j","run_id":"1","state":"queued"}}`,
	`{"source":"a","job":"j","run_id":"1","state":"queued"}]`,
	`{"source":"a","job":"j","run_id":"1","state":"queued"} {}`,
	`{"source":"a","job":"j","run_id":"1","state":"failed","error_message":"\u65e5\ud800"}`,
	`[]`, ` `, `{"source":`,
}

// encode writes runs in the push format, the way a client would.
func encode(t *testing.T, runs []kant.Run) []byte {
	t.Helper()
	ws := make([]map[string]any, len(runs))
	for i, r := range runs {
		w := map[string]any{"source": r.Source, "job": string(r.Job), "run_id": r.RunID, "state": string(r.State),
			"source_state": r.SourceState, "max_attempts": r.MaxAttempts, "error_message": r.ErrorMessage,
			"attributes": r.Attributes}
		if r.Attempt != 0 {
			w["attempt"] = r.Attempt
		}
		if !r.StartedAt.IsZero() {
			w["started_at"] = r.StartedAt.Format(time.RFC3339Nano)
		}
		if !r.FinishedAt.IsZero() {
			w["finished_at"] = r.FinishedAt.Format(time.RFC3339Nano)
		}
		if !r.LogicalDate.IsZero() {
			w["logical_date"] = r.LogicalDate.String()
		}
		ws[i] = w
	}
	b, err := json.Marshal(ws)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameRuns compares runs, an empty attribute map equal to none.
func sameRuns(a, b []kant.Run) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if len(x.Attributes) == 0 && len(y.Attributes) == 0 {
			x.Attributes, y.Attributes = nil, nil
		}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// FuzzDecodeBody checks that a body is either rejected with an EINVALID
// error or decoded into valid runs that, pushed again, decode the same; and
// that one value followed by anything but spaces is rejected.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range pushSeeds {
		f.Add([]byte(s))
	}
	d := push.Decoder{}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzBody {
			t.Skip()
		}
		runs, err := d.DecodeBody(body, now)
		if err != nil {
			if kant.ErrorCode(err) != kant.EINVALID || kant.ErrorMessage(err) == "" {
				t.Fatalf("DecodeBody(%q): error %v is not EINVALID", body, err)
			}
			return
		}
		if len(runs) == 0 {
			t.Fatalf("DecodeBody(%q) accepted no run", body)
		}
		if !json.Valid(body) {
			t.Fatalf("DecodeBody(%q) accepted a body that is not one JSON value", body)
		}
		for _, r := range runs {
			if err := r.Validate(); err != nil {
				t.Fatalf("DecodeBody(%q) gave an invalid run: %v", body, err)
			}
		}
		again, err := d.DecodeBody(encode(t, runs), now)
		if err != nil || !sameRuns(runs, again) {
			t.Fatalf("DecodeBody(%q) = %+v\nencoded %s\ndecodes as %+v, %v", body, runs, encode(t, runs), again, err)
		}
	})
}

// FuzzLines checks that a JSON Lines stream yields the runs of its lines,
// each as DecodeBody would decode it alone, up to a first bad line whose
// error names it.
func FuzzLines(f *testing.F) {
	f.Add([]byte(strings.Join(pushSeeds[:3], "\n")))
	for _, s := range pushSeeds {
		f.Add([]byte(s + "\n" + pushSeeds[0]))
	}
	d := push.Decoder{}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzBody {
			t.Skip()
		}
		lines := bytes.Split(data, []byte("\n"))
		i := 0 // the line being read
		for run, err := range d.Lines(bytes.NewReader(data), now) {
			for i < len(lines) && len(bytes.Trim(lines[i], " \t\r\n")) == 0 { // JSON's white space
				i++
			}
			if err != nil {
				want := "line " + itoa(i+1) + ": "
				if kant.ErrorCode(err) != kant.EINVALID || !strings.HasPrefix(kant.ErrorMessage(err), want) {
					t.Fatalf("Lines(%q): error %q does not start %q", data, kant.ErrorMessage(err), want)
				}
				return
			}
			if i >= len(lines) {
				t.Fatalf("Lines(%q) yielded more runs than it has lines", data)
			}
			alone, err := d.DecodeBody(lines[i], now)
			if err != nil || len(alone) != 1 || !sameRuns(alone, []kant.Run{run}) {
				t.Fatalf("Lines(%q): line %d gave %+v, alone it decodes as %+v, %v", data, i+1, run, alone, err)
			}
			i++
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
