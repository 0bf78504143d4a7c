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
	if source == "" || key == "" {
		return fmt.Errorf("sqlite set checkpoint: %w", kant.Errorf(kant.EINVALID, "source and key are required"))
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO checkpoints (source, key, value, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		source, key, value, formatTime(db.now()))
	if err != nil {
		return fmt.Errorf("sqlite set checkpoint %s %s: %w", source, key, err)
	}
	return nil
}
