// Package sqlite is the embedded store backend: it keeps kant's tables (see
// DESIGN.md, "Tables") in one SQLite file through the pure-Go driver
// modernc.org/sqlite, and satisfies store.Store.
//
// It owns the schema and its embedded, ordered migrations (migrations/*.sql,
// each applied once, in its own transaction, and recorded in
// schema_migrations), the connection handling, and the mapping between
// kant's types and rows. It imports kant, store, the standard library and the
// driver, and nothing else of kant: never slo, collector, gate or any other
// consumer.
//
// Connections: one writer connection, so that the process's writes are
// serialized by database/sql and never meet SQLITE_BUSY among themselves,
// and a pool of query_only connections that WAL lets read while the writer
// writes. Write transactions take the write lock when they begin, so that
// another process (kant import beside kant serve) waits for it, up to
// Config.BusyTimeout.
//
// Observations: job_runs is append-only and an observation is stored once,
// deduplicated by a hash of what kant.Run.SameObservation compares. The
// internal table run_current points at the newest observation of every run
// and jobs holds each job's first At and date; both are updated in the
// transaction that inserts the observations, from what the writer collected,
// in key order, rather than row by row. ImportRuns validates and encodes on
// the calling goroutine while another inserts, and sends several rows per
// statement; on two cores it stores over 100,000 observations per second
// (see BenchmarkImport1M).
//
// Times are stored as UTC RFC 3339 text with nine fractional digits, dates as
// YYYY-MM-DD text, and absent values as NULL; the comments in
// migrations/0001_init.sql describe every table for those who write SQL
// views against them.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/kantproject/kant/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var _ store.Store = (*DB)(nil)

// Config configures Open.
type Config struct {
	// Path is the database file, created when missing. ":memory:" opens a
	// private in-memory database (tests and demos), served by one connection.
	Path string
	// Now is the clock, used to stamp applied migrations. Default: time.Now.
	Now func() time.Time
	// Logger receives migration progress. Default: discard.
	Logger *slog.Logger
	// MaxReadConns caps the read pool. Default: max(4, GOMAXPROCS).
	MaxReadConns int
	// BusyTimeout is how long a write waits for another process's write
	// transaction (kant import beside kant serve) before it fails with
	// SQLITE_BUSY. Default: 5s.
	BusyTimeout time.Duration
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

// DB is a kant store in one SQLite file. It is safe for concurrent use.
type DB struct {
	path   string
	write  *sql.DB // one connection: every write transaction goes through it
	read   *sql.DB // query_only connections; the same as write for ":memory:"
	now    func() time.Time
	logger *slog.Logger
}

// Open opens (creating if needed) the database at cfg.Path and brings its
// schema up to date. It fails with an error wrapping ErrNewerSchema when the
// file was migrated by a newer kant than this one.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlite open: path is required")
	}
	if strings.ContainsRune(cfg.Path, '?') || strings.HasPrefix(cfg.Path, "file:") {
		return nil, fmt.Errorf("sqlite open %q: path must be a plain file name without '?'", cfg.Path)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxReadConns <= 0 {
		cfg.MaxReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if cfg.BusyTimeout <= 0 {
		cfg.BusyTimeout = 5 * time.Second
	}
	db := &DB{path: cfg.Path, now: cfg.Now, logger: cfg.Logger}
	if err := db.open(ctx, cfg); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite open %s: %w", cfg.Path, err)
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, cfg Config) error {
	memory := cfg.Path == ":memory:"
	pragmas := url.Values{}
	pragmas.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	pragmas.Add("_pragma", "foreign_keys(1)")
	pragmas.Add("_pragma", "temp_store(MEMORY)")
	// Writes take the write lock when the transaction begins, so that two
	// processes (kant serve and kant import) wait for each other under
	// busy_timeout instead of failing on a lock upgrade.
	w := cloneValues(pragmas)
	w.Set("_txlock", "immediate")
	w.Add("_pragma", "cache_size(-65536)") // KiB
	if !memory {
		// 8 KiB pages make bulk imports faster than the default 4 KiB. The
		// page size of a new file must be set before WAL mode, which the
		// driver applies after the _pragma list.
		w.Add("_pragma", "page_size(8192)")
		w.Set("_journal_mode", "WAL")
		w.Add("_pragma", "synchronous(NORMAL)")          // durable with WAL but for the last commits on power loss
		w.Add("_pragma", "journal_size_limit(67108864)") // truncate the WAL to 64 MiB after a large import
	}
	var err error
	if db.write, err = sql.Open("sqlite", cfg.Path+"?"+w.Encode()); err != nil {
		return err
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxIdleTime(0)
	db.write.SetConnMaxLifetime(0)
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	if memory {
		// Every connection to ":memory:" is a database of its own.
		db.read = db.write
	} else {
		r := cloneValues(pragmas)
		r.Add("_pragma", "cache_size(-16384)") // KiB
		r.Add("_pragma", "query_only(1)")
		if db.read, err = sql.Open("sqlite", cfg.Path+"?"+r.Encode()); err != nil {
			return err
		}
		db.read.SetMaxOpenConns(cfg.MaxReadConns)
		db.read.SetMaxIdleConns(cfg.MaxReadConns)
	}
	if err := db.migrate(ctx); err != nil {
		return err
	}
	return db.applyViews(ctx, cfg.Views)
}

// applyViews replaces views in one transaction; views are dropped in
// reverse order, so that none outlives one it reads.
func (db *DB) applyViews(ctx context.Context, views []View) error {
	if len(views) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for i := len(views) - 1; i >= 0; i-- {
			if _, err := tx.ExecContext(ctx, `DROP VIEW IF EXISTS "`+views[i].Name+`"`); err != nil {
				return fmt.Errorf("drop view %s: %w", views[i].Name, err)
			}
		}
		for _, v := range views {
			if _, err := tx.ExecContext(ctx, v.SQL); err != nil {
				return fmt.Errorf("create view %s: %w", v.Name, err)
			}
		}
		return nil
	})
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Close closes the database. It is safe to call more than once.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite close: %w", err)
	}
	return nil
}

// Path returns the file the database was opened from.
func (db *DB) Path() string { return db.path }
