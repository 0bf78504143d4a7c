package bigquery

import (
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/bigquery/internal/fakebq"
)

// The measurement of what kant serve costs in BigQuery (docs/bigquery-costs.md):
//
//	go test ./store/bigquery -run TestServeCostPerHour -bqcost -v
//
// It stores a platform (-bqcost.jobs jobs under -bqcost.slos SLOs, one run
// a day each for -bqcost.days days, a tenth of them failing once and
// retried), then drives the store for -bqcost.minutes with the calls kant
// serve makes on its clocks, and prints per caller the queries, rows and
// bytes an hour, extrapolated linearly to -bqcost.full jobs.
var (
	costRun     = flag.Bool("bqcost", false, "measure the per-hour BigQuery cost of kant serve's calls (slow)")
	costJobs    = flag.Int("bqcost.jobs", 1000, "jobs stored")
	costSLOs    = flag.Int("bqcost.slos", 50, "SLOs, each over an equal share of the jobs")
	costDays    = flag.Int("bqcost.days", 90, "days of daily runs stored")
	costMinutes = flag.Int("bqcost.minutes", 10, "minutes of kant serve simulated, scaled to an hour")
	costFull    = flag.Int("bqcost.full", 10000, "jobs of the platform extrapolated to")
)

// costNow is the simulated start of kant serve.
var costNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// costJob is the i-th job of the platform, under SLO i mod slos.
func costJob(i, slos int) kant.JobKey {
	return kant.JobKey(fmt.Sprintf("glue/s%02d_j%05d", i%slos, i))
}

// costSLOGlob selects the jobs of SLO k.
func costSLOGlob(k int) string { return fmt.Sprintf("glue/s%02d_*", k) }

// costRuns yields the stored platform: per job and day, one run observed
// once when it finished (a tenth fail first and succeed on attempt 2).
func costRuns(jobs, slos, days int) iter.Seq2[kant.Run, error] {
	return func(yield func(kant.Run, error) bool) {
		today := kant.DateOf(costNow)
		for d := days - 1; d >= 0; d-- {
			date := today.AddDays(-d)
			base := date.In(time.UTC).Add(time.Hour)
			for i := range jobs {
				job := costJob(i, slos)
				start := base.Add(time.Duration(i%600) * time.Second)
				r := kant.Run{
					Source: "glue", Job: job, RunID: fmt.Sprintf("jr_%s_%05d", date, i), Attempt: 1, MaxAttempts: 2,
					State: kant.StateSucceeded, SourceState: "SUCCEEDED", LogicalDate: date,
					StartedAt: start, FinishedAt: start.Add(10 * time.Minute), ObservedAt: start.Add(11 * time.Minute),
					Attributes: map[string]string{"--target_date": date.String()},
				}
				if !r.ObservedAt.Before(costNow) {
					continue // today's runs still to come arrive while serving
				}
				if (i+d)%10 == 0 {
					f := r
					f.State, f.SourceState, f.ErrorMessage = kant.StateFailed, "FAILED", "OutOfMemoryError: Container killed by YARN"
					f.FinishedAt, f.ObservedAt = start.Add(5*time.Minute), start.Add(6*time.Minute)
					if !yield(f, nil) {
						return
					}
					r.Attempt = 2
					r.StartedAt, r.FinishedAt = f.ObservedAt, r.FinishedAt.Add(6*time.Minute)
					r.ObservedAt = r.FinishedAt.Add(time.Minute)
				}
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// costResults are an SLO's results and days over dates, all met.
func costResults(slo int, jobs, slos int, from, to kant.Date, at time.Time) kant.Evaluation {
	name := fmt.Sprintf("slo%02d", slo)
	e := kant.Evaluation{SLO: name, From: from, To: to}
	for d := from; !d.After(to); d = d.AddDays(1) {
		n := 0
		for i := slo; i < jobs; i += slos {
			exp := d.In(time.UTC).Add(time.Hour)
			e.Results = append(e.Results, kant.Result{
				Occurrence: kant.Occurrence{SLO: name, Job: costJob(i, slos), Date: d, ExpectedAt: exp, Deadline: exp.Add(3 * time.Hour)},
				Verdict:    kant.VerdictMet, SucceededAt: exp.Add(11 * time.Minute), Runs: 1, EvaluatedAt: at,
			})
			n++
		}
		e.Days = append(e.Days, kant.Day{SLO: name, Date: d, Occurrences: n, Met: n, SLOMet: true, SLAMet: true, Final: true, EvaluatedAt: at})
	}
	return e
}

// costLine is one caller's cost over the simulated minutes.
type costLine struct {
	caller     string
	queries    int
	statements int
	stats      []fakebq.StatementStat
}

// costMeter attributes the fake's query stats to callers.
type costMeter struct {
	srv   *fakebq.Server
	lines map[string]*costLine
	order []string
}

func (m *costMeter) call(t testing.TB, caller string, fn func() error) {
	t.Helper()
	m.srv.ResetQueryStats()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", caller, err)
	}
	l := m.lines[caller]
	if l == nil {
		l = &costLine{caller: caller}
		m.lines[caller] = l
		m.order = append(m.order, caller)
	}
	for _, q := range m.srv.QueryStats() {
		l.queries++
		l.statements += q.Statements
		l.stats = append(l.stats, q.PerStatement...)
	}
}

// serveHour drives s as kant serve would for minutes, from costNow on. It
// returns the meter of the serving minutes and that of the start.
func serveHour(t testing.TB, srv *fakebq.Server, s *Store, jobs, slos, minutes int) (start, serve *costMeter) {
	ctx := context.Background()
	start = &costMeter{srv: srv, lines: map[string]*costLine{}}
	serve = &costMeter{srv: srv, lines: map[string]*costLine{}}
	now := costNow
	today := kant.DateOf(now)
	window := func(from, to kant.Date) (time.Time, time.Time) {
		return from.In(time.UTC).Add(-24 * time.Hour), to.In(time.UTC).Add(48 * time.Hour)
	}

	// At start: the gate's index is rebuilt and the 90-day evaluation written.
	start.call(t, "gate: rebuild (Jobs, LatestRuns 16 days, SourceHealth)", func() error {
		if _, err := s.Jobs(ctx); err != nil {
			return err
		}
		from := now.Add(-16 * 24 * time.Hour)
		if _, err := s.LatestRuns(ctx, kant.RunFilter{From: from, DateFrom: kant.DateOf(from)}); err != nil {
			return err
		}
		_, err := s.SourceHealth(ctx)
		return err
	})
	start.call(t, "evaluator: 90-day evaluation (Jobs, LatestRuns and WriteEvaluation per SLO)", func() error {
		if _, err := s.Jobs(ctx); err != nil {
			return err
		}
		for k := range slos {
			from, to := today.AddDays(-*costDays), today.AddDays(1)
			a, b := window(from, to)
			if _, err := s.LatestRuns(ctx, kant.RunFilter{Jobs: []string{costSLOGlob(k)}, DateFrom: from, DateTo: to, From: a, To: b}); err != nil {
				return err
			}
			if err := s.WriteEvaluation(ctx, costResults(k, jobs, slos, from, today.AddDays(-1), now)); err != nil {
				return err
			}
		}
		return nil
	})

	// Serving: a 10-second clock; each part on its own interval.
	const sources = 4 // Glue sources, each polling every 5 minutes, staggered
	fresh := 0        // today's runs arrived so far
	perPoll := 38 / sources
	since := now.Add(-10 * time.Minute)
	for tick := 0; tick < minutes*6; tick++ {
		now := costNow.Add(time.Duration(tick) * 10 * time.Second)
		if tick%2 == 0 {
			serve.call(t, "leader: AcquireLease every 20 s", func() error {
				_, err := s.AcquireLease(ctx, "leader", "replica-1", now, DefaultLeaseTTL)
				return err
			})
		}
		// Collectors: a source polls every 80 s (4 sources, each about every
		// 5 minutes), writing 9 observations: 10,000 a day, the platform's
		// rate at 10,000 jobs (whatever -bqcost.jobs is).
		if tick%8 == 4 {
			src := (tick / 8) % sources
			serve.call(t, "collector: per poll Checkpoint, WriteRuns, SetCheckpoint, RecordPoll; evaluator.Observe per run (LatestRuns, WriteEvaluation)", func() error {
				if _, err := s.Checkpoint(ctx, "glue", fmt.Sprintf("src%d", src)); err != nil {
					return err
				}
				var runs []kant.Run
				for range perPoll {
					i := fresh % jobs
					fresh++
					r := kant.Run{Source: "glue", Job: costJob(i, slos), RunID: fmt.Sprintf("jr_%s_%05d_%d", today, i, fresh),
						Attempt: 1, State: kant.StateSucceeded, LogicalDate: today,
						StartedAt: now.Add(-10 * time.Minute), FinishedAt: now.Add(-time.Minute), ObservedAt: now}
					runs = append(runs, r)
				}
				if _, err := s.WriteRuns(ctx, runs); err != nil {
					return err
				}
				// The evaluator is told of them (Observe): each job is
				// judged again alone on today, and written.
				a, b := window(today, today)
				for _, r := range runs {
					if _, err := s.LatestRuns(ctx, kant.RunFilter{Jobs: []string{string(r.Job)}, DateFrom: today, DateTo: today, From: a, To: b}); err != nil {
						return err
					}
					var i, k int
					fmt.Sscanf(string(r.Job), "glue/s%02d_j%05d", &k, &i)
					e := costResults(k, jobs, slos, today, today, now)
					e.Jobs = []kant.JobKey{r.Job}
					e.Results = slices.DeleteFunc(e.Results, func(res kant.Result) bool { return res.Job != r.Job })
					if err := s.WriteEvaluation(ctx, e); err != nil {
						return err
					}
				}
				if err := s.Fenced(kant.Fence{Lease: "leader", Generation: 1}).SetCheckpoint(ctx, "glue", fmt.Sprintf("src%d", src), now.String()); err != nil {
					return err
				}
				return s.RecordPoll(ctx, "glue", now, "")
			})
		}
		if tick%3 == 0 {
			serve.call(t, "evaluator: Evaluate every 30 s (Jobs, one Days read-back of every SLO, per SLO LatestRuns 9 days)", func() error {
				if _, err := s.Jobs(ctx); err != nil {
					return err
				}
				from, to := today.AddDays(-7), today.AddDays(1)
				a, b := window(from, to)
				if _, err := s.Days(ctx, kant.ResultFilter{From: from, To: to}); err != nil {
					return err
				}
				for k := range slos {
					if _, err := s.LatestRuns(ctx, kant.RunFilter{Jobs: []string{costSLOGlob(k)}, DateFrom: from, DateTo: to, From: a, To: b}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if tick%6 == 0 {
			serve.call(t, "alert: Tick every minute (Results, LatestRuns, SourceHealth, Silences, Days, Alerts ×3)", func() error {
				from := today.AddDays(-7)
				if _, err := s.Results(ctx, kant.ResultFilter{From: from, To: today.AddDays(1)}); err != nil {
					return err
				}
				if _, err := s.LatestRuns(ctx, kant.RunFilter{DateFrom: from, DateTo: today.AddDays(1), From: now.AddDate(0, 0, -8)}); err != nil {
					return err
				}
				if _, err := s.SourceHealth(ctx); err != nil {
					return err
				}
				if _, err := s.Silences(ctx, now.AddDate(0, 0, -31)); err != nil {
					return err
				}
				if _, err := s.Days(ctx, kant.ResultFilter{From: today.AddDays(-30), To: today}); err != nil {
					return err
				}
				for _, f := range []kant.AlertFilter{{UpdatedFrom: now.AddDate(0, 0, -7)}, {OpenOnly: true}, {UpdatedFrom: now.AddDate(0, 0, -7)}} {
					if _, err := s.Alerts(ctx, f); err != nil {
						return err
					}
				}
				return nil
			})
			serve.call(t, "gate: Refresh every minute (Jobs, LatestRuns observed since, SourceHealth)", func() error {
				if _, err := s.Jobs(ctx); err != nil {
					return err
				}
				from := now.Add(-16 * 24 * time.Hour)
				if _, err := s.LatestRuns(ctx, kant.RunFilter{From: from, DateFrom: kant.DateOf(from), ObservedFrom: since}); err != nil {
					return err
				}
				since = now.Add(-10 * time.Minute)
				_, err := s.SourceHealth(ctx)
				return err
			})
			serve.call(t, "api: status page and /v1/sla, once a minute each (Results today, Days 30 days)", func() error {
				if _, err := s.Results(ctx, kant.ResultFilter{From: today, To: today}); err != nil {
					return err
				}
				_, err := s.Days(ctx, kant.ResultFilter{From: today.AddDays(-29), To: today})
				return err
			})
		}
	}
	return start, serve
}

// costScale returns how much larger each table is on the full platform:
// job_runs and slo_results grow with the jobs, the others do not (sla_daily
// holds a row per SLO and date, the rest a few rows).
func costScale(full float64) func(table string) float64 {
	return func(table string) float64 {
		switch table {
		case testDataset + ".job_runs", testDataset + ".slo_results":
			return full
		}
		return 1
	}
}

// printCost writes the table of a meter: per caller, per hour (the
// measured minutes scaled to 60) and at full scale (see costScale; the
// minimum billed per statement applied after scaling). It returns the
// total in dollars.
func printCost(w io.Writer, title string, m *costMeter, perHour float64, scale func(string) float64) float64 {
	const tib = 1 << 40
	const price = 6.25 // dollars per TiB billed, on demand
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintln(tw, "queries\tstatements\trows read\tGiB read\tGiB billed\t$\tcaller\t")
	var tq, ts, tr, tb, tbill float64
	for _, name := range m.order {
		l := m.lines[name]
		var rows, bytes, billed float64
		for _, st := range l.stats {
			for _, t := range st.Tables {
				rows += float64(t.Rows) * scale(t.Table)
				bytes += float64(t.Bytes) * scale(t.Table)
			}
			billed += st.Billed(scale)
		}
		q, st := float64(l.queries)*perHour, float64(l.statements)*perHour
		rows, bytes, billed = rows*perHour, bytes*perHour, billed*perHour
		fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.3f\t%s\t\n", q, st, rows, bytes/(1<<30), billed/(1<<30), billed/tib*price, name)
		tq, ts, tr, tb, tbill = tq+q, ts+st, tr+rows, tb+bytes, tbill+billed
	}
	fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.3f\t%s\t\n", tq, ts, tr, tb/(1<<30), tbill/(1<<30), tbill/tib*price, "total")
	tw.Flush()
	return tbill / tib * price
}

// TestServeCostPerHour prints what kant serve reads of BigQuery in an hour
// (see the flags above). It is skipped without -bqcost.
func TestServeCostPerHour(t *testing.T) {
	if !*costRun {
		t.Skip("a measurement: run with -bqcost")
	}
	srv := newFake(t)
	cfg := testConfig(srv, nil)
	cfg.Now = func() time.Time { return costNow }
	s := open(t, cfg)
	n, err := s.ImportRuns(context.Background(), costRuns(*costJobs, *costSLOs, *costDays), nil)
	if err != nil {
		t.Fatal(err)
	}
	start, serve := serveHour(t, srv, s, *costJobs, *costSLOs, *costMinutes)
	full := float64(*costFull) / float64(*costJobs)
	scale := costScale(full)
	var b strings.Builder
	fmt.Fprintf(&b, "%d observations of %d jobs under %d SLOs over %d days stored; %d minutes served; figures for %d jobs (job_runs and slo_results ×%.0f)\n",
		n, *costJobs, *costSLOs, *costDays, *costMinutes, *costFull, full)
	fmt.Fprintf(&b, "on-demand price $6.25 per TiB billed (2026, us multi-region list price), 10 MiB minimum per table per statement\n\n")
	printCost(&b, "at start, once:", start, 1, scale)
	b.WriteString("\n")
	hourly := printCost(&b, "per hour of serving:", serve, 60/float64(*costMinutes), scale)
	fmt.Fprintf(&b, "\nabout $%.0f a month (30 days) of serving\n", hourly*24*30)
	os.Stdout.WriteString(b.String())
}
