package slo

import (
	"testing"
	"time"

	"github.com/kantproject/kant"
)

var (
	tokyo   = mustLoad("Asia/Tokyo")
	newYork = mustLoad("America/New_York")
)

const testJob kant.JobKey = "hegel/export_users"

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func mustSchedule(spec string) Schedule {
	s, err := ParseSchedule(spec)
	if err != nil {
		panic(err)
	}
	return s
}

func mustClock(s string) *Clock {
	c, err := ParseClock(s)
	if err != nil {
		panic(err)
	}
	return &c
}

func mustCalendar(name string, holidays, workdays []kant.Date) *Calendar {
	c, err := NewCalendar(name, holidays, workdays)
	if err != nil {
		panic(err)
	}
	return c
}

func date(s string) kant.Date {
	d, err := kant.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func dates(ss ...string) []kant.Date {
	out := make([]kant.Date, len(ss))
	for i, s := range ss {
		out[i] = date(s)
	}
	return out
}

// at parses "2006-01-02 15:04" (optionally with ":05") in loc.
func at(loc *time.Location, s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t
		}
	}
	panic("bad time " + s)
}

// jst is at(tokyo, s).
func jst(s string) time.Time { return at(tokyo, s) }

// utc parses an RFC 3339 time, or returns the zero time for "".
func utc(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// nightly is the SLO of the design page: hegel jobs at 01:00 in Tokyo, due
// by 06:00, every day.
func nightly() Definition {
	return Definition{
		Name:     "hegel-nightly",
		Jobs:     []string{"hegel/*"},
		Schedule: mustSchedule("0 1 * * *"),
		Location: tokyo,
		Deadline: mustClock("06:00"),
		Target:   0.95,
	}
}

// run returns a run of testJob. finished may be zero for a run without an
// end; the observation time is the end, else the start.
func run(id string, state kant.State, started, finished time.Time) kant.Run {
	r := kant.Run{
		Source:     testJob.Source(),
		Job:        testJob,
		RunID:      id,
		Attempt:    1,
		State:      state,
		StartedAt:  started,
		FinishedAt: finished,
		ObservedAt: finished,
	}
	if finished.IsZero() {
		r.ObservedAt = started
	}
	return r
}

func withLogicalDate(r kant.Run, d string) kant.Run {
	r.LogicalDate = date(d)
	return r
}

func withAttempt(r kant.Run, n int) kant.Run {
	r.Attempt = n
	return r
}

func withJob(r kant.Run, job kant.JobKey) kant.Run {
	r.Job = job
	r.Source = job.Source()
	return r
}

func assertTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got.UTC(), want.UTC())
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s = %v is not in UTC", what, got)
	}
}
