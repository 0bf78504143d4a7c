package eventbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/eventbridge"
	"github.com/kantproject/kant/store/sqlite"
)

// now is when the events arrive in these tests.
var now = time.Date(2026, 6, 10, 3, 0, 0, 0, time.UTC)

// schemas maps each detail-type to its schema in contracts/eventbridge, as
// EventBridge's schema registry names it.
var schemas = map[string]string{
	eventbridge.GlueJobStateChange: "aws.glue@GlueJobStateChange.json",
	eventbridge.GlueJobRunStatus:   "aws.glue@GlueJobRunStatus.json",
	eventbridge.SFNExecutionChange: "aws.states@StepFunctionsExecutionStatusChange.json",
}

// checkContract validates an event against the schema of its detail-type.
func checkContract(t *testing.T, body []byte) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	dt, _ := v["detail-type"].(string)
	file, ok := schemas[dt]
	if !ok {
		t.Fatalf("no contract for detail-type %q", dt)
	}
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join("..", "..", "contracts", "eventbridge", file))
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	ref := doc.Components.Schemas["AWSEvent"]
	if ref == nil || ref.Value == nil {
		t.Fatalf("%s: no AWSEvent schema", file)
	}
	if err := ref.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		t.Fatalf("the event does not follow %s: %v", file, err)
	}
	if got := ref.Value.Extensions["x-amazon-events-detail-type"]; got != dt {
		t.Fatalf("%s is the schema of %v, not %q", file, got, dt)
	}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit returns the event in testdata/name with fn applied to its JSON.
func edit(t *testing.T, name string, fn func(e map[string]any)) []byte {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(read(t, name), &e); err != nil {
		t.Fatal(err)
	}
	fn(e)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func detail(e map[string]any) map[string]any { return e["detail"].(map[string]any) }

func decoder(t *testing.T, sources ...eventbridge.Source) *eventbridge.Decoder {
	t.Helper()
	d, err := eventbridge.New(eventbridge.Config{Sources: sources})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	hegel = eventbridge.Source{Name: "hegel", Kind: eventbridge.KindGlue, Region: "ap-northeast-1",
		Account: "123456789012", Jobs: []string{"export_*"}}
	states = eventbridge.Source{Name: "flows", Kind: eventbridge.KindStepFunctions, Region: "ap-northeast-1",
		Account: "123456789012", Jobs: []string{"nightly-*"}, LogicalDatePath: "$.date", LogicalDateOffset: 24 * time.Hour}
)

func TestEveryTestEventFollowsItsContractAndDecodes(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 6 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b := read(t, filepath.Base(f))
			e, err := eventbridge.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind == eventbridge.KindOther {
				if _, ok := schemas[e.DetailType]; ok {
					t.Fatalf("%s decoded as another kind", e.DetailType)
				}
				return
			}
			checkContract(t, b)
			if e.Job == "" || e.RunID == "" || !e.State.Valid() || e.Time.IsZero() {
				t.Errorf("event = %+v", e)
			}
		})
	}
}

func TestDecodeEvent(t *testing.T) {
	tests := []struct {
		name    string
		sources []eventbridge.Source
		body    []byte
		want    func(t *testing.T, runs []kant.Run)
		ignored string // a part of the reason
		err     string // a part of the EINVALID error
	}{
		{
			name: "a succeeded Glue run is stored as succeeded, finished and observed when the event happened", sources: []eventbridge.Source{hegel},
			body: read(t, "glue_job_succeeded.json"),
			want: func(t *testing.T, runs []kant.Run) {
				r := runs[0]
				at := time.Date(2026, 6, 10, 2, 10, 0, 0, time.UTC)
				if r.Job != "hegel/export_users" || !strings.HasPrefix(r.RunID, "jr_abcdef") || r.Attempt != 1 ||
					r.State != kant.StateSucceeded || r.SourceState != "SUCCEEDED" || !r.FinishedAt.Equal(at) ||
					!r.ObservedAt.Equal(at.Add(2)) || r.ErrorMessage != "" {
					t.Errorf("run = %+v", r)
				}
			},
		},
		{
			name: "a failed Glue retry keeps its message and its attempt from the run ID", sources: []eventbridge.Source{hegel},
			body: read(t, "glue_job_failed.json"),
			want: func(t *testing.T, runs []kant.Run) {
				if r := runs[0]; r.State != kant.StateFailed || r.Attempt != 2 || r.ErrorMessage != "ZeroDivisionError: division by zero" {
					t.Errorf("run = %+v", r)
				}
			},
		},
		{
			name: "a Glue run still running past NotifyDelayAfter is a running observation flagged with the delay", sources: []eventbridge.Source{hegel},
			body: read(t, "glue_job_run_status.json"),
			want: func(t *testing.T, runs []kant.Run) {
				if r := runs[0]; r.State != kant.StateRunning || r.Attributes[eventbridge.AttrNotifyDelayAfter] != "30" || !r.FinishedAt.IsZero() {
					t.Errorf("run = %+v", r)
				}
			},
		},
		{
			name: "an execution is named source/state machine, its run ID the execution ARN, its date from the input plus the offset", sources: []eventbridge.Source{states},
			body: read(t, "sfn_succeeded.json"),
			want: func(t *testing.T, runs []kant.Run) {
				r := runs[0]
				if r.Job != "flows/nightly-load" || r.RunID != "arn:aws:states:ap-northeast-1:123456789012:execution:nightly-load:run-2026-06-09" ||
					r.State != kant.StateSucceeded || r.Attempt != 1 ||
					!r.StartedAt.Equal(time.Date(2026, 6, 10, 1, 0, 2, 0, time.UTC)) ||
					!r.FinishedAt.Equal(time.Date(2026, 6, 10, 1, 39, 59, 500e6, time.UTC)) ||
					r.LogicalDate != (kant.Date{Year: 2026, Month: time.June, Day: 10}) {
					t.Errorf("run = %+v", r)
				}
			},
		},
		{
			name: "a failed, redriven execution is the next attempt with its error and cause", sources: []eventbridge.Source{states},
			body: read(t, "sfn_failed.json"),
			want: func(t *testing.T, runs []kant.Run) {
				if r := runs[0]; r.State != kant.StateFailed || r.Attempt != 2 || r.ErrorMessage != "States.TaskFailed: Glue job export_users failed" || !r.LogicalDate.IsZero() {
					t.Errorf("run = %+v", r)
				}
			},
		},
		{
			name: "a state machine selected by its ARN matches", sources: []eventbridge.Source{{Name: "flows", Kind: eventbridge.KindStepFunctions, Region: "ap-northeast-1",
				Jobs: []string{"arn:aws:states:ap-northeast-1:123456789012:stateMachine:nightly-load"}}},
			body: read(t, "sfn_running.json"),
			want: func(t *testing.T, runs []kant.Run) {
				if r := runs[0]; r.State != kant.StateRunning || !r.FinishedAt.IsZero() {
					t.Errorf("run = %+v", r)
				}
			},
		},
		{
			name:    "a source with no account matches every account, and two matching sources each get the run",
			sources: []eventbridge.Source{hegel, {Name: "anyacct", Kind: eventbridge.KindGlue, Region: "ap-northeast-1"}},
			body:    read(t, "glue_job_succeeded.json"),
			want: func(t *testing.T, runs []kant.Run) {
				if len(runs) != 2 || runs[0].Job != "hegel/export_users" || runs[1].Job != "anyacct/export_users" {
					t.Errorf("runs = %+v", runs)
				}
			},
		},
		{
			name: "an event from an account no source watches is ignored", sources: []eventbridge.Source{hegel},
			body:    edit(t, "glue_job_succeeded.json", func(e map[string]any) { e["account"] = "999999999999" }),
			ignored: "account 999999999999",
		},
		{
			name: "an event from another region is ignored", sources: []eventbridge.Source{hegel},
			body:    edit(t, "glue_job_succeeded.json", func(e map[string]any) { e["region"] = "us-east-1" }),
			ignored: "region us-east-1",
		},
		{
			name: "a job the source's globs do not select is ignored", sources: []eventbridge.Source{hegel},
			body:    edit(t, "glue_job_succeeded.json", func(e map[string]any) { detail(e)["jobName"] = "import_users" }),
			ignored: `"import_users"`,
		},
		{
			name: "a Glue event does not match a Step Functions source", sources: []eventbridge.Source{states},
			body: read(t, "glue_job_succeeded.json"), ignored: "no glue source",
		},
		{
			name: "an event that is not about a run is ignored", sources: []eventbridge.Source{hegel},
			body: read(t, "glue_crawler_state_change.json"), ignored: `"Glue Crawler State Change"`,
		},
		{
			name: "an event without a run ID is invalid", sources: []eventbridge.Source{hegel},
			body: edit(t, "glue_job_succeeded.json", func(e map[string]any) { delete(detail(e), "jobRunId") }),
			err:  "detail.jobRunId: required",
		},
		{
			name: "a detail of the wrong type is invalid and names the field", sources: []eventbridge.Source{states},
			body: edit(t, "sfn_running.json", func(e map[string]any) { detail(e)["startDate"] = "yesterday" }),
			err:  "detail.startDate",
		},
		{
			name: "a state machine ARN that is not one is invalid", sources: []eventbridge.Source{states},
			body: edit(t, "sfn_running.json", func(e map[string]any) { detail(e)["stateMachineArn"] = "nightly-load" }),
			err:  "detail.stateMachineArn",
		},
		{
			name: "an array of events is invalid: API destinations send one", sources: []eventbridge.Source{hegel},
			body: []byte("[" + string(read(t, "glue_job_succeeded.json")) + "]"), err: "got an array",
		},
		{
			name: "a body reshaped by an input transformer is invalid", sources: []eventbridge.Source{hegel},
			body: []byte(`{"job": "export_users", "state": "SUCCEEDED"}`), err: "detail-type: required",
		},
		{
			name: "a bad time is invalid", sources: []eventbridge.Source{hegel},
			body: edit(t, "glue_job_succeeded.json", func(e map[string]any) { e["time"] = "yesterday" }), err: "time: bad time",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, ignored, err := decoder(t, tt.sources...).DecodeEvent(context.Background(), tt.body, now)
			switch {
			case tt.err != "":
				if kant.ErrorCode(err) != kant.EINVALID || !strings.Contains(kant.ErrorMessage(err), tt.err) {
					t.Fatalf("err = %v, want EINVALID with %q", err, tt.err)
				}
				if runs != nil {
					t.Errorf("runs with an error: %+v", runs)
				}
			case tt.ignored != "":
				if err != nil || len(runs) != 0 || !strings.Contains(ignored, tt.ignored) {
					t.Fatalf("runs %+v, ignored %q, err %v; want ignored with %q", runs, ignored, err, tt.ignored)
				}
			default:
				if err != nil || ignored != "" || len(runs) == 0 {
					t.Fatalf("runs %+v, ignored %q, err %v", runs, ignored, err)
				}
				tt.want(t, runs)
			}
		})
	}
}

// store opens a real SQLite store: what decides a run's state is the
// store's rule, not the decoder's.
func store(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "kant.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// deliver decodes body as it arrives at arrival and stores its runs,
// returning how many were new.
func deliver(t *testing.T, d *eventbridge.Decoder, db *sqlite.DB, body []byte, arrival time.Time) int {
	t.Helper()
	runs, ignored, err := d.DecodeEvent(context.Background(), body, arrival)
	if err != nil || ignored != "" {
		t.Fatalf("decode: %v %s", err, ignored)
	}
	stored, err := db.WriteRuns(context.Background(), runs)
	if err != nil {
		t.Fatal(err)
	}
	return len(stored)
}

func latest(t *testing.T, db *sqlite.DB, job string) []kant.Run {
	t.Helper()
	runs, err := db.LatestRuns(context.Background(), kant.RunFilter{Jobs: []string{job}})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestAReplayedEventIsStoredOnce(t *testing.T) {
	for _, file := range []string{"glue_job_succeeded.json", "glue_job_run_status.json", "sfn_succeeded.json"} {
		t.Run(file, func(t *testing.T) {
			db, d := store(t), decoder(t, hegel, states)
			if n := deliver(t, d, db, read(t, file), now); n != 1 {
				t.Fatalf("first delivery stored %d, want 1", n)
			}
			// EventBridge's retry, or an archive replay, an hour later.
			if n := deliver(t, d, db, read(t, file), now.Add(time.Hour)); n != 0 {
				t.Fatalf("the replay stored %d, want 0", n)
			}
		})
	}
}

func TestAnOlderEventNeverOverwritesANewerState(t *testing.T) {
	tests := []struct {
		name          string
		first, second []byte
		want          kant.State
	}{
		{name: "an execution's RUNNING delivered after its SUCCEEDED leaves it succeeded",
			first: read(t, "sfn_succeeded.json"), second: read(t, "sfn_running.json"), want: kant.StateSucceeded},
		{name: "in order, the SUCCEEDED after the RUNNING is the state",
			first: read(t, "sfn_running.json"), second: read(t, "sfn_succeeded.json"), want: kant.StateSucceeded},
		{name: "a Glue run's late notice delivered after its success leaves it succeeded",
			first: read(t, "glue_job_succeeded.json"), second: read(t, "glue_job_run_status.json"), want: kant.StateSucceeded},
		{name: "of a RUNNING and a SUCCEEDED in the same second, delivered backwards, the success wins",
			first:  read(t, "sfn_succeeded.json"),
			second: edit(t, "sfn_running.json", func(e map[string]any) { e["time"] = "2026-06-10T01:40:00Z" }),
			want:   kant.StateSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, d := store(t), decoder(t, hegel, states)
			deliver(t, d, db, tt.first, now)
			if n := deliver(t, d, db, tt.second, now.Add(time.Minute)); n != 1 {
				t.Fatalf("the second event stored %d observations, want 1 (kept as history)", n)
			}
			runs := latest(t, db, "*")
			if len(runs) != 1 || runs[0].State != tt.want {
				t.Fatalf("latest = %+v, want one run %s", runs, tt.want)
			}
		})
	}
}

// glueRuns is a GlueRuns that answers one run or one error.
type glueRuns struct {
	run   kant.Run
	err   error
	calls int
}

func (g *glueRuns) JobRun(_ context.Context, job, runID string) (kant.Run, error) {
	g.calls++
	r := g.run
	r.Job, r.RunID = kant.NewJobKey("hegel", job), runID
	return r, g.err
}

func TestAGlueReadThatFails(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
	}{
		{name: "a throttled read fails the delivery as unavailable, so that EventBridge retries it",
			err: collector.Retryable(errors.New("ThrottlingException"), 0), code: kant.EUNAVAILABLE},
		{name: "a read that times out fails the delivery as unavailable", err: context.DeadlineExceeded, code: kant.EUNAVAILABLE},
		{name: "a read refused for good stores the event as it is", err: errors.New("AccessDeniedException")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := hegel
			src.Runs = &glueRuns{err: tt.err}
			runs, _, err := decoder(t, src).DecodeEvent(context.Background(), read(t, "glue_job_succeeded.json"), now)
			if tt.code != "" {
				if kant.ErrorCode(err) != tt.code || runs != nil {
					t.Fatalf("runs %v, err %v; want code %s", runs, err, tt.code)
				}
				return
			}
			if err != nil || len(runs) != 1 || runs[0].State != kant.StateSucceeded || !runs[0].StartedAt.IsZero() {
				t.Fatalf("runs %+v, err %v; want the event's run", runs, err)
			}
		})
	}
}

func TestAFinishedEventWinsOverAReadThatStillSaysRunning(t *testing.T) {
	started := now.Add(-2 * time.Hour)
	src := hegel
	src.Runs = &glueRuns{run: kant.Run{Source: "hegel", Attempt: 1, MaxAttempts: 2, State: kant.StateRunning, SourceState: "RUNNING",
		StartedAt: started, ObservedAt: now, LogicalDate: kant.Date{Year: 2026, Month: time.June, Day: 9}}}
	runs, _, err := decoder(t, src).DecodeEvent(context.Background(), read(t, "glue_job_failed.json"), now)
	if err != nil {
		t.Fatal(err)
	}
	r := runs[0]
	if r.State != kant.StateFailed || r.SourceState != "FAILED" || r.ErrorMessage == "" || !r.StartedAt.Equal(started) ||
		r.MaxAttempts != 2 || r.LogicalDate.IsZero() || !r.FinishedAt.Equal(time.Date(2026, 6, 10, 2, 20, 0, 0, time.UTC)) {
		t.Fatalf("run = %+v", r)
	}
}

func TestNewRejectsABadSource(t *testing.T) {
	for _, s := range []eventbridge.Source{
		{Name: "", Kind: eventbridge.KindGlue, Region: "r"},
		{Name: "a", Kind: "lambda", Region: "r"},
		{Name: "a", Kind: eventbridge.KindGlue},
		{Name: "a", Kind: eventbridge.KindStepFunctions, Region: "r", LogicalDatePath: "date"},
		{Name: "a", Kind: eventbridge.KindStepFunctions, Region: "r", LogicalDateOffset: time.Hour},
	} {
		if _, err := eventbridge.New(eventbridge.Config{Sources: []eventbridge.Source{s}}); kant.ErrorCode(err) != kant.EINVALID {
			t.Errorf("New(%+v) = %v, want EINVALID", s, err)
		}
	}
}

func TestRoleAccount(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:role/kant-reader":    "123456789012",
		"arn:aws-cn:iam::123456789012:role/path/kant":   "123456789012",
		"arn:aws:sts::123456789012:assumed-role/kant/x": "",
		"":                        "",
		"arn:aws:iam:::role/kant": "",
	} {
		if got := eventbridge.RoleAccount(arn); got != want {
			t.Errorf("RoleAccount(%q) = %q, want %q", arn, got, want)
		}
	}
}
