package statuspage

import (
	"strings"
	"testing"

	"github.com/kantproject/kant"
)

func TestOccurrencesAtRiskAreMarked(t *testing.T) {
	f := newFixture(fixedNow)
	today := kant.DateOf(fixedNow.In(london))
	marked := 0
	for i, r := range f.results {
		if r.SLO == "socrates-daily" && r.Date == today && r.Verdict == kant.VerdictPending {
			f.results[i].Reason = kant.ReasonAtRisk
			marked++
		}
	}
	if marked != 2 {
		t.Fatalf("marked %d socrates results at risk, want its 2 pending ones", marked)
	}
	h := f.handler(t)
	tests := []struct {
		name, path, job, want string
	}{
		{"a pending job at risk is marked on the timeline", "/", "socrates/daily_load.transform", "⚠ pending: at risk"},
		{"a running job at risk is marked on the timeline", "/", "socrates/daily_load.load_users", "⚠ pending: running, at risk"},
		{"a job not at risk is not marked", "/", "hegel/export_users", "met"},
	}
	_, body := get(t, h, "/")
	doc := parseDOM(t, body)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := byAttr(doc, "g", "data-job", tt.job)
			if row == nil {
				t.Fatalf("no timeline row for %s", tt.job)
			}
			got := text(row)
			if !strings.Contains(got, tt.want) || (tt.want == "met" && strings.Contains(got, symbolAtRisk)) {
				t.Errorf("row %q, want it to show %q", got, tt.want)
			}
		})
	}
	t.Run("the job page marks the occurrence at risk", func(t *testing.T) {
		_, body := get(t, h, "/jobs/socrates/daily_load.transform")
		occ := findAll(parseDOM(t, body), "tr", "occ")
		if len(occ) == 0 || !strings.Contains(text(occ[0]), "⚠ pending: at risk") {
			t.Errorf("the newest occurrence does not show it is at risk")
		}
	})
}
