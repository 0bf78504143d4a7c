// Package slo owns SLO definitions and their judgement: cron schedules in a
// time zone, business-day calendars, occurrence expansion, attribution of runs
// to occurrences, per-occurrence verdicts, per-day SLO/SLA outcomes and
// attainment. Everything here is a pure function of (definitions, runs, now):
// no I/O, no clock reads. It imports only kant and calendar data.
package slo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/kantproject/kant"
)

// Definition is one SLO: which jobs, when they are expected, and by when they
// must have succeeded.
type Definition struct {
	Name     string
	Jobs     []string       // job keys or globs ("hegel/*")
	Schedule Schedule       // cron ticks, one occurrence per tick per job
	Location *time.Location // zone of the schedule, deadline and dates
	Calendar *Calendar      // nil: every day counts

	// Exactly one of Deadline (a wall-clock time, the first at or after the
	// tick) or Within (relative to the tick) is set.
	Deadline *Clock
	Within   time.Duration

	// RecoverBy is the SLA bound: the first such wall-clock time at or after
	// the deadline. Nil means the end of the deadline's day (24:00).
	RecoverBy *Clock

	Target    float64       // share of days that must meet the SLO, in (0,1]
	Tolerance time.Duration // how early a run may start and still count for a tick
	Owner     string
	Channel   string

	// Upstream names the SLOs (by name) or jobs (keys or globs) this SLO's
	// jobs depend on: while one of them has failed, a miss here is folded
	// into the upstream incident instead of alerting on its own.
	Upstream []string
	// ExcludeSilenced leaves out of attainment the days on which a silence
	// covering this SLO was active (see Excluding).
	ExcludeSilenced bool
	// AtRisk configures the warning of occurrences at risk of missing
	// their deadline; the zero value is on, with the defaults.
	AtRisk AtRisk
}

// Clock is a wall-clock time of day. Hour 24 with Minute 0 means the end of
// the day (midnight at the start of the next day).
type Clock struct {
	Hour, Minute int
}

// Job is a job judged by an SLO and the first business date on which it can
// have an occurrence (occurrences before Since are not judged).
type Job struct {
	Key   kant.JobKey
	Since kant.Date
}

// Validate reports the first problem with d as an EINVALID error: a name, at
// least one job pattern, a schedule and a location are required; exactly one
// of Deadline and Within is set, Within is positive, the clocks are valid
// times of day, Target is in (0, 1] and Tolerance is not negative.
func (d Definition) Validate() error {
	fail := func(format string, args ...any) error {
		return kant.Errorf(kant.EINVALID, "slo %q: %s", d.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case d.Name == "":
		return kant.Errorf(kant.EINVALID, "slo: name required")
	case len(d.Jobs) == 0:
		return fail("jobs: at least one job or pattern required")
	case slices.Contains(d.Jobs, ""):
		return fail("jobs: empty pattern")
	case d.Schedule.IsZero():
		return fail("schedule: required")
	case d.Location == nil:
		return fail("timezone: required")
	case d.Deadline == nil && d.Within == 0:
		return fail("one of deadline or within required")
	case d.Deadline != nil && d.Within != 0:
		return fail("deadline and within both set; choose one")
	case d.Within < 0:
		return fail("within: must be positive, got %s", d.Within)
	case d.Target <= 0 || d.Target > 1 || math.IsNaN(d.Target):
		return fail("target: must be in (0, 1], got %g", d.Target)
	case d.Tolerance < 0:
		return fail("tolerance: must not be negative, got %s", d.Tolerance)
	}
	if err := d.AtRisk.Validate(); err != nil {
		return fail("at_risk: %s", kant.ErrorMessage(err))
	}
	if d.Deadline != nil {
		if err := d.Deadline.Validate(); err != nil {
			return fail("deadline: %s", kant.ErrorMessage(err))
		}
	}
	if d.RecoverBy != nil {
		if err := d.RecoverBy.Validate(); err != nil {
			return fail("recover_by: %s", kant.ErrorMessage(err))
		}
	}
	return nil
}

// Selects reports whether the SLO judges the job: whether key matches one of
// its job patterns.
func (d Definition) Selects(key kant.JobKey) bool { return kant.MatchAny(d.Jobs, key) }

// Fingerprint is a digest of everything in d that decides its verdicts and
// days: jobs, schedule, zone, calendar (its extra holidays and workdays
// included), deadline, SLA bound and tolerance. Two definitions with the
// same fingerprint judge the same runs alike, so verdicts stored under one
// stand for the other; owner, channel, target and the alerting settings do
// not count.
func (d Definition) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q|%s|", d.Name, d.Jobs, d.Schedule.String(), d.Location)
	if c := d.Calendar; c != nil {
		fmt.Fprintf(h, "%q|%t|%d|%v|%v|", c.name, c.weekdaysOnly, len(c.holidays),
			slices.SortedFunc(maps.Keys(c.extraHolidays), kant.Date.Compare),
			slices.SortedFunc(maps.Keys(c.extraWorkdays), kant.Date.Compare))
	}
	fmt.Fprintf(h, "%v|%d|%v|%d", d.Deadline, d.Within, d.RecoverBy, d.Tolerance)
	return hex.EncodeToString(h.Sum(nil)[:12])
}
