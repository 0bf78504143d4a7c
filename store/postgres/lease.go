package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/internal/backend"
)

// AcquireLease takes or renews the lease in one statement. Of concurrent
// calls, PostgreSQL serializes the upserts on the lease row and evaluates
// each one's condition against the row as the previous one left it.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (kant.Lease, error) {
	if err := kant.CheckLeaseArgs(name, holder, ttl); err != nil {
		return kant.Lease{}, err
	}
	nowNs, expNs := backend.ClampNs(now), backend.ClampNs(now.Add(ttl))
	l := kant.Lease{Name: name}
	var since, expires int64
	// In DO UPDATE, leases.* is the row as it was; the renewal keeps its
	// generation and since, a takeover increments the one and resets the
	// other.
	found, err := s.queryRow(ctx, `INSERT INTO leases AS l (name, holder, generation, since_ns, expires_ns)
VALUES ($1, $2, 1, $3, $4)
ON CONFLICT (name) DO UPDATE SET
    generation = CASE WHEN l.holder = excluded.holder AND l.expires_ns > $3 THEN l.generation ELSE l.generation + 1 END,
    since_ns   = CASE WHEN l.holder = excluded.holder AND l.expires_ns > $3 THEN l.since_ns ELSE excluded.since_ns END,
    holder     = excluded.holder,
    expires_ns = excluded.expires_ns
WHERE l.expires_ns <= $3 OR l.holder = excluded.holder
RETURNING holder, generation, since_ns, expires_ns`, []any{name, holder, nowNs, expNs},
		&l.Holder, &l.Generation, &since, &expires)
	if err != nil {
		return kant.Lease{}, fmt.Errorf("postgres acquire lease %q: %w", name, classify(err))
	}
	if !found {
		// Another holder holds it: read it in a new snapshot, which sees
		// that holder's committed row.
		return s.Lease(ctx, name)
	}
	l.Since, l.Expires = time.Unix(0, since).UTC(), time.Unix(0, expires).UTC()
	return l, nil
}

// ReleaseLease ends the lease now when holder holds it at generation.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string, generation int64, now time.Time) error {
	_, err := s.exec(ctx, `UPDATE leases SET expires_ns = $1 WHERE name = $2 AND holder = $3 AND generation = $4 AND expires_ns > $1`,
		backend.ClampNs(now), name, holder, generation)
	if err != nil {
		return fmt.Errorf("postgres release lease %q: %w", name, classify(err))
	}
	return nil
}

// Lease reads the lease as stored.
func (s *Store) Lease(ctx context.Context, name string) (kant.Lease, error) {
	l := kant.Lease{Name: name}
	var since, expires int64
	found, err := s.queryRow(ctx, `SELECT holder, generation, since_ns, expires_ns FROM leases WHERE name = $1`,
		[]any{name}, &l.Holder, &l.Generation, &since, &expires)
	if err != nil {
		return kant.Lease{}, fmt.Errorf("postgres read lease %q: %w", name, classify(err))
	}
	if found {
		l.Since, l.Expires = time.Unix(0, since).UTC(), time.Unix(0, expires).UTC()
	}
	return l, nil
}

// fenceCTE heads a fenced write: it locks the lease row (FOR SHARE, whatever
// its generation) in the writing statement, so that an AcquireLease that
// bumps the generation either committed before (the lock reads the newest
// row version, and the write's "WHERE NOT EXISTS (SELECT 1 FROM fence)"
// refuses it) or waits until the write commits. Its arguments are the lease name and the
// writer's generation, at the placeholders the caller gives.
func fenceCTE(name, gen string) string {
	return `WITH lease AS (SELECT generation FROM leases WHERE name = ` + name + ` FOR SHARE),
fence AS (SELECT 1 FROM lease WHERE generation > ` + gen + `) `
}

// fencedError reads the generation that refused a fenced write.
func (s *Store) fencedError(ctx context.Context, f kant.Fence) error {
	l, err := s.Lease(ctx, f.Lease)
	if err != nil {
		return err
	}
	return kant.Fenced(f, l.Generation)
}

// Fenced returns the store with PutAlert and SetCheckpoint fenced by f.
func (s *Store) Fenced(f kant.Fence) store.Store { return fenced{Store: s, f: f} }

// fenced is a Store whose leader-only writes carry a fence.
type fenced struct {
	*Store
	f kant.Fence
}

func (s fenced) PutAlert(ctx context.Context, a kant.Alert) error { return s.putAlert(ctx, a, &s.f) }

func (s fenced) SetCheckpoint(ctx context.Context, source, key, value string) error {
	return s.setCheckpoint(ctx, source, key, value, &s.f)
}

func (s fenced) Fenced(f kant.Fence) store.Store { return s.Store.Fenced(f) }

var _ store.Store = fenced{}

// ObservationsAfter follows job_runs in (txid, id) order: txid is the id of
// the transaction that wrote the row, id the row's. Several replicas write
// at once, so ids do not commit in order: a transaction that began earlier
// may commit its lower ids after a reader saw higher ones. The reader
// therefore stops below the oldest transaction still running
// (pg_snapshot_xmin of the current snapshot): every transaction older than
// that has ended, its rows are final, and none can appear behind the
// cursor. The cost is that a long transaction (an import of a million
// observations, or any transaction left open on the server, in any of its
// databases) holds followers back until it ends; what it holds back is
// delivered, not lost.
//
// The cursor is "txid/id" of the last observation returned. The empty
// cursor returns "xmin/0/snapshot" of the current snapshot: the rows of
// transactions from xmin on that the snapshot does not see (those that had
// not committed) are still to come, and the snapshot is dropped from the
// cursor once it is passed.
func (s *Store) ObservationsAfter(ctx context.Context, cursor string, limit int) ([]kant.Run, string, error) {
	if cursor == "" {
		var xmin, snap string
		if _, err := s.queryRow(ctx, `SELECT pg_snapshot_xmin(c)::text, c::text FROM pg_current_snapshot() AS c`, nil, &xmin, &snap); err != nil {
			return nil, "", fmt.Errorf("postgres observations: %w", classify(err))
		}
		return nil, xmin + "/0/" + snap, nil
	}
	c, err := parseCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("postgres observations: %w", err)
	}
	if limit <= 0 {
		limit = 1000
	}
	var a args
	q := `SELECT r.txid::text, r.id, ` + runColumns + ` FROM job_runs r
WHERE (r.txid, r.id) > (` + a.add(strconv.FormatUint(c.txid, 10)) + `::xid8, ` + a.add(c.id) + `)
	AND r.txid < pg_snapshot_xmin(pg_current_snapshot())`
	if c.snap != "" {
		q += ` AND NOT pg_visible_in_snapshot(r.txid, ` + a.add(c.snap) + `::pg_snapshot)`
	}
	q += ` ORDER BY r.txid, r.id LIMIT ` + a.add(limit)
	var out []kant.Run
	err = s.query(ctx, func(rows pgx.Rows) error {
		var txid string
		r, err := scanRun(rows, &txid, &c.id)
		if err != nil {
			return err
		}
		if c.txid, err = strconv.ParseUint(txid, 10, 64); err != nil {
			return fmt.Errorf("bad txid %q", txid)
		}
		out = append(out, r)
		return nil
	}, q, a...)
	if err != nil {
		return nil, "", fmt.Errorf("postgres observations: %w", classify(err))
	}
	return out, c.String(), nil
}

// followCursor is the position of a follower: the last (txid, id) it was
// given and, until it is passed, the snapshot of the empty cursor.
type followCursor struct {
	txid uint64
	id   int64
	snap string // "xmin:xmax:xip,...", or ""
	xmax uint64 // the snapshot's
}

func parseCursor(s string) (followCursor, error) {
	bad := kant.Errorf(kant.EINVALID, "bad cursor %q", s)
	parts := strings.SplitN(s, "/", 3)
	if len(parts) < 2 {
		return followCursor{}, bad
	}
	var c followCursor
	var err error
	if c.txid, err = strconv.ParseUint(parts[0], 10, 64); err != nil {
		return followCursor{}, bad
	}
	if c.id, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return followCursor{}, bad
	}
	if len(parts) == 3 {
		f := strings.Split(parts[2], ":")
		if len(f) != 3 {
			return followCursor{}, bad
		}
		if c.xmax, err = strconv.ParseUint(f[1], 10, 64); err != nil {
			return followCursor{}, bad
		}
		for _, x := range strings.Split(f[2], ",") {
			if _, err := strconv.ParseUint(x, 10, 64); x != "" && err != nil {
				return followCursor{}, bad
			}
		}
		c.snap = parts[2]
	}
	return c, nil
}

// String is the cursor's text; the snapshot goes once the cursor is at or
// past its xmax, which no transaction it saw reaches.
func (c followCursor) String() string {
	s := strconv.FormatUint(c.txid, 10) + "/" + strconv.FormatInt(c.id, 10)
	if c.snap != "" && c.txid < c.xmax {
		s += "/" + c.snap
	}
	return s
}
