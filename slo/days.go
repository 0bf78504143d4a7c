package slo

import (
	"time"

	"github.com/kantproject/kant"
)

// Day numbers are days since 1970-01-01 in the proleptic Gregorian calendar.
// They let the evaluator index, step and compare dates with integer
// arithmetic instead of time.Date calls.

// dayNum returns the day number of d.
func dayNum(d kant.Date) int {
	y, m := d.Year, int(d.Month)
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateOfNum returns the date with day number n.
func dateOfNum(n int) kant.Date {
	z := n + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return kant.Date{Year: y, Month: time.Month(m), Day: d}
}

// weekdayOfNum returns the day of the week of day number n.
func weekdayOfNum(n int) time.Weekday {
	return time.Weekday(((n+4)%7 + 7) % 7) // 1970-01-01 was a Thursday
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// localDate returns the calendar date of t in loc.
func localDate(t time.Time, loc *time.Location) kant.Date {
	return kant.DateOf(t.In(loc))
}

// orUTC returns loc, or UTC when loc is nil.
func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
