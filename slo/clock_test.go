package slo

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func TestParseClock(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Clock
		err  string // part of the error; empty when none
	}{
		{"a morning time", "06:00", Clock{6, 0}, ""},
		{"the last minute of the day", "23:59", Clock{23, 59}, ""},
		{"midnight", "00:00", Clock{0, 0}, ""},
		{"24:00 is the end of the day", "24:00", Clock{24, 0}, ""},
		{"a one-digit hour", "6:30", Clock{6, 30}, ""},
		{"hour 25 is out of range", "25:00", Clock{}, `bad time of day "25:00": hour 25 out of range`},
		{"24:01 is out of range", "24:01", Clock{}, "hour 24 out of range"},
		{"minute 60 is out of range", "06:60", Clock{}, "minute 60 out of range 0-59"},
		{"no colon", "0600", Clock{}, "want HH:MM"},
		{"a one-digit minute", "06:0", Clock{}, "want HH:MM"},
		{"a sign", "+6:00", Clock{}, "want HH:MM"},
		{"seconds", "06:00:00", Clock{}, "want HH:MM"},
		{"empty", "", Clock{}, "want HH:MM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClock(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || kant.ErrorCode(err) != kant.EINVALID {
					t.Fatalf("ParseClock(%q) = %v, %v; want an EINVALID error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseClock(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if s := got.String(); strings.TrimPrefix(s, "0") != strings.TrimPrefix(tt.in, "0") {
				t.Errorf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestClockAtOrAfter(t *testing.T) {
	tests := []struct {
		name  string
		clock string
		t     time.Time
		loc   *time.Location
		want  time.Time
	}{
		{"later the same day", "06:00", jst("2026-06-10 01:00"), tokyo, jst("2026-06-10 06:00")},
		{"earlier in the day is the next day", "02:00", jst("2026-06-10 22:00"), tokyo, jst("2026-06-11 02:00")},
		{"the same time is that time", "01:00", jst("2026-06-10 01:00"), tokyo, jst("2026-06-10 01:00")},
		{"24:00 is the next midnight", "24:00", jst("2026-06-10 01:00"), tokyo, jst("2026-06-11 00:00")},
		{"24:00 at midnight is that midnight, the end of the day before", "24:00", jst("2026-06-11 00:00"), tokyo, jst("2026-06-11 00:00")},
		{"a time in the spring-forward gap moves forward", "02:30", at(newYork, "2026-03-08 01:00"), newYork, utc("2026-03-08T07:30:00Z")},
		{"a repeated time is its first instance", "01:30", at(newYork, "2026-11-01 00:00"), newYork, utc("2026-11-01T05:30:00Z")},
		{"the zone of t does not matter", "06:00", utc("2026-06-09T16:00:00Z"), tokyo, jst("2026-06-10 06:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustClock(tt.clock).AtOrAfter(tt.t, tt.loc)
			if !got.Equal(tt.want) {
				t.Errorf("%s at or after %v = %v, want %v", tt.clock, tt.t, got, tt.want)
			}
		})
	}
}

func TestClockAfter(t *testing.T) {
	tests := []struct {
		name  string
		clock string
		t     time.Time
		want  time.Time
	}{
		{"a deadline at the tick's own time is the next day's", "06:00", jst("2026-06-10 06:00"), jst("2026-06-11 06:00")},
		{"a deadline of 24:00 for a midnight tick is the end of that day", "24:00", jst("2026-06-10 00:00"), jst("2026-06-11 00:00")},
		{"a later time the same day is that time", "06:00", jst("2026-06-10 01:00"), jst("2026-06-10 06:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustClock(tt.clock).After(tt.t, tokyo); !got.Equal(tt.want) {
				t.Errorf("%s after %v = %v, want %v", tt.clock, tt.t, got, tt.want)
			}
		})
	}
}

func TestClockText(t *testing.T) {
	var c Clock
	if err := c.UnmarshalText([]byte("07:05")); err != nil || c != (Clock{7, 5}) {
		t.Fatalf("UnmarshalText = %v, %v", c, err)
	}
	if b, _ := c.MarshalText(); string(b) != "07:05" {
		t.Errorf("MarshalText = %q", b)
	}
	if c.On(date("2026-06-10"), tokyo) != jst("2026-06-10 07:05") {
		t.Errorf("On = %v", c.On(date("2026-06-10"), tokyo))
	}
}
