package statuspage

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Calendar strip geometry, in SVG user units.
const (
	calCell = 12
	calGap  = 2
	calTop  = 12 // room for month labels
)

type calendarView struct {
	page
	Days   int
	Legend []legendItem
	Rows   []calendarRow
}

// calendarRow is one SLO: its attainment over the window and a strip of one
// cell per day, oldest first.
type calendarRow struct {
	Name, Zone, Rule, From, To     string
	Attainment, SLAAttain, Target  string
	Budget                         string
	BudgetClass                    string
	FinalDays, PendingDays, Missed int
	Strip                          template.HTML
}

func (h *Handler) calendar(r *http.Request, now time.Time) (string, any, error) {
	v, err := h.calendarView(r.Context(), now)
	if err != nil {
		return "", nil, err
	}
	v.page = h.newPage("calendar", now, r)
	return "calendar", v, nil
}

// calendarView builds the attainment calendar as of now: the last
// CalendarDays days of each SLO, ending today in the SLO's zone.
func (h *Handler) calendarView(ctx context.Context, now time.Time) (*calendarView, error) {
	n := h.cfg.CalendarDays
	v := &calendarView{Days: n, Legend: calendarLegend, Rows: make([]calendarRow, 0, len(h.cfg.SLOs))}
	if len(h.cfg.SLOs) == 0 {
		return v, nil
	}
	// One query covering every SLO's window; zones differ by a day at most.
	var from, to kant.Date
	for i, def := range h.cfg.SLOs {
		today := kant.DateOf(now.In(zoneOf(def, h.cfg.Location)))
		if i == 0 || today.After(to) {
			to = today
		}
		if f := today.AddDays(1 - n); i == 0 || f.Before(from) {
			from = f
		}
	}
	days, err := h.cfg.Results.Days(ctx, kant.ResultFilter{From: from, To: to})
	if err != nil {
		return nil, fmt.Errorf("status page days %s..%s: %w", from, to, err)
	}
	bySLO := make(map[string][]kant.Day, len(h.cfg.SLOs))
	for _, d := range days {
		bySLO[d.SLO] = append(bySLO[d.SLO], d)
	}
	var silences []kant.Silence
	if h.cfg.Silences != nil && slices.ContainsFunc(h.cfg.SLOs, func(d slo.Definition) bool { return d.ExcludeSilenced }) {
		// Silenced days leave the attainment of SLOs that say so, as in /v1/sla.
		if silences, err = h.cfg.Silences(ctx, from.In(time.UTC).AddDate(0, 0, -1), to.In(time.UTC).AddDate(0, 0, 2)); err != nil {
			return nil, fmt.Errorf("status page silences: %w", err)
		}
	}
	var b strings.Builder
	for _, def := range h.cfg.SLOs {
		loc := zoneOf(def, h.cfg.Location)
		today := kant.DateOf(now.In(loc))
		v.Rows = append(v.Rows, calendarRowOf(def, loc, today.AddDays(1-n), today, def.Excluding(bySLO[def.Name], silences), &b))
	}
	return v, nil
}

// calendarRowOf summarizes def over [from, to] from its days (sorted by
// date) and draws the strip. The strip is written directly rather than
// through the template: thousands of cells are the page's cost.
func calendarRowOf(def slo.Definition, loc *time.Location, from, to kant.Date, days []kant.Day, b *strings.Builder) calendarRow {
	inWindow := days[:0:0]
	byDate := make(map[kant.Date]kant.Day, len(days))
	for _, d := range days {
		if d.Date.Before(from) || d.Date.After(to) {
			continue
		}
		inWindow = append(inWindow, d)
		byDate[d.Date] = d
	}
	a := slo.Summarize(def, inWindow)
	row := calendarRow{
		Name: def.Name, Zone: loc.String(), Rule: deadlineText(def), From: from.String(), To: to.String(),
		Attainment: fmtPercent(a.Attainment), SLAAttain: fmtPercent(a.SLAAttain), Target: fmtPercent(a.Target),
		Budget: fmtDays(a.ErrorBudgetLeft), FinalDays: a.Days, PendingDays: a.PendingDays,
		Missed: a.Days - a.SLODaysMet, BudgetClass: classMet,
	}
	switch {
	case a.ErrorBudgetLeft < 0:
		row.BudgetClass = classMissed
	case a.Days > 0 && a.ErrorBudgetLeft < float64(a.Days)*(1-a.Target)/2:
		row.BudgetClass = classLate
	}

	n := to.DaysSince(from) + 1
	width := n*(calCell+calGap) - calGap
	name := html.EscapeString(def.Name)
	b.Reset()
	b.Grow(n * (300 + 2*len(name)))
	fmt.Fprintf(b, `<svg class="strip" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s: daily outcomes %s to %s">`,
		width, calTop+calCell, width, calTop+calCell, name, from, to)
	for i := range n {
		d := from.AddDays(i)
		x := i * (calCell + calGap)
		if d.Day == 1 || i == 0 {
			fmt.Fprintf(b, `<text class="month" x="%d" y="9">%s</text>`, x, d.In(time.UTC).Format("Jan"))
		}
		day, ok := byDate[d]
		class, text := classNone, "no occurrences"
		if ok {
			class, text = dayClass(day)
		}
		b.WriteString(`<a href="/?date=`)
		b.WriteString(d.String())
		b.WriteString(`"><rect class="cell `)
		b.WriteString(class)
		b.WriteString(`" x="`)
		b.WriteString(strconv.Itoa(x))
		b.WriteString(`" y="`)
		b.WriteString(strconv.Itoa(calTop))
		b.WriteString(`" width="12" height="12" rx="2" fill="`)
		b.WriteString(colours[class])
		b.WriteString(`" data-date="`)
		b.WriteString(d.String())
		b.WriteString(`"><title>`)
		b.WriteString(name)
		b.WriteString(" ")
		b.WriteString(d.String())
		b.WriteString(" (")
		b.WriteString(d.Weekday().String()[:3])
		b.WriteString("): ")
		b.WriteString(text)
		b.WriteString(`</title></rect>`)
		if sym := calendarSymbol(class); sym != "" {
			fmt.Fprintf(b, `<text class="sym" x="%d" y="%d" aria-hidden="true">%s</text>`, x+calCell/2, calTop+calCell-3, sym)
		}
		b.WriteString(`</a>`)
	}
	b.WriteString(`</svg>`)
	row.Strip = template.HTML(b.String()) // #nosec: every value above is escaped or generated
	return row
}

// dayClass classes a day and describes it: pending while not final, met,
// SLA only (SLO missed but every occurrence recovered in time) or missed.
func dayClass(d kant.Day) (string, string) {
	counts := fmt.Sprintf("%d occurrences: %d met, %d late, %d missed, %d pending", d.Occurrences, d.Met, d.Late, d.Missed, d.Pending)
	switch {
	case !d.Final:
		return classPending, "not final yet; " + counts
	case d.SLOMet:
		return classMet, "SLO met; " + counts
	case d.SLAMet:
		return classSLA, "SLO missed, SLA met; " + counts
	}
	return classMissed, "SLO and SLA missed; " + counts
}

func calendarSymbol(class string) string {
	switch class {
	case classSLA:
		return "~"
	case classMissed:
		return "×"
	case classPending:
		return "…"
	}
	return ""
}
