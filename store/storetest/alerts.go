package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
)

// alertTests check the alerts and silences part of the contract.
var alertTests = []struct {
	name string
	test func(t *testing.T, s store.Store)
}{
	{"an alert is inserted, then replaced by the one with the same ID", alertUpsert},
	{"every field of an alert comes back, delivery state and body included", alertRoundTrip},
	{"alerts are listed oldest first, only open ones when asked", alertList},
	{"alerts are selected by the time they were last updated", alertUpdatedFrom},
	{"an alert without an ID is rejected", alertNoID},
	{"a silence is stored, replaced, listed by start and deleted", silenceCycle},
	{"silences are selected by their end", silenceEndsAfter},
	{"deleting an unknown silence is not found and an invalid one is not stored", silenceErrors},
}

func alerts(t *testing.T, s store.Store, f kant.AlertFilter) []kant.Alert {
	t.Helper()
	a, err := s.Alerts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func utcTimes(a kant.Alert) bool {
	for _, t := range []time.Time{a.CreatedAt, a.UpdatedAt, a.SentAt, a.Since} {
		if !t.IsZero() && t.Location() != time.UTC {
			return false
		}
	}
	return true
}

func checkAlerts(t *testing.T, what string, got, want []kant.Alert) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d alerts, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if !got[i].Equal(want[i]) || !utcTimes(got[i]) {
			t.Errorf("%s [%d]:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

func alertUpsert(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := kant.Alert{
		ID: "missed/hegel-nightly/hegel/export/2026-06-01", Kind: "missed", SLO: "hegel-nightly",
		Job: "hegel/export", Date: date("2026-06-01"), Status: "open", Channel: "#data-alerts",
		Text: "hegel/export missed its 06:00 deadline ⏰", CreatedAt: at(5 * time.Hour), UpdatedAt: at(5 * time.Hour),
		Revision: 1,
	}
	if err := s.PutAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	checkAlerts(t, "inserted", alerts(t, s, kant.AlertFilter{}), []kant.Alert{a})
	sent := a
	sent.MessageTS, sent.SentAt, sent.UpdatedAt, sent.Delivered = "1780290000.000100", at(5*time.Hour+time.Second), at(5*time.Hour+time.Second), 1
	if err := s.PutAlert(ctx, sent); err != nil {
		t.Fatal(err)
	}
	checkAlerts(t, "replaced", alerts(t, s, kant.AlertFilter{}), []kant.Alert{sent})
	resolved := sent
	resolved.Status, resolved.UpdatedAt, resolved.Text, resolved.Revision = "resolved", at(8*time.Hour), "recovered", 2
	if err := s.PutAlert(ctx, resolved); err != nil {
		t.Fatal(err)
	}
	checkAlerts(t, "resolved", alerts(t, s, kant.AlertFilter{}), []kant.Alert{resolved})
	checkAlerts(t, "open", alerts(t, s, kant.AlertFilter{OpenOnly: true}), nil)
}

func alertRoundTrip(t *testing.T, s store.Store) {
	a := kant.Alert{
		ID: "job/hegel-nightly/hegel/export/2026-06-01", Kind: "failed", SLO: "hegel-nightly", Job: "hegel/export",
		Date: date("2026-06-01"), Status: "open", Channel: "#data-alerts", MessageTS: "1780290000.000100",
		Text: "hegel/export failed", CreatedAt: at(time.Hour), UpdatedAt: at(2 * time.Hour), SentAt: at(time.Hour + time.Second),
		Owner: "@data-platform", Since: at(time.Hour - time.Minute).In(time.FixedZone("JST", 9*3600)),
		Fields:   []kant.AlertField{{Label: "Error", Value: "OOM ❗ \"quoted\""}, {Label: "Deadline", Value: "06:00"}},
		Links:    []kant.AlertLink{{Text: "Glue run", URL: "https://example.com/#/job/x?a=1&b=2"}},
		Notes:    []string{"retrying (attempt 2)", "recovered"},
		Revision: 3, Delivered: 2, NotesSent: 1, Posting: true, Silenced: "maint-1", LastError: "channel_not_found",
		Destinations: []string{"slack", "oncall", "incidents"},
		Deliveries: map[string]kant.Delivery{
			"oncall":    {Revision: 2, Status: "open", SentAt: at(time.Hour + 2*time.Second).In(time.FixedZone("JST", 9*3600))},
			"incidents": {Revision: 1, LastError: "webhook: 410 Gone"},
		},
	}
	// Delivery state alone (no fields, links or notes) is kept too.
	bare := kant.Alert{ID: "source/glue/stale", Kind: "stale", Status: "open", Channel: "#c", Text: "stale",
		CreatedAt: at(3 * time.Hour), UpdatedAt: at(3 * time.Hour), Revision: 1,
		Destinations: []string{"oncall"}, Deliveries: map[string]kant.Delivery{"oncall": {Revision: 1, Status: "open"}}}
	for _, x := range []kant.Alert{a, bare} {
		if err := s.PutAlert(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	checkAlerts(t, "round trip", alerts(t, s, kant.AlertFilter{}), []kant.Alert{a, bare})
}

func alertList(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(id, status string, created time.Duration) kant.Alert {
		return kant.Alert{ID: id, Kind: "failed", Status: status, Channel: "#c", Text: id, CreatedAt: at(created), UpdatedAt: at(created)}
	}
	want := []kant.Alert{mk("c", "open", 0), mk("a", "resolved", time.Hour), mk("b", "open", time.Hour), mk("d", "open", 2*time.Hour)}
	for _, i := range []int{3, 1, 0, 2} {
		if err := s.PutAlert(ctx, want[i]); err != nil {
			t.Fatal(err)
		}
	}
	checkAlerts(t, "all", alerts(t, s, kant.AlertFilter{}), want)
	checkAlerts(t, "open", alerts(t, s, kant.AlertFilter{OpenOnly: true}), []kant.Alert{want[0], want[2], want[3]})
}

func alertUpdatedFrom(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(id, status string, created, updated time.Duration) kant.Alert {
		return kant.Alert{ID: id, Kind: "failed", Status: status, Channel: "#c", Text: id, CreatedAt: at(created), UpdatedAt: at(updated)}
	}
	all := []kant.Alert{mk("old", "resolved", 0, time.Hour), mk("touched", "resolved", 0, 3*time.Hour),
		mk("edge", "open", time.Hour, 2*time.Hour), mk("new", "open", 2*time.Hour, 4*time.Hour)}
	for _, a := range all {
		if err := s.PutAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	checkAlerts(t, "updated from 2h", alerts(t, s, kant.AlertFilter{UpdatedFrom: at(2 * time.Hour)}), all[1:])
	checkAlerts(t, "open and updated from 3h", alerts(t, s, kant.AlertFilter{OpenOnly: true, UpdatedFrom: at(3 * time.Hour)}), all[3:])
}

func alertNoID(t *testing.T, s store.Store) {
	err := s.PutAlert(context.Background(), kant.Alert{Kind: "failed", CreatedAt: t0, UpdatedAt: t0})
	if kant.ErrorCode(err) != kant.EINVALID {
		t.Errorf("alert without ID: %v, want EINVALID", err)
	}
	checkAlerts(t, "after rejection", alerts(t, s, kant.AlertFilter{}), nil)
}

func silences(t *testing.T, s store.Store, endsAfter time.Time) []kant.Silence {
	t.Helper()
	l, err := s.Silences(context.Background(), endsAfter)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sameSilence(a, b kant.Silence) bool {
	if len(a.SLOs) != len(b.SLOs) || len(a.Jobs) != len(b.Jobs) {
		return false
	}
	for i := range a.SLOs {
		if a.SLOs[i] != b.SLOs[i] {
			return false
		}
	}
	for i := range a.Jobs {
		if a.Jobs[i] != b.Jobs[i] {
			return false
		}
	}
	for _, tm := range []time.Time{a.Start, a.End, a.CreatedAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			return false
		}
	}
	return a.ID == b.ID && a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.Reason == b.Reason &&
		a.CreatedBy == b.CreatedBy && a.CreatedAt.Equal(b.CreatedAt)
}

func checkSilences(t *testing.T, what string, got, want []kant.Silence) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d silences, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if !sameSilence(got[i], want[i]) {
			t.Errorf("%s [%d]:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

func silenceCycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := kant.Silence{ID: "s-b", SLOs: []string{"hegel-nightly"}, Jobs: []string{"hegel/*", "socrates/x"},
		Start: at(time.Hour), End: at(3 * time.Hour), Reason: "Glue upgrade 🛠", CreatedBy: "api", CreatedAt: t0}
	b := kant.Silence{ID: "s-a", Start: at(2 * time.Hour), End: at(4 * time.Hour), Reason: "all quiet"}
	for _, x := range []kant.Silence{b, a} {
		if err := s.PutSilence(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	checkSilences(t, "both", silences(t, s, time.Time{}), []kant.Silence{a, b})
	a.End, a.Reason = at(5*time.Hour), "extended"
	if err := s.PutSilence(ctx, a); err != nil {
		t.Fatal(err)
	}
	checkSilences(t, "replaced", silences(t, s, time.Time{}), []kant.Silence{a, b})
	if err := s.DeleteSilence(ctx, "s-a"); err != nil {
		t.Fatal(err)
	}
	checkSilences(t, "deleted", silences(t, s, time.Time{}), []kant.Silence{a})
}

func silenceEndsAfter(t *testing.T, s store.Store) {
	ctx := context.Background()
	l := []kant.Silence{
		{ID: "ended", Start: t0, End: at(time.Hour), Reason: "r"},
		{ID: "ends-at-2h", Start: t0, End: at(2 * time.Hour), Reason: "r"},
		{ID: "later", Start: at(time.Hour), End: at(3 * time.Hour), Reason: "r"},
	}
	for _, x := range l {
		if err := s.PutSilence(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	checkSilences(t, "ending after 1h", silences(t, s, at(time.Hour)), l[1:])
	checkSilences(t, "ending after 2h", silences(t, s, at(2*time.Hour)), l[2:])
}

func silenceErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.DeleteSilence(ctx, "nope"); kant.ErrorCode(err) != kant.ENOTFOUND {
		t.Errorf("deleting an unknown silence: %v, want ENOTFOUND", err)
	}
	bad := kant.Silence{ID: "x", Start: at(time.Hour), End: t0, Reason: "r"}
	if err := s.PutSilence(ctx, bad); kant.ErrorCode(err) != kant.EINVALID {
		t.Errorf("a silence ending before it starts: %v, want EINVALID", err)
	}
	checkSilences(t, "after rejection", silences(t, s, time.Time{}), nil)
}
