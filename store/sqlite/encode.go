package sqlite

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// Column encodings. Times are UTC RFC 3339 with exactly nine fractional
// digits, so that comparing the text compares the instants; years outside
// 0001–9999 cannot be written that way and are rejected. Zero times, zero
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

// checkTime reports an EINVALID error when t cannot be stored.
func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return kant.Errorf(kant.EINVALID, "%s: year %d outside 0001-9999", field, y)
	}
	return nil
}

// checkDate reports an EINVALID error when d cannot be stored.
func checkDate(field string, d kant.Date) error {
	if d.IsZero() {
		return nil
	}
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
		return kant.Errorf(kant.EINVALID, "%s: bad date %d-%d-%d", field, d.Year, d.Month, d.Day)
	}
	return nil
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
		d.err = fmt.Errorf("bad date %q: %w", s.String, err)
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

// observationHash returns the dedup key of r: a 64-bit FNV-1a hash of a
// canonical encoding of every field kant.Run.SameObservation compares
// (everything but ObservedAt), attributes in key order. Stored rows carry
// it, so the encoding must never change: a different hash for the same
// observation would store it twice.
//
// Each string is written as its uvarint length and its bytes, each integer
// as a varint, each time as a presence byte followed by the varints of its
// Unix seconds and nanoseconds, and the date as its YYYY-MM-DD string.
func observationHash(buf []byte, r *kant.Run, keys []string) (uint64, []byte) {
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
	str(string(r.State))
	str(r.SourceState)
	if r.LogicalDate.IsZero() {
		str("")
	} else {
		b = append(b, 10)
		b = appendDate(b, r.LogicalDate)
	}
	tm(r.StartedAt)
	tm(r.FinishedAt)
	str(r.ErrorMessage)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		str(k)
		str(r.Attributes[k])
	}
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, c := range b {
		h ^= uint64(c)
		h *= prime
	}
	return h, b
}
