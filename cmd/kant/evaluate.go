package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// cmdEvaluate evaluates every SLO as of -now over the retention window and
// writes the verdicts, then prints a summary per SLO. Without -once it keeps
// evaluating on the configured interval.
func cmdEvaluate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (code int) {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	var c common
	c.register(fs)
	once := fs.Bool("once", false, "evaluate once and exit")
	nowFlag := fs.String("now", "", "evaluate as of this RFC 3339 time (default: now)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return exitConfig
	}
	cfg, logger, ok := c.setup(getenv, stderr)
	if !ok {
		return exitConfig
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			fmt.Fprintf(stderr, "kant: -now: %q is not an RFC 3339 time (e.g. 2026-06-02T07:00:00+09:00)\n", *nowFlag)
			return exitConfig
		}
		now = t
	}
	if !*once && *nowFlag != "" {
		fmt.Fprintln(stderr, "kant: -now needs -once")
		return exitConfig
	}
	k, err := assemble(ctx, cfg, logger, time.Now, coreOptions{getenv: getenv})
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitFail
	}
	code = exitOK
	defer func() {
		if err := k.Close(); err != nil {
			fmt.Fprintf(stderr, "kant: %v\n", err)
			code = exitFail
		}
	}()
	eval := k.eval
	if !*once {
		if err := eval.Run(ctx); err != nil {
			fmt.Fprintf(stderr, "kant: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	if err := eval.Evaluate(ctx, now, cfg.Evaluate.Retention); err != nil {
		fmt.Fprintf(stderr, "kant: evaluate: %v\n", err)
		return exitFail
	}
	if err := printSummary(ctx, stdout, k.history, cfg.SLOs, now); err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitFail
	}
	return exitOK
}

// summaryReader reads what printSummary shows.
type summaryReader interface {
	Results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error)
	Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error)
}

// printSummary prints, per SLO, the verdicts of the business date of now and
// the attainment over the last 30 days.
func printSummary(ctx context.Context, w io.Writer, db summaryReader, defs []slo.Definition, now time.Time) error {
	for _, def := range defs {
		today := kant.DateOf(now.In(def.Location))
		results, err := db.Results(ctx, kant.ResultFilter{SLO: def.Name, From: today, To: today})
		if err != nil {
			return err
		}
		counts := map[kant.Verdict]int{}
		for _, r := range results {
			counts[r.Verdict]++
		}
		days, err := db.Days(ctx, kant.ResultFilter{SLO: def.Name, From: today.AddDays(-29), To: today})
		if err != nil {
			return err
		}
		a := slo.Summarize(def, days)
		fmt.Fprintf(w, "%s %s: %d occurrences: %d met, %d late, %d missed, %d pending\n",
			def.Name, today, len(results), counts[kant.VerdictMet], counts[kant.VerdictLate],
			counts[kant.VerdictMissed], counts[kant.VerdictPending])
		fmt.Fprintf(w, "%s last 30 days: %d final days, SLO met %d, SLA met %d, attainment %.3f (target %.3f), error budget left %.1f days\n",
			def.Name, a.Days, a.SLODaysMet, a.SLADaysMet, a.Attainment, a.Target, a.ErrorBudgetLeft)
	}
	return nil
}
