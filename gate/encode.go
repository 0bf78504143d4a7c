package gate

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The gate writes its JSON by hand: it is the hot path of kant, asked by
// every sensor of every downstream pipeline, and encoding/json's reflection
// cost several times the work of computing the answer. The output is the
// same document encoding/json writes for Answer (TestEncodingMatchesJSON).

// encodeAnswer appends a's JSON to b, without checked_at's value: it returns
// the body split where the checked_at value goes, so a cached body can be
// completed with the time of each request.
func encodeAnswer(b []byte, a Answer) (body []byte, split int) {
	b = append(b, `{"open":`...)
	b = strconv.AppendBool(b, a.Open)
	b = append(b, `,"date":`...)
	if a.Date.IsZero() {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = append(b, a.Date.String()...)
		b = append(b, '"')
	}
	b = append(b, `,"checked_at":`...)
	split = len(b)
	b = append(b, `,"jobs":[`...)
	for i, j := range a.Jobs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"job":`...)
		b = appendString(b, string(j.Job))
		b = append(b, `,"state":`...)
		if j.State == nil {
			b = append(b, "null"...)
		} else {
			b = appendString(b, string(*j.State))
		}
		b = append(b, `,"reason":`...)
		b = appendString(b, j.Reason)
		if j.RunID != "" {
			b = append(b, `,"run_id":`...)
			b = appendString(b, j.RunID)
		}
		if j.Attempt != 0 {
			b = append(b, `,"attempt":`...)
			b = strconv.AppendInt(b, int64(j.Attempt), 10)
		}
		b = append(b, `,"finished_at":`...)
		if j.FinishedAt == nil {
			b = append(b, "null"...)
		} else {
			b = appendTime(b, *j.FinishedAt)
		}
		if j.Error != "" {
			b = append(b, `,"error_message":`...)
			b = appendString(b, j.Error)
		}
		if j.OpenedAt != nil {
			b = append(b, `,"opened_at":`...)
			b = appendTime(b, *j.OpenedAt)
		}
		if j.ChangedSinceOpen {
			b = append(b, `,"changed_since_open":true`...)
		}
		if j.RerunAt != nil {
			b = append(b, `,"rerun_at":`...)
			b = appendTime(b, *j.RerunAt)
		}
		b = append(b, '}')
	}
	b = append(b, "]}\n"...)
	return b, split
}

// appendTime appends t as a JSON RFC 3339 string, as time.Time marshals.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping off: control characters, quotes and backslashes escaped,
// invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
