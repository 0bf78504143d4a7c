package slo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// ParseClock parses a wall-clock time "HH:MM" from 00:00 to 23:59, or
// "24:00" for the end of the day. Errors are EINVALID.
func ParseClock(s string) (Clock, error) {
	hs, ms, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 {
		return Clock{}, kant.Errorf(kant.EINVALID, "bad time of day %q: want HH:MM", s)
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || hs[0] == '+' || hs[0] == '-' || ms[0] == '+' || ms[0] == '-' {
		return Clock{}, kant.Errorf(kant.EINVALID, "bad time of day %q: want HH:MM", s)
	}
	c := Clock{Hour: h, Minute: m}
	if err := c.Validate(); err != nil {
		return Clock{}, kant.Errorf(kant.EINVALID, "bad time of day %q: %s", s, kant.ErrorMessage(err))
	}
	return c, nil
}

// Validate reports an EINVALID error unless c is within 00:00-23:59 or is
// exactly 24:00.
func (c Clock) Validate() error {
	switch {
	case c.Hour == 24 && c.Minute == 0:
		return nil
	case c.Hour < 0 || c.Hour > 23:
		return kant.Errorf(kant.EINVALID, "hour %d out of range 0-23 (or 24:00)", c.Hour)
	case c.Minute < 0 || c.Minute > 59:
		return kant.Errorf(kant.EINVALID, "minute %d out of range 0-59", c.Minute)
	}
	return nil
}

// String formats c as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// MarshalText formats c as HH:MM.
func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses HH:MM with ParseClock.
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// On returns the wall-clock time c on date d in loc; 24:00 is midnight at the
// start of the next day. A time that occurs twice on a daylight-saving change
// is its first instance; a time skipped by one is moved forward by the length
// of the gap.
func (c Clock) On(d kant.Date, loc *time.Location) time.Time {
	return wallTime(d.Year, d.Month, d.Day, c.Hour, c.Minute, orUTC(loc))
}

// AtOrAfter returns the first time at or after t whose wall clock in loc
// reads c. 24:00 of a date is midnight of the next, so for 24:00 a t at
// midnight is its own answer.
func (c Clock) AtOrAfter(t time.Time, loc *time.Location) time.Time {
	return c.first(t, loc, true)
}

// After returns the first time strictly after t whose wall clock in loc
// reads c.
func (c Clock) After(t time.Time, loc *time.Location) time.Time {
	return c.first(t, loc, false)
}

func (c Clock) first(t time.Time, loc *time.Location, orEqual bool) time.Time {
	loc = orUTC(loc)
	y, m, d := t.In(loc).Date()
	for off := -1; ; off++ {
		x := wallTime(y, m, d+off, c.Hour, c.Minute, loc)
		if x.After(t) || orEqual && x.Equal(t) {
			return x
		}
	}
}

// wallTime returns the instant whose wall clock in loc reads the given date
// and time, like time.Date but with a fixed rule for daylight-saving changes
// (time.Date's choice depends on the sign of the zone's offset): a time that
// occurs twice is its first instance, and a time skipped by a gap is read
// with the offset in force before the gap, which moves it forward by the
// gap's length (02:30 in a 02:00-03:00 gap is 03:30).
func wallTime(year int, month time.Month, day, hour, minute int, loc *time.Location) time.Time {
	t := time.Date(year, month, day, hour, minute, 0, 0, loc)
	const near = 24 * time.Hour
	start, end := t.ZoneBounds()
	if (start.IsZero() || !t.Add(-near).Before(start)) && (end.IsZero() || t.Add(near).Before(end)) {
		return t // no offset change within a day either side
	}
	_, before := t.Add(-near).Zone()
	_, after := t.Add(near).Zone()
	if before == after {
		return t
	}
	wall := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	first := wall.Add(-time.Duration(before) * time.Second).In(loc)
	if _, off := first.Zone(); off == before {
		return first // exists before the change: the only or the first instance
	}
	second := wall.Add(-time.Duration(after) * time.Second).In(loc)
	if _, off := second.Zone(); off == after {
		return second // exists only after the change
	}
	return first // in the gap
}
