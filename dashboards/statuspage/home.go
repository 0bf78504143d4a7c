package statuspage

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Timeline geometry, in SVG user units: a column of job names, the plot,
// then a column of verdict labels.
const (
	tlWidth   = 1040
	tlPlotX0  = 260.0
	tlPlotX1  = 840.0
	tlLabelX  = 850.0
	tlAxisH   = 24
	tlRowH    = 20
	tlBarH    = 12
	tlMaxName = 40
	// tlAxisRepeat is the number of rows above which the axis labels are
	// repeated below the plot.
	tlAxisRepeat = 15 // characters of a job name shown before it is shortened
	// tlSlack is how far beyond the occurrences' window the axis stretches
	// to show runs that started early or ended late; runs beyond it are
	// clipped.
	tlSlack = 6 * time.Hour
	// tlPad keeps a deadline or a run off the very edge of the plot.
	tlPad = 15 * time.Minute
)

type homeView struct {
	page
	Date, Zone               string
	PrevURL, NextURL, AllURL string
	ProblemsURL, TodayURL    string
	IsToday                  bool
	Only                     string
	Legend                   []legendItem
	SLOs                     []sloTimeline
	Sources                  []sourceRow
	HasHealth                bool
}

// sloTimeline is one SLO's occurrences on the date, drawn as one SVG.
type sloTimeline struct {
	Name, Zone, Rule, Owner                   string
	Jobs                                      int
	Met, Late, Missed, Pending                int
	Hidden                                    int // rows left out by the problems filter
	Height                                    int
	Axis                                      []axisTick
	HasNow                                    bool
	NowX                                      string
	AxisY, GridY, PlotBottom                  int
	BottomAxisY                               int // labels again under the rows when there are many; 0 when not
	Rows                                      []timelineRow
	Summary                                   string // text alternative of the SVG
	PlotX0, PlotX1, LabelX, LabelTextX, Width string
}

type axisTick struct {
	X, Label string
}

// timelineRow is one job of one SLO.
type timelineRow struct {
	Job, URL, Name         string
	Class, Colour          string // the row's worst verdict
	Label, Symbol          string
	Title                  string
	Y, TextY, BarY, LineY2 int
	Windows, Deadlines     []mark
	Bars                   []bar
}

// mark is an expected window (expected time to deadline) or a deadline line.
type mark struct {
	X, W, Title string
}

// bar is one run from its start to its end (or now, while running).
type bar struct {
	X, W, Class, Colour, Title string
	Hatch, Open                bool
}

type sourceRow struct {
	Name, State, Class, LastGood, Ago, LastError, StaleAfter string
	Failures                                                 int
}

func (h *Handler) home(r *http.Request, now time.Time) (string, any, error) {
	q := r.URL.Query()
	today := kant.DateOf(now.In(h.cfg.Location))
	date := today
	if v := q.Get("date"); v != "" {
		d, err := kant.ParseDate(v)
		if err != nil {
			return "", nil, kant.Errorf(kant.EINVALID, "date: %s", kant.ErrorMessage(err))
		}
		date = d
	}
	only := ""
	if q.Get("only") == "problems" {
		only = "problems"
	}
	v, err := h.homeView(r.Context(), date, only, now)
	if err != nil {
		return "", nil, err
	}
	v.page = h.newPage("home", now, r)
	v.IsToday = date == today
	v.AutoRefresh = v.IsToday && v.Refresh == 0
	return "home", v, nil
}

// homeView builds the home page for date as of now.
func (h *Handler) homeView(ctx context.Context, date kant.Date, only string, now time.Time) (*homeView, error) {
	v := &homeView{
		Date:        date.String(),
		Zone:        h.cfg.Location.String(),
		PrevURL:     homeURL(date.AddDays(-1), only),
		NextURL:     homeURL(date.AddDays(1), only),
		AllURL:      homeURL(date, ""),
		ProblemsURL: homeURL(date, "problems"),
		TodayURL:    "/",
		Only:        only,
		Legend:      timelineLegend,
	}
	results, err := h.cfg.Results.Results(ctx, kant.ResultFilter{From: date, To: date})
	if err != nil {
		return nil, fmt.Errorf("status page results %s: %w", date, err)
	}
	byName := make(map[string][]kant.Result, len(h.cfg.SLOs))
	for _, res := range results {
		byName[res.SLO] = append(byName[res.SLO], res)
	}

	// One query for the runs of every SLO's window on the date.
	var from, to time.Time
	for _, def := range h.cfg.SLOs {
		if len(byName[def.Name]) == 0 {
			continue
		}
		s, e := def.RunWindow(date, date)
		if from.IsZero() || s.Before(from) {
			from = s
		}
		if e.After(to) {
			to = e
		}
	}
	var runs []kant.Run
	if !from.IsZero() {
		runs, err = h.cfg.Runs.LatestRuns(ctx, kant.RunFilter{DateFrom: date, DateTo: date, From: from, To: to})
		if err != nil {
			return nil, fmt.Errorf("status page runs %s: %w", date, err)
		}
	}
	for _, def := range h.cfg.SLOs {
		own := byName[def.Name]
		if len(own) == 0 {
			continue
		}
		v.SLOs = append(v.SLOs, buildTimeline(def, zoneOf(def, h.cfg.Location), date, own, runs, only, now))
	}
	if h.cfg.Health != nil {
		v.HasHealth = true
		health, err := h.cfg.Health.SourceHealth(ctx)
		if err != nil {
			return nil, fmt.Errorf("status page source health: %w", err)
		}
		v.Sources = h.sourceRows(health, now)
	}
	return v, nil
}

// rowBuild collects one job's occurrences and runs before layout.
type rowBuild struct {
	job  kant.JobKey
	occs []kant.Result
	runs []kant.Run
	dl   []time.Time // the deadline each run is judged against
}

// buildTimeline lays out one SLO's results on date (sorted by job, then
// expected time, as the store returns them) with the runs attributed to
// them, in loc.
func buildTimeline(def slo.Definition, loc *time.Location, date kant.Date, results []kant.Result, runs []kant.Run, only string, now time.Time) sloTimeline {
	tl := sloTimeline{Name: def.Name, Zone: loc.String(), Rule: deadlineText(def), Owner: def.Owner,
		PlotX0: fmtX(tlPlotX0), PlotX1: fmtX(tlPlotX1), LabelX: fmtX(tlLabelX), LabelTextX: fmtX(tlLabelX + 16), Width: fmtX(tlWidth)}

	rows := make([]rowBuild, 0, len(results))
	index := make(map[kant.JobKey]int, len(results))
	start, end := results[0].ExpectedAt, results[0].Deadline
	for _, res := range results {
		i, ok := index[res.Job]
		if !ok {
			i = len(rows)
			index[res.Job] = i
			rows = append(rows, rowBuild{job: res.Job})
		}
		rows[i].occs = append(rows[i].occs, res)
		start = minTime(start, res.ExpectedAt)
		end = maxTime(end, res.Deadline)
	}
	slices.SortStableFunc(rows, func(a, b rowBuild) int { return cmp.Compare(a.job, b.job) })
	for i := range rows {
		index[rows[i].job] = i
	}

	// Attribute each run to its occurrence; the axis grows to show runs up
	// to tlSlack outside the occurrences' window.
	lo, hi := start.Add(-tlSlack), end.Add(tlSlack)
	t0, t1 := start, end
	for _, run := range runs {
		i, ok := index[run.Job]
		if !ok {
			continue
		}
		d, expected, ok := def.Attribute(run)
		if !ok || d != date {
			continue
		}
		row := &rows[i]
		var deadline time.Time
		for _, o := range row.occs {
			if o.ExpectedAt.Equal(expected) {
				deadline = o.Deadline
				break
			}
		}
		if deadline.IsZero() {
			continue // an occurrence the evaluator has not judged
		}
		row.runs = append(row.runs, run)
		row.dl = append(row.dl, deadline)
		s, e := runSpan(run, now)
		t0 = minTime(t0, maxTime(s, lo))
		t1 = maxTime(t1, minTime(e, hi))
	}
	if !now.Before(t0) && now.Before(t1.Add(time.Hour)) {
		t1 = maxTime(t1, now)
	}
	t0, t1 = roundAxis(t0.Add(-tlPad), t1.Add(tlPad), loc)
	scale := (tlPlotX1 - tlPlotX0) / float64(t1.Sub(t0))
	x := func(t time.Time) float64 {
		f := tlPlotX0 + float64(t.Sub(t0))*scale
		return min(max(f, tlPlotX0), tlPlotX1)
	}
	tl.Axis = axisTicks(t0, t1, loc, x)
	if !now.Before(t0) && !now.After(t1) {
		tl.HasNow, tl.NowX = true, fmtX(x(now))
	}

	tl.Jobs = len(rows)
	tl.Rows = make([]timelineRow, 0, len(rows))
	y := tlAxisH
	for _, rb := range rows {
		worst := rb.occs[0]
		for _, o := range rb.occs {
			switch o.Verdict {
			case kant.VerdictMet:
				tl.Met++
			case kant.VerdictLate:
				tl.Late++
			case kant.VerdictMissed:
				tl.Missed++
			default:
				tl.Pending++
			}
			if verdictRank(o.Verdict) > verdictRank(worst.Verdict) {
				worst = o
			}
		}
		if only == "problems" && worst.Verdict == kant.VerdictMet {
			tl.Hidden++
			continue
		}
		class := string(worst.Verdict)
		if worst.Verdict == kant.VerdictPending && slices.ContainsFunc(rb.runs, func(r kant.Run) bool { return r.State.Active() }) {
			class = classRunning
		}
		if _, ok := colours[class]; !ok {
			class = classPending
		}
		row := timelineRow{
			Job: string(rb.job), URL: jobURL(rb.job), Name: shorten(string(rb.job), tlMaxName),
			Class: class, Colour: colours[class], Symbol: verdictSymbol(class),
			Label: verdictLabel(worst.Verdict, worst.Reason),
			Y:     y, TextY: y + tlRowH/2 + 4, BarY: y + (tlRowH-tlBarH)/2, LineY2: y + tlRowH,
		}
		if class == classRunning {
			row.Label = "pending: running"
		}
		row.Symbol, row.Label = markAtRisk(worst, row.Symbol, row.Label)
		if len(rb.occs) > 1 {
			row.Label = fmt.Sprintf("%s (%d)", row.Label, len(rb.occs))
		}
		var title strings.Builder
		title.WriteString(string(rb.job))
		for _, o := range rb.occs {
			_, label := markAtRisk(o, "", verdictLabel(o.Verdict, o.Reason))
			fmt.Fprintf(&title, "\n%s: expected %s, deadline %s", label,
				fmtClock(o.ExpectedAt, loc, date), fmtClock(o.Deadline, loc, date))
			if !o.SucceededAt.IsZero() {
				fmt.Fprintf(&title, ", succeeded %s", fmtClock(o.SucceededAt, loc, date))
			}
			if o.Lateness > 0 {
				fmt.Fprintf(&title, " (%s late)", fmtDuration(o.Lateness))
			}
			xs, xd := x(o.ExpectedAt), x(o.Deadline)
			row.Windows = append(row.Windows, mark{X: fmtX(xs), W: fmtX(max(xd-xs, 0))})
			row.Deadlines = append(row.Deadlines, mark{X: fmtX(xd),
				Title: "deadline " + o.Deadline.In(loc).Format("2006-01-02 15:04 MST")})
		}
		row.Title = title.String()
		for k, run := range rb.runs {
			s, e := runSpan(run, now)
			xs, xe := x(s), x(e)
			c := runClass(run, rb.dl[k])
			b := bar{X: fmtX(xs), W: fmtX(max(xe-xs, 2)), Class: c, Colour: colours[c],
				Hatch: c == classMissed, Open: c == classRunning,
				Title: runTitle(run, rb.dl[k], loc, date, now)}
			row.Bars = append(row.Bars, b)
		}
		tl.Rows = append(tl.Rows, row)
		y += tlRowH
	}
	tl.AxisY, tl.GridY = tlAxisH-10, tlAxisH-4
	tl.PlotBottom = y
	tl.Height = y + 4
	if len(tl.Rows) > tlAxisRepeat {
		// A long timeline repeats its axis labels below the last row.
		tl.BottomAxisY = y + 14
		tl.Height = y + 20
	}
	tl.Summary = fmt.Sprintf("%s on %s: %d jobs; %d met, %d late, %d missed, %d pending",
		def.Name, date, tl.Jobs, tl.Met, tl.Late, tl.Missed, tl.Pending)
	return tl
}

// runSpan is where a run's bar starts and ends: from its start (or its end,
// or when it was observed) to its end, or to now while it is active.
func runSpan(r kant.Run, now time.Time) (time.Time, time.Time) {
	s := r.At()
	e := r.FinishedAt
	if e.IsZero() {
		if r.State.Active() && now.After(s) {
			e = now
		} else {
			e = s
		}
	}
	return s, e
}

func runTitle(r kant.Run, deadline time.Time, loc *time.Location, date kant.Date, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s run %s", r.Job, r.RunID)
	if r.Attempt > 1 {
		fmt.Fprintf(&b, " attempt %d", r.Attempt)
	}
	fmt.Fprintf(&b, ": %s", r.State)
	if !r.StartedAt.IsZero() {
		fmt.Fprintf(&b, "\nstarted %s", fmtClock(r.StartedAt, loc, date))
	}
	if !r.FinishedAt.IsZero() {
		fmt.Fprintf(&b, ", finished %s (%s)", fmtClock(r.FinishedAt, loc, date), fmtDuration(r.Duration()))
	} else if r.State.Active() && !r.StartedAt.IsZero() {
		fmt.Fprintf(&b, ", running for %s", fmtDuration(now.Sub(r.StartedAt)))
	}
	if !deadline.IsZero() {
		fmt.Fprintf(&b, "\ndeadline %s", fmtClock(deadline, loc, date))
		if r.State == kant.StateSucceeded && r.FinishedAt.After(deadline) {
			fmt.Fprintf(&b, ", %s late", fmtDuration(r.FinishedAt.Sub(deadline)))
		}
	}
	if r.ErrorMessage != "" {
		b.WriteString("\nerror: ")
		b.WriteString(shorten(r.ErrorMessage, 200))
	}
	return b.String()
}

// roundAxis widens [t0, t1] to whole hours in loc, at least two hours long.
func roundAxis(t0, t1 time.Time, loc *time.Location) (time.Time, time.Time) {
	l0 := t0.In(loc)
	a := time.Date(l0.Year(), l0.Month(), l0.Day(), l0.Hour(), 0, 0, 0, loc)
	if a.After(t0) {
		a = a.Add(-time.Hour)
	}
	l1 := t1.In(loc)
	b := time.Date(l1.Year(), l1.Month(), l1.Day(), l1.Hour(), 0, 0, 0, loc)
	if b.Before(t1) {
		b = b.Add(time.Hour)
	}
	if b.Sub(a) < 2*time.Hour {
		b = a.Add(2 * time.Hour)
	}
	return a, b
}

// axisTicks returns hour ticks over [t0, t1] (whole hours in loc), at most
// about a dozen, labelled with the local time.
func axisTicks(t0, t1 time.Time, loc *time.Location, x func(time.Time) float64) []axisTick {
	hours := int(t1.Sub(t0) / time.Hour)
	step := 1
	for _, s := range []int{1, 2, 3, 4, 6, 12, 24, 48} {
		step = s
		if hours/s <= 12 {
			break
		}
	}
	var ticks []axisTick
	for t := t0; !t.After(t1); t = t.Add(time.Hour) {
		lt := t.In(loc)
		if lt.Minute() != 0 || lt.Hour()%step != 0 {
			continue
		}
		label := lt.Format("15:04")
		if lt.Hour() == 0 {
			label = lt.Format("Jan 2")
		}
		ticks = append(ticks, axisTick{X: fmtX(x(t)), Label: label})
	}
	return ticks
}

func (h *Handler) sourceRows(health []kant.SourceHealth, now time.Time) []sourceRow {
	seen := map[string]bool{}
	rows := make([]sourceRow, 0, len(health)+len(h.cfg.StaleAfter))
	for _, sh := range health {
		seen[sh.Source] = true
		rows = append(rows, h.sourceRow(sh, now))
	}
	for name := range h.cfg.StaleAfter {
		if !seen[name] {
			rows = append(rows, h.sourceRow(kant.SourceHealth{Source: name}, now))
		}
	}
	slices.SortFunc(rows, func(a, b sourceRow) int { return strings.Compare(a.Name, b.Name) })
	return rows
}

// sourceRow judges one source: stale when its last good poll is older than
// its bound (or it never had one), failing when fresh but its latest polls
// failed, ok otherwise.
func (h *Handler) sourceRow(sh kant.SourceHealth, now time.Time) sourceRow {
	bound := h.cfg.StaleAfter[sh.Source]
	row := sourceRow{Name: sh.Source, LastGood: fmtStamp(sh.LastSuccess, h.cfg.Location),
		Ago: fmtAgo(sh.LastSuccess, now), LastError: shorten(sh.LastError, 300), Failures: sh.ConsecutiveFailures}
	if bound > 0 {
		row.StaleAfter = fmtDuration(bound)
	}
	switch {
	case sh.LastSuccess.IsZero():
		row.State, row.Class = "stale: no successful poll", classMissed
	case bound > 0 && now.Sub(sh.LastSuccess) > bound:
		row.State, row.Class = "stale", classMissed
	case sh.ConsecutiveFailures > 0:
		row.State, row.Class = "failing", classLate
	default:
		row.State, row.Class = "ok", classMet
	}
	return row
}

// shorten cuts s to about n characters, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
