package slo

import (
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func TestExcluding(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	day := func(s string) kant.Day {
		d, _ := kant.ParseDate(s)
		return kant.Day{SLO: "nightly", Date: d, Final: true, SLOMet: false}
	}
	days := []kant.Day{day("2026-06-01"), day("2026-06-02"), day("2026-06-03")}
	// 2026-06-02 00:30 to 02:00 JST is 2026-06-01 15:30 to 17:00 UTC.
	window := kant.Silence{ID: "m", Start: time.Date(2026, 6, 1, 15, 30, 0, 0, time.UTC),
		End: time.Date(2026, 6, 1, 17, 0, 0, 0, time.UTC), Reason: "upgrade"}
	def := Definition{Name: "nightly", Jobs: []string{"hegel/*", "socrates/load"}, Location: jst, ExcludeSilenced: true}
	dates := func(ds []kant.Day) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Date.String())
		}
		return out
	}
	tests := []struct {
		name    string
		def     Definition
		silence kant.Silence
		want    []string
	}{
		{"a silence of everything removes the day it overlaps in the SLO's zone", def, window,
			[]string{"2026-06-01", "2026-06-03"}},
		{"a silence naming the SLO removes the day", def, with(window, func(s *kant.Silence) { s.SLOs = []string{"nightly"} }),
			[]string{"2026-06-01", "2026-06-03"}},
		{"a silence naming the SLO's job pattern removes the day", def, with(window, func(s *kant.Silence) { s.Jobs = []string{"hegel/*"} }),
			[]string{"2026-06-01", "2026-06-03"}},
		{"a silence whose glob matches one of the SLO's jobs removes the day", def, with(window, func(s *kant.Silence) { s.Jobs = []string{"socrates/*"} }),
			[]string{"2026-06-01", "2026-06-03"}},
		{"a silence of another SLO removes nothing", def, with(window, func(s *kant.Silence) { s.SLOs = []string{"other"} }),
			[]string{"2026-06-01", "2026-06-02", "2026-06-03"}},
		{"an SLO that does not exclude silenced days keeps them all",
			Definition{Name: "nightly", Jobs: def.Jobs, Location: jst}, window,
			[]string{"2026-06-01", "2026-06-02", "2026-06-03"}},
		{"a silence ending exactly at midnight does not touch the next day", def,
			with(window, func(s *kant.Silence) {
				s.End = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
				s.Start = s.End.Add(-time.Hour)
			}),
			[]string{"2026-06-02", "2026-06-03"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dates(tc.def.Excluding(days, []kant.Silence{tc.silence}))
			if len(got) != len(tc.want) {
				t.Fatalf("days %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("days %v, want %v", got, tc.want)
				}
			}
		})
	}
	a := Summarize(def, def.Excluding(days, []kant.Silence{window}))
	if a.Days != 2 {
		t.Errorf("attainment over the days left counts %d days, want 2", a.Days)
	}
}

func with(s kant.Silence, f func(*kant.Silence)) kant.Silence {
	f(&s)
	return s
}
