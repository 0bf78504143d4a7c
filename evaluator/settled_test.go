package evaluator_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/slo"
	"github.com/kantproject/kant/store/sqlite"
)

// loadingStore records the dates of every load of runs, and counts the
// evaluations written.
type loadingStore struct {
	*sqlite.DB
	loaded map[kant.Date]bool
	writes int
}

func (s *loadingStore) WriteEvaluation(ctx context.Context, e kant.Evaluation) error {
	s.writes++
	return s.DB.WriteEvaluation(ctx, e)
}

func (s *loadingStore) LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	for d := f.DateFrom; !d.IsZero() && !d.After(f.DateTo); d = d.AddDays(1) {
		s.loaded[d] = true
	}
	return s.DB.LatestRuns(ctx, f)
}

// dates returns the loaded dates, in order.
func (s *loadingStore) dates() []string {
	var out []string
	for d := range s.loaded {
		out = append(out, d.String())
	}
	slices.Sort(out)
	return out
}

// settledPlatform stores two jobs that succeeded on every date from
// 2026-05-18 to 2026-06-01 but for hegel/export on 2026-05-27 and
// 2026-05-29, which never ran, and returns the store and an evaluator over it
// that follows its log, as of 2026-06-02 09:00 JST, with a 14-day window.
func settledPlatform(t *testing.T) (*sqlite.DB, func(def slo.Definition, now time.Time) (*evaluator.Evaluator, *loadingStore)) {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	var runs []kant.Run
	for d := date("2026-05-18"); !d.After(date("2026-06-01")); d = d.AddDays(1) {
		day := d.String()
		for _, job := range []string{"hegel/export", "hegel/load"} {
			if job == "hegel/export" && (day == "2026-05-27" || day == "2026-05-29") {
				continue
			}
			runs = append(runs, run(job, job+"_"+day, 1, kant.StateSucceeded, day+"T01:00:00+09:00", day+"T02:00:00+09:00"))
		}
	}
	if _, err := db.WriteRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	newEval := func(def slo.Definition, now time.Time) (*evaluator.Evaluator, *loadingStore) {
		st := &loadingStore{DB: db, loaded: map[kant.Date]bool{}}
		e, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{def}, Store: st, Log: db,
			Now: func() time.Time { return now }, Lookback: 7 * 24 * time.Hour, Retention: 14 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return e, st
	}
	return db, newEval
}

const fortnight = 14 * 24 * time.Hour

// judgedPlatform is the settledPlatform after a first evaluation of its
// fortnight, as of 2026-06-02 09:00 JST.
type judgedPlatform struct {
	db      *sqlite.DB
	now     time.Time
	first   *evaluator.Evaluator
	st      *loadingStore // what the first evaluation loaded and wrote
	newEval func(def slo.Definition, now time.Time) (*evaluator.Evaluator, *loadingStore)
}

func judge(t *testing.T) judgedPlatform {
	t.Helper()
	db, newEval := settledPlatform(t)
	p := judgedPlatform{db: db, now: at("2026-06-02T09:00:00+09:00"), newEval: newEval}
	p.first, p.st = newEval(nightly(t, "hegel/*"), p.now)
	if err := p.first.Evaluate(context.Background(), p.now, fortnight); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestARestartedEvaluatorJudgesOnlyTheDatesThatAreNotFinalAndAgreesWithAFullEvaluation(t *testing.T) {
	ctx := context.Background()
	p := judge(t)
	db, newEval, now, st := p.db, p.newEval, p.now, p.st
	if !st.loaded[date("2026-05-19")] {
		t.Fatalf("the first evaluation did not load 2026-05-19: %v", st.dates())
	}
	wantResults, wantDays := snapshot(t, db)

	later := now.Add(time.Minute)
	again, st := newEval(nightly(t, "hegel/*"), later)
	if err := again.Evaluate(ctx, later, fortnight); err != nil {
		t.Fatal(err)
	}
	if got, want := st.dates(), []string{"2026-06-02", "2026-06-03"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a restart loaded the dates %v, want only %v (the days not final)", got, want)
	}
	if st.writes != 0 {
		t.Errorf("a restart that found nothing changed wrote %d evaluations, want none", st.writes)
	}
	gotResults, gotDays := snapshot(t, db)
	if !reflect.DeepEqual(gotResults, wantResults) || !reflect.DeepEqual(gotDays, wantDays) {
		t.Errorf("after the restart the store holds\n%+v\n%+v\nwant\n%+v\n%+v", gotResults, gotDays, wantResults, wantDays)
	}
}

func TestWhatCanUnsettleADateIsJudgedAgainWhetherTheEvaluatorRestartedOrNot(t *testing.T) {
	tests := []struct {
		name string
		// change stores what happened while no evaluator was told.
		change func(t *testing.T, db *sqlite.DB)
		// check says what the store must hold after the next evaluation.
		check func(t *testing.T, db *sqlite.DB)
		// loaded must be among the dates loaded; unloaded must not.
		loaded, unloaded []string
	}{{
		name: "a late run of a missed occurrence on a final date makes its verdict late",
		change: func(t *testing.T, db *sqlite.DB) {
			write(t, db, run("hegel/export", "jr_late", 1, kant.StateSucceeded, "2026-05-27T10:00:00+09:00", "2026-05-27T11:00:00+09:00"))
		},
		check: func(t *testing.T, db *sqlite.DB) {
			if v := verdicts(t, db, "2026-05-27")["hegel/export"].Verdict; v != kant.VerdictLate {
				t.Errorf("2026-05-27 export: %s, want late", v)
			}
			if v := verdicts(t, db, "2026-05-26")["hegel/export"].Verdict; v != kant.VerdictMet {
				t.Errorf("2026-05-26 export: %s, want met", v)
			}
		},
		loaded: []string{"2026-05-27"}, unloaded: []string{"2026-05-26", "2026-05-28"},
	}, {
		name: "a new job backfilled into the past is judged from its first date on",
		change: func(t *testing.T, db *sqlite.DB) {
			write(t, db, run("hegel/new", "jr_new", 1, kant.StateSucceeded, "2026-05-25T01:00:00+09:00", "2026-05-25T02:00:00+09:00"))
		},
		check: func(t *testing.T, db *sqlite.DB) {
			if v := verdicts(t, db, "2026-05-25")["hegel/new"].Verdict; v != kant.VerdictMet {
				t.Errorf("2026-05-25 new: %s, want met", v)
			}
			if r := verdicts(t, db, "2026-05-28")["hegel/new"]; r.Verdict != kant.VerdictMissed || r.Reason != kant.ReasonNotStarted {
				t.Errorf("2026-05-28 new: %s %s, want missed not_started", r.Verdict, r.Reason)
			}
			if _, ok := verdicts(t, db, "2026-05-22")["hegel/new"]; ok {
				t.Error("2026-05-22, before the new job's first date, judges it")
			}
		},
		loaded: []string{"2026-05-25", "2026-05-29", "2026-06-01"}, unloaded: []string{"2026-05-22"},
	}}
	for _, tt := range tests {
		for _, restarted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, restarted %t", tt.name, restarted), func(t *testing.T) {
				ctx := context.Background()
				p := judge(t)
				db, now, e, st := p.db, p.now, p.first, p.st
				tt.change(t, db)
				later := now.Add(time.Minute)
				if restarted {
					e, st = p.newEval(nightly(t, "hegel/*"), later)
				}
				clear(st.loaded)
				// The lookback window: the dates outside it are judged
				// because they are dirty, not because the window holds them.
				if err := e.Evaluate(ctx, later, 2*24*time.Hour); err != nil {
					t.Fatal(err)
				}
				tt.check(t, db)
				for _, d := range tt.loaded {
					if !st.loaded[date(d)] {
						t.Errorf("%s was not judged again: loaded %v", d, st.dates())
					}
				}
				for _, d := range tt.unloaded {
					if st.loaded[date(d)] {
						t.Errorf("%s was judged again though nothing changed it: loaded %v", d, st.dates())
					}
				}
			})
		}
	}
}

func write(t *testing.T, db *sqlite.DB, runs ...kant.Run) []kant.Run {
	t.Helper()
	w, err := db.WriteRuns(context.Background(), runs)
	if err != nil || len(w) != len(runs) {
		t.Fatalf("WriteRuns = %d, %v", len(w), err)
	}
	return w
}

func TestAChangedDefinitionOrAnUnreadableCheckpointIsJudgedOnEveryDate(t *testing.T) {
	tests := []struct {
		name   string
		before func(t *testing.T, db *sqlite.DB, def *slo.Definition)
	}{
		{"an earlier deadline", func(t *testing.T, db *sqlite.DB, def *slo.Definition) {
			def.Deadline = &slo.Clock{Hour: 1, Minute: 30}
		}},
		{"a checkpoint that is not JSON", func(t *testing.T, db *sqlite.DB, def *slo.Definition) {
			if err := db.SetCheckpoint(context.Background(), "kant-evaluator", "settled", "{not json"); err != nil {
				t.Fatal(err)
			}
		}},
		{"no checkpoint", func(t *testing.T, db *sqlite.DB, def *slo.Definition) {
			if err := db.SetCheckpoint(context.Background(), "kant-evaluator", "settled", ""); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			p := judge(t)
			def := nightly(t, "hegel/*")
			tt.before(t, p.db, &def)
			again, st := p.newEval(def, p.now)
			if err := again.Evaluate(ctx, p.now, fortnight); err != nil {
				t.Fatal(err)
			}
			if !st.loaded[date("2026-05-19")] || !st.loaded[date("2026-05-29")] {
				t.Errorf("judged only %v, want every date", st.dates())
			}
		})
	}
}

func TestAnObservedRunOnASettledDateIsJudgedWithTheOtherJobsOfItsDay(t *testing.T) {
	ctx := context.Background()
	p := judge(t)
	db, now := p.db, p.now
	// A restarted evaluator holds no verdict of the settled 2026-05-29.
	again, _ := p.newEval(nightly(t, "hegel/*"), now)
	if err := again.Evaluate(ctx, now, fortnight); err != nil {
		t.Fatal(err)
	}
	again.Observe(ctx, write(t, db, run("hegel/export", "jr_late", 1, kant.StateSucceeded, "2026-05-29T10:00:00+09:00", "2026-05-29T11:00:00+09:00")))
	days, err := db.Days(ctx, kant.ResultFilter{SLO: "hegel-nightly", From: date("2026-05-29"), To: date("2026-05-29")})
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 1 || days[0].Occurrences != 2 || days[0].Met != 1 || days[0].Late != 1 {
		t.Errorf("2026-05-29 = %+v, want 2 occurrences: 1 met, 1 late", days)
	}
}

func TestALongerRetentionAfterARestartJudgesTheDatesNeverJudgedBefore(t *testing.T) {
	ctx := context.Background()
	p := judge(t)
	db, now := p.db, p.now
	if len(verdicts(t, db, "2026-05-18")) != 0 {
		t.Fatal("2026-05-18, outside the 14 days, was judged")
	}
	longer, err := evaluator.New(evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/*")}, Store: db, Log: db,
		Now: func() time.Time { return now }, Retention: 20 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := longer.Evaluate(ctx, now, 20*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := verdicts(t, db, "2026-05-18"); got["hegel/export"].Verdict != kant.VerdictMet || got["hegel/load"].Verdict != kant.VerdictMet {
		t.Errorf("2026-05-18 after a 20-day evaluation: %+v, want both jobs met", got)
	}
}

func TestARestartedTermRefillsTheDurationsItDidNotLoadAndWarnsAtRisk(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := open(t)
	write(t, db, history("hegel/slow", 6, 2*time.Hour)...)
	write(t, db, run("hegel/slow", "tonight", 1, kant.StateRunning, "2026-06-02T04:30:00+09:00", ""))
	now := at("2026-06-02T04:31:00+09:00")
	cfg := evaluator.Config{SLOs: []slo.Definition{nightly(t, "hegel/*")}, Store: db, Log: db,
		Now: func() time.Time { return now }, Interval: time.Millisecond}
	first, err := evaluator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Evaluate(ctx, now, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if r := verdicts(t, db, "2026-06-02")["hegel/slow"]; r.Reason != kant.ReasonAtRisk {
		t.Fatalf("the first evaluator, which loaded the history, marks %q, want at_risk", r.Reason)
	}
	// A new term settles the history's final days and loads none of their
	// runs: only the refill gives it the durations.
	again, err := evaluator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- again.Run(ctx) }()
	for range 2000 {
		if again.Ready() == nil && verdicts(t, db, "2026-06-02")["hegel/slow"].Reason == kant.ReasonAtRisk {
			cancel()
			<-done
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	t.Errorf("the restarted term never marked tonight's run at risk: %+v", verdicts(t, db, "2026-06-02")["hegel/slow"])
}
