package statuspage

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Colours are the Okabe-Ito palette, distinguishable with the common forms
// of colour blindness. Colour is never the only cue: every bar and cell also
// carries a text label or symbol and a <title>.
const (
	colourMet     = "#009E73" // bluish green
	colourLate    = "#E69F00" // orange
	colourMissed  = "#D55E00" // vermillion
	colourPending = "#56B4E9" // sky blue
	colourRunning = "#0072B2" // blue
	colourNone    = "#DDDDDD" // light grey: no occurrences
)

// Status classes of bars, rows and cells. Bars are classed by what the run
// did against its occurrence's deadline: met or late (succeeded in time or
// after), missed (ended without success), running (queued or running).
const (
	classMet     = "met"
	classLate    = "late"
	classMissed  = "missed"
	classPending = "pending"
	classRunning = "running"
	classSLA     = "sla"  // calendar: SLO missed, SLA met
	classNone    = "none" // calendar: no occurrences
)

var colours = map[string]string{
	classMet:     colourMet,
	classLate:    colourLate,
	classMissed:  colourMissed,
	classPending: colourPending,
	classRunning: colourRunning,
	classSLA:     colourLate,
	classNone:    colourNone,
}

// legendItem is one entry of a legend: a swatch, its symbol and its meaning.
type legendItem struct {
	Class, Colour, Symbol, Label string
	Hatch                        bool
}

var timelineLegend = []legendItem{
	{Class: classMet, Colour: colourMet, Label: "met: succeeded by the deadline"},
	{Class: classLate, Colour: colourLate, Symbol: "!", Label: "late: succeeded after the deadline"},
	{Class: classMissed, Colour: colourMissed, Symbol: "×", Label: "missed / failed run", Hatch: true},
	{Class: classRunning, Colour: colourRunning, Symbol: "▸", Label: "running or queued"},
	{Class: classPending, Colour: colourPending, Symbol: "…", Label: "pending: deadline not reached"},
	{Class: classPending, Colour: colourPending, Symbol: symbolAtRisk, Label: "at risk: its recent runs would miss the deadline"},
}

var calendarLegend = []legendItem{
	{Class: classMet, Colour: colourMet, Label: "SLO met"},
	{Class: classSLA, Colour: colourLate, Symbol: "~", Label: "SLA only: recovered in time"},
	{Class: classMissed, Colour: colourMissed, Symbol: "×", Label: "missed: SLO and SLA"},
	{Class: classPending, Colour: colourPending, Symbol: "…", Label: "not final yet"},
	{Class: classNone, Colour: colourNone, Label: "no occurrences"},
}

// verdictRank orders verdicts from best to worst, for a row's summary.
func verdictRank(v kant.Verdict) int {
	switch v {
	case kant.VerdictMet:
		return 0
	case kant.VerdictPending:
		return 1
	case kant.VerdictLate:
		return 2
	case kant.VerdictMissed:
		return 3
	}
	return 1
}

// jobURL is the job page of key; each path segment is escaped.
func jobURL(key kant.JobKey) string {
	parts := strings.Split(string(key), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/jobs/" + strings.Join(parts, "/")
}

// homeURL is the home page for a date, keeping the filter.
func homeURL(d kant.Date, only string) string {
	q := url.Values{}
	q.Set("date", d.String())
	if only != "" {
		q.Set("only", only)
	}
	return "/?" + q.Encode()
}

// fmtDuration formats d compactly: 45s, 12m05s, 3h04m, 2d03h.
func fmtDuration(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDuration(-d)
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// fmtAgo formats how long before now t was, or "never" for a zero t.
func fmtAgo(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + fmtDuration(-d)
	}
	return fmtDuration(d.Truncate(time.Second)) + " ago"
}

// fmtClock formats t in loc as a time of day, with the date when it is not
// on day.
func fmtClock(t time.Time, loc *time.Location, day kant.Date) string {
	if t.IsZero() {
		return "—"
	}
	lt := t.In(loc)
	if kant.DateOf(lt) == day {
		return lt.Format("15:04")
	}
	return lt.Format("Jan 2 15:04")
}

// fmtStamp formats t in loc with date, time and zone abbreviation.
func fmtStamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// fmtPercent formats a share as a percentage with one decimal.
func fmtPercent(x float64) string { return strconv.FormatFloat(x*100, 'f', 1, 64) + "%" }

// fmtDays formats a number of days with at most two decimals.
func fmtDays(x float64) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// fmtX formats an SVG coordinate with one decimal.
func fmtX(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// deadlineText describes when an SLO's occurrences are due.
func deadlineText(d slo.Definition) string {
	var b strings.Builder
	b.WriteString("schedule ")
	b.WriteString(d.Schedule.String())
	if d.Deadline != nil {
		b.WriteString(", deadline ")
		b.WriteString(d.Deadline.String())
	} else {
		b.WriteString(", within ")
		b.WriteString(fmtDuration(d.Within))
	}
	if d.RecoverBy != nil {
		b.WriteString(", recover by ")
		b.WriteString(d.RecoverBy.String())
	}
	b.WriteString(", target ")
	b.WriteString(strings.TrimSuffix(strings.TrimSuffix(strconv.FormatFloat(d.Target*100, 'f', 2, 64), "0"), ".0"))
	b.WriteString("%")
	return b.String()
}

// zoneOf returns the SLO's zone or the fallback.
func zoneOf(d slo.Definition, fallback *time.Location) *time.Location {
	if d.Location != nil {
		return d.Location
	}
	return fallback
}

// runClass classes a run against the deadline of its occurrence (zero when
// it has none): running while active, met or late when it succeeded by or
// after the deadline, missed when it ended without success.
func runClass(r kant.Run, deadline time.Time) string {
	switch {
	case r.State.Active():
		return classRunning
	case r.State == kant.StateSucceeded:
		at := r.FinishedAt
		if at.IsZero() {
			at = r.ObservedAt
		}
		if !deadline.IsZero() && at.After(deadline) {
			return classLate
		}
		return classMet
	}
	return classMissed
}

// verdictLabel is the text shown for a verdict.
func verdictLabel(v kant.Verdict, reason kant.Reason) string {
	if v == kant.VerdictMissed && reason != kant.ReasonNone {
		return "missed: " + strings.ReplaceAll(string(reason), "_", " ")
	}
	return string(v)
}

// verdictSymbol is the shape cue that goes with a verdict's colour.
func verdictSymbol(class string) string {
	switch class {
	case classLate:
		return "!"
	case classMissed:
		return "×"
	case classRunning:
		return "▸"
	case classPending:
		return "…"
	case classSLA:
		return "~"
	}
	return "✓"
}
