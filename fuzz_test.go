package kant_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kantproject/kant"
)

// FuzzParseDate checks that a date that parses prints as it was written,
// survives JSON, and that a rejected one says what it wanted.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-06-01", "2024-02-29", "2026-02-29", "0000-01-01", "9999-12-31",
		"2026-6-1", "2026-06-01T00:00:00Z", "", "+2026-06-01", "2026-13-01", "２０２６-06-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := kant.ParseDate(s)
		if err != nil {
			if kant.ErrorCode(err) != kant.EINVALID || !strings.Contains(err.Error(), "YYYY-MM-DD") {
				t.Fatalf("ParseDate(%q): error %v, want EINVALID naming YYYY-MM-DD", s, err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q) = %s: does not print as written", s, d)
		}
		if d.AddDays(1).AddDays(-1) != d {
			t.Fatalf("ParseDate(%q): a day forward and back is %s", s, d.AddDays(1).AddDays(-1))
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back kant.Date
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("ParseDate(%q): JSON %s reads back as %v, %v", s, b, back, err)
		}
	})
}

// FuzzTruncate checks that a cut string is never longer than asked, is
// valid UTF-8, and keeps as much of a valid string as fits.
func FuzzTruncate(f *testing.F) {
	f.Add("abc", 2)
	f.Add("日本語", 4)
	f.Add("日本語", 6)
	f.Add("\x80\x80\x80abc", 2)
	f.Add("a\xe6\x97", 3)
	f.Add("\xff日本", 4)
	f.Add(strings.Repeat("日", 3000), kant.MaxErrorMessage)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := kant.Truncate(s, n)
		if len(got) > max(n, 0) {
			t.Fatalf("Truncate(%q, %d) = %q: %d bytes", s, n, got, len(got))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Truncate(%q, %d) = %q: not valid UTF-8", s, n, got)
		}
		if !utf8.ValidString(s) {
			return
		}
		if !strings.HasPrefix(s, got) {
			t.Fatalf("Truncate(%q, %d) = %q: not a prefix", s, n, got)
		}
		if len(s) <= n && got != s {
			t.Fatalf("Truncate(%q, %d) = %q: a string that fits is cut", s, n, got)
		}
		if len(got) < len(s) && len(got) < n-utf8.UTFMax+1 {
			t.Fatalf("Truncate(%q, %d) = %q: cut more than one character short", s, n, got)
		}
	})
}
