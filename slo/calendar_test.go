package slo

import (
	"strings"
	"sync"
	"testing"

	"github.com/kantproject/kant"
)

func TestCalendarWorkday(t *testing.T) {
	tests := []struct {
		name     string
		calendar *Calendar
		date     string
		want     bool
	}{
		{"a nil calendar counts every day", nil, "2026-11-22", true},
		{"daily counts a Sunday", mustCalendar("daily", nil, nil), "2026-11-22", true},
		{"daily counts a national holiday", mustCalendar("daily", nil, nil), "2026-11-23", true},
		{"weekdays skip Saturday", mustCalendar("weekdays", nil, nil), "2026-11-21", false},
		{"weekdays count a holiday Monday", mustCalendar("weekdays", nil, nil), "2026-11-23", true},
		{"jp: Labour Thanksgiving Day is not a business day", mustCalendar("jp-business-days", nil, nil), "2026-11-23", false},
		{"jp: the substitute for Constitution Day is not a business day", mustCalendar("jp-business-days", nil, nil), "2026-05-06", false},
		{"jp: the citizens' holiday of 2026 is not a business day", mustCalendar("jp-business-days", nil, nil), "2026-09-22", false},
		{"jp: the substitute for Labour Thanksgiving 2025 is not a business day", mustCalendar("jp-business-days", nil, nil), "2025-11-24", false},
		{"jp: an ordinary Tuesday is a business day", mustCalendar("jp-business-days", nil, nil), "2026-11-24", true},
		{"jp: New Year's Eve is a business day unless added", mustCalendar("jp-business-days", nil, nil), "2026-12-31", true},
		{"us: Independence Day observed on Friday", mustCalendar("us-business-days", nil, nil), "2026-07-03", false},
		{"us: Thanksgiving", mustCalendar("us-business-days", nil, nil), "2026-11-26", false},
		{"us: the day after Thanksgiving is a business day", mustCalendar("us-business-days", nil, nil), "2026-11-27", true},
		{"us: New Year's Day 2028 observed on 31 December 2027", mustCalendar("us-business-days", nil, nil), "2027-12-31", false},
		{"us: a Japanese holiday is a business day", mustCalendar("us-business-days", nil, nil), "2026-11-23", true},
		{"an extra holiday removes a business day", mustCalendar("jp-business-days", dates("2026-12-31"), nil), "2026-12-31", false},
		{"an extra workday adds a national holiday", mustCalendar("jp-business-days", nil, dates("2026-11-23")), "2026-11-23", true},
		{"an extra workday adds a Saturday", mustCalendar("weekdays", nil, dates("2026-11-21")), "2026-11-21", true},
		{"an extra holiday removes a day from daily", mustCalendar("daily", dates("2026-01-01"), nil), "2026-01-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.calendar.Workday(date(tt.date)); got != tt.want {
				t.Errorf("Workday(%s) = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}

func TestNewCalendarErrors(t *testing.T) {
	_, err := NewCalendar("fr-business-days", nil, nil)
	if err == nil || kant.ErrorCode(err) != kant.EINVALID {
		t.Fatalf("unknown calendar: err = %v", err)
	}
	for _, name := range CalendarNames() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %q", err, name)
		}
	}
	if _, err := NewCalendar("weekdays", dates("2026-11-23"), dates("2026-11-23")); err == nil {
		t.Error("a date both extra holiday and extra workday was accepted")
	}
	for _, name := range CalendarNames() {
		c, err := NewCalendar(name, nil, nil)
		if err != nil || c.Name() != name {
			t.Errorf("NewCalendar(%q) = %v, %v", name, c, err)
		}
	}
	var nilCal *Calendar
	if nilCal.Name() != "daily" {
		t.Errorf("nil calendar name = %q", nilCal.Name())
	}
}

// TestCalendarConcurrent is for the race detector: years are computed on
// first use from several goroutines.
func TestCalendarConcurrent(t *testing.T) {
	c := mustCalendar("jp-business-days", nil, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for y := 2020; y < 2030; y++ {
				c.Workday(kant.Date{Year: y + i%2, Month: 3, Day: 20})
			}
		})
	}
	wg.Wait()
}
