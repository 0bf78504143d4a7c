package slo

import (
	"strings"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/jp"
	"github.com/rickar/cal/v2/us"

	"github.com/kantproject/kant"
)

// Calendar says which dates are business days for an SLO: only ticks on
// those dates are occurrences. A nil *Calendar counts every day.
//
// A Calendar is safe for concurrent use; it computes each year's national
// holidays once, on first use.
type Calendar struct {
	name          string
	weekdaysOnly  bool
	holidays      []*cal.Holiday
	extraHolidays map[kant.Date]struct{}
	extraWorkdays map[kant.Date]struct{}

	mu    sync.Mutex
	years map[int]*[13]uint32 // per year, per month: bit d set when day d is a holiday
}

// calendarKind is one named calendar.
type calendarKind struct {
	weekdaysOnly bool
	holidays     []*cal.Holiday
}

// calendars are the named calendars. The holiday lists are rickar/cal's:
// Japan's national holidays with their substitute holidays, and the United
// States' federal holidays with their observed dates.
var calendars = map[string]calendarKind{
	"daily":            {},
	"weekdays":         {weekdaysOnly: true},
	"jp-business-days": {weekdaysOnly: true, holidays: jp.Holidays},
	"us-business-days": {weekdaysOnly: true, holidays: us.Holidays},
}

// CalendarNames returns the names NewCalendar accepts.
func CalendarNames() []string {
	return []string{"daily", "weekdays", "jp-business-days", "us-business-days"}
}

// NewCalendar returns the named calendar: "daily" (every day), "weekdays"
// (Monday to Friday) or "<cc>-business-days" (weekdays that are not national
// holidays; cc is jp or us). extraHolidays are dates that are never business
// days and extraWorkdays dates that always are, whatever the name says; a
// date in both lists is an error. Errors are EINVALID.
func NewCalendar(name string, extraHolidays, extraWorkdays []kant.Date) (*Calendar, error) {
	kind, ok := calendars[name]
	if !ok {
		return nil, kant.Errorf(kant.EINVALID, "unknown calendar %q (valid: %s)",
			name, strings.Join(CalendarNames(), ", "))
	}
	c := &Calendar{
		name:          name,
		weekdaysOnly:  kind.weekdaysOnly,
		holidays:      kind.holidays,
		extraHolidays: make(map[kant.Date]struct{}, len(extraHolidays)),
		extraWorkdays: make(map[kant.Date]struct{}, len(extraWorkdays)),
		years:         make(map[int]*[13]uint32),
	}
	for _, d := range extraHolidays {
		if d.IsZero() {
			return nil, kant.Errorf(kant.EINVALID, "calendar %q: extra holiday: empty date", name)
		}
		c.extraHolidays[d] = struct{}{}
	}
	for _, d := range extraWorkdays {
		if d.IsZero() {
			return nil, kant.Errorf(kant.EINVALID, "calendar %q: extra workday: empty date", name)
		}
		if _, ok := c.extraHolidays[d]; ok {
			return nil, kant.Errorf(kant.EINVALID, "calendar %q: %s is both an extra holiday and an extra workday", name, d)
		}
		c.extraWorkdays[d] = struct{}{}
	}
	return c, nil
}

// Name returns the calendar's name, or "daily" for a nil calendar.
func (c *Calendar) Name() string {
	if c == nil {
		return "daily"
	}
	return c.name
}

// Workday reports whether d is a business day. Every day is one on a nil
// calendar.
func (c *Calendar) Workday(d kant.Date) bool {
	if c == nil {
		return true
	}
	if len(c.extraWorkdays) > 0 {
		if _, ok := c.extraWorkdays[d]; ok {
			return true
		}
	}
	if len(c.extraHolidays) > 0 {
		if _, ok := c.extraHolidays[d]; ok {
			return false
		}
	}
	if c.weekdaysOnly {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return false
		}
	}
	return !c.Holiday(d)
}

// Holiday reports whether d is a national holiday of the calendar (its
// actual or observed date), ignoring the extra holidays and workdays.
func (c *Calendar) Holiday(d kant.Date) bool {
	if c == nil || len(c.holidays) == 0 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
		return false
	}
	return c.year(d.Year)[d.Month]&(1<<uint(d.Day)) != 0
}

// year returns the holiday bits of year y, computing them on first use.
func (c *Calendar) year(y int) *[13]uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bits, ok := c.years[y]; ok {
		return bits
	}
	bits := new([13]uint32)
	mark := func(t time.Time) {
		if t.IsZero() {
			return
		}
		ty, tm, td := t.Date()
		if ty == y {
			bits[tm] |= 1 << uint(td)
		}
	}
	// An observed date can fall in a neighbouring year (1 January on a
	// Saturday is observed on 31 December).
	for yy := y - 1; yy <= y+1; yy++ {
		for _, h := range c.holidays {
			// Calc on a copy: some holiday functions write to the holiday
			// they are given, which would race on the shared definitions.
			actual, observed := h.Clone(nil).Calc(yy)
			mark(actual)
			mark(observed)
		}
	}
	c.years[y] = bits
	return bits
}
