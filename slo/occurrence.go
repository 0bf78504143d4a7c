package slo

import (
	"sort"
	"time"

	"github.com/kantproject/kant"
)

// deadlineAfter returns the deadline of an occurrence expected at tick: the
// first Deadline wall-clock time after the tick, or tick + Within. A deadline
// equal to the tick's own time would leave no time at all, so "06:00" for a
// 06:00 tick is the next day's 06:00, and "24:00" for a 00:00 tick is the end
// of the tick's date.
func deadlineAfter(d *Definition, tick time.Time, loc *time.Location) time.Time {
	if d.Deadline != nil {
		return d.Deadline.After(tick, loc)
	}
	return tick.Add(d.Within)
}

// recoverByAfter returns the SLA bound for a deadline: the first RecoverBy
// wall-clock time at or after it, by default 24:00: the end of the day the
// deadline falls in (the deadline itself when it is midnight).
func recoverByAfter(d *Definition, deadline time.Time, loc *time.Location) time.Time {
	c := Clock{Hour: 24}
	if d.RecoverBy != nil {
		c = *d.RecoverBy
	}
	return c.AtOrAfter(deadline, loc)
}

// plan is the expansion of one SLO over a range of dates, shared by all the
// jobs it judges: the occurrence times of every business date, and every
// tick ignoring the calendar, which runs without a logical date are
// attributed by.
type plan struct {
	loc     *time.Location
	fromDay int        // day number of the first date
	dates   []planDate // one per date of the range
	occ     []planOcc  // occurrences (ticks on business dates), in time order
	ticks   []planTick // every tick of the range ignoring the calendar, in time order
	after   time.Time  // the first tick after the range, ignoring the calendar
	hasNext bool       // whether after is set
	tol     time.Duration
}

type planDate struct {
	date       kant.Date
	first, end int32 // occurrences of the date: occ[first:end]
}

type planOcc struct {
	day                           int32 // index into dates
	expected, deadline, recoverBy time.Time
}

type planTick struct {
	at  time.Time
	occ int32 // index into occ, or -1 when the date is not a business day
}

// newPlan expands d over the dates [from, to], which must not be empty.
func newPlan(d *Definition, from, to kant.Date) *plan {
	loc := orUTC(d.Location)
	fromN, toN := dayNum(from), dayNum(to)
	p := &plan{
		loc:     loc,
		fromDay: fromN,
		dates:   make([]planDate, 0, toN-fromN+1),
		tol:     d.Tolerance,
	}
	var buf []time.Time
	for n := fromN; n <= toN; n++ {
		date := dateOfNum(n)
		pd := planDate{date: date, first: int32(len(p.occ))}
		buf = d.Schedule.appendTicks(buf[:0], date, weekdayOfNum(n), loc)
		if len(buf) > 0 {
			work := d.Calendar.Workday(date)
			for _, tick := range buf {
				occ := int32(-1)
				if work {
					occ = int32(len(p.occ))
					deadline := deadlineAfter(d, tick, loc)
					p.occ = append(p.occ, planOcc{
						day:       int32(len(p.dates)),
						expected:  tick.UTC(),
						deadline:  deadline.UTC(),
						recoverBy: recoverByAfter(d, deadline, loc).UTC(),
					})
				}
				p.ticks = append(p.ticks, planTick{at: tick, occ: occ})
			}
		}
		pd.end = int32(len(p.occ))
		p.dates = append(p.dates, pd)
	}
	p.after, p.hasNext = d.Schedule.firstTickFrom(toN+1, loc)
	return p
}

// attribute returns the index of the occurrence r is attributed to, or -1.
//
// A run with a logical date belongs to an occurrence of that date: the
// latest tick at or before its start plus the tolerance, else the date's
// first tick. A run without one belongs to the latest tick at or before its
// start plus the tolerance, ignoring the calendar; when that tick is not on
// a business day, or not in the plan's range, the run is not attributed.
func (p *plan) attribute(r *kant.Run) int {
	at := r.At().Add(p.tol)
	if !r.LogicalDate.IsZero() {
		i := dayNum(r.LogicalDate) - p.fromDay
		if i < 0 || i >= len(p.dates) {
			return -1
		}
		pd := p.dates[i]
		if pd.first == pd.end {
			return -1
		}
		for k := pd.end - 1; k > pd.first; k-- {
			if !p.occ[k].expected.After(at) {
				return int(k)
			}
		}
		return int(pd.first)
	}
	if len(p.ticks) == 0 || at.Before(p.ticks[0].at) || (p.hasNext && !at.Before(p.after)) {
		return -1
	}
	// The first tick after at, less one: the latest at or before it.
	k := sort.Search(len(p.ticks), func(k int) bool { return p.ticks[k].at.After(at) }) - 1
	return int(p.ticks[k].occ)
}

// Occurrences returns the occurrences of job under d on the business dates
// [from, to], in time order: one per tick, dated by the tick's local date,
// with every time in UTC.
func (d Definition) Occurrences(job kant.JobKey, from, to kant.Date) []kant.Occurrence {
	if to.Before(from) {
		return nil
	}
	p := newPlan(&d, from, to)
	out := make([]kant.Occurrence, len(p.occ))
	for i, o := range p.occ {
		out[i] = kant.Occurrence{
			SLO:        d.Name,
			Job:        job,
			Date:       p.dates[o.day].date,
			ExpectedAt: o.expected,
			Deadline:   o.deadline,
			RecoverBy:  o.recoverBy,
		}
	}
	return out
}

// Attribute returns the occurrence r belongs to under d: its date and
// expected time (in UTC). ok is false when r belongs to no occurrence: its
// logical date is not a business day or has no tick, or, without a logical
// date, the latest tick at or before its start (plus the tolerance) is on a
// date that is not a business day, or there is none.
//
// Evaluate attributes runs the same way.
func (d Definition) Attribute(r kant.Run) (date kant.Date, expectedAt time.Time, ok bool) {
	loc := orUTC(d.Location)
	at := r.At().Add(d.Tolerance)
	if !r.LogicalDate.IsZero() {
		if !d.Calendar.Workday(r.LogicalDate) {
			return kant.Date{}, time.Time{}, false
		}
		ticks := d.Schedule.TicksOn(r.LogicalDate, loc)
		if len(ticks) == 0 {
			return kant.Date{}, time.Time{}, false
		}
		tick := ticks[0]
		for i := len(ticks) - 1; i > 0; i-- {
			if !ticks[i].After(at) {
				tick = ticks[i]
				break
			}
		}
		return r.LogicalDate, tick.UTC(), true
	}
	tick, date, ok := d.Schedule.prev(at, loc)
	if !ok || !d.Calendar.Workday(date) {
		return kant.Date{}, time.Time{}, false
	}
	return date, tick.UTC(), true
}

// RunWindow returns the half-open range [start, end) in which Run.At() of a
// run without a logical date must lie for the run to be attributable to an
// occurrence dated [from, to]: from the first tick on or after the start of
// from, to the first tick after the end of to, both moved earlier by the
// tolerance (a run that early already counts for the tick). Runs with a
// logical date are selected by that date instead.
func (d Definition) RunWindow(from, to kant.Date) (start, end time.Time) {
	loc := orUTC(d.Location)
	first, ok := d.Schedule.firstTickFrom(dayNum(from), loc)
	if !ok {
		empty := from.In(loc).UTC()
		return empty, empty
	}
	next, ok := d.Schedule.firstTickFrom(dayNum(to)+1, loc)
	if !ok {
		// No tick follows: every later run belongs to the last tick.
		next = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	if next.Before(first) {
		next = first
	}
	return first.Add(-d.Tolerance).UTC(), next.Add(-d.Tolerance).UTC()
}

// NextChange returns the first moment after now at which a verdict of def
// changes by the clock alone: the deadline of an occurrence (pending turns
// missed) or its SLA bound (RecoverBy). ok is false when the schedule has
// no tick near now. Ticks on days the calendar skips are counted too: an
// extra moment costs an evaluation that changes nothing, a missing one a
// late alert.
func NextChange(def Definition, now time.Time) (next time.Time, ok bool) {
	loc := orUTC(def.Location)
	// A deadline falls at most a day (Deadline) or Within after its tick,
	// and the SLA bound at most a day after the deadline: ticks from that
	// far back can still have a moment ahead.
	reach := 49*time.Hour + def.Within
	t, found := def.Schedule.Prev(now.Add(-reach), loc)
	if !found {
		t = now.Add(-reach)
	}
	consider := func(at time.Time) {
		if at.After(now) && (!ok || at.Before(next)) {
			next, ok = at, true
		}
	}
	for range 100000 { // bounded: a schedule ticking every minute over the reach
		if ok && t.After(next) {
			break // every later tick's moments are later still
		}
		deadline := deadlineAfter(&def, t, loc)
		consider(deadline)
		consider(recoverByAfter(&def, deadline, loc))
		var more bool
		if t, more = def.Schedule.Next(t, loc); !more {
			break
		}
	}
	return next, ok
}
