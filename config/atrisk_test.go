package config_test

import (
	"strings"
	"testing"

	"github.com/kantproject/kant/slo"
)

func atRiskYAML(setting string) string {
	y := `slos:
  - name: nightly
    jobs: ["x/y"]
    schedule: "0 1 * * *"
    deadline: "06:00"
`
	if setting != "" {
		y += "    at_risk: " + setting + "\n"
	}
	return y
}

func TestAtRiskSettings(t *testing.T) {
	tests := []struct {
		name    string
		setting string
		want    slo.AtRisk
	}{
		{"an SLO without at_risk warns with the defaults", "", slo.AtRisk{}},
		{"at_risk: true is the defaults", "true", slo.AtRisk{}},
		{"at_risk: false turns the warnings off", "false", slo.AtRisk{Off: true}},
		{"a mapping sets the percentile and the runs", "{percentile: 95, runs: 30, min_runs: 10}", slo.AtRisk{Percentile: 95, Runs: 30, MinRuns: 10}},
		{"a mapping may set only some keys", "{runs: 10}", slo.AtRisk{Runs: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse(t, atRiskYAML(tt.setting), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.SLOs[0].AtRisk; got != tt.want {
				t.Errorf("AtRisk = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAtRiskProblems(t *testing.T) {
	tests := []struct {
		name    string
		setting string
		want    string
	}{
		{"a percentile above 100 is refused at its line", "{percentile: 120}", `kant.yaml:6: slos[0].at_risk.percentile: 120 is out of range: want a percentile in (0, 100]`},
		{"runs must be a whole number", "{runs: 2.5}", `kant.yaml:6: slos[0].at_risk.runs: want a whole number of at least 1, got "2.5"`},
		{"min_runs above runs is refused", "{runs: 3, min_runs: 4}", `kant.yaml:6: slos[0].at_risk.min_runs: 4 is more than runs (3)`},
		{"an unknown key is named with the closest", "{percentil: 90}", `kant.yaml:6: slos[0].at_risk: unknown key "percentil" (did you mean "percentile"?)`},
		{"a word other than true or false is refused", "sometimes", `kant.yaml:6: slos[0].at_risk: want true or false, got "sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, atRiskYAML(tt.setting), nil)
			if err == nil {
				t.Fatal("Parse succeeded, want a problem")
			}
			got := problems(t, err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Errorf("problems %q, want one starting %q", got, tt.want)
			}
		})
	}
}
