package alert_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/slo"
)

const export = kant.JobKey("hegel/export")

func TestAFinalFailureIsPostedOnce(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.observe(run(export, "jr_1", 1, 1, kant.StateFailed, at(1, 0), at(2, 0), "OutOfMemoryError: Java heap space"))
	calls := w.tick(at(2, 1))
	expectOps(t, "after the failure", calls, "post")
	if len(calls) == 1 && !strings.Contains(calls[0].Text, "hegel/export failed for 2026-06-01") {
		t.Errorf("post says %q", calls[0].Text)
	}
	expectOps(t, "a minute later", w.tick(at(2, 2)), "")
	a := w.alerts()
	if len(a) != 1 || a[0].MessageTS != "1000.000001" || a[0].Channel != "Cdata-alerts" || a[0].Status != kant.AlertOpen {
		t.Errorf("stored alerts %+v", a)
	}
}

func TestAFailedAttemptWithARetryPendingSendsNothing(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.observe(run(export, "jr_1", 1, 3, kant.StateFailed, at(1, 0), at(2, 0), "throttled"))
	expectOps(t, "after attempt 1 of 3 failed", w.tick(at(2, 1)), "")
	if a := w.alerts(); len(a) != 0 {
		t.Errorf("alerts %+v, want none", a)
	}
}

func TestARetryThenSuccessUpdatesAndRepliesWithoutANewPost(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "failure", w.tick(at(2, 1)), "post")

	w.observe(run(export, "jr_2", 1, 0, kant.StateRunning, at(3, 0), time.Time{}, ""))
	calls := w.tick(at(3, 1))
	expectOps(t, "retry", calls, "update,reply")
	if len(calls) == 2 && (calls[0].TS != "1000.000001" || calls[1].TS != "1000.000001" || !strings.Contains(calls[1].Text, "being retried")) {
		t.Errorf("retry calls %v", calls)
	}

	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(4, 0), ""))
	calls = w.tick(at(4, 1))
	expectOps(t, "success", calls, "update,reply")
	if len(calls) == 2 && !strings.Contains(calls[1].Text, "recovered") {
		t.Errorf("recovery reply %q", calls[1].Text)
	}
	if a := w.alerts(); len(a) != 1 || a[0].Status != kant.AlertResolved || a[0].Kind != alert.KindRecovered {
		t.Errorf("alerts %+v", a)
	}
	// One post, two updates and two replies, counted by the alert's kind
	// at the time of each delivery.
	if got, want := w.m.counts, map[string]int{"failed ok": 3, "recovered ok": 2}; !maps.Equal(got, want) {
		t.Errorf("deliveries counted %v, want %v", got, want)
	}
}

func TestALateSuccessAfterAMissIsAnUpdateSayingLate(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.observe(run(export, "jr_1", 1, 0, kant.StateRunning, at(1, 0), time.Time{}, ""))
	calls := w.tick(at(6, 0))
	expectOps(t, "deadline", calls, "post")
	if len(calls) == 1 && !strings.Contains(calls[0].Text, "still running") {
		t.Errorf("miss says %q", calls[0].Text)
	}
	w.observe(run(export, "jr_1", 1, 0, kant.StateSucceeded, at(1, 0), at(7, 30), ""))
	calls = w.tick(at(7, 31))
	expectOps(t, "late success", calls, "update,reply")
	if len(calls) == 2 && !strings.Contains(calls[1].Text, "succeeded late") || !strings.Contains(calls[1].Text, "1h30m after the deadline") {
		t.Errorf("late reply %v", calls)
	}
}

func TestARestartBetweenPostAndUpdateRepeatsNothing(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "failure", w.tick(at(2, 1)), "post")
	w.restart()
	expectOps(t, "first tick after the restart", w.tick(at(2, 2)), "")
	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(3, 30), ""))
	w.restart()
	calls := w.tick(at(3, 31))
	expectOps(t, "recovery after another restart", calls, "update,reply")
	if len(calls) > 0 && calls[0].TS != "1000.000001" {
		t.Errorf("update of %q, want the original message", calls[0].TS)
	}
}

func TestARestartWithUndeliveredChangesSendsThemOnce(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "failure", w.tick(at(2, 1)), "post")
	down := errors.New("connection refused")
	w.n.fail = func(string) error { return &alert.Error{Retryable: true, Err: down} }
	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(3, 30), ""))
	expectOps(t, "recovery while Slack is down", w.tick(at(3, 31)), "")
	w.restart()
	w.n.fail = nil
	expectOps(t, "after the restart", w.tick(at(3, 40)), "update,reply")
	expectOps(t, "the tick after", w.tick(at(3, 41)), "")
}

func TestAnUpstreamFailureMakesOneIncident(t *testing.T) {
	down := def("socrates-load", "socrates/*")
	down.Upstream = []string{"hegel-nightly"}
	w := newWorld(t, def("hegel-nightly", "hegel/*"), down)
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	w.observe(run("socrates/load", "r1", 1, 0, kant.StateQueued, at(1, 0), time.Time{}, ""))
	expectOps(t, "upstream failure", w.tick(at(2, 1)), "post")
	calls := w.tick(at(6, 0))
	// hegel/export now also missed its deadline (an update), and the
	// downstream miss is folded into it: no second post.
	if strings.Contains(ops(calls), "post") {
		t.Errorf("deadline calls %v, want no new post", calls)
	}
	a := w.alerts()
	if len(a) != 1 {
		t.Fatalf("alerts %+v, want one incident", a)
	}
	var affected string
	for _, f := range a[0].Fields {
		if f.Label == "Also affected" {
			affected = f.Value
		}
	}
	if !strings.Contains(affected, "socrates/load (socrates-load, missed)") {
		t.Errorf("incident fields %+v do not list the downstream miss", a[0].Fields)
	}
	var folded bool
	for _, c := range calls {
		folded = folded || (c.Op == "reply" && strings.Contains(c.Text, "socrates/load"))
	}
	if !folded {
		t.Errorf("no thread reply names the folded downstream job: %v", calls)
	}
}

func TestADownstreamMissWithoutUpstreamTroubleIsItsOwnIncident(t *testing.T) {
	down := def("socrates-load", "socrates/*")
	down.Upstream = []string{"hegel-nightly"}
	w := newWorld(t, def("hegel-nightly", "hegel/*"), down)
	w.observe(run(export, "jr_1", 1, 0, kant.StateSucceeded, at(1, 0), at(2, 0), ""))
	w.observe(run("socrates/load", "r1", 1, 0, kant.StateFailed, at(2, 0), at(2, 30), "bad row"))
	expectOps(t, "downstream failure", w.tick(at(2, 31)), "post")
}

func TestASilencedFailureIsRecordedNotSent(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	if err := w.db.PutSilence(context.Background(), kant.Silence{ID: "s1", Jobs: []string{"hegel/*"},
		Start: at(0, 0), End: at(12, 0), Reason: "Glue upgrade"}); err != nil {
		t.Fatal(err)
	}
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "silenced failure", w.tick(at(2, 1)), "")
	expectOps(t, "silenced miss", w.tick(at(6, 0)), "")
	a := w.alerts()
	if len(a) != 1 || a[0].Silenced != "s1" || !a[0].SentAt.IsZero() {
		t.Errorf("alerts %+v, want one recorded as silenced by s1", a)
	}
	// The incident outlives the silence: it is sent when the silence ends.
	expectOps(t, "after the silence", w.tick(at(12, 0)), "post")
}

func TestAMaintenanceWindowSilences(t *testing.T) {
	sched, _ := slo.ParseSchedule("0 1 * * *")
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.maint = []alert.Maintenance{{Name: "nightly-upgrade", Schedule: sched, Duration: 2 * time.Hour, SLOs: []string{"hegel-nightly"}}}
	w.restart()
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "failure in the window", w.tick(at(2, 1)), "")
	if a := w.alerts(); len(a) != 1 || !strings.HasPrefix(a[0].Silenced, "maintenance/nightly-upgrade/") {
		t.Errorf("alerts %+v", a)
	}
}

func TestADeadlineMissOnAJobThatNeverStartedIsSentAtTheDeadline(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/export"))
	expectOps(t, "before the deadline", w.tick(at(5, 59)), "")
	// The stored verdict is still the one from 05:59 (pending): the engine
	// judges the deadline itself.
	if err := w.engine.Tick(context.Background(), at(6, 0)); err != nil {
		t.Fatal(err)
	}
	calls := w.n.take()
	expectOps(t, "at the deadline", calls, "post")
	if len(calls) == 1 && !strings.Contains(calls[0].Text, "never started") {
		t.Errorf("miss says %q", calls[0].Text)
	}
}

func TestAStaleSourceAlertsAndResolvesWhenBack(t *testing.T) {
	w := newWorld(t)
	w.policy.StaleAfter["hegel"] = 30 * time.Minute
	w.restart()
	ctx := context.Background()
	if err := w.db.RecordPoll(ctx, "hegel", at(1, 0), ""); err != nil {
		t.Fatal(err)
	}
	expectOps(t, "fresh", w.tick(at(1, 20)), "")
	if err := w.db.RecordPoll(ctx, "hegel", at(1, 40), "dial tcp: i/o timeout"); err != nil {
		t.Fatal(err)
	}
	calls := w.tick(at(1, 41))
	expectOps(t, "stale", calls, "post")
	if len(calls) == 1 && !strings.Contains(calls[0].Text, "unreachable") {
		t.Errorf("stale says %q", calls[0].Text)
	}
	expectOps(t, "still stale", w.tick(at(1, 45)), "")
	if err := w.db.RecordPoll(ctx, "hegel", at(2, 0), ""); err != nil {
		t.Fatal(err)
	}
	expectOps(t, "back", w.tick(at(2, 1)), "update,reply")
}

func TestTheDigestIsSentOnceADayAtItsTime(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.policy.Digest = &slo.Clock{Hour: 9}
	w.policy.Routes = map[string]alert.Route{alert.KindDigest: {Channel: "#data-digest"}}
	w.restart()
	w.observe(run(export, "jr_1", 1, 0, kant.StateSucceeded, at(1, 0), at(5, 50), ""),
		run("hegel/users", "jr_2", 1, 0, kant.StateSucceeded, at(1, 0), at(6, 20), ""))
	w.evaluate(at(23, 0))
	next := func(h, m int) time.Time { return at(24+h, m) }
	digests := func(calls []call) []call { // today's misses are not the point here
		var out []call
		for _, c := range calls {
			if strings.HasPrefix(c.Text, "Daily digest") {
				out = append(out, c)
			}
		}
		return out
	}
	expectOps(t, "before 09:00", digests(w.tick(next(8, 59))), "")
	calls := digests(w.tick(next(9, 0)))
	expectOps(t, "at 09:00", calls, "post")
	if len(calls) == 1 && (calls[0].Channel != "Cdata-digest" || !strings.Contains(calls[0].Text, "2026-06-01")) {
		t.Errorf("digest %v", calls)
	}
	w.restart()
	expectOps(t, "after a restart the same day", digests(w.tick(next(10, 0))), "")
	a := w.alerts()
	var digest kant.Alert
	for _, x := range a {
		if x.Kind == alert.KindDigest {
			digest = x
		}
	}
	want := map[string]string{
		"Attainment":                "hegel-nightly: 1/2 met (50%), 1 late, 0 missed",
		"Late and failed":           "hegel/users (hegel-nightly): late by 20m",
		"Closest to their deadline": "hegel/users (hegel-nightly): 20m after the deadline\nhegel/export (hegel-nightly): 10m before the deadline",
	}
	for _, f := range digest.Fields {
		if v, ok := want[f.Label]; ok && !strings.HasPrefix(f.Value, v) {
			t.Errorf("digest %s = %q, want %q", f.Label, f.Value, v)
		}
		delete(want, f.Label)
	}
	if len(want) > 0 {
		t.Errorf("digest lacks %v", want)
	}
}

func TestARateLimitDefersDeliveryAndKeepsTheOrder(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	limited := true
	w.n.fail = func(string) error {
		if limited {
			return &alert.Error{Retryable: true, RetryAfter: 30 * time.Second, Err: errors.New("ratelimited")}
		}
		return nil
	}
	w.observe(run("hegel/a", "1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "x"))
	w.tick(at(2, 1))
	w.observe(run("hegel/b", "2", 1, 0, kant.StateFailed, at(1, 0), at(2, 5), "y"))
	w.tick(at(2, 6))
	limited = false
	expectOps(t, "within Retry-After", w.tick(at(2, 1).Add(20*time.Second)), "")
	calls := w.tick(at(2, 7))
	expectOps(t, "after Retry-After", calls, "post,post")
	if len(calls) == 2 && (!strings.HasPrefix(calls[0].Text, "hegel/a") || !strings.HasPrefix(calls[1].Text, "hegel/b")) {
		t.Errorf("order %v, want hegel/a first", calls)
	}
}

func TestAnErrorARetryCannotFixIsRecordedAndDoesNotBlockOthers(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	first := true
	w.n.fail = func(string) error {
		if first {
			first = false
			return errors.New("channel_not_found")
		}
		return nil
	}
	w.observe(run("hegel/a", "1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "x"),
		run("hegel/b", "2", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "y"))
	calls := w.tick(at(2, 1))
	expectOps(t, "delivery", calls, "post")
	a := w.alerts()
	if len(a) != 2 || a[0].LastError != "channel_not_found" || a[0].Pending() || a[1].MessageTS == "" {
		t.Errorf("alerts %+v", a)
	}
	if got := w.m.counts; got[alert.KindFailed+" failed"] != 1 || got[alert.KindFailed+" ok"] != 1 {
		t.Errorf("deliveries counted %v, want one failed and one delivered", got)
	}
}

func TestTheLogNotifierNeedsNoThreads(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	log := alert.NewLogNotifier(nil)
	e, err := alert.New(alert.Config{Reader: w.db, Store: w.db, Notifier: log, Policy: w.policy})
	if err != nil {
		t.Fatal(err)
	}
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	w.evaluate(at(2, 1))
	if err := e.Tick(context.Background(), at(2, 1)); err != nil {
		t.Fatal(err)
	}
	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(3, 30), ""))
	w.evaluate(at(3, 31))
	if err := e.Tick(context.Background(), at(3, 31)); err != nil {
		t.Fatal(err)
	}
	a := w.alerts()
	if len(a) != 1 || a[0].Pending() || a[0].SentAt.IsZero() || a[0].NotesSent != 1 {
		t.Errorf("alerts %+v, want one delivered with its note", a)
	}
}

func TestAnIncidentResolvedWhileSilencedIsNeverSent(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	if err := w.db.PutSilence(context.Background(), kant.Silence{ID: "s1", SLOs: []string{"hegel-nightly"},
		Start: at(0, 0), End: at(4, 0), Reason: "upgrade"}); err != nil {
		t.Fatal(err)
	}
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "silenced failure", w.tick(at(2, 1)), "")
	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(3, 30), ""))
	expectOps(t, "silenced recovery", w.tick(at(3, 31)), "")
	expectOps(t, "after the silence", w.tick(at(4, 1)), "")
	if a := w.alerts(); len(a) != 1 || a[0].Silenced != "s1" || a[0].Status != kant.AlertResolved {
		t.Errorf("alerts %+v, want one resolved and still silenced", a)
	}
}

func TestADownstreamMissAfterTheUpstreamRecoveredInTimeIsItsOwnIncident(t *testing.T) {
	down := def("socrates-load", "socrates/*")
	down.Upstream = []string{"hegel-nightly"}
	w := newWorld(t, def("hegel-nightly", "hegel/*"), down)
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"),
		run("socrates/load", "r1", 1, 0, kant.StateQueued, at(1, 0), time.Time{}, ""))
	expectOps(t, "upstream failure", w.tick(at(2, 1)), "post")
	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(3, 30), ""))
	expectOps(t, "upstream recovery", w.tick(at(3, 31)), "update,reply")
	expectOps(t, "downstream miss", w.tick(at(6, 0)), "post")
}

// findingNotifier is a fakeNotifier that also finds messages by alert ID.
type findingNotifier struct {
	*fakeNotifier
	posted map[string]string // alert ID → ts
}

func (f *findingNotifier) Find(_ context.Context, channel, alertID string, since time.Time) (string, string, error) {
	return "Cdata-alerts", f.posted[alertID], nil
}

func TestAPostInterruptedByARestartIsFoundNotRepeated(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	w.evaluate(at(2, 1))
	// The state a crash leaves between Slack accepting the post and the
	// store recording it: the alert is marked Posting, not sent.
	changes := alert.Decide(w.policy, alert.Input{Results: must(w.db.Results(context.Background(), kant.ResultFilter{})),
		Runs: must(w.db.LatestRuns(context.Background(), kant.RunFilter{}))}, at(2, 1))
	if len(changes) != 1 {
		t.Fatalf("changes %+v", changes)
	}
	a := changes[0].Alert
	a.Posting = true
	if err := w.db.PutAlert(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	fn := &findingNotifier{fakeNotifier: w.n, posted: map[string]string{a.ID: "999.000001"}}
	e, err := alert.New(alert.Config{Reader: w.db, Store: w.db, Notifier: fn, Policy: w.policy})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Tick(context.Background(), at(2, 2)); err != nil {
		t.Fatal(err)
	}
	calls := w.n.take()
	expectOps(t, "after the restart", calls, "update")
	if len(calls) == 1 && calls[0].TS != "999.000001" {
		t.Errorf("updated %q, want the message found", calls[0].TS)
	}
	if got := w.alerts(); len(got) != 1 || got[0].MessageTS != "999.000001" || got[0].Posting || got[0].Pending() {
		t.Errorf("alerts %+v", got)
	}
}

func TestAPostInterruptedByARestartAndNotFoundIsPostedOnce(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	w.evaluate(at(2, 1))
	changes := alert.Decide(w.policy, alert.Input{Results: must(w.db.Results(context.Background(), kant.ResultFilter{})),
		Runs: must(w.db.LatestRuns(context.Background(), kant.RunFilter{}))}, at(2, 1))
	a := changes[0].Alert
	a.Posting = true
	if err := w.db.PutAlert(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	fn := &findingNotifier{fakeNotifier: w.n, posted: map[string]string{}}
	e, _ := alert.New(alert.Config{Reader: w.db, Store: w.db, Notifier: fn, Policy: w.policy})
	if err := e.Tick(context.Background(), at(2, 2)); err != nil {
		t.Fatal(err)
	}
	expectOps(t, "after the restart", w.n.take(), "post")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
