// Package push decodes run observations pushed to kant by anything that is not
// polled: POST /v1/runs bodies (one object or an array) and JSON Lines files
// for `kant import`. It validates every field and names the array index or
// line and the field of the first problem. It imports only kant.
package push

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// Wire is one observation as it is pushed, in the format of DESIGN.md.
type Wire struct {
	Source       string            `json:"source"`
	Job          string            `json:"job"`
	RunID        string            `json:"run_id"`
	State        string            `json:"state"`
	SourceState  string            `json:"source_state"`
	StartedAt    string            `json:"started_at"`
	FinishedAt   string            `json:"finished_at"`
	LogicalDate  string            `json:"logical_date"`
	Attempt      *int              `json:"attempt"`
	MaxAttempts  int               `json:"max_attempts"`
	ErrorMessage string            `json:"error_message"`
	Attributes   map[string]string `json:"attributes"`
}

// Decoder turns pushed observations into validated runs.
type Decoder struct {
	// Sources, when not nil, lists the sources that may push (none when
	// empty); a run from any other source is rejected. Nil accepts every
	// source. config.Config.PushSources gives it.
	Sources []string
}

// pushSources names the sources that may push, for an error message.
func pushSources(sources []string) string {
	if len(sources) == 0 {
		return "no source is configured with type push"
	}
	return "push sources: " + strings.Join(sources, ", ")
}

// Run converts w into a validated run observed at now. The error names the
// offending field by its JSON name.
func (d Decoder) Run(w Wire, now time.Time) (kant.Run, error) {
	r := kant.Run{
		Source:       w.Source,
		RunID:        w.RunID,
		State:        kant.State(w.State),
		SourceState:  w.SourceState,
		ErrorMessage: w.ErrorMessage,
		ObservedAt:   now,
		Attributes:   w.Attributes,
		MaxAttempts:  w.MaxAttempts,
	}
	if w.Source != "" && d.Sources != nil && !contains(d.Sources, w.Source) {
		return kant.Run{}, kant.Errorf(kant.EINVALID, "source: %q is not a push source (%s)", w.Source, pushSources(d.Sources))
	}
	if strings.Contains(w.Source, "/") {
		return kant.Run{}, kant.Errorf(kant.EINVALID, "source: must not contain '/'")
	}
	if w.Job != "" {
		// A job may be pushed by its name or by its full key.
		if k := kant.JobKey(w.Job); k.Valid() && k.Source() == w.Source {
			r.Job = k
		} else {
			r.Job = kant.NewJobKey(w.Source, w.Job)
		}
	}
	if r.SourceState == "" {
		r.SourceState = w.State
	}
	if w.Attempt != nil {
		if *w.Attempt < 1 {
			return kant.Run{}, kant.Errorf(kant.EINVALID, "attempt: must be 1 or more")
		}
		r.Attempt = *w.Attempt
	}
	var err error
	if r.StartedAt, err = parseTime("started_at", w.StartedAt); err != nil {
		return kant.Run{}, err
	}
	if r.FinishedAt, err = parseTime("finished_at", w.FinishedAt); err != nil {
		return kant.Run{}, err
	}
	if w.LogicalDate != "" {
		if r.LogicalDate, err = kant.ParseDate(w.LogicalDate); err != nil {
			return kant.Run{}, kant.Errorf(kant.EINVALID, "logical_date: bad date %q: want YYYY-MM-DD", w.LogicalDate)
		}
		// A date far from now is a mistake, and judging it would be work
		// out of all proportion to one observation.
		if latest := kant.DateOf(now.UTC()).AddDays(366); r.LogicalDate.Before(earliestDate) || r.LogicalDate.After(latest) {
			return kant.Run{}, kant.Errorf(kant.EINVALID, "logical_date: %s is not between %s and %s", r.LogicalDate, earliestDate, latest)
		}
	}
	if err := r.Validate(); err != nil {
		return kant.Run{}, err
	}
	return r, nil
}

// earliestDate is the earliest logical date accepted.
var earliestDate = kant.Date{Year: 1970, Month: time.January, Day: 1}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, kant.Errorf(kant.EINVALID, "%s: bad time %q: want RFC 3339, e.g. 2026-06-02T01:00:00+09:00", field, s)
	}
	return t.UTC(), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DecodeBody decodes a POST /v1/runs body: one JSON object or an array of
// them. Either every observation is valid and all are returned, or the error
// names the first bad one ("[2].state: ..." for an array element).
func (d Decoder) DecodeBody(body []byte, now time.Time) ([]kant.Run, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, kant.Errorf(kant.EINVALID, "empty body: want a run object or an array of them")
	}
	if trimmed[0] != '[' {
		w, err := decodeWire(trimmed)
		if err != nil {
			return nil, err
		}
		r, err := d.Run(w, now)
		if err != nil {
			return nil, err
		}
		return []kant.Run{r}, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, kant.Errorf(kant.EINVALID, "bad JSON: %s", jsonMessage(err))
	}
	if len(raw) == 0 {
		return nil, kant.Errorf(kant.EINVALID, "empty array: want at least one run")
	}
	runs := make([]kant.Run, 0, len(raw))
	for i, m := range raw {
		w, err := decodeWire(m)
		if err != nil {
			return nil, kant.Errorf(kant.EINVALID, "[%d].%s", i, kant.ErrorMessage(err))
		}
		r, err := d.Run(w, now)
		if err != nil {
			return nil, kant.Errorf(kant.EINVALID, "[%d].%s", i, kant.ErrorMessage(err))
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// MaxLine is the longest JSON Lines record accepted by Lines.
const MaxLine = 1 << 20

// Lines yields the runs of a JSON Lines stream, one per non-blank line. The
// first bad line ends the sequence with an error naming its line number and
// field ("line 3: state: unknown state ..."); callers that store the runs in
// one transaction thereby store nothing of a bad file.
func (d Decoder) Lines(r io.Reader, now time.Time) iter.Seq2[kant.Run, error] {
	return func(yield func(kant.Run, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), MaxLine)
		line := 0
		for sc.Scan() {
			line++
			// Only what JSON counts as white space: a line that decodes
			// here decodes alone as a POST /v1/runs body.
			b := bytes.Trim(sc.Bytes(), " \t\r\n")
			if len(b) == 0 {
				continue
			}
			w, err := decodeWire(b)
			if err == nil {
				var run kant.Run
				if run, err = d.Run(w, now); err == nil {
					if !yield(run, nil) {
						return
					}
					continue
				}
			}
			yield(kant.Run{}, kant.Errorf(kant.EINVALID, "line %d: %s", line, kant.ErrorMessage(err)))
			return
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = kant.Errorf(kant.EINVALID, "line %d: longer than %d bytes", line+1, MaxLine)
			}
			yield(kant.Run{}, err)
		}
	}
}

// decodeWire decodes one object strictly: unknown fields and wrong types are
// errors naming the field.
func decodeWire(b []byte) (Wire, error) {
	var w Wire
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Wire{}, kant.Errorf(kant.EINVALID, "%s", jsonMessage(err))
	}
	// More is false before a '}' or ']', which must not be taken for the
	// end of the input either.
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return Wire{}, kant.Errorf(kant.EINVALID, "bad JSON: more than one value")
	}
	return w, nil
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
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Sprintf("%s: unknown field", strings.Trim(f, `"`))
	}
	return "bad JSON: " + strings.TrimPrefix(msg, "json: ")
}
