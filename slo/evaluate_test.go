package slo

import (
	"testing"
	"time"

	"github.com/kantproject/kant"
)

// wantResult is the expected judgement of one occurrence. Times are RFC
// 3339; an empty succeeded means no success.
type wantResult struct {
	job       kant.JobKey // testJob when empty
	date      string
	expected  string
	deadline  string
	recoverBy string // not checked when empty
	verdict   kant.Verdict
	reason    kant.Reason
	succeeded string
	lateness  time.Duration
	runs      int
}

type wantDay struct {
	date                       string
	met, late, missed, pending int
	sloMet, slaMet, final      bool
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		def      func(*Definition) // changes to nightly(); nil for none
		jobs     []Job             // one job, testJob, when nil
		runs     []kant.Run
		from, to string
		now      time.Time
		want     []wantResult
		days     []wantDay // not checked when nil
	}{
		{
			name: "a success before the deadline is met",
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 01:00:05"), jst("2026-06-10 02:10"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				recoverBy: "2026-06-10T15:00:00Z",
				verdict:   kant.VerdictMet, succeeded: "2026-06-09T17:10:00Z", runs: 1,
			}},
			days: []wantDay{{date: "2026-06-10", met: 1, sloMet: true, slaMet: true, final: true}},
		},
		{
			name: "a success after the deadline is late by the difference",
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 01:00"), jst("2026-06-10 06:30"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-11 09:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictLate, succeeded: "2026-06-09T21:30:00Z", lateness: 30 * time.Minute, runs: 1,
			}},
			days: []wantDay{{date: "2026-06-10", late: 1, sloMet: false, slaMet: true, final: true}},
		},
		{
			name: "a failure then a success the same day misses the SLO but meets the SLA",
			def:  func(d *Definition) { d.RecoverBy = mustClock("23:59") },
			runs: []kant.Run{
				run("r1", kant.StateFailed, jst("2026-06-10 01:00"), jst("2026-06-10 01:30")),
				run("manual-1", kant.StateSucceeded, jst("2026-06-10 10:00"), jst("2026-06-10 10:40")),
			},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-11 09:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				recoverBy: "2026-06-10T14:59:00Z",
				verdict:   kant.VerdictLate, succeeded: "2026-06-10T01:40:00Z", lateness: 4*time.Hour + 40*time.Minute, runs: 2,
			}},
			days: []wantDay{{date: "2026-06-10", late: 1, sloMet: false, slaMet: true, final: true}},
		},
		{
			name: "a success after the recover-by time meets neither",
			def:  func(d *Definition) { d.RecoverBy = mustClock("12:00") },
			runs: []kant.Run{
				run("r1", kant.StateFailed, jst("2026-06-10 01:00"), jst("2026-06-10 01:30")),
				run("manual-1", kant.StateSucceeded, jst("2026-06-10 12:30"), jst("2026-06-10 13:00")),
			},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 18:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				recoverBy: "2026-06-10T03:00:00Z",
				verdict:   kant.VerdictLate, succeeded: "2026-06-10T04:00:00Z", lateness: 7 * time.Hour, runs: 2,
			}},
			days: []wantDay{{date: "2026-06-10", late: 1, sloMet: false, slaMet: false, final: true}},
		},
		{
			name: "a failure never recovered misses both",
			runs: []kant.Run{run("r1", kant.StateFailed, jst("2026-06-10 01:00"), jst("2026-06-10 01:30"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-11 09:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMissed, reason: kant.ReasonFailed, runs: 1,
			}},
			days: []wantDay{{date: "2026-06-10", missed: 1, sloMet: false, slaMet: false, final: true}},
		},
		{
			name: "a failure is not final before the recover-by time",
			runs: []kant.Run{run("r1", kant.StateTimeout, jst("2026-06-10 01:00"), jst("2026-06-10 05:00"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 09:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMissed, reason: kant.ReasonFailed, runs: 1,
			}},
			days: []wantDay{{date: "2026-06-10", missed: 1, sloMet: false, slaMet: false, final: false}},
		},
		{
			name: "a job that never started is missed with reason not_started",
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 07:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted,
			}},
			days: []wantDay{{date: "2026-06-10", missed: 1, final: false}},
		},
		{
			name: "a run still running at the deadline is missed with reason running",
			runs: []kant.Run{run("r1", kant.StateRunning, jst("2026-06-10 01:00"), time.Time{})},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 06:30"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMissed, reason: kant.ReasonRunning, runs: 1,
			}},
			days: []wantDay{{date: "2026-06-10", missed: 1}},
		},
		{
			name: "a queued run at the deadline is missed with reason running",
			runs: []kant.Run{run("r1", kant.StateQueued, jst("2026-06-10 01:00"), time.Time{})},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 06:30"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMissed, reason: kant.ReasonRunning, runs: 1,
			}},
		},
		{
			name: "the run that was running at the deadline is late once it succeeds",
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 01:00"), jst("2026-06-10 07:00"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 08:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictLate, succeeded: "2026-06-09T22:00:00Z", lateness: time.Hour, runs: 1,
			}},
			days: []wantDay{{date: "2026-06-10", late: 1, slaMet: true, final: false}},
		},
		{
			name: "a run evaluated as of a time before it finished is still running",
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 01:00"), jst("2026-06-10 07:00"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 06:30"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMissed, reason: kant.ReasonRunning, runs: 1,
			}},
		},
		{
			name: "a run evaluated as of a time before it started does not count",
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 06:40"), jst("2026-06-10 07:00"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 06:30"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted,
			}},
		},
		{
			name: "a running job before the deadline is pending",
			runs: []kant.Run{run("r1", kant.StateRunning, jst("2026-06-10 01:00"), time.Time{})},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 03:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictPending, runs: 1,
			}},
			days: []wantDay{{date: "2026-06-10", pending: 1}},
		},
		{
			name: "a failed first attempt before the deadline is pending",
			runs: []kant.Run{run("r1", kant.StateFailed, jst("2026-06-10 01:00"), jst("2026-06-10 01:10"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 03:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictPending, runs: 1,
			}},
		},
		{
			name: "a retry attempt that succeeds decides the occurrence at its own time",
			runs: []kant.Run{
				withAttempt(run("jr_1", kant.StateFailed, jst("2026-06-10 01:00"), jst("2026-06-10 01:20")), 1),
				withAttempt(run("jr_1", kant.StateSucceeded, jst("2026-06-10 01:25"), jst("2026-06-10 02:00")), 2),
			},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMet, succeeded: "2026-06-09T17:00:00Z", runs: 2,
			}},
			days: []wantDay{{date: "2026-06-10", met: 1, sloMet: true, slaMet: true, final: true}},
		},
		{
			name: "the first of two successes decides",
			runs: []kant.Run{
				run("late-rerun", kant.StateSucceeded, jst("2026-06-10 08:00"), jst("2026-06-10 08:30")),
				run("r1", kant.StateSucceeded, jst("2026-06-10 01:00"), jst("2026-06-10 05:00")),
			},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMet, succeeded: "2026-06-09T20:00:00Z", runs: 2,
			}},
		},
		{
			name: "a success without an end time counts from when it was observed",
			runs: []kant.Run{func() kant.Run {
				r := run("r1", kant.StateSucceeded, jst("2026-06-10 01:00"), time.Time{})
				r.ObservedAt = jst("2026-06-10 05:55")
				return r
			}()},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMet, succeeded: "2026-06-09T20:55:00Z", runs: 1,
			}},
		},
		{
			name: "a national holiday has no occurrence on a jp-business-days calendar",
			def:  func(d *Definition) { d.Calendar = mustCalendar("jp-business-days", nil, nil) },
			runs: []kant.Run{
				run("fri", kant.StateSucceeded, jst("2026-11-20 01:00"), jst("2026-11-20 02:00")),
				run("tue", kant.StateSucceeded, jst("2026-11-24 01:00"), jst("2026-11-24 02:00")),
			},
			// Friday to Tuesday: a weekend, then Labour Thanksgiving Day on Monday 23.
			from: "2026-11-20", to: "2026-11-24",
			now: jst("2026-11-25 12:00"),
			want: []wantResult{
				{date: "2026-11-20", expected: "2026-11-19T16:00:00Z", deadline: "2026-11-19T21:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-11-19T17:00:00Z", runs: 1},
				{date: "2026-11-24", expected: "2026-11-23T16:00:00Z", deadline: "2026-11-23T21:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-11-23T17:00:00Z", runs: 1},
			},
			days: []wantDay{
				{date: "2026-11-20", met: 1, sloMet: true, slaMet: true, final: true},
				{date: "2026-11-24", met: 1, sloMet: true, slaMet: true, final: true},
			},
		},
		{
			name: "a substitute holiday has no occurrence on a jp-business-days calendar",
			def:  func(d *Definition) { d.Calendar = mustCalendar("jp-business-days", nil, nil) },
			// Constitution Day 3 May 2026 is a Sunday: Wednesday 6 May is its substitute.
			from: "2026-05-01", to: "2026-05-08",
			now: jst("2026-05-09 12:00"),
			want: []wantResult{
				{date: "2026-05-01", expected: "2026-04-30T16:00:00Z", deadline: "2026-04-30T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
				{date: "2026-05-07", expected: "2026-05-06T16:00:00Z", deadline: "2026-05-06T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
				{date: "2026-05-08", expected: "2026-05-07T16:00:00Z", deadline: "2026-05-07T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
			},
		},
		{
			name: "a us federal holiday observed on a Friday has no occurrence on a us-business-days calendar",
			def: func(d *Definition) {
				d.Calendar = mustCalendar("us-business-days", nil, nil)
				d.Location = newYork
			},
			// 4 July 2026 is a Saturday, observed on Friday 3 July.
			from: "2026-07-02", to: "2026-07-06",
			now: at(newYork, "2026-07-07 12:00"),
			want: []wantResult{
				{date: "2026-07-02", expected: "2026-07-02T05:00:00Z", deadline: "2026-07-02T10:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
				{date: "2026-07-06", expected: "2026-07-06T05:00:00Z", deadline: "2026-07-06T10:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
			},
		},
		{
			name: "extra holidays remove business days and extra workdays add them",
			def: func(d *Definition) {
				d.Calendar = mustCalendar("jp-business-days",
					dates("2026-11-20"),               // a Friday off
					dates("2026-11-21", "2026-11-23")) // a Saturday and a national holiday worked
			},
			from: "2026-11-20", to: "2026-11-23",
			now: jst("2026-11-20 00:00"),
			want: []wantResult{
				{date: "2026-11-21", expected: "2026-11-20T16:00:00Z", deadline: "2026-11-20T21:00:00Z", verdict: kant.VerdictPending},
				{date: "2026-11-23", expected: "2026-11-22T16:00:00Z", deadline: "2026-11-22T21:00:00Z", verdict: kant.VerdictPending},
			},
			days: []wantDay{{date: "2026-11-21", pending: 1}, {date: "2026-11-23", pending: 1}},
		},
		{
			name: "a run on a holiday is not attributed to the previous business day",
			def:  func(d *Definition) { d.Calendar = mustCalendar("jp-business-days", nil, nil) },
			runs: []kant.Run{
				run("fri", kant.StateFailed, jst("2026-11-20 01:00"), jst("2026-11-20 01:10")),
				run("sat", kant.StateSucceeded, jst("2026-11-21 01:00"), jst("2026-11-21 02:00")),
				run("holiday", kant.StateSucceeded, jst("2026-11-23 01:00"), jst("2026-11-23 02:00")),
			},
			from: "2026-11-20", to: "2026-11-24",
			now: jst("2026-11-25 12:00"),
			want: []wantResult{
				{date: "2026-11-20", expected: "2026-11-19T16:00:00Z", deadline: "2026-11-19T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonFailed, runs: 1},
				{date: "2026-11-24", expected: "2026-11-23T16:00:00Z", deadline: "2026-11-23T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
			},
		},
		{
			name: "a run with the logical date of a holiday is not attributed",
			def:  func(d *Definition) { d.Calendar = mustCalendar("jp-business-days", nil, nil) },
			runs: []kant.Run{
				withLogicalDate(run("holiday", kant.StateSucceeded, jst("2026-11-24 01:00"), jst("2026-11-24 02:00")), "2026-11-23"),
			},
			from: "2026-11-23", to: "2026-11-24",
			now: jst("2026-11-25 12:00"),
			want: []wantResult{
				{date: "2026-11-24", expected: "2026-11-23T16:00:00Z", deadline: "2026-11-23T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
			},
		},
		{
			name: "a deadline past midnight is on the next day",
			def: func(d *Definition) {
				d.Schedule = mustSchedule("0 22 * * *")
				d.Deadline = mustClock("02:00")
			},
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 22:00"), jst("2026-06-11 01:30"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-11 12:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-10T13:00:00Z", deadline: "2026-06-10T17:00:00Z",
				recoverBy: "2026-06-11T15:00:00Z", // the end of the deadline's day
				verdict:   kant.VerdictMet, succeeded: "2026-06-10T16:30:00Z", runs: 1,
			}},
			days: []wantDay{{date: "2026-06-10", met: 1, sloMet: true, slaMet: true, final: true}},
		},
		{
			name: "a deadline of 24:00 is the end of the tick's day, and so is the default recover-by",
			def:  func(d *Definition) { d.Deadline = mustClock("24:00") },
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 01:00"), jst("2026-06-10 23:59"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-11 12:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-10T15:00:00Z",
				recoverBy: "2026-06-10T15:00:00Z",
				verdict:   kant.VerdictMet, succeeded: "2026-06-10T14:59:00Z", runs: 1,
			}},
		},
		{
			name: "a deadline within 5h of the tick",
			def: func(d *Definition) {
				d.Deadline = nil
				d.Within = 5 * time.Hour
			},
			runs: []kant.Run{run("r1", kant.StateSucceeded, jst("2026-06-10 01:00"), jst("2026-06-10 06:10"))},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				recoverBy: "2026-06-10T15:00:00Z",
				verdict:   kant.VerdictLate, succeeded: "2026-06-09T21:10:00Z", lateness: 10 * time.Minute, runs: 1,
			}},
		},
		{
			name: "a backfill run whose logical date is days before its start judges that date only",
			runs: []kant.Run{
				run("jun10", kant.StateSucceeded, jst("2026-06-10 01:00"), jst("2026-06-10 02:00")),
				withLogicalDate(run("backfill", kant.StateSucceeded, jst("2026-06-10 14:00"), jst("2026-06-10 14:30")), "2026-06-08"),
			},
			from: "2026-06-08", to: "2026-06-10",
			now: jst("2026-06-11 12:00"),
			want: []wantResult{
				{date: "2026-06-08", expected: "2026-06-07T16:00:00Z", deadline: "2026-06-07T21:00:00Z",
					verdict: kant.VerdictLate, succeeded: "2026-06-10T05:30:00Z", lateness: 56*time.Hour + 30*time.Minute, runs: 1},
				{date: "2026-06-09", expected: "2026-06-08T16:00:00Z", deadline: "2026-06-08T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
				{date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-06-09T17:00:00Z", runs: 1},
			},
			days: []wantDay{
				{date: "2026-06-08", late: 1, slaMet: false, final: true},
				{date: "2026-06-09", missed: 1, final: true},
				{date: "2026-06-10", met: 1, sloMet: true, slaMet: true, final: true},
			},
		},
		{
			name: "a run whose logical date is outside the window is ignored",
			runs: []kant.Run{
				withLogicalDate(run("old", kant.StateFailed, jst("2026-06-10 01:00"), jst("2026-06-10 01:10")), "2026-05-01"),
			},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{{
				date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
				verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted,
			}},
		},
		{
			name: "an America/New_York schedule across both DST changes has one occurrence a day",
			def:  func(d *Definition) { d.Location = newYork },
			from: "2026-03-07", to: "2026-03-09",
			now: at(newYork, "2026-03-01 00:00"),
			want: []wantResult{
				// EST (-5h) before the change, then 06:00 EDT (-4h) on the day itself.
				{date: "2026-03-07", expected: "2026-03-07T06:00:00Z", deadline: "2026-03-07T11:00:00Z",
					recoverBy: "2026-03-08T05:00:00Z", verdict: kant.VerdictPending},
				{date: "2026-03-08", expected: "2026-03-08T06:00:00Z", deadline: "2026-03-08T10:00:00Z",
					recoverBy: "2026-03-09T04:00:00Z", verdict: kant.VerdictPending},
				{date: "2026-03-09", expected: "2026-03-09T05:00:00Z", deadline: "2026-03-09T10:00:00Z",
					recoverBy: "2026-03-10T04:00:00Z", verdict: kant.VerdictPending},
			},
		},
		{
			name: "an America/New_York schedule across the fall-back change has one occurrence a day",
			def:  func(d *Definition) { d.Location = newYork },
			from: "2026-10-31", to: "2026-11-02",
			now: at(newYork, "2026-10-01 00:00"),
			want: []wantResult{
				{date: "2026-10-31", expected: "2026-10-31T05:00:00Z", deadline: "2026-10-31T10:00:00Z",
					recoverBy: "2026-11-01T04:00:00Z", verdict: kant.VerdictPending},
				// 01:00 EDT is the first of the two 01:00s; 06:00 is EST.
				{date: "2026-11-01", expected: "2026-11-01T05:00:00Z", deadline: "2026-11-01T11:00:00Z",
					recoverBy: "2026-11-02T05:00:00Z", verdict: kant.VerdictPending},
				{date: "2026-11-02", expected: "2026-11-02T06:00:00Z", deadline: "2026-11-02T11:00:00Z",
					recoverBy: "2026-11-03T05:00:00Z", verdict: kant.VerdictPending},
			},
		},
		{
			name: "an early start within tolerance counts for the upcoming tick",
			def:  func(d *Definition) { d.Tolerance = 10 * time.Minute },
			runs: []kant.Run{
				run("jun09", kant.StateSucceeded, jst("2026-06-09 01:00"), jst("2026-06-09 02:00")),
				run("jun10-early", kant.StateSucceeded, jst("2026-06-10 00:55"), jst("2026-06-10 01:50")),
			},
			from: "2026-06-09", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{
				{date: "2026-06-09", expected: "2026-06-08T16:00:00Z", deadline: "2026-06-08T21:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-06-08T17:00:00Z", runs: 1},
				{date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-06-09T16:50:00Z", runs: 1},
			},
		},
		{
			name: "an early start beyond tolerance counts for the previous tick",
			def:  func(d *Definition) { d.Tolerance = 10 * time.Minute },
			runs: []kant.Run{
				run("jun10-too-early", kant.StateSucceeded, jst("2026-06-10 00:45"), jst("2026-06-10 01:50")),
			},
			from: "2026-06-09", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{
				{date: "2026-06-09", expected: "2026-06-08T16:00:00Z", deadline: "2026-06-08T21:00:00Z",
					verdict: kant.VerdictLate, succeeded: "2026-06-09T16:50:00Z", lateness: 19*time.Hour + 50*time.Minute, runs: 1},
				{date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
			},
		},
		{
			name: "an hourly schedule has several occurrences a day",
			def: func(d *Definition) {
				d.Schedule = mustSchedule("0 9-17/4 * * *")
				d.Deadline = nil
				d.Within = time.Hour
			},
			runs: []kant.Run{
				run("09", kant.StateSucceeded, jst("2026-06-10 09:05"), jst("2026-06-10 09:30")),
				run("13", kant.StateFailed, jst("2026-06-10 13:00"), jst("2026-06-10 13:10")),
				// A rerun for the same date starts after 13:00: it is for the 13:00 tick.
				withLogicalDate(run("13-rerun", kant.StateSucceeded, jst("2026-06-10 14:10"), jst("2026-06-10 14:30")), "2026-06-10"),
			},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 20:00"),
			want: []wantResult{
				{date: "2026-06-10", expected: "2026-06-10T00:00:00Z", deadline: "2026-06-10T01:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-06-10T00:30:00Z", runs: 1},
				{date: "2026-06-10", expected: "2026-06-10T04:00:00Z", deadline: "2026-06-10T05:00:00Z",
					verdict: kant.VerdictLate, succeeded: "2026-06-10T05:30:00Z", lateness: 30 * time.Minute, runs: 2},
				{date: "2026-06-10", expected: "2026-06-10T08:00:00Z", deadline: "2026-06-10T09:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
			},
			days: []wantDay{{date: "2026-06-10", met: 1, late: 1, missed: 1, slaMet: false, final: false}},
		},
		{
			name: "a run with a logical date before the day's first tick counts for the first tick",
			def: func(d *Definition) {
				d.Schedule = mustSchedule("0 9,13 * * *")
				d.Deadline = nil
				d.Within = time.Hour
			},
			runs: []kant.Run{
				withLogicalDate(run("early", kant.StateSucceeded, jst("2026-06-10 08:00"), jst("2026-06-10 08:30")), "2026-06-10"),
			},
			from: "2026-06-10", to: "2026-06-10",
			now: jst("2026-06-10 12:00"),
			want: []wantResult{
				{date: "2026-06-10", expected: "2026-06-10T00:00:00Z", deadline: "2026-06-10T01:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-06-09T23:30:00Z", runs: 1},
				{date: "2026-06-10", expected: "2026-06-10T04:00:00Z", deadline: "2026-06-10T05:00:00Z",
					verdict: kant.VerdictPending},
			},
		},
		{
			name: "jobs are judged from their since date and sorted by date then job",
			jobs: []Job{
				{Key: "hegel/b_job"},
				{Key: "hegel/a_job", Since: date("2026-06-10")},
			},
			runs: []kant.Run{
				withJob(run("a", kant.StateSucceeded, jst("2026-06-10 01:00"), jst("2026-06-10 02:00")), "hegel/a_job"),
				withJob(run("b", kant.StateSucceeded, jst("2026-06-09 01:00"), jst("2026-06-09 02:00")), "hegel/b_job"),
				withJob(run("other", kant.StateFailed, jst("2026-06-10 01:00"), jst("2026-06-10 02:00")), "hegel/not_judged"),
			},
			from: "2026-06-09", to: "2026-06-10",
			now: jst("2026-06-11 12:00"),
			want: []wantResult{
				{job: "hegel/b_job", date: "2026-06-09", expected: "2026-06-08T16:00:00Z", deadline: "2026-06-08T21:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-06-08T17:00:00Z", runs: 1},
				{job: "hegel/a_job", date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
					verdict: kant.VerdictMet, succeeded: "2026-06-09T17:00:00Z", runs: 1},
				{job: "hegel/b_job", date: "2026-06-10", expected: "2026-06-09T16:00:00Z", deadline: "2026-06-09T21:00:00Z",
					verdict: kant.VerdictMissed, reason: kant.ReasonNotStarted},
			},
			days: []wantDay{
				{date: "2026-06-09", met: 1, sloMet: true, slaMet: true, final: true},
				{date: "2026-06-10", met: 1, missed: 1, final: true},
			},
		},
		{
			name: "a job whose since date is after the window has no occurrences",
			jobs: []Job{{Key: testJob, Since: date("2026-07-01")}},
			from: "2026-06-09", to: "2026-06-10",
			now: jst("2026-06-11 12:00"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := nightly()
			if tt.def != nil {
				tt.def(&def)
			}
			if err := def.Validate(); err != nil {
				t.Fatalf("definition: %v", err)
			}
			jobs := tt.jobs
			if jobs == nil {
				jobs = []Job{{Key: testJob}}
			}
			results, days := Evaluate(def, jobs, tt.runs, date(tt.from), date(tt.to), tt.now)
			if len(results) != len(tt.want) {
				for _, r := range results {
					t.Logf("got %s %s %s %s %s", r.Job, r.Date, r.ExpectedAt, r.Verdict, r.Reason)
				}
				t.Fatalf("got %d results, want %d", len(results), len(tt.want))
			}
			for i, w := range tt.want {
				g := results[i]
				if w.job == "" {
					w.job = testJob
				}
				if g.SLO != def.Name || g.Job != w.job || g.Date != date(w.date) {
					t.Errorf("result %d is %s %s %s, want %s %s %s", i, g.SLO, g.Job, g.Date, def.Name, w.job, w.date)
				}
				assertTime(t, "expected_at", g.ExpectedAt, utc(w.expected))
				assertTime(t, "deadline", g.Deadline, utc(w.deadline))
				if w.recoverBy != "" {
					assertTime(t, "recover_by", g.RecoverBy, utc(w.recoverBy))
				}
				if g.Verdict != w.verdict || g.Reason != w.reason {
					t.Errorf("result %d (%s): verdict %q reason %q, want %q %q", i, w.date, g.Verdict, g.Reason, w.verdict, w.reason)
				}
				assertTime(t, "succeeded_at", g.SucceededAt, utc(w.succeeded))
				if g.Lateness != w.lateness {
					t.Errorf("result %d: lateness %s, want %s", i, g.Lateness, w.lateness)
				}
				if g.Runs != w.runs {
					t.Errorf("result %d: runs %d, want %d", i, g.Runs, w.runs)
				}
				assertTime(t, "evaluated_at", g.EvaluatedAt, tt.now)
			}
			if tt.days == nil {
				return
			}
			if len(days) != len(tt.days) {
				t.Fatalf("got %d days, want %d: %+v", len(days), len(tt.days), days)
			}
			for i, w := range tt.days {
				g := days[i]
				want := kant.Day{
					SLO: def.Name, Date: date(w.date),
					Occurrences: w.met + w.late + w.missed + w.pending,
					Met:         w.met, Late: w.late, Missed: w.missed, Pending: w.pending,
					SLOMet: w.sloMet, SLAMet: w.slaMet, Final: w.final,
				}
				g.EvaluatedAt = time.Time{}
				if g != want {
					t.Errorf("day %d:\n got %+v\nwant %+v", i, g, want)
				}
				assertTime(t, "day evaluated_at", days[i].EvaluatedAt, tt.now)
			}
		})
	}
}

// TestEvaluateAttributesLikeAttribute checks that Evaluate attributes runs
// exactly as Definition.Attribute does, on a schedule with several ticks a
// day, a business-day calendar, a tolerance, and runs at random times.
func TestEvaluateAttributesLikeAttribute(t *testing.T) {
	def := nightly()
	def.Schedule = mustSchedule("0 2,14 * * MON-SAT")
	def.Calendar = mustCalendar("jp-business-days", nil, nil)
	def.Tolerance = 30 * time.Minute
	from, to := date("2026-11-01"), date("2026-11-30")
	start := jst("2026-10-30 00:00")
	var runs []kant.Run
	for i := range 4000 {
		// Every 11 minutes over about 30 days, with a few logical dates.
		r := run("r", kant.StateFailed, start.Add(time.Duration(i)*11*time.Minute), time.Time{})
		r.RunID = r.StartedAt.Format(time.RFC3339)
		if i%7 == 0 {
			r.LogicalDate = kant.DateOf(r.StartedAt.In(tokyo)).AddDays(-(i % 3))
		}
		runs = append(runs, r)
	}
	now := jst("2027-01-01 00:00")
	results, _ := Evaluate(def, []Job{{Key: testJob}}, runs, from, to, now)
	want := map[int64]int{}
	for _, r := range runs {
		d, exp, ok := def.Attribute(r)
		if ok && !d.Before(from) && !d.After(to) {
			want[exp.Unix()]++
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d occurrences have runs: the test does not test much", len(want))
	}
	got := map[int64]int{}
	for _, res := range results {
		if res.Runs > 0 {
			got[res.ExpectedAt.Unix()] = res.Runs
		}
	}
	if len(got) != len(want) {
		t.Errorf("Evaluate attributed runs to %d occurrences, Attribute to %d", len(got), len(want))
	}
	for exp, n := range want {
		if got[exp] != n {
			t.Errorf("occurrence %s: Evaluate counts %d runs, Attribute %d", time.Unix(exp, 0).UTC(), got[exp], n)
		}
	}
}

func TestEvaluateEmpty(t *testing.T) {
	def := nightly()
	if r, d := Evaluate(def, nil, nil, date("2026-06-01"), date("2026-06-30"), jst("2026-07-01 00:00")); r != nil || d != nil {
		t.Errorf("no jobs: got %d results, %d days", len(r), len(d))
	}
	if r, d := Evaluate(def, []Job{{Key: testJob}}, nil, date("2026-06-30"), date("2026-06-01"), jst("2026-07-01 00:00")); r != nil || d != nil {
		t.Errorf("from after to: got %d results, %d days", len(r), len(d))
	}
}
