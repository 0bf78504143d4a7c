package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kantproject/kant"
)

// RecordPoll records the outcome of one poll of source at time at: a
// success when pollErr is empty (last_success and last_attempt set, the
// error cleared, the failure count reset), otherwise a failure (last_attempt
// and last_error set, the failure count incremented). Polls of a source are
// expected to be recorded in the order they happened.
func (db *DB) RecordPoll(ctx context.Context, source string, at time.Time, pollErr string) error {
	switch {
	case source == "":
		return fmt.Errorf("sqlite record poll: %w", kant.Errorf(kant.EINVALID, "source: required"))
	case at.IsZero():
		return fmt.Errorf("sqlite record poll %s: %w", source, kant.Errorf(kant.EINVALID, "time: required"))
	}
	if err := checkTime("time", at); err != nil {
		return fmt.Errorf("sqlite record poll %s: %w", source, err)
	}
	var err error
	if pollErr == "" {
		_, err = db.write.ExecContext(ctx, `INSERT INTO source_health
	(source, last_success, last_attempt, last_error, consecutive_failures)
VALUES (?1, ?2, ?2, NULL, 0)
ON CONFLICT (source) DO UPDATE SET
	last_success = excluded.last_success,
	last_attempt = excluded.last_attempt,
	last_error = NULL,
	consecutive_failures = 0`, source, formatTime(at))
	} else {
		_, err = db.write.ExecContext(ctx, `INSERT INTO source_health
	(source, last_success, last_attempt, last_error, consecutive_failures)
VALUES (?1, NULL, ?2, ?3, 1)
ON CONFLICT (source) DO UPDATE SET
	last_attempt = excluded.last_attempt,
	last_error = excluded.last_error,
	consecutive_failures = source_health.consecutive_failures + 1`, source, formatTime(at), pollErr)
	}
	if err != nil {
		return fmt.Errorf("sqlite record poll %s: %w", source, err)
	}
	return nil
}

// SourceHealth returns the health of every source that has been polled,
// ordered by source name.
func (db *DB) SourceHealth(ctx context.Context) ([]kant.SourceHealth, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT source, last_success, last_attempt, last_error, consecutive_failures
FROM source_health ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("sqlite source health: %w", err)
	}
	defer rows.Close()
	var out []kant.SourceHealth
	for rows.Next() {
		var (
			h                        kant.SourceHealth
			success, attempt, errMsg sql.NullString
		)
		if err := rows.Scan(&h.Source, &success, &attempt, &errMsg, &h.ConsecutiveFailures); err != nil {
			return nil, fmt.Errorf("sqlite source health: %w", err)
		}
		var d decoder
		h.LastSuccess = d.time(success)
		h.LastAttempt = d.time(attempt)
		h.LastError = errMsg.String
		if d.err != nil {
			return nil, fmt.Errorf("sqlite source health %s: %w", h.Source, d.err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite source health: %w", err)
	}
	return out, nil
}

// PutAlert inserts or replaces the alert with a.ID, which is required.
func (db *DB) PutAlert(ctx context.Context, a kant.Alert) error {
	if a.ID == "" {
		return fmt.Errorf("sqlite put alert: %w", kant.Errorf(kant.EINVALID, "id: required"))
	}
	for _, err := range []error{
		checkDate("date", a.Date), checkTime("created_at", a.CreatedAt),
		checkTime("updated_at", a.UpdatedAt), checkTime("sent_at", a.SentAt),
	} {
		if err != nil {
			return fmt.Errorf("sqlite put alert %s: %w", a.ID, err)
		}
	}
	_, err := db.write.ExecContext(ctx, `INSERT OR REPLACE INTO alerts
	(id, kind, slo, job, date, status, channel, message_ts, text, created_at, updated_at, sent_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, text(a.Kind), text(a.SLO), text(string(a.Job)), formatDate(a.Date), text(a.Status),
		text(a.Channel), text(a.MessageTS), text(a.Text),
		formatTime(a.CreatedAt), formatTime(a.UpdatedAt), formatTime(a.SentAt))
	if err != nil {
		return fmt.Errorf("sqlite put alert %s: %w", a.ID, err)
	}
	return nil
}

// Alerts returns stored alerts, oldest first (by creation time, then ID);
// only those with status "open" when openOnly.
func (db *DB) Alerts(ctx context.Context, openOnly bool) ([]kant.Alert, error) {
	q := `SELECT id, kind, slo, job, date, status, channel, message_ts, text, created_at, updated_at, sent_at
FROM alerts`
	if openOnly {
		q += ` WHERE status = 'open'`
	}
	q += ` ORDER BY created_at, id`
	rows, err := db.read.QueryContext(ctx, q)
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
		)
		if err := rows.Scan(&a.ID, &kind, &slo, &job, &date, &status, &channel, &ts, &txt,
			&created, &updated, &sent); err != nil {
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
		if d.err != nil {
			return nil, fmt.Errorf("sqlite alert %s: %w", a.ID, d.err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite alerts: %w", err)
	}
	return out, nil
}
