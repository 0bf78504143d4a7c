package evaluator

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// MaxOnDemandDays bounds the dates of one SLO that one read may evaluate on
// demand: a read reaching further before the retention window is refused
// with an EINVALID error that names the limit.
const MaxOnDemandDays = 92

// ResultReader reads stored verdicts and daily summaries (the store).
type ResultReader interface {
	Results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error)
	Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error)
}

// History reads verdicts and daily summaries for every date. Dates in the
// retention window come from the store, where the evaluator keeps them
// current; older dates, which no periodic evaluation covers (a year of
// imported history, or a service that has run longer than its retention),
// are judged from the stored runs on demand, exactly as an evaluation
// covering them would judge them, and are not stored. So /v1/slo, /v1/sla,
// the status page and the gate (which reads runs) agree about every date.
type History struct {
	e      *Evaluator
	stored ResultReader
}

var _ ResultReader = (*History)(nil)

// History returns the reader of verdicts over stored, which is the store
// the evaluator writes to.
func (e *Evaluator) History(stored ResultReader) *History {
	return &History{e: e, stored: stored}
}

// Kept returns the first date of def whose verdicts the evaluator keeps
// stored as of now: today in def's zone minus the retention window. Earlier
// dates are evaluated on demand.
func (h *History) Kept(def slo.Definition, now time.Time) kant.Date {
	return kant.DateOf(now.In(def.Location)).AddDays(-int(h.e.cfg.Retention / (24 * time.Hour)))
}

// Results returns the verdicts matching f, ordered as the store orders them
// (date, SLO, job, expected time).
func (h *History) Results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error) {
	return read(ctx, h, f, h.stored.Results, func(r kant.Result) (string, kant.Date) { return r.SLO, r.Date }, func(def slo.Definition, results []kant.Result, _ []kant.Day) []kant.Result {
		if len(f.Jobs) == 0 && !f.Unmet {
			return results
		}
		return slices.DeleteFunc(results, func(r kant.Result) bool {
			return (len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, r.Job)) || (f.Unmet && r.Verdict == kant.VerdictMet)
		})
	}, func(a, b kant.Result) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.SLO, b.SLO), strings.Compare(string(a.Job), string(b.Job)),
			a.ExpectedAt.Compare(b.ExpectedAt))
	})
}

// Days returns the daily summaries matching f, ordered by SLO and date.
func (h *History) Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error) {
	return read(ctx, h, f, h.stored.Days, func(d kant.Day) (string, kant.Date) { return d.SLO, d.Date }, func(_ slo.Definition, _ []kant.Result, days []kant.Day) []kant.Day {
		return days
	}, func(a, b kant.Day) int {
		return cmp.Or(strings.Compare(a.SLO, b.SLO), a.Date.Compare(b.Date))
	})
}

// read answers f from the store for the dates each SLO keeps and by
// evaluating the older dates on demand (only when f.From is set: a filter
// open at its start reads what is stored); pick chooses what of an on-demand
// evaluation is answered, and order sorts the whole answer.
func read[T any](ctx context.Context, h *History, f kant.ResultFilter,
	stored func(context.Context, kant.ResultFilter) ([]T, error), key func(T) (string, kant.Date),
	pick func(slo.Definition, []kant.Result, []kant.Day) []T, order func(a, b T) int) ([]T, error) {
	now := h.e.cfg.Now()
	type part struct {
		def      slo.Definition
		from, to kant.Date // the dates evaluated on demand
	}
	var parts []part
	kept := map[string]kant.Date{}
	for _, def := range h.e.cfg.SLOs {
		if f.SLO != "" && def.Name != f.SLO {
			continue
		}
		first := h.Kept(def, now)
		if f.From.IsZero() || !f.From.Before(first) {
			continue // an open range reads what is stored
		}
		kept[def.Name] = first
		to := first.AddDays(-1)
		if !f.To.IsZero() && f.To.Before(to) {
			to = f.To
		}
		if n := to.DaysSince(f.From) + 1; n > MaxOnDemandDays {
			return nil, kant.Errorf(kant.EINVALID,
				"from..to: %d days of %s lie before %s (older than evaluate.retention) and would be evaluated on demand; the limit is %d days per request: ask for a shorter range",
				n, def.Name, first, MaxOnDemandDays)
		}
		parts = append(parts, part{def, f.From, to})
	}
	out, err := stored(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return out, nil
	}
	// What the store holds of the dates evaluated on demand is replaced.
	out = slices.DeleteFunc(out, func(v T) bool {
		name, date := key(v)
		first, ok := kept[name]
		return ok && date.Before(first)
	})
	jobs, err := h.e.cfg.Store.Jobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluate on demand: list jobs: %w", err)
	}
	for _, p := range parts {
		results, days, err := h.e.judge(ctx, p.def, jobs, p.from, p.to, now)
		if err != nil {
			return nil, err
		}
		out = append(out, pick(p.def, results, days)...)
	}
	slices.SortStableFunc(out, order)
	return out, nil
}
