// Package lineage decodes OpenLineage RunEvents, as emitters send them to
// Marquez's POST /api/v1/lineage, into kant run observations. It owns the
// mapping from the OpenLineage model (spec 2-0-2 and the standard facets
// nominalTime, errorMessage, parent, jobType, ownership) to kant.Run, and
// nothing else: no HTTP, no storage. It imports only kant and the standard
// library, and must not import a cloud SDK, the store or the api package.
//
// The mapping (docs/openlineage.md says the same for users):
//
//   - source is job.namespace, which must be a kant source name (letters,
//     digits, '-', '_', '.'); the job key is namespace + "/" + job.name.
//     When Decoder.Sources is not nil, only those namespaces may push.
//   - run_id is run.runId, a UUID, in lower case. The attempt is 1: no
//     standard facet carries an attempt number, and emitters that retry (the
//     Airflow provider) give every try its own runId.
//   - eventType START and RUNNING are running, COMPLETE is succeeded, FAIL is
//     failed, ABORT is stopped; source_state is the eventType. OTHER, or no
//     eventType (the schema makes it optional), changes no state: the event
//     is validated and then skipped. So are JobEvents and DatasetEvents
//     (static lineage: their schemaURL says so, or they have neither a run
//     nor an eventType); an event with an eventType but no run is an error.
//   - eventTime is started_at for START and RUNNING, finished_at for
//     COMPLETE, FAIL and ABORT. Each event is decoded on its own: a COMPLETE
//     event yields a run with only finished_at (kant.Run.At falls back to
//     it); kant does not merge it with the START event at decode time. The
//     store keeps every observation, and the newest one is the run's state.
//   - logical_date comes from the nominalTime run facet: nominalEndTime when
//     present (Airflow sets it to data_interval_end, the cron tick, which is
//     kant's occurrence date in both Airflow 2 and 3), else nominalStartTime,
//     taken as an instant and dated in Decoder.Location (UTC by default).
//   - error_message is the errorMessage run facet's message, truncated to
//     kant.MaxErrorMessage bytes; programmingLanguage and stackTrace are not kept.
//   - attributes: parent_job (parent namespace/name, a kant job key) and
//     parent_run_id from the parent run facet; processing_type, integration
//     and job_type from the jobType job facet; owner, the first owner's name,
//     from the ownership job facet; producer, the event's producer URI. Tags
//     and every other facet are accepted and ignored.
//
// Unlike kant's own push format, unknown fields and facets are accepted:
// OpenLineage is extensible by design. The fields the schema requires
// (eventTime, producer, schemaURL, run.runId, job.namespace, job.name) and the
// facet fields kant reads are checked, and a problem is an EINVALID error
// naming the event's index in an array and its JSON path.
package lineage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// Decoder turns OpenLineage RunEvents into validated run observations. The
// zero Decoder accepts every namespace and dates runs in UTC.
type Decoder struct {
	// Sources, when not nil, lists the sources (OpenLineage namespaces)
	// that may push (none when empty); an event from any other namespace is
	// rejected. Nil accepts every namespace that is a valid source name.
	Sources []string
	// Location is the zone in which the nominal time is dated to give the
	// run's logical date (kant's configured timezone). Nil means UTC.
	Location *time.Location
}

// Event types of the OpenLineage RunEvent (the schema's eventType enum).
const (
	EventStart    = "START"
	EventRunning  = "RUNNING"
	EventComplete = "COMPLETE"
	EventAbort    = "ABORT"
	EventFail     = "FAIL"
	EventOther    = "OTHER"
)

// Attribute keys set on runs decoded from OpenLineage events.
const (
	AttrParentJob      = "parent_job"
	AttrParentRunID    = "parent_run_id"
	AttrProcessingType = "processing_type"
	AttrIntegration    = "integration"
	AttrJobType        = "job_type"
	AttrOwner          = "owner"
	AttrProducer       = "producer"
)

// states maps each eventType to a kant state; OTHER maps to "" (no change).
var states = map[string]kant.State{
	EventStart:    kant.StateRunning,
	EventRunning:  kant.StateRunning,
	EventComplete: kant.StateSucceeded,
	EventFail:     kant.StateFailed,
	EventAbort:    kant.StateStopped,
	EventOther:    "",
}

// event is the part of an OpenLineage event kant reads. Every other field
// (inputs, outputs, dataset facets...) is ignored.
type event struct {
	EventTime string  `json:"eventTime"`
	EventType *string `json:"eventType"`
	Producer  string  `json:"producer"`
	SchemaURL string  `json:"schemaURL"`
	Run       *run    `json:"run"`
	Job       *job    `json:"job"`
}

type run struct {
	RunID  string                     `json:"runId"`
	Facets map[string]json.RawMessage `json:"facets"`
}

type job struct {
	Namespace string                     `json:"namespace"`
	Name      string                     `json:"name"`
	Facets    map[string]json.RawMessage `json:"facets"`
}

// The facets kant reads, with only the fields it uses.
type (
	nominalTimeFacet struct {
		NominalStartTime string `json:"nominalStartTime"`
		NominalEndTime   string `json:"nominalEndTime"`
	}
	errorMessageFacet struct {
		Message string `json:"message"`
	}
	parentFacet struct {
		Run struct {
			RunID string `json:"runId"`
		} `json:"run"`
		Job struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"job"`
	}
	jobTypeFacet struct {
		ProcessingType string `json:"processingType"`
		Integration    string `json:"integration"`
		JobType        string `json:"jobType"`
	}
	ownershipFacet struct {
		Owners []struct {
			Name string `json:"name"`
		} `json:"owners"`
	}
)

// DecodeBody decodes a POST /api/v1/lineage body: one OpenLineage event
// object, or a JSON array of them (a convenience; emitters and Marquez send
// one). Either every event is valid and the runs of those that change a
// run's state are returned (OTHER events, events without an eventType, and
// JobEvents or DatasetEvents are skipped, so the result may be empty), or
// the error is an EINVALID *kant.Error naming the first bad event's index
// (in an array) and JSON path, e.g. "[1].run.runId: required".
func (d Decoder) DecodeBody(body []byte, now time.Time) ([]kant.Run, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, kant.Errorf(kant.EINVALID, "empty body: want an OpenLineage RunEvent object or an array of them")
	}
	if trimmed[0] != '[' {
		r, ok, err := d.decodeEvent(trimmed, now)
		if err != nil || !ok {
			return nil, err
		}
		return []kant.Run{r}, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, kant.Errorf(kant.EINVALID, "bad JSON: %s", jsonMessage(err, ""))
	}
	if len(raw) == 0 {
		return nil, kant.Errorf(kant.EINVALID, "empty array: want at least one event")
	}
	runs := make([]kant.Run, 0, len(raw))
	for i, m := range raw {
		r, ok, err := d.decodeEvent(m, now)
		if err != nil {
			return nil, kant.Errorf(kant.EINVALID, "[%d].%s", i, kant.ErrorMessage(err))
		}
		if ok {
			runs = append(runs, r)
		}
	}
	return runs, nil
}

// decodeEvent decodes one event. ok is false for a valid event that changes
// no run's state.
func (d Decoder) decodeEvent(b []byte, now time.Time) (r kant.Run, ok bool, err error) {
	var e event
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&e); err != nil {
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "%s", jsonMessage(err, ""))
	}
	// More is false before a '}' or ']', which must not be taken for the
	// end of the input either.
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "bad JSON: more than one value")
	}
	// Fields every OpenLineage event requires (BaseEvent).
	switch {
	case e.EventTime == "":
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "eventTime: required")
	case e.Producer == "":
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "producer: required")
	case e.SchemaURL == "":
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "schemaURL: required")
	}
	at, err := parseTime("eventTime", e.EventTime)
	if err != nil {
		return kant.Run{}, false, err
	}
	if latest := now.UTC().Add(366 * 24 * time.Hour); at.Before(earliest) || at.After(latest) {
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "eventTime: %s is not between %s and %s",
			at.Format(time.RFC3339), earliest.Format(time.RFC3339), latest.Format(time.RFC3339))
	}
	// Static lineage (JobEvent, DatasetEvent) shares the endpoint in Marquez;
	// it says nothing about runs.
	if staticEvent(e) {
		return kant.Run{}, false, nil
	}

	eventType := EventOther // the schema makes eventType optional
	if e.EventType != nil {
		eventType = *e.EventType
	}
	state, known := states[eventType]
	if !known {
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "eventType: unknown %q (valid: START, RUNNING, COMPLETE, ABORT, FAIL, OTHER)", eventType)
	}

	switch {
	case e.Run == nil:
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "run: required")
	case e.Run.RunID == "":
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "run.runId: required")
	case !isUUID(e.Run.RunID):
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "run.runId: %q is not a UUID", clip(e.Run.RunID))
	case e.Job == nil:
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "job: required")
	case e.Job.Namespace == "":
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "job.namespace: required")
	case e.Job.Name == "":
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "job.name: required")
	case !validSourceName(e.Job.Namespace):
		return kant.Run{}, false, kant.Errorf(kant.EINVALID,
			"job.namespace: %q is not a kant source name (use letters, digits, '-', '_' or '.'): "+
				"set the emitter's namespace to the source name, e.g. AIRFLOW__OPENLINEAGE__NAMESPACE or OPENLINEAGE_NAMESPACE",
			clip(e.Job.Namespace))
	case d.Sources != nil && !contains(d.Sources, e.Job.Namespace):
		sources := "no source is configured with type push"
		if len(d.Sources) > 0 {
			sources = "push sources: " + strings.Join(d.Sources, ", ")
		}
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "job.namespace: %q is not a push source (%s)", e.Job.Namespace, sources)
	case len(e.Job.Namespace)+1+len(e.Job.Name) > kant.MaxIDLength:
		return kant.Run{}, false, kant.Errorf(kant.EINVALID, "job.name: namespace/name is longer than %d bytes", kant.MaxIDLength)
	}
	if state == "" {
		return kant.Run{}, false, nil
	}

	r = kant.Run{
		Source:      e.Job.Namespace,
		Job:         kant.NewJobKey(e.Job.Namespace, e.Job.Name),
		RunID:       strings.ToLower(e.Run.RunID),
		Attempt:     1,
		State:       state,
		SourceState: eventType,
		ObservedAt:  now,
	}
	if state == kant.StateRunning {
		r.StartedAt = at
	} else {
		r.FinishedAt = at
	}
	attrs := map[string]string{AttrProducer: e.Producer}
	if err := d.runFacets(e.Run.Facets, &r, attrs, now); err != nil {
		return kant.Run{}, false, err
	}
	if err := jobFacets(e.Job.Facets, attrs); err != nil {
		return kant.Run{}, false, err
	}
	r.Attributes = attrs
	if err := r.Validate(); err != nil {
		return kant.Run{}, false, err
	}
	return r, true, nil
}

// runFacets reads the run facets kant knows into r and attrs.
func (d Decoder) runFacets(facets map[string]json.RawMessage, r *kant.Run, attrs map[string]string, now time.Time) error {
	var nt nominalTimeFacet
	if err := facet(facets, "run.facets", "nominalTime", &nt); err != nil {
		return err
	}
	nominal, field := nt.NominalEndTime, "nominalEndTime"
	if nominal == "" {
		nominal, field = nt.NominalStartTime, "nominalStartTime"
	}
	if nominal != "" {
		path := "run.facets.nominalTime." + field
		t, err := parseTime(path, nominal)
		if err != nil {
			return err
		}
		loc := d.Location
		if loc == nil {
			loc = time.UTC
		}
		r.LogicalDate = kant.DateOf(t.In(loc))
		if latest := kant.DateOf(now.In(loc)).AddDays(366); r.LogicalDate.Before(earliestDate) || r.LogicalDate.After(latest) {
			return kant.Errorf(kant.EINVALID, "%s: date %s is not between %s and %s", path, r.LogicalDate, earliestDate, latest)
		}
	}

	var em errorMessageFacet
	if err := facet(facets, "run.facets", "errorMessage", &em); err != nil {
		return err
	}
	r.ErrorMessage = em.Message // Validate truncates it

	var p parentFacet
	if err := facet(facets, "run.facets", "parent", &p); err != nil {
		return err
	}
	if p.Job.Namespace != "" && p.Job.Name != "" {
		attrs[AttrParentJob] = string(kant.NewJobKey(p.Job.Namespace, p.Job.Name))
	}
	if p.Run.RunID != "" {
		attrs[AttrParentRunID] = strings.ToLower(p.Run.RunID)
	}
	return nil
}

// jobFacets reads the job facets kant knows into attrs.
func jobFacets(facets map[string]json.RawMessage, attrs map[string]string) error {
	var jt jobTypeFacet
	if err := facet(facets, "job.facets", "jobType", &jt); err != nil {
		return err
	}
	setIf(attrs, AttrProcessingType, jt.ProcessingType)
	setIf(attrs, AttrIntegration, jt.Integration)
	setIf(attrs, AttrJobType, jt.JobType)

	var own ownershipFacet
	if err := facet(facets, "job.facets", "ownership", &own); err != nil {
		return err
	}
	if len(own.Owners) > 0 {
		setIf(attrs, AttrOwner, own.Owners[0].Name)
	}
	return nil
}

// facet decodes facets[name] into v when present (null counts as absent).
// A facet kant reads that has the wrong shape is an error naming its path.
func facet(facets map[string]json.RawMessage, prefix, name string, v any) error {
	raw, ok := facets[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return kant.Errorf(kant.EINVALID, "%s", jsonMessage(err, prefix+"."+name))
	}
	return nil
}

// staticEvent reports whether e is a JobEvent or a DatasetEvent rather than
// a RunEvent: its schemaURL says so, or it has neither a run nor an
// eventType (the schema reads such an event as a JobEvent or DatasetEvent).
// An event with an eventType but no run claims a run transition and is
// decoded, to fail on the missing run.
func staticEvent(e event) bool {
	_, frag, _ := strings.Cut(e.SchemaURL, "#")
	switch {
	case strings.HasSuffix(frag, "/JobEvent"), strings.HasSuffix(frag, "/DatasetEvent"):
		return true
	case e.Run == nil && e.EventType == nil:
		return true
	}
	return false
}

// earliest is the earliest event time accepted; earliestDate the earliest
// logical date.
var (
	earliest     = time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)
	earliestDate = kant.DateOf(earliest)
)

// parseTime parses an RFC 3339 time (the schema's date-time format), which
// must carry a zone offset.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, kant.Errorf(kant.EINVALID,
			"%s: bad time %q: want RFC 3339 with a zone offset, e.g. 2026-06-01T16:00:05.123Z", field, clip(s))
	}
	return t.UTC(), nil
}

// isUUID reports whether s is a UUID in its textual form
// (8-4-4-4-12 hex digits, either case).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// validSourceName reports whether s is a name kant's config accepts for a
// source: letters, digits, '-', '_' and '.'.
func validSourceName(s string) bool {
	if s == "" || len(s) > kant.MaxIDLength {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func setIf(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return kant.Truncate(s, max) + "…"
}

// jsonMessage rewrites encoding/json errors as "path: problem", the path
// prefixed by prefix (the facet's path) when not empty.
func jsonMessage(err error, prefix string) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if prefix != "" {
			field = strings.TrimSuffix(prefix+"."+field, ".")
		}
		if field != "" {
			return fmt.Sprintf("%s: want %s, got %s", field, jsonType(te.Type.String()), te.Value)
		}
		return fmt.Sprintf("want a JSON object, got %s", te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("bad JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "bad JSON: unexpected end of input"
	}
	return "bad JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

// jsonType names a Go type as the JSON type it decodes from.
func jsonType(goType string) string {
	switch {
	case goType == "string":
		return "string"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"),
		strings.HasPrefix(goType, "lineage."), strings.HasPrefix(goType, "*lineage."):
		return "object"
	}
	return goType
}
