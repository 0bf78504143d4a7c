package slo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// FuzzParseSchedule checks that a cron expression is either rejected with
// an EINVALID error or parsed into a schedule that prints as written,
// parses again the same, and whose next tick lies after a moment and on a
// date it matches, and whose previous tick lies at or before it.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0 1 * * *", "*/15 * * * *", "0 9 * * MON-FRI", "30 2 1,15 * *", "0 0 29 2 *",
		"0 0 31 2 *", "0 0 * * 7", "5/10 3-5 * JAN-mar 0-7/2", "@daily", "@Hourly", "@reboot", "* * * *",
		"0 0 30 2 1", "60 * * * *", "0 0 */999999999999999999 * *", " 0 1 * * * "} {
		f.Add(s)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC) // 01:30 in New York, before the clocks go forward
	f.Fuzz(func(t *testing.T, spec string) {
		if len(spec) > 256 {
			t.Skip()
		}
		s, err := slo.ParseSchedule(spec)
		if err != nil {
			if kant.ErrorCode(err) != kant.EINVALID || !strings.Contains(err.Error(), "schedule") {
				t.Fatalf("ParseSchedule(%q): error %v is not EINVALID naming the schedule", spec, err)
			}
			return
		}
		if s.String() != strings.TrimSpace(spec) {
			t.Fatalf("ParseSchedule(%q).String() = %q", spec, s)
		}
		again, err := slo.ParseSchedule(s.String())
		if err != nil || again != s {
			t.Fatalf("ParseSchedule(%q) parses again as %v, %v", spec, again, err)
		}
		for _, loc := range []*time.Location{time.UTC, newYork} {
			next, ok := s.Next(at, loc)
			if !ok || !next.After(at) {
				t.Fatalf("%q: Next(%v) = %v, %v", spec, at, next, ok)
			}
			if d := kant.DateOf(next.In(loc)); !s.Matches(d) {
				t.Fatalf("%q: Next(%v) = %v, on %s, which it does not match", spec, at, next, d)
			}
			prev, ok := s.Prev(at, loc)
			if !ok || prev.After(at) {
				t.Fatalf("%q: Prev(%v) = %v, %v", spec, at, prev, ok)
			}
		}
	})
}
