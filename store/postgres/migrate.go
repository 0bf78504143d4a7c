package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrNewerSchema is returned (wrapped) by Open when the database carries a
// migration this build of kant does not know: it was written by a newer
// kant, and an older one must not guess at its tables.
var ErrNewerSchema = errors.New("database schema is newer than this kant")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change, named NNNN_description.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Versions
// start at 1 and have no gaps.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || path.Ext(name) != ".sql" {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (versions start at 1 without gaps)", m.name, m.version, i+1)
		}
	}
	return ms, nil
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
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_ns) VALUES ($1, $2, $3)`,
				m.version, m.name, s.now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		s.logger.Info("applied schema migration", "component", "postgres", "version", m.version, "name", m.name)
	}
	return nil
}
