package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// Column encodings. Times are UTC RFC 3339 with exactly nine fractional
// digits, so that comparing the text compares the instants, except in the
// internal run_current where they are Unix nanoseconds. Zero times, zero
// dates and empty optional strings are NULL.

// appendTime appends t in UTC as 2006-01-02T15:04:05.000000000Z.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendDigits appends the n low decimal digits of v, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	var tmp [9]byte
	for i := n - 1; i >= 0; i-- {
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, tmp[:n]...)
}

// formatTime returns t's column value: its text, or nil for the zero time.
func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	var buf [30]byte
	return string(appendTime(buf[:0], t))
}

// formatDate returns d's column value: YYYY-MM-DD, or nil for the zero Date.
func formatDate(d kant.Date) any {
	if d.IsZero() {
		return nil
	}
	var buf [10]byte
	return string(appendDate(buf[:0], d))
}

// appendDate appends d as YYYY-MM-DD.
func appendDate(b []byte, d kant.Date) []byte {
	b = appendDigits(b, d.Year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(d.Month), 2)
	b = append(b, '-')
	return appendDigits(b, d.Day, 2)
}

// text returns s's column value: s, or nil when it is empty.
func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// decoder turns column values back into kant's types, keeping the first
// error so that a scan can be checked once.
type decoder struct{ err error }

func (d *decoder) time(s sql.NullString) time.Time {
	if !s.Valid || s.String == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("bad time %q: %w", s.String, err)
	}
	return t.UTC()
}

func (d *decoder) date(s sql.NullString) kant.Date {
	if !s.Valid || s.String == "" {
		return kant.Date{}
	}
	v, err := kant.ParseDate(s.String)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("bad date %q: %v", s.String, err) // not the caller's EINVALID
	}
	return v
}

func (d *decoder) attributes(s sql.NullString) map[string]string {
	if !s.Valid || s.String == "" {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s.String), &m); err != nil && d.err == nil {
		d.err = fmt.Errorf("bad attributes %q: %w", s.String, err)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func duration(seconds float64) time.Duration {
	return time.Duration(math.Round(seconds * float64(time.Second)))
}

// encodeAttributes returns the attributes column: a JSON object with sorted
// keys, or nil when there are none.
func encodeAttributes(keys []string, m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return string(append(b, '}'))
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 is replaced by
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}

// sortedKeys returns the keys of m in order, reusing buf.
func sortedKeys(buf []string, m map[string]string) []string {
	buf = buf[:0]
	for k := range m {
		buf = append(buf, k)
	}
	slices.Sort(buf)
	return buf
}

// runKey returns the key of a run within its job in run_current: the first
// 8 bytes of the SHA-256 of its run ID (uvarint length and bytes) and
// attempt (varint). Like observationHash, it must never change.
func runKey(buf []byte, runID string, attempt int) (int64, []byte) {
	b := binary.AppendUvarint(buf[:0], uint64(len(runID)))
	b = append(b, runID...)
	b = binary.AppendVarint(b, int64(attempt))
	return hash64(b), b
}

// hash64 returns the first 8 bytes of the SHA-256 of b, big-endian.
func hash64(b []byte) int64 {
	sum := sha256.Sum256(b)
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// runArgs is the number of job_runs columns an encoded run fills, and
// jobIDArg the index of job_id among them.
const (
	runArgs  = 16
	jobIDArg = 14
)

// encodedRun is a validated observation ready for its INSERT: the values of
// the job_runs columns source, job, run_id, attempt, max_attempts, state, source_state,
// logical_date, started_at, finished_at, duration_s, error_message,
// observed_at, attributes, job_id and obs_hash, and what run_current and
// jobs need. The job's id, in ref and args, is set by the runWriter, which
// knows the store's jobs.
type encodedRun struct {
	index int // in its batch
	args  [runArgs]any

	job              string
	ref              runRef // the run, as run_current keys it
	runID            string
	attempt, hash    int64
	observedNs, atNs int64
	at               string // At(), as text
	logicalDate      any    // string or nil
}

// runRef identifies a run as run_current does: its job's id and run key.
type runRef struct {
	jobID int64
	key   int64
}

// runEncoder encodes runs, reusing its buffers from one run to the next.
type runEncoder struct {
	keys []string
	buf  []byte
}

// encode validates a copy of r (kant.Run.Validate is idempotent on a valid
// run) and encodes it as the index-th run of its batch.
func (e *runEncoder) encode(index int, r kant.Run) (encodedRun, error) {
	if err := r.Validate(); err != nil {
		return encodedRun{}, err
	}
	for _, err := range [...]error{
		backend.CheckTime("started_at", r.StartedAt), backend.CheckTime("finished_at", r.FinishedAt),
		backend.CheckTime("observed_at", r.ObservedAt), backend.CheckDate("logical_date", r.LogicalDate),
	} {
		if err != nil {
			return encodedRun{}, err
		}
	}
	e.keys = sortedKeys(e.keys, r.Attributes)
	x := encodedRun{
		index:       index,
		runID:       r.RunID,
		attempt:     int64(r.Attempt),
		observedNs:  r.ObservedAt.UnixNano(),
		atNs:        r.At().UnixNano(),
		logicalDate: formatDate(r.LogicalDate),
	}
	x.job = string(r.Job)
	x.hash, e.buf = backend.ObservationHash(e.buf, &r, e.keys)
	x.ref.key, e.buf = runKey(e.buf, r.RunID, r.Attempt)
	var dur any
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		dur = r.Duration().Seconds()
	}
	started, finished, observed := formatTime(r.StartedAt), formatTime(r.FinishedAt), formatTime(r.ObservedAt)
	switch {
	case started != nil:
		x.at = started.(string)
	case finished != nil:
		x.at = finished.(string)
	default:
		x.at = observed.(string)
	}
	var maxAttempts any
	if r.MaxAttempts > 0 {
		maxAttempts = int64(r.MaxAttempts)
	}
	x.args = [runArgs]any{
		r.Source, x.job, x.runID, x.attempt, maxAttempts, string(r.State), text(r.SourceState), x.logicalDate,
		started, finished, dur, text(r.ErrorMessage), observed, encodeAttributes(e.keys, r.Attributes), nil, x.hash,
	}
	return x, nil
}
