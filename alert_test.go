package kant_test

import (
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func TestAnAlertIsPendingWhileAnyOfItsDestinationsIsBehind(t *testing.T) {
	base := kant.Alert{ID: "a", Revision: 2, Delivered: 2, Notes: []string{"n"}, NotesSent: 1}
	with := func(f func(*kant.Alert)) kant.Alert {
		a := base
		f(&a)
		return a
	}
	for _, tc := range []struct {
		name string
		a    kant.Alert
		want bool
	}{
		{"an alert stored before destinations, shown in Slack, is not pending", base, false},
		{"an alert stored before destinations with a note unsent is pending",
			with(func(a *kant.Alert) { a.NotesSent = 0 }), true},
		{"Slack up to date and PagerDuty behind is pending",
			with(func(a *kant.Alert) {
				a.Destinations = []string{"slack", "oncall"}
				a.Deliveries = map[string]kant.Delivery{"oncall": {Revision: 1}}
			}), true},
		{"Slack behind and the webhook up to date is pending",
			with(func(a *kant.Alert) {
				a.Delivered = 1
				a.Destinations = []string{"slack", "hook"}
				a.Deliveries = map[string]kant.Delivery{"hook": {Revision: 2}}
			}), true},
		{"every destination up to date is not pending",
			with(func(a *kant.Alert) {
				a.Destinations = []string{"slack", "oncall", "hook"}
				a.Deliveries = map[string]kant.Delivery{"oncall": {Revision: 2}, "hook": {Revision: 2}}
			}), false},
		{"an alert not routed to Slack ignores Slack's fields",
			with(func(a *kant.Alert) {
				a.Delivered, a.NotesSent = 0, 0
				a.Destinations = []string{"oncall"}
				a.Deliveries = map[string]kant.Delivery{"oncall": {Revision: 2}}
			}), false},
		{"a destination never delivered to is pending",
			with(func(a *kant.Alert) { a.Destinations = []string{"slack", "oncall"} }), true},
		{"a silenced alert is not pending whatever is behind",
			with(func(a *kant.Alert) { a.Destinations, a.Silenced = []string{"slack", "oncall"}, "maint" }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Pending(); got != tc.want {
				t.Errorf("Pending() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAlertEqualComparesDestinationsAndDeliveries(t *testing.T) {
	at := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	a := kant.Alert{ID: "a", Destinations: []string{"slack", "oncall"},
		Deliveries: map[string]kant.Delivery{"oncall": {Revision: 1, Status: "open", SentAt: at}}}
	b := a
	b.Deliveries = map[string]kant.Delivery{"oncall": {Revision: 1, Status: "open", SentAt: at.In(time.FixedZone("JST", 9*3600))}}
	if !a.Equal(b) {
		t.Error("the same instant in another zone is not Equal")
	}
	b.Deliveries = map[string]kant.Delivery{"oncall": {Revision: 2, Status: "open", SentAt: at}}
	if a.Equal(b) {
		t.Error("another delivered revision is Equal")
	}
	b = a
	b.Destinations = []string{"slack"}
	if a.Equal(b) {
		t.Error("other destinations are Equal")
	}
}

func TestAnAlertIsToldOnceAnyDestinationAcceptedIt(t *testing.T) {
	at := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a    kant.Alert
		want bool
	}{
		{"a new alert is not told", kant.Alert{Revision: 1}, false},
		{"an alert posted to Slack is told", kant.Alert{Revision: 1, SentAt: at}, true},
		{"an alert being posted to Slack may be told", kant.Alert{Revision: 1, Posting: true}, true},
		{"an alert PagerDuty accepted is told", kant.Alert{Revision: 1,
			Deliveries: map[string]kant.Delivery{"oncall": {Revision: 1, Status: "open", SentAt: at}}}, true},
		{"an alert a webhook rejected is not told", kant.Alert{Revision: 1,
			Deliveries: map[string]kant.Delivery{"hook": {Revision: 1, LastError: "410 Gone"}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Told(); got != tc.want {
				t.Errorf("Told() = %v, want %v", got, tc.want)
			}
		})
	}
}
