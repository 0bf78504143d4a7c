package kant

import (
	"maps"
	"slices"
	"time"
)

// Alert statuses.
const (
	AlertOpen     = "open"
	AlertResolved = "resolved"
)

// Alert is one incident notification: what it says, where it goes, and how
// far its delivery got. It is both the desired state of the message and an
// outbox entry: Revision counts changes to what the message should say,
// Delivered is the revision Slack shows, and Notes beyond NotesSent are thread
// replies still to send. A restart therefore neither repeats nor forgets an
// alert.
type Alert struct {
	ID        string    `json:"id"`   // dedup key, e.g. "job/hegel-nightly/hegel/export/2026-06-01"
	Kind      string    `json:"kind"` // failed, missed, late, recovered, stale, budget, digest
	SLO       string    `json:"slo,omitempty"`
	Job       JobKey    `json:"job,omitempty"`
	Date      Date      `json:"date"`
	Status    string    `json:"status"`  // open, resolved
	Channel   string    `json:"channel"` // where it was (or will be) sent
	MessageTS string    `json:"message_ts,omitempty"`
	Text      string    `json:"text"` // the headline, also the notification fallback text
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	SentAt    time.Time `json:"sent_at,omitzero"` // first post accepted; zero: not posted yet

	Owner  string       `json:"owner,omitempty"` // who is told, e.g. "@data-platform"
	Since  time.Time    `json:"since,omitzero"`  // when the incident began
	Fields []AlertField `json:"fields,omitempty"`
	Links  []AlertLink  `json:"links,omitempty"`
	// Notes are the thread replies, in order: one per change after the
	// incident opened.
	Notes []string `json:"notes,omitempty"`

	Revision  int `json:"revision"`   // incremented on every change of content
	Delivered int `json:"delivered"`  // revision last shown in Slack (0: none)
	NotesSent int `json:"notes_sent"` // how many Notes were delivered
	// Posting is set just before the first post is attempted and cleared when
	// it is recorded: an alert found Posting without SentAt may have been
	// posted by a process that stopped before recording it.
	Posting bool `json:"posting,omitempty"`
	// Silenced names the silence that kept the alert from being sent; such an
	// alert is recorded, not delivered.
	Silenced string `json:"silenced,omitempty"`
	// LastError is the last delivery error that a retry cannot fix.
	LastError string `json:"last_error,omitempty"`

	// Destinations names where the alert goes: DestinationSlack (the
	// message above, with its thread) and event destinations (PagerDuty,
	// webhooks) by their configured names. Empty means Slack only, as for
	// alerts stored before there were other destinations.
	Destinations []string `json:"destinations,omitempty"`
	// Deliveries is the outbox of the event destinations: per destination
	// name, what it was last given.
	Deliveries map[string]Delivery `json:"deliveries,omitempty"`
}

// DestinationSlack is the destination name of Slack (or of the log, when
// Slack is not configured): the Alert's own delivery fields track it.
const DestinationSlack = "slack"

// Delivery is how far an alert's delivery to one event destination got.
// Event destinations have no threads or updates: each gets one call per
// revision at most, and is idempotent by alert ID and revision, so a call
// repeated after a restart (sent, not yet recorded) is harmless.
type Delivery struct {
	// Revision is the revision last delivered, or given up on (then
	// LastError says why); 0: none.
	Revision int `json:"revision"`
	// Status is the alert status the destination last accepted ("" when it
	// was sent nothing yet), so that PagerDuty is triggered once per
	// opening and resolved once per resolution.
	Status string    `json:"status,omitempty"`
	SentAt time.Time `json:"sent_at,omitzero"` // the last call accepted
	// LastError is the last error a retry cannot fix.
	LastError string `json:"last_error,omitempty"`
}

// Targets returns a's destinations: Destinations, or Slack alone when it
// is empty.
func (a Alert) Targets() []string {
	if len(a.Destinations) == 0 {
		return []string{DestinationSlack}
	}
	return a.Destinations
}

// PendingFor reports whether destination dest of a is behind a's content
// (ignoring silences): for Slack, the message or its thread; for an event
// destination, its delivered revision.
func (a Alert) PendingFor(dest string) bool {
	if dest == DestinationSlack {
		return a.Delivered < a.Revision || a.NotesSent < len(a.Notes)
	}
	return a.Deliveries[dest].Revision < a.Revision
}

// AlertField is one labelled line of an alert message.
type AlertField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// AlertLink is a link shown with an alert message.
type AlertLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Told reports whether some destination has (or may have) received a:
// Slack accepted its post or was being posted to, or an event destination
// accepted a call. Until then, whether an alert is silenced can still be
// decided anew.
func (a Alert) Told() bool {
	if !a.SentAt.IsZero() || a.Posting {
		return true
	}
	for _, d := range a.Deliveries {
		if !d.SentAt.IsZero() {
			return true
		}
	}
	return false
}

// Pending reports whether a has something left to deliver: it is not
// silenced, and one of its destinations is behind (PendingFor).
func (a Alert) Pending() bool {
	if a.Silenced != "" {
		return false
	}
	for _, d := range a.Targets() {
		if a.PendingFor(d) {
			return true
		}
	}
	return false
}

// Equal reports whether a and b hold the same values, times compared as
// instants.
func (a Alert) Equal(b Alert) bool {
	ta := [4]time.Time{a.CreatedAt, a.UpdatedAt, a.SentAt, a.Since}
	tb := [4]time.Time{b.CreatedAt, b.UpdatedAt, b.SentAt, b.Since}
	for i := range ta {
		if !ta[i].Equal(tb[i]) {
			return false
		}
	}
	return a.ID == b.ID && a.Kind == b.Kind && a.SLO == b.SLO && a.Job == b.Job && a.Date == b.Date &&
		a.Status == b.Status && a.Channel == b.Channel && a.MessageTS == b.MessageTS && a.Text == b.Text &&
		a.Owner == b.Owner && slices.Equal(a.Fields, b.Fields) && slices.Equal(a.Links, b.Links) &&
		slices.Equal(a.Notes, b.Notes) && a.Revision == b.Revision && a.Delivered == b.Delivered &&
		a.NotesSent == b.NotesSent && a.Posting == b.Posting && a.Silenced == b.Silenced && a.LastError == b.LastError &&
		slices.Equal(a.Destinations, b.Destinations) && maps.EqualFunc(a.Deliveries, b.Deliveries, Delivery.Equal)
}

// Equal reports whether d and e hold the same values, times compared as
// instants.
func (d Delivery) Equal(e Delivery) bool {
	return d.Revision == e.Revision && d.Status == e.Status && d.SentAt.Equal(e.SentAt) && d.LastError == e.LastError
}

// Silence keeps alerts from being sent during a window: a maintenance
// window from the configuration or one posted to /v1/silences. It covers
// the SLOs named in SLOs and the jobs matching Jobs (globs); with neither,
// it covers everything. Silenced alerts are recorded, not sent.
type Silence struct {
	ID        string    `json:"id"`
	SLOs      []string  `json:"slos,omitempty"`
	Jobs      []string  `json:"jobs,omitempty"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Active reports whether t is within [Start, End).
func (s Silence) Active(t time.Time) bool { return !t.Before(s.Start) && t.Before(s.End) }

// Covers reports whether s applies to alerts about slo or job (either may be
// empty, e.g. for a source alert, which only a silence naming neither covers).
func (s Silence) Covers(slo string, job JobKey) bool {
	if len(s.SLOs) == 0 && len(s.Jobs) == 0 {
		return true
	}
	if slo != "" && slices.Contains(s.SLOs, slo) {
		return true
	}
	return job != "" && MatchAny(s.Jobs, job)
}

// Validate checks s: an ID, a start before the end, and a reason are
// required (EINVALID).
func (s Silence) Validate() error {
	switch {
	case s.ID == "":
		return Errorf(EINVALID, "id: required")
	case s.End.IsZero():
		return Errorf(EINVALID, "end: required")
	case !s.Start.Before(s.End):
		return Errorf(EINVALID, "end: must be after start")
	case s.Reason == "":
		return Errorf(EINVALID, "reason: required")
	case slices.Contains(s.Jobs, "") || slices.Contains(s.SLOs, ""):
		return Errorf(EINVALID, "jobs, slos: empty name")
	}
	return nil
}
