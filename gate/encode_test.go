package gate

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func TestEncodingMatchesJSON(t *testing.T) {
	succeeded, failed := kant.StateSucceeded, kant.StateFailed
	finished := time.Date(2026, 6, 1, 3, 4, 5, 600, time.UTC)
	answers := map[string]Answer{
		"an open answer": {Open: true, Date: kant.Date{Year: 2026, Month: 6, Day: 1},
			CheckedAt: time.Date(2026, 6, 1, 7, 0, 0, 123456789, time.UTC),
			Jobs: []JobAnswer{{Job: "hegel/export_users", State: &succeeded, Reason: ReasonSucceeded,
				RunID: "jr_1", Attempt: 2, FinishedAt: &finished}}},
		"a job with no run": {Date: kant.Date{Year: 2026, Month: 12, Day: 31}, CheckedAt: time.Unix(0, 0).UTC(),
			Jobs: []JobAnswer{{Job: "hegel/never", Reason: ReasonNotStarted}}},
		"strings that need escaping": {Date: kant.Date{Year: 2026, Month: 6, Day: 1}, CheckedAt: finished,
			Jobs: []JobAnswer{{Job: "onprem/\"quoted\"\\ジョブ", State: &failed, Reason: ReasonFailed,
				RunID: "a\x00b\x1f\t\n\r\b\f", FinishedAt: &finished,
				Error: "bad \xff utf-8 \u2028 line sep \u2029 <html> & 🚀"}}},
		"a job re-run after it opened": {Date: kant.Date{Year: 2026, Month: 6, Day: 1}, CheckedAt: finished,
			Jobs: []JobAnswer{{Job: "hegel/export_users", State: &failed, Reason: ReasonFailed, RunID: "jr_2", Attempt: 1,
				FinishedAt: &finished, OpenedAt: &finished, ChangedSinceOpen: true, RerunAt: &finished}}},
		"no jobs": {Date: kant.Date{Year: 2026, Month: 6, Day: 1}, CheckedAt: finished, Jobs: []JobAnswer{}},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(a); err != nil {
				t.Fatal(err)
			}
			body, split := encodeAnswer(nil, a)
			got := append(append(append([]byte{}, body[:split]...), appendTime(nil, a.CheckedAt)...), body[split:]...)
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("got  %s\nwant %s", got, want.Bytes())
			}
		})
	}
}
