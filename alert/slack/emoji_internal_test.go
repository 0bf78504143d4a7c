package slack

import (
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
)

func TestEachKindOfMessageHasItsEmoji(t *testing.T) {
	tests := []struct {
		name string
		m    alert.Message
		want string
	}{
		{"an open at-risk warning is a warning", alert.Message{Kind: alert.KindAtRisk, Status: kant.AlertOpen}, ":warning:"},
		{"an at-risk warning resolved by a success in time is green", alert.Message{Kind: alert.KindAtRisk, Status: kant.AlertResolved}, ":large_green_circle:"},
		{"a missed incident is red", alert.Message{Kind: alert.KindMissed, Status: kant.AlertOpen}, ":red_circle:"},
		{"a late success is yellow", alert.Message{Kind: alert.KindLate, Status: kant.AlertResolved}, ":large_yellow_circle:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := emoji(tt.m); got != tt.want {
				t.Errorf("emoji = %s, want %s", got, tt.want)
			}
		})
	}
}
