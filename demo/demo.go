// Package demo owns what `kant demo` plays: a configuration with example
// SLOs, a simulated night of Glue-like, Airflow-like and Step Functions-like
// runs (some late, one failing and then recovering, one never starting and
// warned at risk before its deadline, one execution failing and redriven,
// one re-run after its downstream went ahead), and the fast clock the
// night is played on (demo.go); and the player (player.go) that pushes the
// runs through kant's own HTTP API as the night's clock reaches them, asks
// the gate, and prints the alerts kant sends, on a clock it steps so that
// every part of kant judges the same instant at any speed.
//
// It imports kant and alert (its printer is an alert.Notifier); it talks
// to the rest of kant over HTTP and through the functions cmd/kant gives it.
package demo

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// ConfigYAML is the demo's kant.yaml: three push sources standing in for a
// Glue account, a Cloud Composer environment and a Step Functions account,
// and three SLOs in Tokyo time, the Airflow one downstream of the Glue one.
//
//go:embed kant.yaml
var ConfigYAML string

// Event is one observation the simulated sources report at At.
type Event struct {
	At  time.Time
	Run kant.Run
}

// step is a state a run reaches at a local time of the night.
type step struct {
	at    string // "HH:MM" on the night's date; "+HH:MM" the next day is not needed
	state kant.State
	err   string
}

type script struct {
	source, job, runID string
	attempt, max       int
	steps              []step
}

// night is the simulated night, in the SLOs' zone. hegel-nightly ticks at
// 01:00 with a 04:00 deadline; socrates-daily ticks at 02:00 with a 06:00
// deadline; spinoza-nightly ticks at 01:30 with a 05:00 deadline.
var night = []script{
	// On time.
	{"hegel", "export_users", "jr_users", 1, 1, []step{{"01:00", kant.StateRunning, ""}, {"01:42", kant.StateSucceeded, ""}}},
	// Fails, is retried by Glue, and succeeds before the deadline: one
	// incident, updated, no page for the retry.
	{"hegel", "export_items", "jr_items", 1, 2, []step{{"01:00", kant.StateRunning, ""}, {"01:18", kant.StateFailed, "java.lang.OutOfMemoryError: GC overhead limit exceeded"}}},
	{"hegel", "export_items", "jr_items", 2, 2, []step{{"01:20", kant.StateRunning, ""}, {"02:35", kant.StateSucceeded, ""}}},
	// Re-run by hand in the morning, after socrates-daily went ahead on
	// it: the gate says it changed since it opened, and socrates-daily is
	// told in its incident's thread.
	{"hegel", "export_users", "jr_users_rerun", 1, 1, []step{{"07:10", kant.StateRunning, ""}, {"07:38", kant.StateSucceeded, ""}}},
	// Late: succeeds after its 04:00 deadline.
	{"hegel", "export_orders", "jr_orders", 1, 1, []step{{"01:05", kant.StateRunning, ""}, {"04:40", kant.StateSucceeded, ""}}},
	// The Airflow DAG's tasks.
	{"socrates", "daily_load.extract", "scheduled__2", 1, 3, []step{{"02:00", kant.StateQueued, ""}, {"02:01", kant.StateRunning, ""}, {"02:48", kant.StateSucceeded, ""}}},
	{"socrates", "daily_load.transform", "scheduled__2", 1, 3, []step{{"02:49", kant.StateRunning, ""}, {"05:12", kant.StateSucceeded, ""}}},
	{"socrates", "daily_load.load", "scheduled__2", 1, 3, []step{{"05:13", kant.StateRunning, ""}, {"06:41", kant.StateSucceeded, ""}}},
	// Fails for good (every attempt used), then a manual re-run recovers it
	// the same morning: the SLO is missed, the SLA is kept.
	{"socrates", "daily_load.report", "scheduled__2", 1, 1, []step{{"02:49", kant.StateRunning, ""}, {"03:30", kant.StateFailed, "psycopg2.OperationalError: could not connect to server: Connection refused"}}},
	{"socrates", "daily_load.report", "manual__0715", 1, 1, []step{{"07:15", kant.StateRunning, ""}, {"07:31", kant.StateSucceeded, ""}}},
	// A Step Functions execution (its run ID the execution ARN) fails in
	// a Lambda task; redriven by hand, its second attempt succeeds before
	// the deadline: the failure is alerted, then shown recovered.
	{"spinoza", "nightly_billing", Execution, 1, 0, []step{{"01:30", kant.StateRunning, ""}, {"02:10", kant.StateFailed, "States.TaskFailed: Lambda billing-export: Task timed out after 900.00 seconds"}}},
	{"spinoza", "nightly_billing", Execution, 2, 0, []step{{"02:40", kant.StateRunning, ""}, {"03:25", kant.StateSucceeded, ""}}},
}

// Execution is the ARN of the night's Step Functions execution.
const Execution = "arn:aws:states:ap-northeast-1:123456789012:execution:nightly_billing:nightly-0130"

// Start is the local time of night the simulation starts at; End when the
// last run has been reported.
const (
	Start = "00:45"
	End   = "08:00"
)

// Night returns the observations of the simulated night of date, in zone
// loc, ordered by time. Runs are attributed to date explicitly, as a Glue
// job argument or Airflow's run_after would.
func Night(date kant.Date, loc *time.Location) []Event {
	var out []Event
	for _, s := range night {
		var r kant.Run
		for _, st := range s.steps {
			at := At(date, st.at, loc)
			if r.Job == "" {
				r = kant.Run{Source: s.source, Job: kant.JobKey(s.source + "/" + s.job), RunID: s.runID,
					Attempt: s.attempt, MaxAttempts: s.max, LogicalDate: date}
			}
			r.State, r.SourceState, r.ErrorMessage = st.state, sourceState(s.source, st.state), st.err
			switch {
			case st.state == kant.StateRunning && r.StartedAt.IsZero():
				r.StartedAt = at
			case st.state.Terminal():
				if r.StartedAt.IsZero() {
					r.StartedAt = at
				}
				r.FinishedAt = at
			}
			r.Attributes = attributes(s.source, s.runID)
			if s.source == "spinoza" && s.attempt > 1 {
				r.Attributes["redriveCount"] = fmt.Sprint(s.attempt - 1)
			}
			out = append(out, Event{At: at, Run: r})
		}
	}
	slices.SortStableFunc(out, func(a, b Event) int { return a.At.Compare(b.At) })
	return out
}

// Never lists the job expected tonight that never starts: its deadline
// passes with no run at all.
const Never = "hegel/export_legacy"

// At returns the local time hhmm ("HH:MM", a constant of the script) on
// date in loc.
func At(date kant.Date, hhmm string, loc *time.Location) time.Time {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		panic("demo: bad time " + hhmm) // the script above is constant
	}
	d := date.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day(), t.Hour(), t.Minute(), 0, 0, loc)
}

// sourceState is what Glue, Airflow or Step Functions would call the state.
func sourceState(source string, s kant.State) string {
	glue := map[kant.State]string{kant.StateQueued: "STARTING", kant.StateRunning: "RUNNING", kant.StateSucceeded: "SUCCEEDED", kant.StateFailed: "FAILED"}
	airflow := map[kant.State]string{kant.StateQueued: "queued", kant.StateRunning: "running", kant.StateSucceeded: "success", kant.StateFailed: "failed"}
	switch source {
	case "hegel", "spinoza": // Glue and Step Functions name these alike
		return glue[s]
	}
	return airflow[s]
}

func attributes(source, runID string) map[string]string {
	switch source {
	case "hegel":
		return map[string]string{"glue_run_id": runID}
	case "spinoza":
		return map[string]string{"name": runID[strings.LastIndexByte(runID, ':')+1:]}
	}
	return map[string]string{"dag_run_id": runID}
}

// History returns finished runs of the night's jobs for the days before
// date (days of them), so that the attainment calendar has a past: most
// nights on time, some late, a few failed and recovered later. It is
// deterministic: the same dates give the same runs.
func History(date kant.Date, days int, loc *time.Location) []kant.Run {
	type job struct {
		source, name, start string
		minutes, deadline   int // typical duration; minutes after start the deadline allows
	}
	jobs := []job{
		{"hegel", "export_users", "01:00", 40, 180},
		{"hegel", "export_items", "01:00", 75, 180},
		{"hegel", "export_orders", "01:05", 120, 175},
		{"hegel", "export_legacy", "01:10", 30, 170},
		{"socrates", "daily_load.extract", "02:00", 45, 240},
		{"socrates", "daily_load.transform", "02:49", 130, 191},
		{"socrates", "daily_load.load", "05:00", 40, 60},
		{"socrates", "daily_load.report", "02:49", 40, 191},
		{"spinoza", "nightly_billing", "01:30", 80, 210},
	}
	var out []kant.Run
	for back := days; back >= 1; back-- {
		d := date.AddDays(-back)
		for i, j := range jobs {
			h := hash(d.String(), i)
			start := At(d, j.start, loc)
			dur := time.Duration(j.minutes+int(h%25)) * time.Minute
			r := kant.Run{Source: j.source, Job: kant.JobKey(j.source + "/" + j.name), RunID: "hist_" + d.String(),
				Attempt: 1, MaxAttempts: 1, LogicalDate: d, StartedAt: start, State: kant.StateSucceeded}
			switch {
			case h%89 == 0: // failed, re-run by hand two hours later
				failed := r
				failed.State, failed.FinishedAt, failed.ErrorMessage = kant.StateFailed, start.Add(dur/3), "task exited with return code 1"
				failed.SourceState = sourceState(j.source, kant.StateFailed)
				failed.ObservedAt = failed.FinishedAt
				out = append(out, failed)
				r.RunID, r.StartedAt = "rerun_"+d.String(), start.Add(2*time.Hour)
			case h%37 == 0: // slow night: late
				dur = time.Duration(j.deadline+20+int(h%30)) * time.Minute
			}
			r.FinishedAt = r.StartedAt.Add(dur)
			r.SourceState = sourceState(j.source, r.State)
			r.ObservedAt = r.FinishedAt
			r.Attributes = attributes(j.source, r.RunID)
			out = append(out, r)
		}
	}
	return out
}

// hash mixes a date and a job index into a small deterministic number.
func hash(s string, i int) uint32 {
	h := uint32(2166136261)
	for _, c := range []byte(s) {
		h = (h ^ uint32(c)) * 16777619
	}
	h = (h ^ uint32(i)) * 16777619
	return h ^ h>>15
}

// Clock plays a night fast: from Begin it runs Speed times faster than the
// wall clock until End, then at the wall clock's pace. Real is the wall
// clock it reads.
type Clock struct {
	Begin, End time.Time // simulated
	Started    time.Time // real time at Begin
	Speed      float64
	Real       func() time.Time
}

// Now returns the simulated time.
func (c Clock) Now() time.Time {
	elapsed := c.Real().Sub(c.Started)
	fast := time.Duration(float64(c.End.Sub(c.Begin)) / c.Speed) // real time the fast part lasts
	if elapsed <= fast {
		return c.Begin.Add(time.Duration(float64(elapsed) * c.Speed))
	}
	return c.End.Add(elapsed - fast)
}

// RealAt returns the real time at which the clock shows t.
func (c Clock) RealAt(t time.Time) time.Time {
	if !t.After(c.End) {
		return c.Started.Add(time.Duration(float64(t.Sub(c.Begin)) / c.Speed))
	}
	fast := time.Duration(float64(c.End.Sub(c.Begin)) / c.Speed)
	return c.Started.Add(fast + t.Sub(c.End))
}
