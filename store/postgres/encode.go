package postgres

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// Column encodings. Times are Unix nanoseconds, nil for the zero time;
// dates are date (a time.Time at midnight UTC for pgx), nil for the zero
// Date; empty optional strings are nil.

// ns returns t's column value: its Unix nanoseconds, or nil when zero.
func ns(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// nullNs is ns for an array element.
func nullNs(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixNano()
	return &v
}

// nullText is text for an array element.
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// fromNs returns the time of a nullable nanoseconds column, in UTC.
func fromNs(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.Unix(0, *v).UTC()
}

// pgDate returns d's column value, or nil for the zero Date.
func pgDate(d kant.Date) any {
	if d.IsZero() {
		return nil
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// fromDate returns the Date of a nullable date column.
func fromDate(v *time.Time) kant.Date {
	if v == nil {
		return kant.Date{}
	}
	return kant.Date{Year: v.Year(), Month: v.Month(), Day: v.Day()}
}

// text returns s's column value: s, or nil when it is empty.
func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// str returns the string of a nullable text column.
func str(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

// checkText reports an EINVALID error naming field when PostgreSQL cannot
// store s: text holds neither NUL bytes nor invalid UTF-8.
func checkText(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return kant.Errorf(kant.EINVALID, "%s: contains a NUL byte, which PostgreSQL cannot store", field)
	}
	if !utf8.ValidString(s) {
		return kant.Errorf(kant.EINVALID, "%s: not valid UTF-8", field)
	}
	return nil
}

// stageColumns are the columns of the staging table, in COPY order.
var stageColumns = []string{"ord", "source", "job", "run_id", "attempt", "max_attempts", "state", "source_state",
	"logical_date", "started_ns", "finished_ns", "duration_s", "error_message", "observed_ns", "attributes", "obs_hash"}

// runEncoder encodes runs into staging rows, reusing its buffers from one
// run to the next.
type runEncoder struct {
	keys []string
	buf  []byte
	row  []any
}

// encode validates a copy of r (kant.Run.Validate is idempotent on a valid
// run) and returns its staging row as the index-th run of its batch. The
// row is valid until the next call.
func (e *runEncoder) encode(index int, r kant.Run) ([]any, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	for _, err := range [...]error{
		backend.CheckTime("started_at", r.StartedAt), backend.CheckTime("finished_at", r.FinishedAt),
		backend.CheckTime("observed_at", r.ObservedAt), backend.CheckDate("logical_date", r.LogicalDate),
		checkText("source", r.Source), checkText("job", string(r.Job)), checkText("run_id", r.RunID),
		checkText("source_state", r.SourceState), checkText("error_message", r.ErrorMessage),
	} {
		if err != nil {
			return nil, err
		}
	}
	e.keys = e.keys[:0]
	for k, v := range r.Attributes {
		if err := checkText("attributes", k+v); err != nil {
			return nil, err
		}
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	var hash int64
	hash, e.buf = backend.ObservationHash(e.buf, &r, e.keys)
	var dur, maxAttempts, attrs any
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		dur = r.Duration().Seconds()
	}
	if r.MaxAttempts > 0 {
		maxAttempts = int32(r.MaxAttempts)
	}
	if len(r.Attributes) > 0 {
		b, err := json.Marshal(r.Attributes) // keys sorted
		if err != nil {
			return nil, err
		}
		attrs = string(b)
	}
	e.row = append(e.row[:0], int64(index), r.Source, string(r.Job), r.RunID, int32(r.Attempt), maxAttempts,
		string(r.State), text(r.SourceState), pgDate(r.LogicalDate), ns(r.StartedAt), ns(r.FinishedAt), dur,
		text(r.ErrorMessage), r.ObservedAt.UnixNano(), attrs, hash)
	return e.row, nil
}

// invalidRun reports a bad run in a batch by its index.
func invalidRun(i int, err error) error {
	return kant.Errorf(kant.EINVALID, "runs[%d]: %s", i, kant.ErrorMessage(err))
}

// decodeAttributes reads an attributes column.
func decodeAttributes(b []byte) (map[string]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("bad attributes %q: %w", b, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
