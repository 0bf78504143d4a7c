package backend

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/kantproject/kant"
)

// What every backend shares about writing: the storable range of times and
// dates, the checks of an evaluation and an alert, the dedup hash of an
// observation and the JSON body of an alert. Backends must agree on all of
// them, so they live here once.

// The times that can be stored: those with a Unix time in nanoseconds, from
// 1677-09-21 to 2262-04-11.
var (
	MinTime = time.Unix(0, math.MinInt64)
	MaxTime = time.Unix(0, math.MaxInt64)
)

// ClampNs returns t in Unix nanoseconds, clamped to the storable range.
func ClampNs(t time.Time) int64 {
	switch {
	case t.Before(MinTime):
		return math.MinInt64
	case t.After(MaxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// CheckTime reports an EINVALID error naming field when t cannot be stored.
// The zero time (absent) can.
func CheckTime(field string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if t.Before(MinTime) || t.After(MaxTime) {
		return kant.Errorf(kant.EINVALID, "%s: %s outside %d-%d", field, t.UTC().Format(time.RFC3339), MinTime.Year()+1, MaxTime.Year()-1)
	}
	return nil
}

// CheckDate reports an EINVALID error naming field when d cannot be stored.
// The zero date (absent) can.
func CheckDate(field string, d kant.Date) error {
	if d.IsZero() {
		return nil
	}
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
		return kant.Errorf(kant.EINVALID, "%s: bad date %d-%d-%d", field, d.Year, d.Month, d.Day)
	}
	return nil
}

// CheckEvaluation reports the first thing in e that cannot be written (see
// store.Store.WriteEvaluation) as an EINVALID error.
func CheckEvaluation(e kant.Evaluation) error {
	inRange := func(d kant.Date) bool {
		return (e.From.IsZero() || !d.Before(e.From)) && (e.To.IsZero() || !d.After(e.To))
	}
	switch {
	case e.SLO == "":
		return kant.Errorf(kant.EINVALID, "slo: required")
	case !e.From.IsZero() && !e.To.IsZero() && e.From.After(e.To):
		return kant.Errorf(kant.EINVALID, "from %s is after to %s", e.From, e.To)
	}
	if err := CheckDate("from", e.From); err != nil {
		return err
	}
	if err := CheckDate("to", e.To); err != nil {
		return err
	}
	for i, r := range e.Results {
		bad := func(format string, args ...any) error {
			return kant.Errorf(kant.EINVALID, "results[%d]: "+format, append([]any{i}, args...)...)
		}
		switch {
		case r.SLO != e.SLO:
			return bad("slo %q is not %q", r.SLO, e.SLO)
		case r.Job == "":
			return bad("job: required")
		case r.Date.IsZero():
			return bad("date: required")
		case !inRange(r.Date):
			return bad("date %s outside [%s, %s]", r.Date, e.From, e.To)
		case r.ExpectedAt.IsZero():
			return bad("expected_at: required")
		case r.Verdict == "":
			return bad("verdict: required")
		case len(e.Jobs) > 0 && !slices.Contains(e.Jobs, r.Job):
			return bad("job %s is not among the jobs being replaced", r.Job)
		}
		for _, err := range []error{
			CheckDate("date", r.Date), CheckTime("expected_at", r.ExpectedAt),
			CheckTime("deadline", r.Deadline), CheckTime("recover_by", r.RecoverBy),
			CheckTime("succeeded_at", r.SucceededAt), CheckTime("evaluated_at", r.EvaluatedAt),
		} {
			if err != nil {
				return bad("%s", kant.ErrorMessage(err))
			}
		}
	}
	for i, d := range e.Days {
		bad := func(format string, args ...any) error {
			return kant.Errorf(kant.EINVALID, "days[%d]: "+format, append([]any{i}, args...)...)
		}
		switch {
		case d.SLO != e.SLO:
			return bad("slo %q is not %q", d.SLO, e.SLO)
		case d.Date.IsZero():
			return bad("date: required")
		case !inRange(d.Date):
			return bad("date %s outside [%s, %s]", d.Date, e.From, e.To)
		}
		for _, err := range []error{CheckDate("date", d.Date), CheckTime("evaluated_at", d.EvaluatedAt)} {
			if err != nil {
				return bad("%s", kant.ErrorMessage(err))
			}
		}
	}
	return nil
}

// CheckAlert reports an EINVALID error when a cannot be stored: it has no
// ID, or a time or date outside what can be stored.
func CheckAlert(a kant.Alert) error {
	if a.ID == "" {
		return kant.Errorf(kant.EINVALID, "id: required")
	}
	for _, err := range []error{
		CheckDate("date", a.Date), CheckTime("created_at", a.CreatedAt),
		CheckTime("updated_at", a.UpdatedAt), CheckTime("sent_at", a.SentAt), CheckTime("since", a.Since),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// AlertBody is the JSON of an alert's fields, links and notes, and of its
// destinations and their delivery state, stored in one column (alerts.body):
// keys added here need no migration, and bodies stored before them decode
// with them empty.
type AlertBody struct {
	Fields       []kant.AlertField        `json:"fields,omitempty"`
	Links        []kant.AlertLink         `json:"links,omitempty"`
	Notes        []string                 `json:"notes,omitempty"`
	Destinations []string                 `json:"destinations,omitempty"`
	Deliveries   map[string]kant.Delivery `json:"deliveries,omitempty"`
}

// EncodeAlertBody returns the body column of a: its JSON, or "" when a has
// no fields, links, notes, destinations or deliveries.
func EncodeAlertBody(a kant.Alert) (string, error) {
	if len(a.Fields)+len(a.Links)+len(a.Notes)+len(a.Destinations)+len(a.Deliveries) == 0 {
		return "", nil
	}
	b, err := json.Marshal(AlertBody{a.Fields, a.Links, a.Notes, a.Destinations, a.Deliveries})
	return string(b), err
}

// DecodeAlertBody sets the fields of a that the body column holds.
func DecodeAlertBody(body string, a *kant.Alert) error {
	var b AlertBody
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return err
	}
	a.Fields, a.Links, a.Notes, a.Destinations, a.Deliveries = b.Fields, b.Links, b.Notes, b.Destinations, b.Deliveries
	return nil
}

// ObservationHash returns the dedup key of r: the first 8 bytes of the
// SHA-256 of a canonical encoding of every field kant.Run.SameObservation
// compares (everything but ObservedAt), attributes in the order of keys
// (sorted). buf is reused for the encoding, which is returned. Stored rows
// carry the hash in every backend, so the encoding must never change: a
// different hash for the same observation would store it twice. Two
// different observations of one job with the same hash would be stored once;
// with 64 bits of SHA-256 that is as unlikely as anything gets (about
// n²/2⁶⁵ for n observations of a job).
//
// Each string is written as its uvarint length and its bytes, each integer
// as a varint, each time as a presence byte followed by the varints of its
// Unix seconds and nanoseconds, and the date as YYYY-MM-DD (empty when zero).
func ObservationHash(buf []byte, r *kant.Run, keys []string) (int64, []byte) {
	b := buf[:0]
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	tm := func(t time.Time) {
		if t.IsZero() {
			b = append(b, 0)
			return
		}
		b = append(b, 1)
		b = binary.AppendVarint(b, t.Unix())
		b = binary.AppendVarint(b, int64(t.Nanosecond()))
	}
	str(r.Source)
	str(string(r.Job))
	str(r.RunID)
	b = binary.AppendVarint(b, int64(r.Attempt))
	b = binary.AppendVarint(b, int64(r.MaxAttempts))
	str(string(r.State))
	str(r.SourceState)
	str(r.LogicalDate.String()) // YYYY-MM-DD, "" when zero
	tm(r.StartedAt)
	tm(r.FinishedAt)
	str(r.ErrorMessage)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		str(k)
		str(r.Attributes[k])
	}
	sum := sha256.Sum256(b)
	return int64(binary.BigEndian.Uint64(sum[:8])), b
}
