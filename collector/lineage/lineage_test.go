package lineage_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector/lineage"
)

var now = time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)

// event returns a testdata event, with each old→new replacement applied
// (every old string must occur, so that a stale edit fails loudly).
func event(t *testing.T, name string, edits ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("%s does not contain %q", name, edits[i])
		}
		s = strings.ReplaceAll(s, edits[i], edits[i+1])
	}
	return s
}

func array(events ...string) string { return "[" + strings.Join(events, ",") + "]" }

const (
	airflowProducer = "https://github.com/apache/airflow/tree/providers-openlineage/2.3.0"
	sparkProducer   = "https://github.com/OpenLineage/OpenLineage/tree/1.34.0/integration/spark"
	loadUsersRunID  = "01972c3e-5a10-7b3c-9f1e-2d4c6a8b0e12"
)

// airflowAttrs are the attributes of the Airflow task events in testdata.
func airflowAttrs() map[string]string {
	return map[string]string{
		"producer": airflowProducer, "parent_job": "socrates/daily_load",
		"parent_run_id": "01972c3e-4f00-7a11-8c2d-3e5f7a9b1c24", "processing_type": "BATCH",
		"integration": "AIRFLOW", "job_type": "TASK", "owner": "data-platform",
	}
}

func loadUsers(state kant.State, sourceState string) kant.Run {
	return kant.Run{
		Source: "socrates", Job: "socrates/daily_load.load_users", RunID: loadUsersRunID, Attempt: 1,
		State: state, SourceState: sourceState, LogicalDate: kant.Date{Year: 2026, Month: 6, Day: 1},
		ObservedAt: now, Attributes: airflowAttrs(),
	}
}

// spec says what the OpenLineage schema makes of a test body.
type spec int

const (
	specValid   spec = iota + 1 // the schema accepts the body
	specInvalid                 // the schema rejects it too
	notAnEvent                  // not an event body at all (empty, broken JSON)
)

func TestDecodeBody(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	start := loadUsers(kant.StateRunning, "START")
	start.StartedAt = time.Date(2026, 6, 1, 16, 0, 7, 412345000, time.UTC)
	complete := loadUsers(kant.StateSucceeded, "COMPLETE")
	complete.FinishedAt = time.Date(2026, 6, 1, 16, 12, 41, 100000000, time.UTC)
	startTokyo := start
	startTokyo.LogicalDate = kant.Date{Year: 2026, Month: 6, Day: 2}
	failed := kant.Run{
		Source: "socrates", Job: "socrates/daily_load.export_items", RunID: "01972c3e-6b20-7c4d-a02f-3e5d7b9c1f23",
		Attempt: 1, State: kant.StateFailed, SourceState: "FAIL", LogicalDate: kant.Date{Year: 2026, Month: 6, Day: 1},
		FinishedAt:   time.Date(2026, 6, 1, 16, 5, 30, 0, time.UTC),
		ErrorMessage: "google.api_core.exceptions.NotFound: 404 Not found: Table my-project:warehouse.items",
		ObservedAt:   now,
		Attributes:   map[string]string{"producer": airflowProducer, "processing_type": "BATCH", "integration": "AIRFLOW", "job_type": "TASK"},
	}
	aborted := kant.Run{
		Source: "onprem", Job: "onprem/nightly_export", RunID: "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", Attempt: 1,
		State: kant.StateStopped, SourceState: "ABORT", FinishedAt: time.Date(2026, 6, 1, 19, 45, 0, 0, time.UTC),
		ObservedAt: now, Attributes: map[string]string{"producer": sparkProducer},
	}

	tests := []struct {
		name     string
		sources  []string
		location *time.Location
		body     string
		spec     spec
		want     []kant.Run
		wantErr  string // substring of the error; empty: no error
	}{
		{
			name: "an Airflow task's START is a running run, dated by its nominal end time, with parent, type and owner",
			body: event(t, "airflow_task_start.json"), spec: specValid,
			want: []kant.Run{start},
		},
		{
			name: "an Airflow task's COMPLETE is a succeeded run that knows only its end",
			body: event(t, "airflow_task_complete.json"), spec: specValid,
			want: []kant.Run{complete},
		},
		{
			name: "START then COMPLETE in one array are two observations of the same run",
			body: array(event(t, "airflow_task_start.json"), event(t, "airflow_task_complete.json")), spec: specValid,
			want: []kant.Run{start, complete},
		},
		{
			name: "the nominal time is dated in the configured zone",
			body: event(t, "airflow_task_start.json"), spec: specValid, location: tokyo,
			want: []kant.Run{startTokyo},
		},
		{
			name: "a FAIL carries the errorMessage facet's message and is dated by nominalStartTime when there is no end",
			body: event(t, "airflow_task_fail.json"), spec: specValid,
			want: []kant.Run{failed},
		},
		{
			name: "an ABORT is a stopped run, without a date when it has no nominal time",
			body: event(t, "spark_abort.json"), spec: specValid,
			want: []kant.Run{aborted},
		},
		{
			name: "a RUNNING event is a running run started at the event time",
			body: event(t, "spark_abort.json", `"ABORT"`, `"RUNNING"`), spec: specValid,
			want: []kant.Run{func() kant.Run {
				r := aborted
				r.State, r.SourceState, r.StartedAt, r.FinishedAt = kant.StateRunning, "RUNNING", aborted.FinishedAt, time.Time{}
				return r
			}()},
		},
		{
			name: "an OTHER event changes nothing and is skipped without error",
			body: event(t, "spark_other.json"), spec: specValid,
			want: []kant.Run{},
		},
		{
			name: "an event without eventType is skipped like OTHER",
			body: event(t, "spark_abort.json", `"eventType": "ABORT",`, ``), spec: specValid,
			want: []kant.Run{},
		},
		{
			name: "a JobEvent (static lineage) is skipped without error",
			body: event(t, "job_event.json"), spec: specValid,
			want: []kant.Run{},
		},
		{
			name: "a DatasetEvent (static lineage) is skipped without error",
			body: `{"eventTime": "2026-06-01T12:00:00Z", "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.34.0/client/python",
				"schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
				"dataset": {"namespace": "s3://exports", "name": "orders"}}`,
			spec: specValid, want: []kant.Run{},
		},
		{
			name: "an event with neither run nor eventType is read as a JobEvent whatever its schemaURL, and skipped",
			body: event(t, "job_event.json", "#/$defs/JobEvent", "#/$defs/RunEvent"),
			spec: specValid, want: []kant.Run{},
		},
		{
			// The schema reads it as a JobEvent; kant, stricter, takes the
			// eventType as a claim that a run changed state.
			name: "an event with an eventType but no run is named",
			body: event(t, "spark_abort.json", `"run": {"runId": "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"},`, ``),
			spec: specValid, wantErr: "run: required",
		},
		{
			name: "an OTHER event between two state changes is left out of the runs",
			body: array(event(t, "airflow_task_start.json"), event(t, "spark_other.json"), event(t, "spark_abort.json")), spec: specValid,
			want: []kant.Run{start, aborted},
		},
		{
			name: "unknown fields and custom facets are accepted",
			body: event(t, "spark_abort.json", `"inputs": [],`, `"inputs": [], "x-emitter": {"version": 3},`,
				`"run": {"runId": "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"}`,
				`"run": {"runId": "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "facets": {"myCompany_cost": {"_producer": "https://example.com/emitter", "_schemaURL": "https://example.com/cost.json", "usd": 1.25}}}`),
			spec: specValid,
			want: []kant.Run{aborted},
		},
		{
			name: "a run id in upper case is stored in lower case",
			body: event(t, "spark_abort.json", "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "3F9A1C2E-8B7D-4E6F-9A0B-1C2D3E4F5A6B"), spec: specValid,
			want: []kant.Run{aborted},
		},
		{
			name: "an array with one bad element is rejected whole, naming its index and path",
			body: array(event(t, "airflow_task_start.json"), event(t, "spark_abort.json", `"runId": "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"`, ``)),
			spec: specInvalid, wantErr: "[1].run.runId: required",
		},
		{
			name: "a closing brace after the event is rejected",
			body: event(t, "spark_abort.json") + "}", spec: notAnEvent, wantErr: "bad JSON: more than one value",
		},
		{
			name: "a closing bracket after the event is rejected",
			body: event(t, "spark_abort.json") + "\n]", spec: notAnEvent, wantErr: "bad JSON: more than one value",
		},
		{
			name: "a missing runId is named",
			body: event(t, "spark_abort.json", `"runId": "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"`, ``),
			spec: specInvalid, wantErr: "run.runId: required",
		},
		{
			name: "a runId that is not a UUID is named",
			body: event(t, "spark_abort.json", "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "application_1717000000_0042"),
			spec: specInvalid, wantErr: `run.runId: "application_1717000000_0042" is not a UUID`,
		},
		{
			name: "a namespace that is not a kant source name asks to set the emitter's namespace",
			body: event(t, "spark_abort.json", `"namespace": "onprem"`, `"namespace": "spark://yarn-prod"`),
			spec: specValid, wantErr: `job.namespace: "spark://yarn-prod" is not a kant source name (use letters, digits, '-', '_' or '.'): set the emitter's namespace`,
		},
		{
			name:    "a namespace that is not among the push sources is rejected",
			sources: []string{"onprem"}, body: event(t, "airflow_task_start.json"),
			spec: specValid, wantErr: `job.namespace: "socrates" is not a push source (push sources: onprem)`,
		},
		{
			name:    "an OTHER event from a namespace that may not push is rejected too",
			sources: []string{"socrates"}, body: event(t, "spark_other.json"),
			spec: specValid, wantErr: `job.namespace: "onprem" is not a push source`,
		},
		{
			name:    "a namespace among the push sources is accepted",
			sources: []string{"hegel", "onprem"}, body: event(t, "spark_abort.json"), spec: specValid,
			want: []kant.Run{aborted},
		},
		{
			name: "an eventTime years ahead is rejected",
			body: event(t, "spark_abort.json", "2026-06-01T19:45:00.000Z", "2030-01-01T00:00:00Z"),
			spec: specValid, wantErr: "eventTime: 2030-01-01T00:00:00Z is not between 1970-01-01T00:00:00Z and 2027-06-03T00:00:00Z",
		},
		{
			name: "an eventTime before 1970 is rejected",
			body: event(t, "spark_abort.json", "2026-06-01T19:45:00.000Z", "0001-01-01T00:00:00Z"),
			spec: specValid, wantErr: "eventTime: 0001-01-01T00:00:00Z is not between",
		},
		{
			name: "an eventTime without a zone offset is rejected",
			body: event(t, "spark_abort.json", "2026-06-01T19:45:00.000Z", "2026-06-01T19:45:00.000"),
			spec: specInvalid, wantErr: `eventTime: bad time "2026-06-01T19:45:00.000": want RFC 3339 with a zone offset`,
		},
		{
			name: "a missing eventTime is named",
			body: event(t, "spark_abort.json", `"eventTime": "2026-06-01T19:45:00.000Z",`, ``),
			spec: specInvalid, wantErr: "eventTime: required",
		},
		{
			name: "a missing producer is named",
			body: event(t, "spark_abort.json", `"producer": "`+sparkProducer+`",`, ``),
			spec: specInvalid, wantErr: "producer: required",
		},
		{
			name: "a missing schemaURL is named",
			body: event(t, "spark_abort.json", `"schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",`, ``),
			spec: specInvalid, wantErr: "schemaURL: required",
		},
		{
			name: "a missing job name is named",
			body: event(t, "spark_abort.json", `"name": "nightly_export"`, `"nameX": "nightly_export"`),
			spec: specInvalid, wantErr: "job.name: required",
		},
		{
			name: "a missing job is named",
			body: event(t, "spark_abort.json", `"job": {"namespace": "onprem", "name": "nightly_export"},`, ``),
			spec: specInvalid, wantErr: "job: required",
		},
		{
			name: "an unknown eventType is named with the valid ones",
			body: event(t, "spark_abort.json", `"ABORT"`, `"CANCELLED"`),
			spec: specInvalid, wantErr: `eventType: unknown "CANCELLED" (valid: START, RUNNING, COMPLETE, ABORT, FAIL, OTHER)`,
		},
		{
			name: "a wrong type names its path",
			body: event(t, "spark_abort.json", `"runId": "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"`, `"runId": 42`),
			spec: specInvalid, wantErr: "run.runId: want string, got number",
		},
		{
			name: "a facet kant reads with a wrong type names its path",
			body: event(t, "airflow_task_start.json", `"nominalEndTime": "2026-06-01T16:00:00+00:00"`, `"nominalEndTime": 1780329600`),
			spec: specInvalid, wantErr: "run.facets.nominalTime.nominalEndTime: want string, got number",
		},
		{
			name: "a facet kant reads with a bad time names its path",
			body: event(t, "airflow_task_start.json", `"nominalEndTime": "2026-06-01T16:00:00+00:00"`, `"nominalEndTime": "tomorrow"`),
			spec: specInvalid, wantErr: `run.facets.nominalTime.nominalEndTime: bad time "tomorrow"`,
		},
		{
			name: "a nominal time years ahead is rejected",
			body: event(t, "airflow_task_start.json", `"nominalEndTime": "2026-06-01T16:00:00+00:00"`, `"nominalEndTime": "2031-06-01T16:00:00+00:00"`),
			spec: specValid, wantErr: "run.facets.nominalTime.nominalEndTime: date 2031-06-01 is not between 1970-01-01 and 2027-06-03",
		},
		{name: "an empty array is rejected", body: `[]`, spec: notAnEvent, wantErr: "empty array"},
		{name: "an empty body is rejected", body: " \n", spec: notAnEvent, wantErr: "empty body"},
		{name: "broken JSON is a JSON error", body: `{"eventTime":`, spec: notAnEvent, wantErr: "bad JSON"},
		{name: "a JSON value that is not an object is rejected", body: `"START"`, spec: notAnEvent, wantErr: "want a JSON object, got string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch err := validateSpec(t, tt.body); {
			case tt.spec == specValid && err != nil:
				t.Fatalf("test input is not a valid OpenLineage event: %v", err)
			case tt.spec == specInvalid && err == nil:
				t.Fatal("test input is valid OpenLineage; the case means to test what the spec rejects")
			}

			d := lineage.Decoder{Sources: tt.sources, Location: tt.location}
			runs, err := d.DecodeBody([]byte(tt.body), now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if kant.ErrorCode(err) != kant.EINVALID {
					t.Errorf("code = %s, want invalid", kant.ErrorCode(err))
				}
				if runs != nil {
					t.Errorf("runs = %v, want none with an error", runs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != len(tt.want) {
				t.Fatalf("got %d runs, want %d: %+v", len(runs), len(tt.want), runs)
			}
			for i := range runs {
				if !reflect.DeepEqual(runs[i], tt.want[i]) {
					t.Errorf("run %d:\n got %+v\nwant %+v", i, runs[i], tt.want[i])
				}
			}
		})
	}
}

func TestDecodedRunsAreValidAndDistinctObservations(t *testing.T) {
	body := array(event(t, "airflow_task_start.json"), event(t, "airflow_task_complete.json"))
	runs, err := lineage.Decoder{}.DecodeBody([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("got %d runs, want 2", len(runs))
	}
	if runs[0].Key() != runs[1].Key() {
		t.Errorf("START and COMPLETE are different runs: %v and %v", runs[0].Key(), runs[1].Key())
	}
	if runs[0].SameObservation(runs[1]) {
		t.Error("COMPLETE says the same as START; the store would drop it")
	}
	for i, r := range runs {
		if err := r.Validate(); err != nil {
			t.Errorf("run %d does not validate: %v", i, err)
		}
	}
	// The end-only observation is attributed by its end time.
	if got, want := runs[1].At(), runs[1].FinishedAt; !got.Equal(want) {
		t.Errorf("At() = %v, want the finish %v", got, want)
	}
}

func TestErrorMessagesAreTruncated(t *testing.T) {
	long := strings.Repeat("x", kant.MaxErrorMessage+100)
	body := event(t, "airflow_task_fail.json",
		`"message": "google.api_core.exceptions.NotFound: 404 Not found: Table my-project:warehouse.items"`,
		`"message": "`+long+`"`)
	if err := validateSpec(t, body); err != nil {
		t.Fatalf("test input is not a valid OpenLineage event: %v", err)
	}
	runs, err := lineage.Decoder{}.DecodeBody([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(runs[0].ErrorMessage); got != kant.MaxErrorMessage {
		t.Errorf("error message is %d bytes, want %d", got, kant.MaxErrorMessage)
	}
}

func BenchmarkDecodeBodyAirflowEvent(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "airflow_task_start.json"))
	if err != nil {
		b.Fatal(err)
	}
	d := lineage.Decoder{Sources: []string{"socrates"}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.DecodeBody(body, now); err != nil {
			b.Fatal(err)
		}
	}
}
