package config

import (
	"strconv"
	"strings"

	"github.com/kantproject/kant/slo"
	"gopkg.in/yaml.v3"
)

var atRiskKeys = []string{"percentile", "runs", "min_runs"}

// atRisk reads an SLO's at_risk: true (the default settings), false (no
// at-risk warnings), or a mapping of percentile (in (0, 100]), runs and
// min_runs (whole numbers from 1, min_runs at most runs).
func (d *decoder) atRisk(n *yaml.Node, path string) slo.AtRisk {
	if r := resolve(n); r.Kind == yaml.ScalarNode {
		on, ok := d.boolean(n, path)
		return slo.AtRisk{Off: ok && !on}
	}
	m := d.mapping(n, path)
	if m == nil {
		return slo.AtRisk{}
	}
	m.only(atRiskKeys...)
	var a slo.AtRisk
	if v, p := m.get("percentile"); v != nil {
		if f, ok := d.float(v, p); ok {
			if f <= 0 || f > 100 {
				d.errorf(v, p, "%s is out of range: want a percentile in (0, 100], like 90", strconv.FormatFloat(f, 'g', -1, 64))
			} else {
				a.Percentile = f
			}
		}
	}
	if v, p := m.get("runs"); v != nil {
		a.Runs, _ = d.count(v, p)
	}
	if v, p := m.get("min_runs"); v != nil {
		a.MinRuns, _ = d.count(v, p)
	}
	if w := a.WithDefaults(); a.MinRuns > 0 && a.MinRuns > w.Runs {
		v, p := m.get("min_runs")
		d.errorf(v, p, "%d is more than runs (%d)", a.MinRuns, w.Runs)
		a.MinRuns = 0
	}
	return a
}

// count reads a whole number of at least 1.
func (d *decoder) count(n *yaml.Node, path string) (int, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || i < 1 {
		d.errorf(n, path, "want a whole number of at least 1, got %q", s)
		return 0, false
	}
	return i, true
}
