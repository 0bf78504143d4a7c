package alert_test

import (
	"testing"
	"time"

	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/slo"
)

func TestMaintenanceWindows(t *testing.T) {
	sunday, _ := slo.ParseSchedule("0 2 * * 0") // Sundays 02:00
	jst := time.FixedZone("JST", 9*3600)
	tests := []struct {
		name     string
		m        alert.Maintenance
		from, to time.Time
		want     []string // window starts, RFC 3339 UTC
	}{
		{"a weekly window is found while it is open",
			alert.Maintenance{Name: "w", Schedule: sunday, Location: jst, Duration: 3 * time.Hour},
			time.Date(2026, 6, 6, 18, 0, 0, 0, time.UTC), time.Date(2026, 6, 6, 18, 0, 1, 0, time.UTC),
			[]string{"2026-06-06T17:00:00Z"}},
		{"a weekly window is not found after it closed",
			alert.Maintenance{Name: "w", Schedule: sunday, Location: jst, Duration: 3 * time.Hour},
			time.Date(2026, 6, 6, 20, 0, 0, 0, time.UTC), time.Date(2026, 6, 6, 20, 0, 1, 0, time.UTC), nil},
		{"every weekly window over a month is listed",
			alert.Maintenance{Name: "w", Schedule: sunday, Location: jst, Duration: time.Hour},
			time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-06-06T17:00:00Z", "2026-06-13T17:00:00Z", "2026-06-20T17:00:00Z", "2026-06-27T17:00:00Z"}},
		{"a date range is one window",
			alert.Maintenance{Name: "move", From: time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)},
			time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 11, 0, 0, 1, 0, time.UTC),
			[]string{"2026-06-10T00:00:00Z"}},
		{"a date range outside the span is not listed",
			alert.Maintenance{Name: "move", From: time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)},
			time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 13, 0, 0, 0, 0, time.UTC), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.m.Validate(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range tc.m.Windows(tc.from, tc.to) {
				got = append(got, s.Start.Format(time.RFC3339))
				if s.Reason == "" || s.ID == "" || !s.End.After(s.Start) {
					t.Errorf("window %+v lacks an ID, a reason or a span", s)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("windows %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("windows %v, want %v", got, tc.want)
				}
			}
		})
	}
	for _, bad := range []alert.Maintenance{{}, {Name: "x", Schedule: sunday}, {Name: "x"}} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

func TestAMaintenanceWindowCarriesItsConfiguredReason(t *testing.T) {
	m := alert.Maintenance{Name: "year-end", From: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
		To: time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC), Reason: "freeze"}
	ws := m.Windows(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC))
	if len(ws) != 1 || ws[0].Reason != "freeze" {
		t.Errorf("windows %+v, want one with reason \"freeze\"", ws)
	}
	m.Reason = ""
	if ws := m.Windows(m.From, m.To); len(ws) != 1 || ws[0].Reason != "maintenance year-end" {
		t.Errorf("windows %+v, want the default reason", ws)
	}
}
