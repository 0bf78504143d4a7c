package eventbridge_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector/eventbridge"
)

// FuzzDecodeEvent holds the decoder's invariant: whatever the body, an
// event it accepts maps to runs that are valid (a known state, a job and a
// run ID), and one it refuses is refused with an EINVALID error.
func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"detail-type":"Glue Job State Change","source":"aws.glue","account":"1","region":"r","time":"2026-06-10T00:00:00Z","detail":{"jobName":"j","jobRunId":"jr_1_attempt_99999999999","state":"NEW"}}`))
	// Every source matches every account, region and job of its kind.
	d, err := eventbridge.New(eventbridge.Config{Sources: []eventbridge.Source{
		{Name: "g", Kind: eventbridge.KindGlue, Region: "ap-northeast-1"},
		{Name: "s", Kind: eventbridge.KindStepFunctions, Region: "ap-northeast-1", LogicalDatePath: "$.date"},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := eventbridge.Decode(body)
		if err != nil {
			if kant.ErrorCode(err) != kant.EINVALID {
				t.Fatalf("Decode: %v, not EINVALID", err)
			}
			return
		}
		if e.Kind == eventbridge.KindOther {
			return
		}
		if e.Job == "" || e.RunID == "" || !e.State.Valid() {
			t.Fatalf("accepted event %+v lacks a job, a run ID or a valid state", e)
		}
		r, err := eventbridge.Run(e, "g", now)
		if err != nil {
			if kant.ErrorCode(err) != kant.EINVALID {
				t.Fatalf("Run: %v, not EINVALID", err)
			}
			return
		}
		checkRun(t, r)
		runs, _, err := d.DecodeEvent(context.Background(), body, now)
		if err != nil && kant.ErrorCode(err) != kant.EINVALID {
			t.Fatalf("DecodeEvent: %v, not EINVALID", err)
		}
		for _, r := range runs {
			checkRun(t, r)
		}
	})
}

func checkRun(t *testing.T, r kant.Run) {
	t.Helper()
	if !r.State.Valid() || r.Job.Name() == "" || r.RunID == "" || r.Attempt < 1 || r.ObservedAt.IsZero() {
		t.Fatalf("run %+v: want a valid state, a job, a run ID, an attempt and an observation time", r)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("run %+v does not validate: %v", r, err)
	}
}
