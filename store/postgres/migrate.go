package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
// in its own transaction together with its row in schema_migrations. The
// caller holds the migration lock on c.
func (s *Store) migrate(ctx context.Context, c *pgx.Conn) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text    NOT NULL,
	applied_ns bigint  NOT NULL
)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	var newestName string
	err = c.QueryRow(ctx, `SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&newest, &newestName)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if newest > len(ms) {
		return fmt.Errorf("%w: the database is at version %d (%s), this kant knows versions up to %d; upgrade kant",
			ErrNewerSchema, newest, newestName, len(ms))
	}
	for _, m := range ms[newest:] {
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_ns) VALUES ($1, $2, $3)`,
				m.Version, m.Name, s.now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		s.logger.Info("applied schema migration", "component", "postgres", "version", m.Version, "name", m.Name)
	}
	return nil
}
