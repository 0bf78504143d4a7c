// Package slo owns SLO definitions and their judgement: cron schedules in a
// time zone, business-day calendars, occurrence expansion, attribution of runs
// to occurrences, per-occurrence verdicts, per-day SLO/SLA outcomes and
// attainment. Everything here is a pure function of (definitions, runs, now):
// no I/O, no clock reads. It imports only kant and calendar data.
package slo

import (
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
