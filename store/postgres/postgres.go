// Package postgres is the store backend that several kant serve replicas
// share: it keeps kant's tables (see DESIGN.md, "Tables") in a PostgreSQL
// database through github.com/jackc/pgx/v5 and its pool, and satisfies
// store.Store and store.Follower.
//
// It owns the schema and its embedded, ordered migrations (migrations/*.sql,
// each applied once, in its own transaction, recorded in schema_migrations,
// under an advisory lock so that replicas starting at once migrate once),
// the connection pool, the classification of PostgreSQL's errors, and the
// mapping between kant's types and rows. It imports kant, store,
// store/internal/backend, pgx and the standard library, and nothing else of
// kant: never slo, collector, gate or any other consumer.
//
// Observations: job_runs is append-only and an observation is stored once,
// deduplicated by (job, obs_hash) as in store/sqlite. A write copies its
// observations into a temporary table (COPY, binary) and one statement then
// inserts the new ones (ON CONFLICT DO NOTHING), points run_current at the
// newest observation of every run it touched and keeps jobs up to date, in
// the same transaction. ImportRuns streams its sequence into the COPY, so
// that an import of millions of observations is one transaction without
// holding them in memory.
//
// Leases and fences: AcquireLease is one INSERT ... ON CONFLICT DO UPDATE;
// a fenced write locks the lease row (FOR SHARE) in the statement that
// writes, so that a newer generation either is seen and refuses the write
// or waits for the write to commit.
//
// Followers read job_runs by (txid, id), the writing transaction's id and
// the row's, below the oldest transaction still running (see
// ObservationsAfter).
//
// Times are stored as Unix nanoseconds (bigint), dates as date, absent
// values as NULL; migrations/0001_init.sql describes every table for those
// who write SQL views against them.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kantproject/kant/store"
)

var (
	_ store.Store    = (*Store)(nil)
	_ store.Follower = (*Store)(nil)
)

// Config configures Open.
type Config struct {
	// DSN is the database to use, as a URL (postgres://user:password@host:5432/kant?sslmode=require)
	// or key=value pairs; pgx reads the usual PG* environment variables for
	// what it leaves out. It is a secret: Open never reports it.
	DSN string
	// Now is the clock, used to stamp applied migrations and checkpoints.
	// Default: time.Now.
	Now func() time.Time
	// Logger receives migration progress. Default: discard.
	Logger *slog.Logger
	// MaxConns caps the pool. Default: pgx's, max(4, GOMAXPROCS), unless the
	// DSN says pool_max_conns.
	MaxConns int32
	// AcquireTimeout is how long a call waits for a free connection of the
	// pool before it fails as unavailable (EUNAVAILABLE). Default: 5s.
	AcquireTimeout time.Duration
	// Views are extra views over kant's tables (the BI views of
	// dashboards/views), dropped and created again at every open, in one
	// transaction, after the migrations: a view never outlives its query.
	Views []View
}

// View is a named CREATE VIEW statement.
type View struct {
	Name string
	SQL  string // CREATE VIEW <Name> AS ...
}

// Store is a kant store in a PostgreSQL database. It is safe for concurrent
// use, and several Stores (processes) may share one database.
type Store struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	logger  *slog.Logger
	acquire time.Duration
	where   string // host:port/database, for errors
}

// Open connects to cfg.DSN and brings the database's schema up to date. It
// fails with an error wrapping ErrNewerSchema when the database was migrated
// by a newer kant than this one.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DSN == "" {
		return nil, errors.New("postgres open: dsn is required")
	}
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		// pgx's message may quote the DSN: say only that it is bad.
		return nil, errors.New("postgres open: the dsn cannot be parsed (check its syntax; it is not shown because it may hold a password)")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.AcquireTimeout <= 0 {
		cfg.AcquireTimeout = 5 * time.Second
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "kant"
	// UTC sessions, so that date(timestamptz) in views and ad hoc queries
	// means the UTC date, as in the other backends.
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// A replica paused in the middle of a transaction (SIGSTOP, a frozen
	// VM) would hold its row locks, and every other replica writing the
	// same rows would wait for it: the server ends such a session after
	// 5 s idle inside a transaction (kant's transactions are never idle
	// that long while its process runs), unless the DSN sets otherwise.
	if _, set := pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "5s"
	}
	s := &Store{now: cfg.Now, logger: cfg.Logger, acquire: cfg.AcquireTimeout,
		where: fmt.Sprintf("%s:%d/%s", pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.Database)}
	if s.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return nil, fmt.Errorf("postgres open %s: %w", s.where, classify(err))
	}
	if err := s.open(ctx, cfg.Views); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres open %s: %w", s.where, classify(err))
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, views []View) error {
	return s.withConn(ctx, func(c *pgxpool.Conn) error {
		// Replicas starting at once migrate one after another: the first
		// applies the migrations, the others find them applied.
		if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		defer c.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
		if err := s.migrate(ctx, c.Conn()); err != nil {
			return err
		}
		return applyViews(ctx, c.Conn(), views)
	})
}

// migrationLock is the advisory lock key under which the schema changes
// (migrations and views): "kant" in ASCII.
const migrationLock int64 = 0x6b616e74

// applyViews replaces views in one transaction; views are dropped in
// reverse order, so that none outlives one it reads.
func applyViews(ctx context.Context, c *pgx.Conn, views []View) error {
	if len(views) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		for i := len(views) - 1; i >= 0; i-- {
			if _, err := tx.Exec(ctx, `DROP VIEW IF EXISTS "`+views[i].Name+`"`); err != nil {
				return fmt.Errorf("drop view %s: %w", views[i].Name, err)
			}
		}
		for _, v := range views {
			if _, err := tx.Exec(ctx, v.SQL); err != nil {
				return fmt.Errorf("create view %s: %w", v.Name, err)
			}
		}
		return nil
	})
}

// withConn runs fn with a connection of the pool, waiting at most the
// acquire timeout for one.
func (s *Store) withConn(ctx context.Context, fn func(*pgxpool.Conn) error) error {
	actx, cancel := context.WithTimeout(ctx, s.acquire)
	c, err := s.pool.Acquire(actx)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return errPoolExhausted{err}
		}
		return err
	}
	defer c.Release()
	return fn(c)
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.withConn(ctx, func(c *pgxpool.Conn) error {
		return pgx.BeginFunc(ctx, c, fn)
	})
}

// exec runs one statement and returns how many rows it changed.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, sql, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// query runs a query and calls scan for each row.
func (s *Store) query(ctx context.Context, scan func(pgx.Rows) error, sql string, args ...any) error {
	return s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// queryRow runs a query of one row and scans it into dest; it reports
// whether there was a row.
func (s *Store) queryRow(ctx context.Context, sql string, args []any, dest ...any) (bool, error) {
	found := false
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		err := c.QueryRow(ctx, sql, args...).Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	return found, err
}

// Close closes the pool. It is safe to call more than once.
func (s *Store) Close() error {
	if s.pool != nil {
		s.pool.Close()
	}
	return nil
}
