package slo

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// Schedule is a parsed five-field cron expression (minute hour day-of-month
// month day-of-week) with Vixie cron semantics. Its ticks are wall-clock
// times in a time zone given when they are expanded, one per matching
// hour:minute on each matching local calendar date.
//
// The zero Schedule has no ticks; see IsZero. Schedules are comparable.
type Schedule struct {
	spec   string
	minute uint64 // bit n set: minute n matches (0-59)
	hour   uint32 // bit n: hour n (0-23)
	dom    uint32 // bit n: day of month n (1-31)
	month  uint16 // bit n: month n (1-12)
	dow    uint8  // bit n: weekday n (0-6, Sunday is 0)
	// domStar and dowStar record a day field that starts with '*'. As in
	// Vixie cron, when neither day field does, a day matches when either
	// field matches; otherwise both must.
	domStar, dowStar bool
}

// maxScanDays bounds searches for the previous or next tick: every date that
// a schedule can match recurs within one 400-year Gregorian cycle.
const maxScanDays = 146097 + 1

// cronField describes one field of a cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is the name of value min+i, if any
}

var (
	fieldMinute = cronField{name: "minute", min: 0, max: 59}
	fieldHour   = cronField{name: "hour", min: 0, max: 23}
	fieldDOM    = cronField{name: "day-of-month", min: 1, max: 31}
	fieldMonth  = cronField{name: "month", min: 1, max: 12, names: []string{
		"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	// Day of week accepts 0-7; 7 is Sunday again.
	fieldDOW = cronField{name: "day-of-week", min: 0, max: 7, names: []string{
		"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
)

var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// ParseSchedule parses a cron expression: five fields (minute, hour,
// day-of-month, month, day-of-week) each made of a comma-separated list of
// '*', single values, ranges "a-b" and steps "*/n", "a-b/n" or "a/n"
// (a to the field's maximum); month and weekday names (JAN, MON) in any
// case; 0 or 7 for Sunday. When both day fields are restricted (neither
// starts with '*') a date matches either, as in Vixie cron. The macros
// @yearly (@annually), @monthly, @weekly, @daily (@midnight) and @hourly are
// accepted. Errors are EINVALID and name the field and the value.
func ParseSchedule(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	expr := spec
	if strings.HasPrefix(expr, "@") {
		m, ok := macros[strings.ToLower(expr)]
		if !ok {
			return Schedule{}, kant.Errorf(kant.EINVALID,
				"schedule %q: unknown macro (valid: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)", spec)
		}
		expr = m
	}
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return Schedule{}, kant.Errorf(kant.EINVALID,
			"schedule %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", spec, len(fields))
	}
	s := Schedule{spec: spec}
	var err error
	var v uint64
	if s.minute, err = fieldMinute.parse(fields[0]); err != nil {
		return Schedule{}, scheduleError(spec, err)
	}
	if v, err = fieldHour.parse(fields[1]); err != nil {
		return Schedule{}, scheduleError(spec, err)
	}
	s.hour = uint32(v)
	if v, err = fieldDOM.parse(fields[2]); err != nil {
		return Schedule{}, scheduleError(spec, err)
	}
	s.dom = uint32(v)
	if v, err = fieldMonth.parse(fields[3]); err != nil {
		return Schedule{}, scheduleError(spec, err)
	}
	s.month = uint16(v)
	if v, err = fieldDOW.parse(fields[4]); err != nil {
		return Schedule{}, scheduleError(spec, err)
	}
	if v&(1<<7) != 0 { // 7 is Sunday
		v |= 1
	}
	s.dow = uint8(v & 0x7f)
	s.domStar = strings.HasPrefix(fields[2], "*")
	s.dowStar = strings.HasPrefix(fields[4], "*")
	if !s.canFire() {
		return Schedule{}, kant.Errorf(kant.EINVALID,
			"schedule %q: day-of-month %s never occurs in month %s", spec, fields[2], fields[3])
	}
	return s, nil
}

func scheduleError(spec string, err error) error {
	return kant.Errorf(kant.EINVALID, "schedule %q: %s", spec, err.Error())
}

func (f cronField) errorf(format string, args ...any) error {
	return fmt.Errorf("%s %s", f.name, fmt.Sprintf(format, args...))
}

// parse returns the set of values of one field as a bit set.
func (f cronField) parse(field string) (uint64, error) {
	var set uint64
	for part := range strings.SplitSeq(field, ",") {
		if part == "" {
			return 0, f.errorf("%q: empty list element", field)
		}
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return 0, f.errorf("step %q in %q: want a positive number", stepStr, part)
			}
			step = n
		}
		var lo, hi int
		switch {
		case rng == "*":
			lo, hi = f.min, f.max
			if f.name == fieldDOW.name {
				hi = 6
			}
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			if hi, err = f.value(b); err != nil {
				return 0, err
			}
			if lo > hi {
				return 0, f.errorf("range %q: start after end", rng)
			}
		default:
			var err error
			if lo, err = f.value(rng); err != nil {
				return 0, err
			}
			hi = lo
			if hasStep {
				hi = f.max
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

// value parses one number or name of the field and checks its range.
func (f cronField) value(s string) (int, error) {
	if s == "" {
		return 0, f.errorf("value missing")
	}
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if f.names != nil {
			return 0, f.errorf("%q is not a number or a %s name", s, f.name)
		}
		return 0, f.errorf("%q is not a number", s)
	}
	if n < f.min || n > f.max {
		return 0, f.errorf("%d out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

// canFire reports whether some date can match the day fields.
func (s Schedule) canFire() bool {
	if s.minute == 0 || s.hour == 0 || s.month == 0 {
		return false
	}
	if !s.domStar && !s.dowStar {
		return true // either field may match; the weekday always occurs
	}
	longest := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		if s.month&(1<<m) == 0 {
			continue
		}
		if uint64(s.dom)&(1<<(longest[m]+1)-1) != 0 {
			return true
		}
	}
	return false
}

// String returns the expression the schedule was parsed from.
func (s Schedule) String() string { return s.spec }

// IsZero reports whether s is the zero Schedule, which never ticks.
func (s Schedule) IsZero() bool { return s == Schedule{} }

// MarshalText returns the expression the schedule was parsed from.
func (s Schedule) MarshalText() ([]byte, error) { return []byte(s.spec), nil }

// UnmarshalText parses a cron expression with ParseSchedule.
func (s *Schedule) UnmarshalText(b []byte) error {
	v, err := ParseSchedule(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Matches reports whether the schedule has ticks on date d.
func (s Schedule) Matches(d kant.Date) bool {
	return s.matchesDay(d, d.Weekday())
}

func (s Schedule) matchesDay(d kant.Date, wd time.Weekday) bool {
	if s.month&(1<<uint(d.Month)) == 0 {
		return false
	}
	domOK := s.dom&(1<<uint(d.Day)) != 0
	dowOK := s.dow&(1<<uint(wd)) != 0
	if s.domStar || s.dowStar {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// TicksOn returns the ticks of the schedule on the local date d in loc, in
// order: the wall-clock time hour:minute on d in loc for every matching hour
// and minute. A time skipped by a daylight-saving change is moved forward by
// the length of the gap (02:30 becomes 03:30), a repeated one is its first
// instance, and ticks that fall on the same instant are returned once.
func (s Schedule) TicksOn(d kant.Date, loc *time.Location) []time.Time {
	return s.appendTicks(nil, d, d.Weekday(), orUTC(loc))
}

// appendTicks appends the ticks on date d (whose weekday is wd) to dst.
func (s Schedule) appendTicks(dst []time.Time, d kant.Date, wd time.Weekday, loc *time.Location) []time.Time {
	if !s.matchesDay(d, wd) {
		return dst
	}
	start := len(dst)
	for hours := s.hour; hours != 0; hours &= hours - 1 {
		h := bits.TrailingZeros32(hours)
		for mins := s.minute; mins != 0; mins &= mins - 1 {
			m := bits.TrailingZeros64(mins)
			dst = append(dst, wallTime(d.Year, d.Month, d.Day, h, m, loc))
		}
	}
	ticks := dst[start:]
	if len(ticks) > 1 && !slices.IsSortedFunc(ticks, time.Time.Compare) {
		slices.SortFunc(ticks, time.Time.Compare)
	}
	if len(ticks) > 1 {
		ticks = slices.CompactFunc(ticks, time.Time.Equal)
		dst = dst[:start+len(ticks)]
	}
	return dst
}

// Prev returns the latest tick at or before t, in loc.
func (s Schedule) Prev(t time.Time, loc *time.Location) (time.Time, bool) {
	tick, _, ok := s.prev(t, orUTC(loc))
	return tick, ok
}

// prev returns the latest tick at or before t and the local date it was
// expanded from.
func (s Schedule) prev(t time.Time, loc *time.Location) (time.Time, kant.Date, bool) {
	if s.IsZero() {
		return time.Time{}, kant.Date{}, false
	}
	n := dayNum(localDate(t, loc))
	var buf [4]time.Time
	for k := 0; k <= maxScanDays; k++ {
		d := dateOfNum(n - k)
		ticks := s.appendTicks(buf[:0], d, weekdayOfNum(n-k), loc)
		for i := len(ticks) - 1; i >= 0; i-- {
			if !ticks[i].After(t) {
				return ticks[i], d, true
			}
		}
	}
	return time.Time{}, kant.Date{}, false
}

// Next returns the first tick strictly after t, in loc.
func (s Schedule) Next(t time.Time, loc *time.Location) (time.Time, bool) {
	tick, _, ok := s.next(t, orUTC(loc))
	return tick, ok
}

// next returns the first tick strictly after t and the local date it was
// expanded from.
func (s Schedule) next(t time.Time, loc *time.Location) (time.Time, kant.Date, bool) {
	if s.IsZero() {
		return time.Time{}, kant.Date{}, false
	}
	// A tick of the previous date can lie after t only around a DST
	// change; start one day early to be safe.
	n := dayNum(localDate(t, loc)) - 1
	var buf [4]time.Time
	for k := 0; k <= maxScanDays; k++ {
		d := dateOfNum(n + k)
		for _, tick := range s.appendTicks(buf[:0], d, weekdayOfNum(n+k), loc) {
			if tick.After(t) {
				return tick, d, true
			}
		}
	}
	return time.Time{}, kant.Date{}, false
}

// firstTickFrom returns the first tick on a date at or after day number n.
func (s Schedule) firstTickFrom(n int, loc *time.Location) (time.Time, bool) {
	if s.IsZero() {
		return time.Time{}, false
	}
	var buf [4]time.Time
	for k := 0; k <= maxScanDays; k++ {
		if ticks := s.appendTicks(buf[:0], dateOfNum(n+k), weekdayOfNum(n+k), loc); len(ticks) > 0 {
			return ticks[0], true
		}
	}
	return time.Time{}, false
}
