package eventbridge

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

// Kind says which service an event is about.
type Kind string

// The kinds of events kant reads. Any other event is KindOther: valid as
// an EventBridge event, but not about a run kant watches (a crawler, a
// catalog change), and ignored.
const (
	KindGlue          Kind = "glue"
	KindStepFunctions Kind = "stepfunctions"
	KindOther         Kind = ""
)

// The detail types kant reads, by their EventBridge detail-type and source.
const (
	GlueJobStateChange  = "Glue Job State Change"                  // aws.glue: SUCCEEDED, FAILED, TIMEOUT, STOPPED
	GlueJobRunStatus    = "Glue Job Run Status"                    // aws.glue: still running after the job's NotifyDelayAfter
	SFNExecutionChange  = "Step Functions Execution Status Change" // aws.states: every execution status
	sourceGlue          = "aws.glue"
	sourceStepFunctions = "aws.states"
)

// Event is what kant reads of one EventBridge event.
type Event struct {
	ID         string
	DetailType string
	Source     string // the event's source: aws.glue, aws.states
	Account    string
	Region     string
	Time       time.Time // when the event happened, to the second

	Kind Kind
	// Job is the Glue job name or the state machine's name;
	// StateMachineARN is the state machine's ARN (Step Functions only).
	Job             string
	StateMachineARN string
	// RunID is the Glue job run ID or the execution ARN.
	RunID       string
	State       kant.State
	SourceState string // Glue's state or the execution's status, as sent
	Message     string // Glue's message, or the execution's error and cause
	// NotifyDelayAfter, for a Glue Job Run Status event, is the job's
	// delay threshold in minutes that the run has exceeded.
	NotifyDelayAfter float64
	// StartedAt and StoppedAt are the execution's startDate and stopDate
	// (Step Functions only).
	StartedAt, StoppedAt time.Time
	// Input is the execution's input when the event includes it.
	Input        string
	RedriveCount int
}

// Late reports whether the event is Glue's signal that the run is still
// running past the job's NotifyDelayAfter.
func (e Event) Late() bool { return e.DetailType == GlueJobRunStatus }

// envelope is the EventBridge event structure (the AWSEvent of the schema
// registry's schemas). Detail is decoded by kind.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

type glueDetail struct {
	JobName               string `json:"jobName"`
	JobRunID              string `json:"jobRunId"`
	State                 string `json:"state"`
	Severity              string `json:"severity"`
	Message               string `json:"message"`
	NotificationCondition *struct {
		NotifyDelayAfter float64 `json:"NotifyDelayAfter"`
	} `json:"notificationCondition"`
}

type sfnDetail struct {
	ExecutionARN    string   `json:"executionArn"`
	StateMachineARN string   `json:"stateMachineArn"`
	Name            string   `json:"name"`
	Status          string   `json:"status"`
	StartDate       *float64 `json:"startDate"`
	StopDate        *float64 `json:"stopDate"`
	Input           *string  `json:"input"`
	Error           *string  `json:"error"`
	Cause           *string  `json:"cause"`
	RedriveCount    int      `json:"redriveCount"`
}

// glueStates maps Glue's JobRunState to kant's (DESIGN.md "Run states"),
// as collector/glue does for polled runs.
var glueStates = map[string]kant.State{
	"STARTING": kant.StateQueued, "WAITING": kant.StateQueued,
	"RUNNING": kant.StateRunning, "STOPPING": kant.StateRunning,
	"SUCCEEDED": kant.StateSucceeded,
	"FAILED":    kant.StateFailed, "ERROR": kant.StateFailed, "EXPIRED": kant.StateFailed,
	"TIMEOUT": kant.StateTimeout,
	"STOPPED": kant.StateStopped,
}

// sfnStates maps an execution's status to kant's. PENDING_REDRIVE (a
// redrive was asked for and has not started) is queued.
var sfnStates = map[string]kant.State{
	"RUNNING":         kant.StateRunning,
	"PENDING_REDRIVE": kant.StateQueued,
	"SUCCEEDED":       kant.StateSucceeded,
	"FAILED":          kant.StateFailed,
	"TIMED_OUT":       kant.StateTimeout,
	"ABORTED":         kant.StateStopped,
}

// Decode decodes one EventBridge event as an API destination delivers it
// (the event itself, untransformed). An event that is not about a run kant
// reads comes back with KindOther and no error. A malformed event, or one
// of a kind kant reads that lacks what kant needs (a job name, a run ID, a
// state), is an EINVALID error naming the field by its JSON path. A state
// kant does not know is StateUnknown, as for polled runs.
func Decode(body []byte) (Event, error) {
	var env envelope
	if err := decodeJSON(body, &env); err != nil {
		return Event{}, err
	}
	switch {
	case env.DetailType == "":
		return Event{}, kant.Errorf(kant.EINVALID, "detail-type: required (is this an EventBridge event? an input transformer must not reshape it)")
	case env.Source == "":
		return Event{}, kant.Errorf(kant.EINVALID, "source: required")
	case env.Account == "":
		return Event{}, kant.Errorf(kant.EINVALID, "account: required")
	case env.Region == "":
		return Event{}, kant.Errorf(kant.EINVALID, "region: required")
	case env.Time == "":
		return Event{}, kant.Errorf(kant.EINVALID, "time: required")
	}
	at, err := time.Parse(time.RFC3339Nano, env.Time)
	if err != nil {
		return Event{}, kant.Errorf(kant.EINVALID, "time: bad time %q: want RFC 3339", clip(env.Time))
	}
	if at.Year() < 1970 {
		return Event{}, kant.Errorf(kant.EINVALID, "time: %s is before 1970", clip(env.Time))
	}
	e := Event{ID: env.ID, DetailType: env.DetailType, Source: env.Source, Account: env.Account, Region: env.Region, Time: at.UTC()}
	switch {
	case env.Source == sourceGlue && (env.DetailType == GlueJobStateChange || env.DetailType == GlueJobRunStatus):
		e.Kind = KindGlue
		err = e.glue(env.Detail)
	case env.Source == sourceStepFunctions && env.DetailType == SFNExecutionChange:
		e.Kind = KindStepFunctions
		err = e.stepFunctions(env.Detail)
	default:
		return e, nil
	}
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

func (e *Event) glue(raw json.RawMessage) error {
	var d glueDetail
	if err := decodeDetail(raw, &d); err != nil {
		return err
	}
	switch {
	case d.JobName == "":
		return kant.Errorf(kant.EINVALID, "detail.jobName: required")
	case d.JobRunID == "":
		return kant.Errorf(kant.EINVALID, "detail.jobRunId: required")
	case d.State == "":
		return kant.Errorf(kant.EINVALID, "detail.state: required")
	}
	e.Job, e.RunID, e.SourceState = d.JobName, d.JobRunID, d.State
	e.State = kant.StateUnknown
	if s, ok := glueStates[d.State]; ok {
		e.State = s
	}
	if e.State.Failed() {
		e.Message = d.Message // otherwise it only restates the state
	}
	if e.Late() {
		if d.NotificationCondition == nil {
			return kant.Errorf(kant.EINVALID, "detail.notificationCondition: required in a %s event", GlueJobRunStatus)
		}
		e.NotifyDelayAfter = d.NotificationCondition.NotifyDelayAfter
		if e.State.Terminal() {
			return kant.Errorf(kant.EINVALID, "detail.state: %q: a %s event is about a run still going", d.State, GlueJobRunStatus)
		}
	}
	return nil
}

func (e *Event) stepFunctions(raw json.RawMessage) error {
	var d sfnDetail
	if err := decodeDetail(raw, &d); err != nil {
		return err
	}
	switch {
	case d.ExecutionARN == "":
		return kant.Errorf(kant.EINVALID, "detail.executionArn: required")
	case d.StateMachineARN == "":
		return kant.Errorf(kant.EINVALID, "detail.stateMachineArn: required")
	case d.Status == "":
		return kant.Errorf(kant.EINVALID, "detail.status: required")
	}
	name, ok := StateMachineName(d.StateMachineARN)
	if !ok {
		return kant.Errorf(kant.EINVALID, "detail.stateMachineArn: %q is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)", clip(d.StateMachineARN))
	}
	if !strings.HasPrefix(d.ExecutionARN, "arn:") {
		return kant.Errorf(kant.EINVALID, "detail.executionArn: %q is not an ARN", clip(d.ExecutionARN))
	}
	e.Job, e.StateMachineARN, e.RunID, e.SourceState = name, d.StateMachineARN, d.ExecutionARN, d.Status
	e.State = kant.StateUnknown
	if s, ok := sfnStates[d.Status]; ok {
		e.State = s
	}
	var err error
	if e.StartedAt, err = epochMillis("detail.startDate", d.StartDate); err != nil {
		return err
	}
	if e.StoppedAt, err = epochMillis("detail.stopDate", d.StopDate); err != nil {
		return err
	}
	if !e.StartedAt.IsZero() && e.StoppedAt.Before(e.StartedAt) && !e.StoppedAt.IsZero() {
		return kant.Errorf(kant.EINVALID, "detail.stopDate: before startDate")
	}
	if d.RedriveCount < 0 {
		return kant.Errorf(kant.EINVALID, "detail.redriveCount: must be 0 or more")
	}
	e.RedriveCount = d.RedriveCount
	if d.Input != nil {
		e.Input = *d.Input
	}
	var msg []string
	for _, s := range []*string{d.Error, d.Cause} {
		if s != nil && *s != "" {
			msg = append(msg, *s)
		}
	}
	e.Message = strings.Join(msg, ": ")
	return nil
}

// StateMachineName returns the name in a state machine ARN
// (arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME, with an optional
// :VERSION or :ALIAS after it).
func StateMachineName(arn string) (string, bool) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "stateMachine" || parts[6] == "" {
		return "", false
	}
	return parts[6], true
}

// epochMillis reads a Step Functions date: milliseconds since the epoch,
// null or absent for none.
func epochMillis(field string, v *float64) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	ms := *v
	// 1970 to 9999: anything else is not a date Step Functions sends.
	if ms < 0 || ms > 253402300799999 || ms != ms {
		return time.Time{}, kant.Errorf(kant.EINVALID, "%s: %v is not a date in milliseconds since 1970", field, ms)
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

func decodeDetail(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return kant.Errorf(kant.EINVALID, "detail: required")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		if msg := jsonMessage(err); strings.HasPrefix(msg, "want ") {
			return kant.Errorf(kant.EINVALID, "detail: %s", msg)
		} else {
			return kant.Errorf(kant.EINVALID, "detail.%s", msg)
		}
	}
	return nil
}

// decodeJSON decodes one JSON object; unknown fields are accepted, as AWS
// adds fields to its events.
func decodeJSON(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return kant.Errorf(kant.EINVALID, "empty body: want one EventBridge event")
	}
	if b[0] == '[' {
		return kant.Errorf(kant.EINVALID, "want one EventBridge event, got an array: API destinations deliver one event per request")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return kant.Errorf(kant.EINVALID, "%s", jsonMessage(err))
	}
	if dec.More() {
		return kant.Errorf(kant.EINVALID, "bad JSON: more than one value")
	}
	return nil
}

// jsonMessage rewrites encoding/json errors as "field: problem".
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("%s: want %s, got %s", te.Field, te.Type.String(), te.Value)
		}
		return fmt.Sprintf("want a JSON object, got %s", te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("bad JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "bad JSON: unexpected end of input"
	}
	return "bad JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
