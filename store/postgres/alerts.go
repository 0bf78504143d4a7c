package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

const alertColumns = `id, kind, slo, job, date, status, channel, message_ts, text, created_ns, updated_ns, sent_ns,
	owner, since_ns, body, revision, delivered, notes_sent, posting, silenced, last_error`

// PutAlert inserts or replaces the alert with a.ID, which is required.
func (s *Store) PutAlert(ctx context.Context, a kant.Alert) error { return s.putAlert(ctx, a, nil) }

// putAlert puts a, only while no lease generation newer than fence's
// exists when fence is set.
func (s *Store) putAlert(ctx context.Context, a kant.Alert, fence *kant.Fence) error {
	if err := backend.CheckAlert(a); err != nil {
		return fmt.Errorf("postgres put alert %q: %w", a.ID, err)
	}
	var body any
	if b, err := backend.EncodeAlertBody(a); err != nil {
		return fmt.Errorf("postgres put alert %q: %w", a.ID, err)
	} else if b != "" {
		body = b
	}
	var ar args
	vals := []any{a.ID, text(a.Kind), text(a.SLO), text(string(a.Job)), pgDate(a.Date), text(a.Status),
		text(a.Channel), text(a.MessageTS), text(a.Text), ns(a.CreatedAt), ns(a.UpdatedAt), ns(a.SentAt),
		text(a.Owner), ns(a.Since), body, a.Revision, a.Delivered, a.NotesSent, a.Posting,
		text(a.Silenced), text(a.LastError)}
	sel := ""
	for i, v := range vals {
		if i > 0 {
			sel += ", "
		}
		sel += ar.add(v)
		switch i {
		case 4:
			sel += "::date"
		case 9, 10, 11, 13:
			sel += "::bigint"
		case 14:
			sel += "::jsonb"
		case 15, 16, 17:
			sel += "::integer"
		case 18:
			sel += "::boolean"
		default:
			sel += "::text"
		}
	}
	q := `INSERT INTO alerts (` + alertColumns + `) SELECT ` + sel
	if fence != nil {
		q = fenceCTE(ar.add(fence.Lease), ar.add(fence.Generation)) + q + ` WHERE NOT EXISTS (SELECT 1 FROM fence)`
	}
	q += ` ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, slo = excluded.slo, job = excluded.job,
	date = excluded.date, status = excluded.status, channel = excluded.channel, message_ts = excluded.message_ts,
	text = excluded.text, created_ns = excluded.created_ns, updated_ns = excluded.updated_ns, sent_ns = excluded.sent_ns,
	owner = excluded.owner, since_ns = excluded.since_ns, body = excluded.body, revision = excluded.revision,
	delivered = excluded.delivered, notes_sent = excluded.notes_sent, posting = excluded.posting,
	silenced = excluded.silenced, last_error = excluded.last_error`
	n, err := s.exec(ctx, q, ar...)
	if err != nil {
		return fmt.Errorf("postgres put alert %q: %w", a.ID, classify(err))
	}
	if n == 0 && fence != nil {
		return fmt.Errorf("postgres put alert %q: %w", a.ID, s.fencedError(ctx, *fence))
	}
	return nil
}

// Alerts returns the alerts matching f, oldest first (by creation time, then
// ID).
func (s *Store) Alerts(ctx context.Context, f kant.AlertFilter) ([]kant.Alert, error) {
	q := `SELECT ` + alertColumns + ` FROM alerts WHERE true`
	var a args
	if f.OpenOnly {
		q += ` AND status = 'open'`
	}
	if !f.UpdatedFrom.IsZero() {
		q += ` AND updated_ns >= ` + a.add(backend.ClampNs(f.UpdatedFrom))
	}
	q += ` ORDER BY created_ns, id`
	var out []kant.Alert
	err := s.query(ctx, func(rows pgx.Rows) error {
		var (
			al                                       kant.Alert
			kind, slo, job, status, channel, ts, txt *string
			owner, silenced, lastErr                 *string
			date                                     *time.Time
			created, updated, sent, since            *int64
			body                                     []byte
		)
		if err := rows.Scan(&al.ID, &kind, &slo, &job, &date, &status, &channel, &ts, &txt,
			&created, &updated, &sent, &owner, &since, &body, &al.Revision, &al.Delivered, &al.NotesSent,
			&al.Posting, &silenced, &lastErr); err != nil {
			return err
		}
		al.Kind, al.SLO, al.Job = str(kind), str(slo), kant.JobKey(str(job))
		al.Date = fromDate(date)
		al.Status, al.Channel, al.MessageTS, al.Text = str(status), str(channel), str(ts), str(txt)
		al.CreatedAt, al.UpdatedAt, al.SentAt = fromNs(created), fromNs(updated), fromNs(sent)
		al.Owner, al.Since = str(owner), fromNs(since)
		al.Silenced, al.LastError = str(silenced), str(lastErr)
		if len(body) > 0 {
			if err := backend.DecodeAlertBody(string(body), &al); err != nil {
				return fmt.Errorf("alert %s: body: %w", al.ID, err)
			}
		}
		out = append(out, al)
		return nil
	}, q, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres alerts: %w", classify(err))
	}
	return out, nil
}

// PutSilence inserts or replaces the silence with s.ID.
func (s *Store) PutSilence(ctx context.Context, sl kant.Silence) error {
	if err := sl.Validate(); err != nil {
		return fmt.Errorf("postgres put silence: %w", err)
	}
	for _, err := range []error{backend.CheckTime("start", sl.Start), backend.CheckTime("end", sl.End), backend.CheckTime("created_at", sl.CreatedAt)} {
		if err != nil {
			return fmt.Errorf("postgres put silence %s: %w", sl.ID, err)
		}
	}
	_, err := s.exec(ctx, `INSERT INTO silences (id, slos, jobs, start_ns, end_ns, reason, created_by, created_ns)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE SET slos = excluded.slos, jobs = excluded.jobs, start_ns = excluded.start_ns,
	end_ns = excluded.end_ns, reason = excluded.reason, created_by = excluded.created_by, created_ns = excluded.created_ns`,
		sl.ID, jsonList(sl.SLOs), jsonList(sl.Jobs), sl.Start.UnixNano(), sl.End.UnixNano(), sl.Reason,
		text(sl.CreatedBy), ns(sl.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres put silence %s: %w", sl.ID, classify(err))
	}
	return nil
}

// DeleteSilence removes the silence with that ID (ENOTFOUND when none).
func (s *Store) DeleteSilence(ctx context.Context, id string) error {
	n, err := s.exec(ctx, `DELETE FROM silences WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres delete silence %s: %w", id, classify(err))
	}
	if n == 0 {
		return fmt.Errorf("postgres delete silence: %w", kant.Errorf(kant.ENOTFOUND, "silence %q not found", id))
	}
	return nil
}

// Silences returns the silences ending after endsAfter (all when zero),
// ordered by start, then ID.
func (s *Store) Silences(ctx context.Context, endsAfter time.Time) ([]kant.Silence, error) {
	q := `SELECT id, slos, jobs, start_ns, end_ns, reason, created_by, created_ns FROM silences`
	var a args
	if !endsAfter.IsZero() {
		q += ` WHERE end_ns > ` + a.add(backend.ClampNs(endsAfter))
	}
	q += ` ORDER BY start_ns, id`
	var out []kant.Silence
	err := s.query(ctx, func(rows pgx.Rows) error {
		var (
			sl         kant.Silence
			slos, jobs []byte
			start, end int64
			by         *string
			created    *int64
		)
		if err := rows.Scan(&sl.ID, &slos, &jobs, &start, &end, &sl.Reason, &by, &created); err != nil {
			return err
		}
		sl.Start, sl.End, sl.CreatedAt = fromNs(&start), fromNs(&end), fromNs(created)
		sl.CreatedBy = str(by)
		for _, l := range []struct {
			col []byte
			dst *[]string
		}{{slos, &sl.SLOs}, {jobs, &sl.Jobs}} {
			if len(l.col) > 0 {
				if err := json.Unmarshal(l.col, l.dst); err != nil {
					return fmt.Errorf("silence %s: %w", sl.ID, err)
				}
			}
		}
		out = append(out, sl)
		return nil
	}, q, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres silences: %w", classify(err))
	}
	return out, nil
}

// jsonList returns l as a JSON array, or nil when it is empty.
func jsonList(l []string) any {
	if len(l) == 0 {
		return nil
	}
	b, _ := json.Marshal(l)
	return string(b)
}
