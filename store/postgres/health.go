package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// RecordPoll records the outcome of one poll of source at time at: a
// success when pollErr is empty (last success and attempt set, the error
// cleared, the failure count reset), otherwise a failure (last attempt and
// error set, the failure count incremented).
func (s *Store) RecordPoll(ctx context.Context, source string, at time.Time, pollErr string) error {
	switch {
	case source == "":
		return fmt.Errorf("postgres record poll: %w", kant.Errorf(kant.EINVALID, "source: required"))
	case at.IsZero():
		return fmt.Errorf("postgres record poll %s: %w", source, kant.Errorf(kant.EINVALID, "time: required"))
	}
	if err := backend.CheckTime("time", at); err != nil {
		return fmt.Errorf("postgres record poll %s: %w", source, err)
	}
	var err error
	if pollErr == "" {
		_, err = s.exec(ctx, `INSERT INTO source_health AS h
	(source, last_success_ns, last_attempt_ns, last_error, consecutive_failures)
VALUES ($1, $2, $2, NULL, 0)
ON CONFLICT (source) DO UPDATE SET
	last_success_ns = excluded.last_success_ns,
	last_attempt_ns = excluded.last_attempt_ns,
	last_error = NULL,
	consecutive_failures = 0`, source, at.UnixNano())
	} else {
		_, err = s.exec(ctx, `INSERT INTO source_health AS h
	(source, last_success_ns, last_attempt_ns, last_error, consecutive_failures)
VALUES ($1, NULL, $2, $3, 1)
ON CONFLICT (source) DO UPDATE SET
	last_attempt_ns = excluded.last_attempt_ns,
	last_error = excluded.last_error,
	consecutive_failures = h.consecutive_failures + 1`, source, at.UnixNano(), pollErr)
	}
	if err != nil {
		return fmt.Errorf("postgres record poll %s: %w", source, classify(err))
	}
	return nil
}

// SourceHealth returns the health of every source that has been polled,
// ordered by source name.
func (s *Store) SourceHealth(ctx context.Context) ([]kant.SourceHealth, error) {
	var out []kant.SourceHealth
	err := s.query(ctx, func(rows pgx.Rows) error {
		var (
			h                kant.SourceHealth
			success, attempt *int64
			errMsg           *string
		)
		if err := rows.Scan(&h.Source, &success, &attempt, &errMsg, &h.ConsecutiveFailures); err != nil {
			return err
		}
		h.LastSuccess, h.LastAttempt, h.LastError = fromNs(success), fromNs(attempt), str(errMsg)
		out = append(out, h)
		return nil
	}, `SELECT source, last_success_ns, last_attempt_ns, last_error, consecutive_failures FROM source_health ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("postgres source health: %w", classify(err))
	}
	return out, nil
}

// Checkpoint returns the checkpoint saved for (source, key), or "" when none.
func (s *Store) Checkpoint(ctx context.Context, source, key string) (string, error) {
	var v string
	if _, err := s.queryRow(ctx, `SELECT value FROM checkpoints WHERE source = $1 AND key = $2`, []any{source, key}, &v); err != nil {
		return "", fmt.Errorf("postgres checkpoint %s %s: %w", source, key, classify(err))
	}
	return v, nil
}

// SetCheckpoint saves value as the checkpoint of (source, key).
func (s *Store) SetCheckpoint(ctx context.Context, source, key, value string) error {
	return s.setCheckpoint(ctx, source, key, value, nil)
}

// setCheckpoint saves the checkpoint, only while no lease generation newer
// than fence's exists when fence is set.
func (s *Store) setCheckpoint(ctx context.Context, source, key, value string, fence *kant.Fence) error {
	if source == "" || key == "" {
		return fmt.Errorf("postgres set checkpoint: %w", kant.Errorf(kant.EINVALID, "source and key are required"))
	}
	if err := checkText("value", value); err != nil {
		return fmt.Errorf("postgres set checkpoint %s %s: %w", source, key, err)
	}
	a := args{source, key, value, s.now().UnixNano()}
	q := `INSERT INTO checkpoints (source, key, value, updated_ns) SELECT $1::text, $2::text, $3::text, $4::bigint`
	if fence != nil {
		q = fenceCTE(a.add(fence.Lease), a.add(fence.Generation)) + q + ` WHERE NOT EXISTS (SELECT 1 FROM fence)`
	}
	q += ` ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_ns = excluded.updated_ns`
	n, err := s.exec(ctx, q, a...)
	if err != nil {
		return fmt.Errorf("postgres set checkpoint %s %s: %w", source, key, classify(err))
	}
	if n == 0 && fence != nil {
		return fmt.Errorf("postgres set checkpoint %s %s: %w", source, key, s.fencedError(ctx, *fence))
	}
	return nil
}
