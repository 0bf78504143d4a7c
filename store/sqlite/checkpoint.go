package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kantproject/kant"
)

// Checkpoint returns the checkpoint saved for (source, key), or "" when none.
func (db *DB) Checkpoint(ctx context.Context, source, key string) (string, error) {
	var v string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM checkpoints WHERE source = ? AND key = ?`, source, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite checkpoint %s %s: %w", source, key, err)
	}
	return v, nil
}

// SetCheckpoint saves value as the checkpoint of (source, key).
func (db *DB) SetCheckpoint(ctx context.Context, source, key, value string) error {
	return db.setCheckpoint(ctx, source, key, value, nil)
}

// setCheckpoint saves the checkpoint, only while no lease generation newer
// than fence's exists when fence is set.
func (db *DB) setCheckpoint(ctx context.Context, source, key, value string, fence *kant.Fence) error {
	if source == "" || key == "" {
		return fmt.Errorf("sqlite set checkpoint: %w", kant.Errorf(kant.EINVALID, "source and key are required"))
	}
	where := " WHERE true"
	args := []any{source, key, value, formatTime(db.now())}
	if fence != nil {
		where = fenceClause
		args = append(args, fence.Lease, fence.Generation)
	}
	res, err := db.write.ExecContext(ctx, `INSERT INTO checkpoints (source, key, value, updated_at) SELECT ?, ?, ?, ?`+where+`
ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, args...)
	if err != nil {
		return fmt.Errorf("sqlite set checkpoint %s %s: %w", source, key, classify(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 && fence != nil {
		return fmt.Errorf("sqlite set checkpoint %s %s: %w", source, key, db.fencedError(ctx, *fence))
	}
	return nil
}
