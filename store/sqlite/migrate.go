package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/kantproject/kant/store/internal/backend"
)

// ErrNewerSchema is returned (wrapped) by Open when the database carries a
// migration this build of kant does not know.
var ErrNewerSchema = backend.ErrNewerSchema

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in version order.
func migrations() ([]backend.Migration, error) {
	return backend.Migrations(migrationFiles, "migrations")
}

// migrate applies the embedded migrations the database lacks, in order, each
// in its own transaction together with its row in schema_migrations. A
// second process opening the same file waits for the write lock and then
// finds the migration applied.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	var newestName string
	err = db.write.QueryRowContext(ctx,
		`SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&newest, &newestName)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if newest > len(ms) {
		return fmt.Errorf("%w: the file is at version %d (%s), this kant knows versions up to %d; upgrade kant",
			ErrNewerSchema, newest, newestName, len(ms))
	}
	for _, m := range ms[newest:] {
		applied, err := db.apply(ctx, m)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if applied {
			db.logger.Info("applied schema migration", "component", "sqlite", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// apply runs one migration in a transaction unless another process has
// applied it meanwhile, and reports whether it ran.
func (db *DB) apply(ctx context.Context, m backend.Migration) (bool, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, formatTime(db.now())); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
