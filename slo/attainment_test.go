package slo

import (
	"testing"

	"github.com/kantproject/kant"
)

func TestSummarize(t *testing.T) {
	days := func(n int, d kant.Day) []kant.Day {
		out := make([]kant.Day, n)
		for i := range out {
			out[i] = d
			out[i].SLO = "hegel-nightly"
		}
		return out
	}
	concat := func(lists ...[]kant.Day) []kant.Day {
		var out []kant.Day
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	tests := []struct {
		name string
		days []kant.Day
		want kant.Attainment
	}{
		{
			name: "30 days at a 0.95 target with 27 met leave an error budget of -1.5 days",
			days: concat(
				days(27, kant.Day{SLOMet: true, SLAMet: true, Final: true}),
				days(2, kant.Day{SLAMet: true, Final: true}),
				days(1, kant.Day{Final: true}),
			),
			want: kant.Attainment{SLO: "hegel-nightly", Days: 30, SLODaysMet: 27, SLADaysMet: 29,
				Attainment: 0.9, SLAAttain: 29.0 / 30, Target: 0.95, ErrorBudgetLeft: -1.5},
		},
		{
			name: "days not yet final are pending and not counted",
			days: concat(
				days(19, kant.Day{SLOMet: true, SLAMet: true, Final: true}),
				days(1, kant.Day{Final: false}),
			),
			want: kant.Attainment{SLO: "hegel-nightly", Days: 19, SLODaysMet: 19, SLADaysMet: 19,
				Attainment: 1, SLAAttain: 1, Target: 0.95, ErrorBudgetLeft: 0.95, PendingDays: 1},
		},
		{
			name: "no final days attain fully with no budget",
			days: days(2, kant.Day{}),
			want: kant.Attainment{SLO: "hegel-nightly", Attainment: 1, SLAAttain: 1, Target: 0.95, PendingDays: 2},
		},
		{
			name: "days of another SLO are skipped",
			days: []kant.Day{{SLO: "other", Final: true}},
			want: kant.Attainment{SLO: "hegel-nightly", Attainment: 1, SLAAttain: 1, Target: 0.95},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(nightly(), tt.days); got != tt.want {
				t.Errorf("Summarize =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}
