package config

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseDuration checks that a duration that parses prints back to
// itself and never wraps around: a duration written without a minus sign
// is not negative.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "5m", "1h30m", "7d", "1d12h", "0d", "-1d", "-1d2h", "1.5d", "d", "1d-1h",
		"106751d", "106751d23h47m16s", "106751d23h59m", "9223372036854775807ns", "1d2562047h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.Contains(err.Error(), "bad duration") {
				t.Fatalf("ParseDuration(%q): %v does not say what is wrong", s, err)
			}
			return
		}
		if d < 0 && !strings.Contains(s, "-") {
			t.Fatalf("ParseDuration(%q) = %v: wrapped around", s, d)
		}
		if d > 0 && strings.HasPrefix(s, "-") {
			t.Fatalf("ParseDuration(%q) = %v: lost its sign", s, d)
		}
		if strings.Contains(s, "d") && !strings.HasPrefix(s, "-") {
			days, _, _ := strings.Cut(s, "d")
			if n, _ := time.ParseDuration(strings.TrimPrefix(days, "+") + "h"); n >= 0 && d < n*24 && n*24/24 == n {
				t.Fatalf("ParseDuration(%q) = %v: less than its days", s, d)
			}
		}
		back, err := ParseDuration(formatDuration(d))
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, printed %q, which reads back as %v, %v", s, d, formatDuration(d), back, err)
		}
	})
}
