package slo

import (
	"math"

	"github.com/kantproject/kant"
)

// Summarize computes the attainment of def over days (as returned by
// Evaluate; days of another SLO are skipped). Only final days count: Days is
// their number, Attainment and SLAAttain the share of them that met the SLO
// and the SLA (1 when there are none), and ErrorBudgetLeft, in days, the
// misses allowed by the target (Days × (1 − Target)) minus the days that
// missed the SLO. Days not yet final are counted in PendingDays only.
func Summarize(def Definition, days []kant.Day) kant.Attainment {
	a := kant.Attainment{SLO: def.Name, Target: def.Target, Attainment: 1, SLAAttain: 1}
	for _, d := range days {
		if d.SLO != "" && d.SLO != def.Name {
			continue
		}
		if !d.Final {
			a.PendingDays++
			continue
		}
		a.Days++
		if d.SLOMet {
			a.SLODaysMet++
		}
		if d.SLAMet {
			a.SLADaysMet++
		}
	}
	if a.Days > 0 {
		n := float64(a.Days)
		a.Attainment = float64(a.SLODaysMet) / n
		a.SLAAttain = float64(a.SLADaysMet) / n
		a.ErrorBudgetLeft = round9(n - n*def.Target - float64(a.Days-a.SLODaysMet))
	}
	return a
}

// round9 rounds x to nine decimals, so that 30 days at 0.95 allow 1.5 days
// and not 1.5000000000000013.
func round9(x float64) float64 {
	r := math.Round(x*1e9) / 1e9
	if r == 0 {
		return 0 // no negative zero
	}
	return r
}
