package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/kantproject/kant"
)

// KindStore is the kind of the message that says the store stopped taking
// writes; Policy.Routes["store"] routes it like any kind.
const KindStore = "store"

// WriteFailures is what WatchWrites follows: whether the store takes
// writes (store.Writes).
type WriteFailures interface {
	// Failure returns the error writes fail with and since when; nil
	// while they succeed.
	Failure() (error, time.Time)
	// Changed receives after the state changed.
	Changed() <-chan struct{}
}

// WatchWrites posts one message when the store stops taking writes (a full
// or failing disk) and, when it takes them again, resolves that message
// and says in its thread how long it lasted, until ctx ends. Such a
// message cannot go through the store's outbox, which cannot be written:
// it is kept in memory, so a restart while the disk is still full posts it
// once more. A delivery that fails (Slack unreachable) is retried after
// Config.Backoff, or when the state changes. MayDeliver is asked before
// every send, as for alerts.
func (e *Engine) WatchWrites(ctx context.Context, w WriteFailures) error {
	var (
		open    bool      // the failure message is posted
		since   time.Time // when the posted failure began
		channel string    // where it went
		ts      string
		retry   <-chan time.Time
	)
	for {
		err, at := w.Failure()
		var serr error
		switch {
		case err != nil && !open:
			msg := e.writesMessage(err, at)
			serr = e.sendWrites(ctx, func(ctx context.Context) error {
				var perr error
				channel, ts, perr = e.cfg.Notifier.Post(ctx, msg)
				return perr
			})
			if serr == nil {
				open, since = true, at
				if channel == "" {
					channel = msg.Channel
				}
				e.log.Warn("the store cannot write: posted", "since", at, "err", err)
			}
		case err == nil && open:
			lasted := at.Sub(since)
			msg := e.writesMessage(nil, since)
			msg.Status = "resolved"
			msg.Text = fmt.Sprintf("kant writes to its store again, after %s.", fmtDuration(lasted))
			serr = e.sendWrites(ctx, func(ctx context.Context) error {
				if ts == "" { // no threads: a follow-up post
					_, _, perr := e.cfg.Notifier.Post(ctx, msg)
					return perr
				}
				if perr := e.cfg.Notifier.Update(ctx, channel, ts, msg); perr != nil {
					return perr
				}
				reply := msg
				reply.Reply = true
				return e.cfg.Notifier.Reply(ctx, channel, ts, reply)
			})
			if serr == nil {
				open = false
				e.log.Info("the store writes again: posted", "lasted", lasted)
			}
		}
		retry = nil
		if serr != nil && ctx.Err() == nil {
			wait := e.cfg.Backoff
			if ok, after := Retryable(serr); ok && after > 0 {
				wait = after
			}
			e.log.Warn("store write message deferred", "retry_in", wait, "err", serr)
			retry = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.Changed():
		case <-retry: // nil unless a send failed
		}
	}
}

// sendWrites makes one send of WatchWrites, bounded by SendTimeout, if
// this replica may deliver.
func (e *Engine) sendWrites(ctx context.Context, f func(context.Context) error) error {
	if e.cfg.MayDeliver != nil && !e.cfg.MayDeliver() {
		return errMayNotDeliver
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.SendTimeout)
	defer cancel()
	err := f(ctx)
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.AlertDelivered(ctx, KindStore, err)
	}
	return err
}

// writesMessage is the message for a store that cannot write since at.
func (e *Engine) writesMessage(err error, at time.Time) Message {
	d := &decider{p: e.cfg.Policy}
	m := Message{
		AlertID: "store/writes/" + at.UTC().Format(time.RFC3339),
		Kind:    KindStore,
		Status:  "open",
		Channel: d.channel(KindStore, nil),
		Text: fmt.Sprintf("kant cannot write to its store since %s: its disk is full or failing. "+
			"Pushes are answered 503 with Retry-After and nothing of them is stored; the gate and the status page answer from what is stored. "+
			"kant writes again by itself when space returns.", at.In(e.cfg.Policy.Location).Format("2006-01-02 15:04 MST")),
	}
	if err != nil {
		m.Fields = []kant.AlertField{{Label: "Error", Value: truncate(err.Error(), 500)}}
	}
	return m
}
