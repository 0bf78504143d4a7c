package slo

import (
	"slices"

	"github.com/kantproject/kant"
)

// Excluding returns days without those on which a silence covering d was
// active, when d.ExcludeSilenced; otherwise days unchanged. A silence covers
// d when it names d, names none of SLOs and jobs (it covers everything), or
// lists one of d's job patterns or a job pattern matching one of them. A day
// is silenced when a silence overlaps any part of it, midnight to midnight in
// d's zone. The result is meant for Summarize.
func (d Definition) Excluding(days []kant.Day, silences []kant.Silence) []kant.Day {
	if !d.ExcludeSilenced || len(silences) == 0 {
		return days
	}
	var mine []kant.Silence
	for _, s := range silences {
		if d.coveredBy(s) {
			mine = append(mine, s)
		}
	}
	if len(mine) == 0 {
		return days
	}
	loc := orUTC(d.Location)
	out := make([]kant.Day, 0, len(days))
	for _, day := range days {
		start := day.Date.In(loc)
		end := day.Date.AddDays(1).In(loc)
		if !slices.ContainsFunc(mine, func(s kant.Silence) bool { return s.Start.Before(end) && s.End.After(start) }) {
			out = append(out, day)
		}
	}
	return out
}

func (d Definition) coveredBy(s kant.Silence) bool {
	if s.Covers(d.Name, "") {
		return true
	}
	for _, p := range d.Jobs {
		if slices.Contains(s.Jobs, p) || (!kant.IsGlob(p) && kant.MatchAny(s.Jobs, kant.JobKey(p))) {
			return true
		}
	}
	return false
}
