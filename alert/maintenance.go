package alert

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// Maintenance is a configured maintenance window: a cron Schedule with a
// Duration (each tick opens a window that long), or a fixed range [From,
// To). It silences the SLOs and jobs it names, everything when it names
// neither.
type Maintenance struct {
	Name     string
	Schedule slo.Schedule   // cron, in Location
	Location *time.Location // default UTC
	Duration time.Duration
	From, To time.Time
	SLOs     []string
	Jobs     []string // job keys or globs
	Reason   string   // why; default "maintenance <Name>"
}

// Validate checks m: a name, and either a schedule with a positive duration
// or a range with From before To.
func (m Maintenance) Validate() error {
	switch {
	case m.Name == "":
		return errors.New("maintenance: name required")
	case !m.Schedule.IsZero() && m.Duration <= 0:
		return fmt.Errorf("maintenance %q: duration must be positive with a schedule", m.Name)
	case m.Schedule.IsZero() && !m.From.Before(m.To):
		return fmt.Errorf("maintenance %q: a schedule and duration, or from before to, required", m.Name)
	}
	return nil
}

// Windows returns m's windows that overlap [from, to), as silences.
func (m Maintenance) Windows(from, to time.Time) []kant.Silence {
	reason := m.Reason
	if reason == "" {
		reason = "maintenance " + m.Name
	}
	mk := func(id string, start, end time.Time) kant.Silence {
		return kant.Silence{ID: id, SLOs: m.SLOs, Jobs: m.Jobs, Start: start.UTC(), End: end.UTC(),
			Reason: reason, CreatedBy: "config"}
	}
	if m.Schedule.IsZero() {
		if m.From.Before(to) && m.To.After(from) {
			return []kant.Silence{mk("maintenance/"+m.Name, m.From, m.To)}
		}
		return nil
	}
	var out []kant.Silence
	tick, ok := m.Schedule.Prev(from.Add(-m.Duration), m.Location)
	if !ok {
		tick, ok = m.Schedule.Next(from.Add(-m.Duration), m.Location)
	}
	for i := 0; ok && tick.Before(to) && i < 10000; i++ {
		if end := tick.Add(m.Duration); end.After(from) {
			out = append(out, mk("maintenance/"+m.Name+"/"+tick.UTC().Format(time.RFC3339), tick, end))
		}
		tick, ok = m.Schedule.Next(tick, m.Location)
	}
	return out
}

func windows(ms []Maintenance, from, to time.Time) []kant.Silence {
	var out []kant.Silence
	for _, m := range ms {
		out = append(out, m.Windows(from, to)...)
	}
	return out
}

// Silences returns the silences that overlap [from, to): those stored
// (posted to /v1/silences) and the windows of the configured maintenance.
// The HTTP API and the status page leave the days they cover out of the
// attainment of SLOs that say so.
func (e *Engine) Silences(ctx context.Context, from, to time.Time) ([]kant.Silence, error) {
	stored, err := e.cfg.Store.Silences(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("alert read silences: %w", err)
	}
	var out []kant.Silence
	for _, s := range stored {
		if s.Start.Before(to) {
			out = append(out, s)
		}
	}
	return append(out, windows(e.cfg.Maintenance, from, to)...), nil
}
