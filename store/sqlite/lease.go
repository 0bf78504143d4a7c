package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/internal/backend"
)

// AcquireLease takes or renews the lease in one statement, which SQLite's
// write lock makes atomic across processes on the file.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (kant.Lease, error) {
	if err := kant.CheckLeaseArgs(name, holder, ttl); err != nil {
		return kant.Lease{}, err
	}
	nowNs, expNs := backend.ClampNs(now), backend.ClampNs(now.Add(ttl))
	// In an UPDATE, every expression reads the row as it was.
	_, err := db.write.ExecContext(ctx, `INSERT INTO leases (name, holder, generation, since_ns, expires_ns)
VALUES (?1, ?2, 1, ?3, ?4)
ON CONFLICT (name) DO UPDATE SET
    generation = CASE WHEN leases.holder = excluded.holder AND leases.expires_ns > ?3 THEN leases.generation ELSE leases.generation + 1 END,
    since_ns   = CASE WHEN leases.holder = excluded.holder AND leases.expires_ns > ?3 THEN leases.since_ns ELSE excluded.since_ns END,
    holder     = excluded.holder,
    expires_ns = excluded.expires_ns
WHERE leases.expires_ns <= ?3 OR leases.holder = excluded.holder`, name, holder, nowNs, expNs)
	if err != nil {
		return kant.Lease{}, fmt.Errorf("sqlite acquire lease %q: %w", name, classify(err))
	}
	return db.lease(ctx, db.write, name)
}

// ReleaseLease ends the lease now when holder holds it at generation.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string, generation int64, now time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE leases SET expires_ns = ? WHERE name = ? AND holder = ? AND generation = ? AND expires_ns > ?`,
		backend.ClampNs(now), name, holder, generation, backend.ClampNs(now))
	if err != nil {
		return fmt.Errorf("sqlite release lease %q: %w", name, classify(err))
	}
	return nil
}

// Lease reads the lease as stored.
func (db *DB) Lease(ctx context.Context, name string) (kant.Lease, error) {
	return db.lease(ctx, db.read, name)
}

func (db *DB) lease(ctx context.Context, q *sql.DB, name string) (kant.Lease, error) {
	l := kant.Lease{Name: name}
	var since, expires int64
	err := q.QueryRowContext(ctx, `SELECT holder, generation, since_ns, expires_ns FROM leases WHERE name = ?`, name).
		Scan(&l.Holder, &l.Generation, &since, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return l, nil
	}
	if err != nil {
		return kant.Lease{}, fmt.Errorf("sqlite read lease %q: %w", name, classify(err))
	}
	l.Since, l.Expires = time.Unix(0, since).UTC(), time.Unix(0, expires).UTC()
	return l, nil
}

// fenceClause is appended to the SELECT of a fenced INSERT: the row is
// written only while no newer generation of the lease exists. Its two
// arguments are the lease name and the writer's generation.
const fenceClause = ` WHERE NOT EXISTS (SELECT 1 FROM leases WHERE name = ? AND generation > ?)`

// fencedError reads the generation that refused a fenced write.
func (db *DB) fencedError(ctx context.Context, f kant.Fence) error {
	l, err := db.lease(ctx, db.write, f.Lease)
	if err != nil {
		return err
	}
	return kant.Fenced(f, l.Generation)
}

// Fenced returns the store with PutAlert and SetCheckpoint fenced by f.
func (db *DB) Fenced(f kant.Fence) store.Store { return fenced{DB: db, f: f} }

// fenced is a DB whose leader-only writes carry a fence.
type fenced struct {
	*DB
	f kant.Fence
}

func (s fenced) PutAlert(ctx context.Context, a kant.Alert) error { return s.putAlert(ctx, a, &s.f) }

func (s fenced) SetCheckpoint(ctx context.Context, source, key, value string) error {
	return s.setCheckpoint(ctx, source, key, value, &s.f)
}

func (s fenced) Fenced(f kant.Fence) store.Store { return s.DB.Fenced(f) }

var _ store.Store = fenced{}

// ObservationsAfter follows the observations table by its rowid: SQLite
// writes one transaction at a time, so rowid order is commit order and a
// cursor never skips a row that commits later.
func (db *DB) ObservationsAfter(ctx context.Context, cursor string, limit int) ([]kant.Run, string, error) {
	if cursor == "" {
		var last sql.NullInt64
		if err := db.read.QueryRowContext(ctx, `SELECT max(id) FROM job_runs`).Scan(&last); err != nil {
			return nil, "", fmt.Errorf("sqlite observations: %w", classify(err))
		}
		return nil, fmt.Sprint(last.Int64), nil
	}
	var after int64
	if _, err := fmt.Sscan(cursor, &after); err != nil {
		return nil, "", kant.Errorf(kant.EINVALID, "sqlite observations: bad cursor %q", cursor)
	}
	if limit <= 0 {
		limit = 1000
	}
	rows, err := db.read.QueryContext(ctx, `SELECT r.id, `+runColumns+` FROM job_runs r WHERE r.id > ? ORDER BY r.id LIMIT ?`, after, limit)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite observations: %w", classify(err))
	}
	defer rows.Close()
	var out []kant.Run
	for rows.Next() {
		r, id, err := scanRunWithID(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite observations: %w", err)
		}
		out = append(out, r)
		after = id
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite observations: %w", classify(err))
	}
	return out, fmt.Sprint(after), nil
}

var _ store.Follower = (*DB)(nil)
