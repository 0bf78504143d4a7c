package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
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
	if err := backend.CheckTime("time", at); err != nil {
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
		return nil, fmt.Errorf("sqlite source health: %w", classify(err))
	}
	defer rows.Close()
	var out []kant.SourceHealth
	for rows.Next() {
		var (
			h                        kant.SourceHealth
			success, attempt, errMsg sql.NullString
		)
		if err := rows.Scan(&h.Source, &success, &attempt, &errMsg, &h.ConsecutiveFailures); err != nil {
			return nil, fmt.Errorf("sqlite source health: %w", classify(err))
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
		return nil, fmt.Errorf("sqlite source health: %w", classify(err))
	}
	return out, nil
}
