package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// PutAlert inserts or replaces the alert with a.ID, which is required.
func (db *DB) PutAlert(ctx context.Context, a kant.Alert) error { return db.putAlert(ctx, a, nil) }

// putAlert puts a, only while no lease generation newer than fence's
// exists when fence is set.
func (db *DB) putAlert(ctx context.Context, a kant.Alert, fence *kant.Fence) error {
	if err := backend.CheckAlert(a); err != nil {
		return fmt.Errorf("sqlite put alert %q: %w", a.ID, err)
	}
	var body any
	if b, err := backend.EncodeAlertBody(a); err != nil {
		return fmt.Errorf("sqlite put alert %q: %w", a.ID, err)
	} else if b != "" {
		body = b
	}
	q := `INSERT OR REPLACE INTO alerts
	(id, kind, slo, job, date, status, channel, message_ts, text, created_at, updated_at, sent_at,
	 owner, since, body, revision, delivered, notes_sent, posting, silenced, last_error)
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`
	args := []any{a.ID, text(a.Kind), text(a.SLO), text(string(a.Job)), formatDate(a.Date), text(a.Status),
		text(a.Channel), text(a.MessageTS), text(a.Text),
		formatTime(a.CreatedAt), formatTime(a.UpdatedAt), formatTime(a.SentAt),
		text(a.Owner), formatTime(a.Since), body, a.Revision, a.Delivered, a.NotesSent, a.Posting,
		text(a.Silenced), text(a.LastError)}
	if fence != nil {
		q += fenceClause
		args = append(args, fence.Lease, fence.Generation)
	}
	res, err := db.write.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite put alert %q: %w", a.ID, classify(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 && fence != nil {
		return fmt.Errorf("sqlite put alert %q: %w", a.ID, db.fencedError(ctx, *fence))
	}
	return nil
}

// Alerts returns the alerts matching f, oldest first (by creation time, then
// ID).
func (db *DB) Alerts(ctx context.Context, f kant.AlertFilter) ([]kant.Alert, error) {
	q := `SELECT id, kind, slo, job, date, status, channel, message_ts, text, created_at, updated_at, sent_at,
	owner, since, body, revision, delivered, notes_sent, posting, silenced, last_error
FROM alerts WHERE 1=1`
	var args []any
	if f.OpenOnly {
		q += ` AND status = 'open'`
	}
	if !f.UpdatedFrom.IsZero() {
		q += ` AND updated_at >= ?`
		args = append(args, formatTime(f.UpdatedFrom))
	}
	q += ` ORDER BY created_at, id`
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite alerts: %w", err)
	}
	defer rows.Close()
	var out []kant.Alert
	for rows.Next() {
		var (
			a                                         kant.Alert
			kind, slo, job, date, status, channel, ts sql.NullString
			txt, created, updated, sent               sql.NullString
			owner, since, body, silenced, lastErr     sql.NullString
		)
		if err := rows.Scan(&a.ID, &kind, &slo, &job, &date, &status, &channel, &ts, &txt,
			&created, &updated, &sent, &owner, &since, &body, &a.Revision, &a.Delivered, &a.NotesSent,
			&a.Posting, &silenced, &lastErr); err != nil {
			return nil, fmt.Errorf("sqlite alerts: %w", err)
		}
		var d decoder
		a.Kind = kind.String
		a.SLO = slo.String
		a.Job = kant.JobKey(job.String)
		a.Date = d.date(date)
		a.Status = status.String
		a.Channel = channel.String
		a.MessageTS = ts.String
		a.Text = txt.String
		a.CreatedAt = d.time(created)
		a.UpdatedAt = d.time(updated)
		a.SentAt = d.time(sent)
		a.Owner = owner.String
		a.Since = d.time(since)
		a.Silenced = silenced.String
		a.LastError = lastErr.String
		if d.err != nil {
			return nil, fmt.Errorf("sqlite alert %s: %w", a.ID, d.err)
		}
		if body.Valid {
			if err := backend.DecodeAlertBody(body.String, &a); err != nil {
				return nil, fmt.Errorf("sqlite alert %s: body: %w", a.ID, err)
			}
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite alerts: %w", err)
	}
	return out, nil
}

// PutSilence inserts or replaces the silence with s.ID.
func (db *DB) PutSilence(ctx context.Context, s kant.Silence) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("sqlite put silence: %w", err)
	}
	for _, err := range []error{backend.CheckTime("start", s.Start), backend.CheckTime("end", s.End), backend.CheckTime("created_at", s.CreatedAt)} {
		if err != nil {
			return fmt.Errorf("sqlite put silence %s: %w", s.ID, classify(err))
		}
	}
	_, err := db.write.ExecContext(ctx, `INSERT OR REPLACE INTO silences
	(id, slos, jobs, start_at, end_at, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, jsonList(s.SLOs), jsonList(s.Jobs), formatTime(s.Start), formatTime(s.End), s.Reason,
		text(s.CreatedBy), formatTime(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite put silence %s: %w", s.ID, classify(err))
	}
	return nil
}

// DeleteSilence removes the silence with that ID (ENOTFOUND when none).
func (db *DB) DeleteSilence(ctx context.Context, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM silences WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite delete silence %s: %w", id, classify(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite delete silence %s: %w", id, classify(err))
	} else if n == 0 {
		return fmt.Errorf("sqlite delete silence: %w", kant.Errorf(kant.ENOTFOUND, "silence %q not found", id))
	}
	return nil
}

// Silences returns the silences ending after endsAfter (all when zero),
// ordered by start, then ID.
func (db *DB) Silences(ctx context.Context, endsAfter time.Time) ([]kant.Silence, error) {
	q := `SELECT id, slos, jobs, start_at, end_at, reason, created_by, created_at FROM silences`
	var args []any
	if !endsAfter.IsZero() {
		q += ` WHERE end_at > ?`
		args = append(args, formatTime(endsAfter))
	}
	q += ` ORDER BY start_at, id`
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite silences: %w", classify(err))
	}
	defer rows.Close()
	var out []kant.Silence
	for rows.Next() {
		var (
			s                               kant.Silence
			slos, jobs, start, end, by, crt sql.NullString
		)
		if err := rows.Scan(&s.ID, &slos, &jobs, &start, &end, &s.Reason, &by, &crt); err != nil {
			return nil, fmt.Errorf("sqlite silences: %w", classify(err))
		}
		var d decoder
		s.Start, s.End, s.CreatedAt = d.time(start), d.time(end), d.time(crt)
		s.CreatedBy = by.String
		if d.err != nil {
			return nil, fmt.Errorf("sqlite silence %s: %w", s.ID, d.err)
		}
		for _, l := range []struct {
			col sql.NullString
			dst *[]string
		}{{slos, &s.SLOs}, {jobs, &s.Jobs}} {
			if l.col.Valid {
				if err := json.Unmarshal([]byte(l.col.String), l.dst); err != nil {
					return nil, fmt.Errorf("sqlite silence %s: %w", s.ID, err)
				}
			}
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite silences: %w", classify(err))
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
