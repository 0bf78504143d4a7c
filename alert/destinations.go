package alert

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/kantproject/kant"
)

// Sender delivers alerts to an event destination: one without threads or
// message updates, such as PagerDuty or a webhook. The Engine calls it at
// most once per revision of an alert, in the order alerts were created,
// and records what was accepted in the alert's Deliveries, so that a
// restart repeats nothing that was recorded. A call whose result was not
// recorded (the process stopped in between) is made again: a Sender must
// be idempotent by alert ID and revision (PagerDuty's dedup_key, a
// webhook's idempotency key).
type Sender interface {
	// Send delivers a at its current revision; last is what the
	// destination was last given. sent is false when the change does not
	// concern the destination and nothing was sent (PagerDuty is told only
	// of openings and resolutions). Errors that a later attempt may fix
	// (429, 5xx, network) are *Error with Retryable set; any other error
	// gives the revision up (recorded as the delivery's LastError).
	Send(ctx context.Context, a kant.Alert, last kant.Delivery) (sent bool, err error)
}

// DeliverRule routes alerts to destinations: those of its kinds (any when
// empty) about its SLOs (any when empty) go to To, which names
// kant.DestinationSlack or a Sender.
type DeliverRule struct {
	Kinds []string
	SLOs  []string
	To    []string
}

// RouteTo returns the destinations of an alert of kind about slo: the To of
// the first rule that matches, or Slack alone when none does.
func RouteTo(rules []DeliverRule, kind, slo string) []string {
	for _, r := range rules {
		if (len(r.Kinds) == 0 || slices.Contains(r.Kinds, kind)) && (len(r.SLOs) == 0 || slices.Contains(r.SLOs, slo)) {
			return r.To
		}
	}
	return []string{kant.DestinationSlack}
}

// route sets the destinations of a change's alert. A new alert goes where
// the rules send it; a change of an open alert adds the destinations its
// rule names now (a failure that became a miss may page), and none is ever
// removed, so that whoever was told of an incident is told of its end
// (a resolved alert's kind, recovered or late, routes nowhere by itself).
func (e *Engine) route(c *Change) {
	a := &c.Alert
	to := RouteTo(e.cfg.Deliver, a.Kind, a.SLO)
	if c.Action == Open {
		a.Destinations = slices.Clone(to)
		return
	}
	if a.Status != kant.AlertOpen {
		return
	}
	have := a.Targets()
	for _, d := range to {
		if !slices.Contains(have, d) {
			have = append(slices.Clip(have), d)
		}
	}
	if len(a.Destinations) > 0 || len(have) > 1 {
		a.Destinations = have
	}
}

// send brings event destination dest up to date with a, recording the
// delivery in the store. It returns retryable errors and store errors;
// other errors are recorded on the delivery, whose revision is given up.
func (e *Engine) send(ctx context.Context, now time.Time, a *kant.Alert, dest string) error {
	last := a.Deliveries[dest]
	next := last
	next.Revision = a.Revision
	if s, ok := e.cfg.Senders[dest]; !ok {
		// Configured once, since removed: nothing can deliver it.
		e.log.Warn("alert destination is not configured; giving up on it", "alert", a.ID, "destination", dest)
		next.LastError = "destination " + dest + " is not configured"
	} else {
		if e.cfg.MayDeliver != nil && !e.cfg.MayDeliver() {
			return errMayNotDeliver
		}
		sctx, cancel := context.WithTimeout(ctx, e.cfg.SendTimeout)
		sent, err := s.Send(sctx, *a, last)
		cancel()
		if sent && e.cfg.Metrics != nil {
			e.cfg.Metrics.AlertDelivered(ctx, a.Kind, err)
		}
		switch ok, _ := Retryable(err); {
		case err == nil:
			next.LastError = ""
			if sent {
				next.Status, next.SentAt = a.Status, now
			}
		case ok:
			return err
		default:
			e.log.Error("alert delivery failed; giving up on this revision", "alert", a.ID, "destination", dest, "err", err)
			next.LastError = err.Error()
		}
	}
	a.Deliveries = maps.Clone(a.Deliveries)
	if a.Deliveries == nil {
		a.Deliveries = map[string]kant.Delivery{}
	}
	a.Deliveries[dest] = next
	a.UpdatedAt = now
	if err := e.cfg.Store.PutAlert(ctx, *a); err != nil {
		return fmt.Errorf("alert store %s: %w", a.ID, err)
	}
	return nil
}
