package alert_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/alert/pagerduty"
	"github.com/kantproject/kant/alert/webhook"
)

// receiver is a local server for one event destination: it records what
// it accepted, as "<what>", and answers with status (202 when 0).
type receiver struct {
	mu       sync.Mutex
	got      []string
	attempts int
	status   int
}

func (r *receiver) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// pagerDuty serves the Events API v2, recording "trigger <dedup_key>" and
// "resolve <dedup_key>".
func pagerDuty(t *testing.T, r *receiver) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.attempts++
		if r.status != 0 {
			w.WriteHeader(r.status)
			return
		}
		var m pagerduty.Message
		if err := json.NewDecoder(req.Body).Decode(&m); err != nil || m.RoutingKey != "R0UT1NGKEY" {
			t.Errorf("pagerduty event %+v: %v", m, err)
		}
		r.got = append(r.got, m.EventAction+" "+m.DedupKey)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"`+m.DedupKey+`"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// hook is a webhook receiver that verifies the signature and records
// "<status> r<revision>".
func hook(t *testing.T, r *receiver) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		body, _ := io.ReadAll(req.Body)
		if !webhook.Verify("s3cret", body, req.Header.Get(webhook.HeaderSignature)) {
			t.Errorf("webhook signature %q does not verify", req.Header.Get(webhook.HeaderSignature))
		}
		var b webhook.Body
		if err := json.Unmarshal(body, &b); err != nil {
			t.Error(err)
		}
		r.got = append(r.got, b.Alert.Status+" r"+string(rune('0'+b.Alert.Revision)))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.Close)
	return s
}

// withDestinations restarts w's engine with PagerDuty "oncall" and webhook
// "incidents" senders, failures and misses going to both and to Slack.
func withDestinations(t *testing.T, w *world, pd, wh *httptest.Server) {
	t.Helper()
	oncall := must(pagerduty.New(pagerduty.Config{RoutingKey: "R0UT1NGKEY", URL: pd.URL, HTTPClient: pd.Client()}))
	incidents := must(webhook.New(webhook.Config{URL: wh.URL, Secret: "s3cret", HTTPClient: wh.Client(),
		Now: func() time.Time { return t0 }}))
	w.engine = must(alert.New(alert.Config{Reader: w.db, Store: w.db, Notifier: w.n, Metrics: w.m, Policy: w.policy,
		Senders: map[string]alert.Sender{"oncall": oncall, "incidents": incidents},
		Deliver: []alert.DeliverRule{
			{Kinds: []string{alert.KindFailed, alert.KindMissed}, To: []string{kant.DestinationSlack, "oncall", "incidents"}},
		},
		Backoff: time.Minute}))
}

func expectGot(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func TestAnAlertRoutedToSlackPagerDutyAndAWebhookReachesAllThreeAndARestartRepeatsNone(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	var pr, hr receiver
	pd, wh := pagerDuty(t, &pr), hook(t, &hr)
	withDestinations(t, w, pd, wh)
	id := "job/hegel-nightly/hegel/export/2026-06-01T01:00"

	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "slack, failure", w.tick(at(2, 1)), "post")
	expectGot(t, "pagerduty, failure", pr.take(), []string{"trigger " + id})
	expectGot(t, "webhook, failure", hr.take(), []string{"open r1"})

	withDestinations(t, w, pd, wh) // a restart: only the store survives
	expectOps(t, "slack, after a restart", w.tick(at(2, 2)), "")
	expectGot(t, "pagerduty, after a restart", pr.take(), nil)
	expectGot(t, "webhook, after a restart", hr.take(), nil)

	w.observe(run(export, "jr_2", 1, 0, kant.StateRunning, at(3, 0), time.Time{}, ""))
	expectOps(t, "slack, retry", w.tick(at(3, 1)), "update,reply")
	expectGot(t, "pagerduty, retry (no news for PagerDuty)", pr.take(), nil)
	expectGot(t, "webhook, retry", hr.take(), []string{"open r2"})

	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(3, 0), at(4, 0), ""))
	expectOps(t, "slack, recovery", w.tick(at(4, 1)), "update,reply")
	expectGot(t, "pagerduty, recovery", pr.take(), []string{"resolve " + id})
	expectGot(t, "webhook, recovery", hr.take(), []string{"resolved r3"})

	a := w.alerts()
	if len(a) != 1 || a[0].Pending() || !slices.Equal(a[0].Destinations, []string{"slack", "oncall", "incidents"}) ||
		a[0].Deliveries["oncall"].Revision != 3 || a[0].Deliveries["oncall"].Status != kant.AlertResolved ||
		a[0].Deliveries["incidents"].Revision != 3 {
		t.Errorf("stored alert %+v", a)
	}
}

func TestAPagerDutyOutageDoesNotHoldBackSlackOrTheWebhookAndEndsInOneTrigger(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	pr, hr := receiver{status: http.StatusServiceUnavailable}, receiver{}
	pd, wh := pagerDuty(t, &pr), hook(t, &hr)
	withDestinations(t, w, pd, wh)

	w.observe(run("hegel/a", "1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "x"),
		run("hegel/b", "2", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "y"))
	expectOps(t, "slack during the outage", w.tick(at(2, 1)), "post,post")
	expectGot(t, "webhook during the outage", hr.take(), []string{"open r1", "open r1"})
	if pr.attempts != 1 {
		t.Errorf("pagerduty was tried %d times in one pass, want once (the pass keeps the order)", pr.attempts)
	}
	w.tick(at(2, 1).Add(59 * time.Second))
	if pr.attempts != 1 {
		t.Errorf("pagerduty was tried %d times within the backoff, want once", pr.attempts)
	}
	w.tick(at(2, 2))
	if pr.attempts != 2 {
		t.Errorf("pagerduty was tried %d times after the backoff, want twice", pr.attempts)
	}
	// The second failure in a row doubles the wait: 2m.
	w.tick(at(2, 3))
	if pr.attempts != 2 {
		t.Errorf("pagerduty was tried %d times within the doubled backoff, want twice", pr.attempts)
	}
	pr.mu.Lock()
	pr.status = 0
	pr.mu.Unlock()
	expectOps(t, "slack after the outage", w.tick(at(2, 4)), "")
	expectGot(t, "pagerduty after the outage", pr.take(),
		[]string{"trigger job/hegel-nightly/hegel/a/2026-06-01T01:00", "trigger job/hegel-nightly/hegel/b/2026-06-01T01:00"})
	expectGot(t, "webhook after the outage", hr.take(), nil)
}

func TestAnEventDestinationThatRejectsAnAlertIsGivenUpOnForThatRevision(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	pr, hr := receiver{status: http.StatusBadRequest}, receiver{}
	pd, wh := pagerDuty(t, &pr), hook(t, &hr)
	withDestinations(t, w, pd, wh)

	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "slack", w.tick(at(2, 1)), "post")
	expectOps(t, "slack, later", w.tick(at(2, 5)), "")
	if pr.attempts != 1 {
		t.Errorf("pagerduty was tried %d times, want once (400 is not retried)", pr.attempts)
	}
	a := w.alerts()
	if len(a) != 1 || a[0].Pending() || a[0].Deliveries["oncall"].LastError == "" || a[0].Deliveries["oncall"].Status != "" ||
		a[0].LastError != "" {
		t.Errorf("stored alert %+v", a)
	}
}

func TestAnAlertStoredBeforeThereWereDestinationsGoesToSlackAlone(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	var pr, hr receiver
	withDestinations(t, w, pagerDuty(t, &pr), hook(t, &hr))
	// No Destinations, no Deliveries: what an older kant stored.
	if err := w.db.PutAlert(t.Context(), kant.Alert{ID: "old", Kind: "stale", Status: kant.AlertOpen, Channel: "#kant",
		Text: "stored before destinations existed", CreatedAt: at(0, 0), UpdatedAt: at(0, 0), Revision: 1}); err != nil {
		t.Fatal(err)
	}
	expectOps(t, "slack", w.tick(at(0, 1)), "post")
	expectGot(t, "pagerduty", pr.take(), nil)
	expectGot(t, "webhook", hr.take(), nil)
}

func TestRouteToPicksTheFirstMatchingRule(t *testing.T) {
	rules := []alert.DeliverRule{
		{Kinds: []string{"missed"}, SLOs: []string{"hegel-nightly"}, To: []string{"slack", "oncall"}},
		{SLOs: []string{"hegel-nightly"}, To: []string{"incidents"}},
		{Kinds: []string{"missed"}, To: []string{"oncall"}},
	}
	for _, tc := range []struct {
		name, kind, slo string
		want            []string
	}{
		{"a miss of the SLO matches the rule naming both", "missed", "hegel-nightly", []string{"slack", "oncall"}},
		{"a failure of the SLO matches the rule naming the SLO alone", "failed", "hegel-nightly", []string{"incidents"}},
		{"a miss of another SLO matches the rule naming the kind alone", "missed", "kant-hourly", []string{"oncall"}},
		{"an alert no rule matches goes to Slack", "stale", "", []string{"slack"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := alert.RouteTo(rules, tc.kind, tc.slo); !slices.Equal(got, tc.want) {
				t.Errorf("RouteTo = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewRejectsARuleNamingAnUnknownDestination(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		cfg  alert.Config
	}{
		{"a rule naming no sender", alert.Config{Deliver: []alert.DeliverRule{{To: []string{"oncal"}}}}},
		{"a rule with no destinations", alert.Config{Deliver: []alert.DeliverRule{{Kinds: []string{"missed"}}}}},
		{"a sender named slack", alert.Config{Senders: map[string]alert.Sender{"slack": nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Reader, tc.cfg.Store, tc.cfg.Notifier = w.db, w.db, w.n
			if _, err := alert.New(tc.cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestAFailureThatBecomesAMissPagesThenAndItsLateSuccessResolvesThePage(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/export"))
	var pr receiver
	pd := pagerDuty(t, &pr)
	w.engine = must(alert.New(alert.Config{Reader: w.db, Store: w.db, Notifier: w.n, Policy: w.policy,
		Senders: map[string]alert.Sender{"oncall": must(pagerduty.New(pagerduty.Config{RoutingKey: "R0UT1NGKEY", URL: pd.URL}))},
		Deliver: []alert.DeliverRule{{Kinds: []string{alert.KindMissed}, To: []string{kant.DestinationSlack, "oncall"}}}}))
	id := "job/hegel-nightly/hegel/export/2026-06-01T01:00"

	w.observe(run(export, "jr_1", 1, 0, kant.StateFailed, at(1, 0), at(2, 0), "boom"))
	expectOps(t, "slack, failure", w.tick(at(2, 1)), "post")
	expectGot(t, "pagerduty, failure (only misses page)", pr.take(), nil)

	if err := w.engine.Tick(t.Context(), at(6, 0)); err != nil {
		t.Fatal(err)
	}
	expectOps(t, "slack, the miss", w.n.take(), "update,reply")
	expectGot(t, "pagerduty, the miss", pr.take(), []string{"trigger " + id})

	w.observe(run(export, "jr_2", 1, 0, kant.StateSucceeded, at(7, 0), at(7, 30), ""))
	expectOps(t, "slack, the late success", w.tick(at(7, 31)), "update,reply")
	expectGot(t, "pagerduty, the late success", pr.take(), []string{"resolve " + id})
	if a := w.alerts(); len(a) != 1 || a[0].Kind != alert.KindLate || a[0].Pending() {
		t.Errorf("stored alert %+v", a)
	}
}
