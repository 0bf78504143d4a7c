package statuspage

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Duration chart geometry, in SVG user units.
const (
	chW      = 1000
	chH      = 220
	chLeft   = 60.0
	chRight  = 990.0
	chTop    = 10.0
	chBottom = 190.0
)

type jobView struct {
	page
	Job, Source, Zone string
	SLOs              []jobSLO
	SourceState       *sourceRow
	Runs              []runRow
	Occurrences       []occRow
	Chart             *durationChart
	Legend            []legendItem
	Since             string
}

type jobSLO struct {
	Name, Rule, Zone string
}

// runRow is one run on the job page, with times in the job's zone.
type runRow struct {
	RunID, State, Class, Colour, Symbol string
	Attempt                             int
	Date, SLO                           string
	Started, Finished, Duration         string
	Deadline, Lateness                  string
	Error, ErrorShort                   string
	ErrorLong                           bool
	Console                             string
}

// occRow is one judged occurrence of the job.
type occRow struct {
	SLO, Date, Expected, Deadline, SucceededAt, Lateness string
	Verdict, Class, Colour, Symbol, Label                string
	Runs                                                 int
	DayURL                                               string
}

// durationChart shows each run against its occurrence: a bar from its start
// to its end measured from the scheduled tick, and the deadline as a line.
type durationChart struct {
	Width, Height int
	X0, X1        string
	Y0, Y1        string
	Ticks         []chartTick
	Bars          []chartBar

	runs  []chartRun // placed by add, scaled by finish
	slots int
}

type chartTick struct {
	Y, Label string
}

type chartBar struct {
	X, W, Y, H, Class, Colour, Title string
	DX1, DX2, DY                     string
	Hatch                            bool
}

func (h *Handler) job(r *http.Request, now time.Time) (string, any, error) {
	key := kant.JobKey(r.PathValue("key"))
	if !key.Valid() {
		return "", nil, kant.Errorf(kant.ENOTFOUND, "no job %q: a job key is <source>/<job>", key)
	}
	v, err := h.jobView(r.Context(), key, now)
	if err != nil {
		return "", nil, err
	}
	v.page = h.newPage("job", now, r)
	v.page.Title = string(key) + " · " + h.cfg.Title
	return "job", v, nil
}

// jobView builds the page of one job as of now: its runs and occurrences
// over the last JobDays days, newest first.
func (h *Handler) jobView(ctx context.Context, key kant.JobKey, now time.Time) (*jobView, error) {
	var defs []slo.Definition
	for _, d := range h.cfg.SLOs {
		if d.Selects(key) {
			defs = append(defs, d)
		}
	}
	loc := h.cfg.Location
	if len(defs) > 0 {
		loc = zoneOf(defs[0], h.cfg.Location)
	}
	today := kant.DateOf(now.In(loc))
	since := today.AddDays(-h.cfg.JobDays)
	// The key is matched as a glob: escape nothing, but a key with glob
	// characters is still only equal to itself after the filter below.
	runs, err := h.cfg.Runs.LatestRuns(ctx, kant.RunFilter{Jobs: []string{string(key)},
		DateFrom: since, From: now.AddDate(0, 0, -h.cfg.JobDays)})
	if err != nil {
		return nil, fmt.Errorf("status page runs of %s: %w", key, err)
	}
	runs = slices.DeleteFunc(runs, func(r kant.Run) bool { return r.Job != key })
	results, err := h.cfg.Results.Results(ctx, kant.ResultFilter{Jobs: []string{string(key)}, From: since, To: today.AddDays(1)})
	if err != nil {
		return nil, fmt.Errorf("status page results of %s: %w", key, err)
	}
	results = slices.DeleteFunc(results, func(r kant.Result) bool {
		return r.Job != key || !slices.ContainsFunc(defs, func(d slo.Definition) bool { return d.Name == r.SLO })
	})
	if len(runs) == 0 && len(results) == 0 {
		return nil, kant.Errorf(kant.ENOTFOUND, "no job %q: no runs or occurrences in the last %d days", key, h.cfg.JobDays)
	}

	v := &jobView{Job: string(key), Source: key.Source(), Zone: loc.String(), Legend: timelineLegend, Since: since.String()}
	for _, d := range defs {
		v.SLOs = append(v.SLOs, jobSLO{Name: d.Name, Rule: deadlineText(d), Zone: zoneOf(d, h.cfg.Location).String()})
	}
	if h.cfg.Health != nil {
		health, err := h.cfg.Health.SourceHealth(ctx)
		if err != nil {
			return nil, fmt.Errorf("status page source health: %w", err)
		}
		for _, sh := range health {
			if sh.Source == key.Source() {
				row := h.sourceRow(sh, now)
				v.SourceState = &row
			}
		}
		if v.SourceState == nil && h.cfg.StaleAfter[key.Source()] > 0 {
			row := h.sourceRow(kant.SourceHealth{Source: key.Source()}, now)
			v.SourceState = &row
		}
	}

	// Occurrences, newest first; the first SLO's deadline judges each run.
	type occKey struct {
		slo      string
		expected int64
	}
	deadlines := make(map[occKey]time.Time, len(results))
	for _, res := range results {
		deadlines[occKey{res.SLO, res.ExpectedAt.Unix()}] = res.Deadline
	}
	for i := len(results) - 1; i >= 0; i-- {
		res := results[i]
		oloc := loc
		if d := defByName(defs, res.SLO); d != nil {
			oloc = zoneOf(*d, h.cfg.Location)
		}
		class := string(res.Verdict)
		if _, ok := colours[class]; !ok {
			class = classPending
		}
		row := occRow{SLO: res.SLO, Date: res.Date.String(), Expected: fmtStamp(res.ExpectedAt, oloc),
			Deadline: fmtStamp(res.Deadline, oloc), SucceededAt: fmtStamp(res.SucceededAt, oloc),
			Verdict: string(res.Verdict), Class: class, Colour: colours[class], Symbol: verdictSymbol(class),
			Label: verdictLabel(res.Verdict, res.Reason), Runs: res.Runs, DayURL: homeURL(res.Date, "")}
		if res.Lateness > 0 {
			row.Lateness = fmtDuration(res.Lateness)
		}
		row.Symbol, row.Label = markAtRisk(res, row.Symbol, row.Label)
		v.Occurrences = append(v.Occurrences, row)
	}

	if len(runs) > h.cfg.RecentRuns {
		runs = runs[len(runs)-h.cfg.RecentRuns:]
	}
	chart := newDurationChart()
	for i := len(runs) - 1; i >= 0; i-- {
		run := runs[i]
		row := runRow{RunID: run.RunID, Attempt: run.Attempt, State: string(run.State),
			Started: fmtStamp(run.StartedAt, loc), Finished: fmtStamp(run.FinishedAt, loc),
			Date: run.LogicalDate.String(), Duration: "—"}
		if d := run.Duration(); d > 0 {
			row.Duration = fmtDuration(d)
		} else if run.State.Active() && !run.StartedAt.IsZero() {
			row.Duration = fmtDuration(now.Sub(run.StartedAt)) + " so far"
		}
		var expected, deadline time.Time
		for _, d := range defs {
			date, exp, ok := d.Attribute(run)
			if !ok {
				continue
			}
			row.SLO, row.Date, expected = d.Name, date.String(), exp
			deadline = deadlines[occKey{d.Name, exp.Unix()}]
			if deadline.IsZero() {
				for _, o := range d.Occurrences(key, date, date) {
					if o.ExpectedAt.Equal(exp) {
						deadline = o.Deadline
					}
				}
			}
			break
		}
		row.Deadline = fmtStamp(deadline, loc)
		row.Class = runClass(run, deadline)
		row.Colour, row.Symbol = colours[row.Class], verdictSymbol(row.Class)
		if run.State == kant.StateSucceeded && !deadline.IsZero() && run.FinishedAt.After(deadline) {
			row.Lateness = fmtDuration(run.FinishedAt.Sub(deadline))
		}
		if run.ErrorMessage != "" {
			row.Error = run.ErrorMessage
			first, _, multi := strings.Cut(run.ErrorMessage, "\n")
			row.ErrorShort = shorten(first, 160)
			row.ErrorLong = multi || row.ErrorShort != run.ErrorMessage
		}
		if h.cfg.ConsoleLink != nil {
			row.Console = h.cfg.ConsoleLink(run)
		}
		v.Runs = append(v.Runs, row)
		chart.add(len(runs)-1-i, run, expected, deadline, row.Class, now)
	}
	if len(chart.runs) > 0 {
		chart.finish()
		v.Chart = chart
	}
	return v, nil
}

func defByName(defs []slo.Definition, name string) *slo.Definition {
	for i := range defs {
		if defs[i].Name == name {
			return &defs[i]
		}
	}
	return nil
}

// chartRun is a run placed on the duration chart before scaling, in offsets
// from its scheduled tick.
type chartRun struct {
	slot                 int
	start, end, deadline time.Duration
	class, title         string
}

// newDurationChart starts an empty chart.
func newDurationChart() *durationChart {
	return &durationChart{Width: chW, Height: chH, X0: fmtX(chLeft), X1: fmtX(chRight), Y0: fmtX(chTop), Y1: fmtX(chBottom)}
}

// add places run, the slot-th newest, when it has an occurrence.
func (c *durationChart) add(slot int, run kant.Run, expected, deadline time.Time, class string, now time.Time) {
	c.slots = max(c.slots, slot+1)
	if expected.IsZero() || deadline.IsZero() || run.StartedAt.IsZero() {
		return
	}
	s, e := runSpan(run, now)
	title := fmt.Sprintf("%s (%s): started %s after the tick, ran %s; deadline %s after the tick",
		run.RunID, run.State, fmtDuration(s.Sub(expected)), fmtDuration(e.Sub(s)), fmtDuration(deadline.Sub(expected)))
	c.runs = append(c.runs, chartRun{slot: slot, start: s.Sub(expected), end: e.Sub(expected),
		deadline: deadline.Sub(expected), class: class, title: title})
}

// finish scales the placed runs: x by slot (oldest on the left), y by time
// after the tick, up to the latest end or deadline.
func (c *durationChart) finish() {
	var top time.Duration
	lo := time.Duration(0)
	for _, r := range c.runs {
		top = max(top, r.end, r.deadline)
		lo = min(lo, r.start)
	}
	top += top / 10
	if top <= lo {
		top = lo + time.Hour
	}
	y := func(d time.Duration) float64 {
		return chBottom - float64(d-lo)/float64(top-lo)*(chBottom-chTop)
	}
	slotW := (chRight - chLeft) / float64(max(c.slots, 1))
	barW := max(min(slotW*0.6, 24), 2)
	for _, r := range c.runs {
		// slot 0 is the newest run, drawn rightmost.
		cx := chRight - (float64(r.slot)+0.5)*slotW
		y0, y1 := y(r.end), y(r.start)
		c.Bars = append(c.Bars, chartBar{
			X: fmtX(cx - barW/2), W: fmtX(barW), Y: fmtX(y0), H: fmtX(max(y1-y0, 1.5)),
			Class: r.class, Colour: colours[r.class], Title: r.title, Hatch: r.class == classMissed,
			DX1: fmtX(cx - slotW/2 + 1), DX2: fmtX(cx + slotW/2 - 1), DY: fmtX(y(r.deadline)),
		})
	}
	step := time.Hour
	for _, s := range []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		step = s
		if (top-lo)/s <= 6 {
			break
		}
	}
	for t := (lo / step) * step; t <= top; t += step {
		if t < lo {
			continue
		}
		label := "tick"
		if t != 0 {
			label = "+" + fmtDuration(t)
			if t < 0 {
				label = fmtDuration(t)
			}
		}
		c.Ticks = append(c.Ticks, chartTick{Y: fmtX(y(t)), Label: label})
	}
}
