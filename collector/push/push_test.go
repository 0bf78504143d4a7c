package push_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector/push"
)

var now = time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)

func TestDecodeBody(t *testing.T) {
	tests := []struct {
		name    string
		sources []string
		body    string
		want    int    // runs decoded
		wantErr string // substring of the error
	}{
		{name: "one object is one run", body: `{"source":"onprem","job":"nightly","run_id":"r1","state":"succeeded"}`, want: 1},
		{name: "an array is all its runs", body: `[{"source":"a","job":"j","run_id":"1","state":"queued"},{"source":"a","job":"j","run_id":"2","state":"running"}]`, want: 2},
		{name: "an unknown state names the field and the valid states", body: `{"source":"a","job":"j","run_id":"1","state":"done"}`, wantErr: `state: unknown state "done" (valid: queued, running`},
		{name: "a bad element names its index", body: `[{"source":"a","job":"j","run_id":"1","state":"queued"},{"source":"a","job":"j","state":"queued"}]`, wantErr: "[1].run_id: required"},
		{name: "a missing source is named", body: `{"job":"j","run_id":"1","state":"queued"}`, wantErr: "source: required"},
		{name: "a missing job is named", body: `{"source":"a","run_id":"1","state":"queued"}`, wantErr: "job: required"},
		{name: "a bad time names the field", body: `{"source":"a","job":"j","run_id":"1","state":"queued","started_at":"yesterday"}`, wantErr: `started_at: bad time "yesterday"`},
		{name: "a bad logical date names the field", body: `{"source":"a","job":"j","run_id":"1","state":"queued","logical_date":"2026-13-01"}`, wantErr: "logical_date: bad date"},
		{name: "a logical date in year 1 is rejected", body: `{"source":"a","job":"j","run_id":"1","state":"queued","logical_date":"0001-01-01"}`, wantErr: "logical_date: 0001-01-01 is not between 1970-01-01 and 2027-06-03"},
		{name: "a logical date years ahead is rejected", body: `{"source":"a","job":"j","run_id":"1","state":"queued","logical_date":"2030-01-01"}`, wantErr: "logical_date: 2030-01-01 is not between"},
		{name: "an unknown field is named", body: `{"source":"a","job":"j","run_id":"1","state":"queued","statee":"x"}`, wantErr: "statee: unknown field"},
		{name: "a wrong type names the field", body: `{"source":"a","job":"j","run_id":"1","state":"queued","attempt":"2"}`, wantErr: "attempt: want int"},
		{name: "an end before the start is rejected", body: `{"source":"a","job":"j","run_id":"1","state":"failed","started_at":"2026-06-01T02:00:00Z","finished_at":"2026-06-01T01:00:00Z"}`, wantErr: "finished_at: before started_at"},
		{name: "attempt zero is rejected", body: `{"source":"a","job":"j","run_id":"1","state":"queued","attempt":0}`, wantErr: "attempt: must be 1 or more"},
		{name: "broken JSON is a JSON error", body: `{"source":`, wantErr: "bad JSON"},
		{name: "a closing brace after the object is rejected", body: `{"source":"a","job":"j","run_id":"1","state":"queued"}}`, wantErr: "bad JSON: more than one value"},
		{name: "a closing bracket after the object is rejected", body: `{"source":"a","job":"j","run_id":"1","state":"queued"}]`, wantErr: "bad JSON: more than one value"},
		{name: "an empty array is rejected", body: `[]`, wantErr: "empty array"},
		{name: "an empty body is rejected", body: ` `, wantErr: "empty body"},
		{name: "a source that is not a push source is rejected", sources: []string{"onprem"}, body: `{"source":"hegel","job":"j","run_id":"1","state":"queued"}`, wantErr: `source: "hegel" is not a push source (push sources: onprem)`},
		{name: "a configured push source is accepted", sources: []string{"onprem"}, body: `{"source":"onprem","job":"j","run_id":"1","state":"queued"}`, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := push.Decoder{Sources: tt.sources}.DecodeBody([]byte(tt.body), now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if kant.ErrorCode(err) != kant.EINVALID {
					t.Errorf("code = %s, want invalid", kant.ErrorCode(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tt.want {
				t.Fatalf("got %d runs, want %d", len(runs), tt.want)
			}
		})
	}
}

func TestDecodeFieldsOfTheDesignExample(t *testing.T) {
	body := `{"source": "onprem", "job": "nightly_export", "run_id": "2026-06-01T01:00",
	 "state": "succeeded", "started_at": "2026-06-02T01:00:03+09:00",
	 "finished_at": "2026-06-02T02:10:00+09:00", "logical_date": "2026-06-01",
	 "attempt": 1, "error_message": "", "attributes": {"rows": "12"}}`
	runs, err := push.Decoder{}.DecodeBody([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	r := runs[0]
	want := kant.Run{
		Source: "onprem", Job: "onprem/nightly_export", RunID: "2026-06-01T01:00", Attempt: 1,
		State: kant.StateSucceeded, SourceState: "succeeded",
		LogicalDate: kant.Date{Year: 2026, Month: 6, Day: 1},
		StartedAt:   time.Date(2026, 6, 1, 16, 0, 3, 0, time.UTC),
		FinishedAt:  time.Date(2026, 6, 1, 17, 10, 0, 0, time.UTC),
		ObservedAt:  now, Attributes: map[string]string{"rows": "12"},
	}
	if !r.SameObservation(want) || !r.ObservedAt.Equal(now) || r.StartedAt.Location() != time.UTC {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
}

func TestAJobPushedByItsFullKeyKeepsIt(t *testing.T) {
	runs, err := push.Decoder{}.DecodeBody([]byte(`{"source":"onprem","job":"onprem/x","run_id":"1","state":"queued"}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if runs[0].Job != "onprem/x" {
		t.Errorf("job = %q, want onprem/x", runs[0].Job)
	}
}

func TestLines(t *testing.T) {
	good := `{"source":"a","job":"j","run_id":"1","state":"succeeded"}`
	t.Run("every line becomes a run and blank lines are skipped", func(t *testing.T) {
		n := 0
		for _, err := range (push.Decoder{}).Lines(strings.NewReader(good+"\n\n"+good+"\n"), now) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 2 {
			t.Errorf("got %d runs, want 2", n)
		}
	})
	t.Run("a malformed third line ends the stream with its line number", func(t *testing.T) {
		in := good + "\n" + good + "\n" + `{"source":"a","job":"j","run_id":"3","state":"succeded"}` + "\n" + good + "\n"
		var got []error
		n := 0
		for _, err := range (push.Decoder{}).Lines(strings.NewReader(in), now) {
			if err != nil {
				got = append(got, err)
				continue
			}
			n++
		}
		if n != 2 || len(got) != 1 {
			t.Fatalf("runs = %d, errors = %v; want 2 runs then one error", n, got)
		}
		if !strings.HasPrefix(got[0].Error(), `line 3: state: unknown state "succeded"`) {
			t.Errorf("err = %q, want it to start with line 3 and name the field", got[0])
		}
	})
	t.Run("a line longer than the limit is an error naming it", func(t *testing.T) {
		in := good + "\n" + strings.Repeat("x", push.MaxLine+1) + "\n"
		var last error
		for _, err := range (push.Decoder{}).Lines(strings.NewReader(in), now) {
			last = err
		}
		if last == nil || !strings.Contains(last.Error(), "line 2") {
			t.Errorf("err = %v, want line 2", last)
		}
	})
}
