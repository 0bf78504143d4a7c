package demo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/demo"
)

func tokyo(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestTheDemoConfigurationIsValid(t *testing.T) {
	c, err := config.Parse("demo/kant.yaml", strings.NewReader(demo.ConfigYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SLOs) != 3 || len(c.Sources) != 3 || c.Location.String() != "Asia/Tokyo" {
		t.Errorf("config: %d SLOs, %d sources, zone %s", len(c.SLOs), len(c.Sources), c.Location)
	}
}

func TestTheNightIsValidOrderedAndEndsAsScripted(t *testing.T) {
	loc := tokyo(t)
	date := kant.Date{Year: 2026, Month: 11, Day: 21}
	events := demo.Night(date, loc)
	begin := time.Date(2026, 11, 21, 0, 45, 0, 0, loc)
	end := time.Date(2026, 11, 21, 8, 0, 0, 0, loc)
	final := map[kant.RunKey]kant.Run{}
	for i, e := range events {
		r := e.Run
		r.ObservedAt = e.At
		if err := r.Validate(); err != nil {
			t.Errorf("event %d (%s): %v", i, r.Job, err)
		}
		if i > 0 && e.At.Before(events[i-1].At) {
			t.Errorf("event %d at %s is before the one before it", i, e.At)
		}
		if e.At.Before(begin) || e.At.After(end) {
			t.Errorf("event %d at %s is outside %s..%s", i, e.At, begin, end)
		}
		final[r.Key()] = r
	}
	want := map[kant.RunKey]kant.State{
		{Job: "hegel/export_items", RunID: "jr_items", Attempt: 1}:                kant.StateFailed,
		{Job: "hegel/export_items", RunID: "jr_items", Attempt: 2}:                kant.StateSucceeded,
		{Job: "socrates/daily_load.report", RunID: "scheduled__2", Attempt: 1}:    kant.StateFailed,
		{Job: "socrates/daily_load.report", RunID: "manual__0715", Attempt: 1}:    kant.StateSucceeded,
		{Job: "hegel/export_orders", RunID: "jr_orders", Attempt: 1}:              kant.StateSucceeded,
		{Job: "hegel/export_users", RunID: "jr_users_rerun", Attempt: 1}:          kant.StateSucceeded,
		{Job: "socrates/daily_load.load", RunID: "scheduled__2", Attempt: 1}:      kant.StateSucceeded,
		{Job: "socrates/daily_load.transform", RunID: "scheduled__2", Attempt: 1}: kant.StateSucceeded,
		// A Step Functions execution and its redrive: two attempts of one run.
		{Job: "spinoza/nightly_billing", RunID: demo.Execution, Attempt: 1}: kant.StateFailed,
		{Job: "spinoza/nightly_billing", RunID: demo.Execution, Attempt: 2}: kant.StateSucceeded,
	}
	for k, s := range want {
		if got := final[k].State; got != s {
			t.Errorf("%v ends %q, want %q", k, got, s)
		}
	}
	for k := range final {
		if k.Job == demo.Never {
			t.Errorf("%s was meant never to start, but runs", demo.Never)
		}
	}
	if r := final[kant.RunKey{Job: "hegel/export_items", RunID: "jr_items", Attempt: 1}]; !r.RetryPending() {
		t.Errorf("the first failed attempt of export_items should leave a retry pending")
	}
}

func TestHistoryIsDeterministicAndValid(t *testing.T) {
	loc := tokyo(t)
	date := kant.Date{Year: 2026, Month: 11, Day: 21}
	a, b := demo.History(date, 60, loc), demo.History(date, 60, loc)
	if len(a) < 60*9 || len(a) != len(b) {
		t.Fatalf("History returned %d and %d runs", len(a), len(b))
	}
	failed, late := 0, 0
	for i, r := range a {
		if err := r.Validate(); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if !r.LogicalDate.Before(date) {
			t.Fatalf("run %d is dated %s, not before %s", i, r.LogicalDate, date)
		}
		if r.Job != b[i].Job || !r.FinishedAt.Equal(b[i].FinishedAt) || r.State != b[i].State {
			t.Fatalf("run %d differs between two calls", i)
		}
		if r.State == kant.StateFailed {
			failed++
		}
		if r.Duration() > 3*time.Hour {
			late++
		}
	}
	if failed == 0 || late == 0 || failed > len(a)/10 {
		t.Errorf("history has %d failed and %d long runs of %d: want a few of each", failed, late, len(a))
	}
}

func TestTheClockPlaysFastThenAtTheWallClocksPace(t *testing.T) {
	loc := tokyo(t)
	real0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var real time.Time
	c := demo.Clock{
		Begin:   time.Date(2026, 11, 21, 0, 45, 0, 0, loc),
		End:     time.Date(2026, 11, 21, 8, 0, 0, 0, loc),
		Started: real0, Speed: 480, Real: func() time.Time { return real },
	}
	tests := []struct {
		name string
		real time.Duration
		want time.Time
	}{
		{"at the start it shows the beginning of the night", 0, c.Begin},
		{"one real second is eight simulated minutes", time.Second, c.Begin.Add(8 * time.Minute)},
		{"the night lasts 54.375 real seconds", 54375 * time.Millisecond, c.End},
		{"after the night, time passes at the wall clock's pace", 54375*time.Millisecond + time.Minute, c.End.Add(time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			real = real0.Add(tt.real)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() = %s, want %s", got, tt.want)
			}
			if got := c.RealAt(tt.want); !got.Equal(real) {
				t.Errorf("RealAt(%s) = %s, want %s", tt.want, got, real)
			}
		})
	}
}

func TestTheSteppedClockShowsEachStepUntilReleased(t *testing.T) {
	begin := time.Date(2026, 6, 1, 16, 0, 0, 0, time.UTC)
	free := func() time.Time { return begin.Add(time.Hour) }
	c := demo.NewSteppedClock(begin, free)
	if got := c.Now(); !got.Equal(begin) {
		t.Errorf("before any step: %v, want %v", got, begin)
	}
	c.Set(begin.Add(time.Minute))
	if got := c.Now(); !got.Equal(begin.Add(time.Minute)) {
		t.Errorf("after a step: %v, want the step's time", got)
	}
	c.Release()
	if got := c.Now(); !got.Equal(free()) {
		t.Errorf("released: %v, want the free clock's %v", got, free())
	}
}
