package slo

import (
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func TestOccurrences(t *testing.T) {
	def := nightly()
	def.Calendar = mustCalendar("jp-business-days", nil, nil)
	def.RecoverBy = mustClock("23:59")
	got := def.Occurrences(testJob, date("2026-11-20"), date("2026-11-24"))
	want := []kant.Occurrence{
		{SLO: "hegel-nightly", Job: testJob, Date: date("2026-11-20"),
			ExpectedAt: utc("2026-11-19T16:00:00Z"), Deadline: utc("2026-11-19T21:00:00Z"), RecoverBy: utc("2026-11-20T14:59:00Z")},
		{SLO: "hegel-nightly", Job: testJob, Date: date("2026-11-24"),
			ExpectedAt: utc("2026-11-23T16:00:00Z"), Deadline: utc("2026-11-23T21:00:00Z"), RecoverBy: utc("2026-11-24T14:59:00Z")},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d occurrences, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.SLO != w.SLO || g.Job != w.Job || g.Date != w.Date {
			t.Errorf("occurrence %d: %s %s %s, want %s %s %s", i, g.SLO, g.Job, g.Date, w.SLO, w.Job, w.Date)
		}
		assertTime(t, "expected_at", g.ExpectedAt, w.ExpectedAt)
		assertTime(t, "deadline", g.Deadline, w.Deadline)
		assertTime(t, "recover_by", g.RecoverBy, w.RecoverBy)
	}
	if got := def.Occurrences(testJob, date("2026-11-24"), date("2026-11-20")); len(got) != 0 {
		t.Errorf("from after to: %d occurrences", len(got))
	}
}

func TestOccurrencesRecoverByBeforeDeadline(t *testing.T) {
	// A recover-by clock earlier in the day than the deadline is the next
	// day's: the first at or after the deadline.
	def := nightly()
	def.Schedule = mustSchedule("0 22 * * *")
	def.Deadline = mustClock("23:00")
	def.RecoverBy = mustClock("09:00")
	o := def.Occurrences(testJob, date("2026-06-10"), date("2026-06-10"))
	if len(o) != 1 {
		t.Fatalf("%d occurrences", len(o))
	}
	assertTime(t, "deadline", o[0].Deadline, jst("2026-06-10 23:00"))
	assertTime(t, "recover_by", o[0].RecoverBy, jst("2026-06-11 09:00"))
}

func TestAttribute(t *testing.T) {
	def := nightly()
	def.Schedule = mustSchedule("0 9,13 * * *")
	def.Calendar = mustCalendar("jp-business-days", nil, nil)
	def.Tolerance = 15 * time.Minute
	tests := []struct {
		name     string
		run      kant.Run
		date     string // empty: not attributed
		expected time.Time
	}{
		{"a run at a tick belongs to it",
			run("r", kant.StateRunning, jst("2026-06-10 09:00"), time.Time{}), "2026-06-10", jst("2026-06-10 09:00")},
		{"a run between ticks belongs to the earlier",
			run("r", kant.StateRunning, jst("2026-06-10 12:40"), time.Time{}), "2026-06-10", jst("2026-06-10 09:00")},
		{"a run within tolerance before a tick belongs to it",
			run("r", kant.StateRunning, jst("2026-06-10 12:45"), time.Time{}), "2026-06-10", jst("2026-06-10 13:00")},
		{"a run after midnight belongs to the previous evening's tick",
			run("r", kant.StateRunning, jst("2026-06-11 02:00"), time.Time{}), "2026-06-10", jst("2026-06-10 13:00")},
		{"a run without a start is placed by its end",
			run("r", kant.StateSucceeded, time.Time{}, jst("2026-06-10 10:00")), "2026-06-10", jst("2026-06-10 09:00")},
		{"a run on a holiday is not attributed",
			run("r", kant.StateRunning, jst("2026-11-23 09:00"), time.Time{}), "", time.Time{}},
		{"a run the morning after a holiday, before the first tick, is not attributed",
			run("r", kant.StateRunning, jst("2026-11-24 08:00"), time.Time{}), "", time.Time{}},
		{"a logical date takes the latest tick at or before the start",
			withLogicalDate(run("r", kant.StateRunning, jst("2026-06-12 14:00"), time.Time{}), "2026-06-10"), "2026-06-10", jst("2026-06-10 13:00")},
		{"a logical date before its first tick takes the first tick",
			withLogicalDate(run("r", kant.StateRunning, jst("2026-06-10 07:00"), time.Time{}), "2026-06-10"), "2026-06-10", jst("2026-06-10 09:00")},
		{"a logical date on a holiday is not attributed",
			withLogicalDate(run("r", kant.StateRunning, jst("2026-11-24 09:00"), time.Time{}), "2026-11-23"), "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, exp, ok := def.Attribute(tt.run)
			if tt.date == "" {
				if ok {
					t.Errorf("attributed to %s %v", d, exp)
				}
				return
			}
			if !ok || d != date(tt.date) {
				t.Fatalf("Attribute = %s, %v, %v; want %s", d, exp, ok, tt.date)
			}
			assertTime(t, "expected_at", exp, tt.expected)
		})
	}
}

func TestRunWindow(t *testing.T) {
	tests := []struct {
		name       string
		def        func(*Definition)
		from, to   string
		start, end time.Time
	}{
		{"a daily schedule: from the first tick to the next after the window",
			nil, "2026-06-01", "2026-06-30", jst("2026-06-01 01:00"), jst("2026-07-01 01:00")},
		{"the tolerance moves both ends earlier",
			func(d *Definition) { d.Tolerance = 10 * time.Minute }, "2026-06-01", "2026-06-30", jst("2026-06-01 00:50"), jst("2026-07-01 00:50")},
		{"weekday ticks: the window runs to the next tick, ignoring the calendar's gaps",
			func(d *Definition) { d.Schedule = mustSchedule("0 1 * * MON-FRI") }, "2026-06-13", "2026-06-19",
			jst("2026-06-15 01:00"), jst("2026-06-22 01:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := nightly()
			if tt.def != nil {
				tt.def(&def)
			}
			start, end := def.RunWindow(date(tt.from), date(tt.to))
			assertTime(t, "start", start, tt.start)
			assertTime(t, "end", end, tt.end)
		})
	}
}

// TestRunWindowBoundsAttribution checks that every run attributed to an
// occurrence in the window starts within RunWindow, and none outside it is.
func TestRunWindowBoundsAttribution(t *testing.T) {
	def := nightly()
	def.Schedule = mustSchedule("0 1,13 * * MON-FRI")
	def.Tolerance = 20 * time.Minute
	from, to := date("2026-06-10"), date("2026-06-12")
	start, end := def.RunWindow(from, to)
	for ts := jst("2026-06-08 00:00"); ts.Before(jst("2026-06-18 00:00")); ts = ts.Add(5 * time.Minute) {
		d, _, ok := def.Attribute(run("r", kant.StateRunning, ts, time.Time{}))
		inRange := ok && !d.Before(from) && !d.After(to)
		inWindow := !ts.Before(start) && ts.Before(end)
		if inRange != inWindow {
			t.Errorf("run at %v: attributed to %s (in range %v), in window %v", ts, d, inRange, inWindow)
		}
	}
}

func TestNextChange(t *testing.T) {
	def := nightly() // ticks 01:00 JST, deadline 06:00 JST, recovered by 24:00 JST
	within := nightly()
	within.Deadline, within.Within = nil, 90*time.Minute
	for _, tt := range []struct {
		name string
		def  Definition
		now  string
		want string
	}{
		{"before the tick the next moment is the coming deadline", def, "2026-11-19T15:00:00Z", "2026-11-19T21:00:00Z"},
		{"between tick and deadline it is the deadline", def, "2026-11-19T18:00:00Z", "2026-11-19T21:00:00Z"},
		{"at the deadline it is the end of the day, the SLA bound", def, "2026-11-19T21:00:00Z", "2026-11-20T15:00:00Z"},
		{"after the SLA bound it is the next day's deadline", def, "2026-11-20T15:00:00Z", "2026-11-20T21:00:00Z"},
		{"a deadline relative to the tick is the tick plus within", within, "2026-11-19T16:30:00Z", "2026-11-19T17:30:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NextChange(tt.def, utc(tt.now))
			if !ok || !got.Equal(utc(tt.want)) {
				t.Errorf("NextChange at %s = %s %v, want %s", tt.now, got.UTC().Format(time.RFC3339), ok, tt.want)
			}
		})
	}
}
