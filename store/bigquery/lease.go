package bigquery

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/internal/backend"
)

// DefaultLeaseTTL is the lease TTL kant serve should use on a BigQuery
// store, renewing every DefaultLeaseTTL/3 (20 s). A DML statement takes
// seconds in BigQuery, and every renewal is one: at 60 s a replica sends
// 86,400/20 = 4,320 MERGE statements a day (each billed as at least 10 MB
// scanned), whether it leads or only tries to. Leadership moves after at
// most the TTL when a leader dies without releasing the lease.
const DefaultLeaseTTL = 60 * time.Second

// AcquireLease takes or renews the lease in one MERGE, which BigQuery makes
// atomic: DML statements that change one table are serialized, and of two
// that conflict one is aborted ("concurrent update") and retried, when it
// sees the other's result. The script then reads the lease back.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (kant.Lease, error) {
	if err := kant.CheckLeaseArgs(name, holder, ttl); err != nil {
		return kant.Lease{}, err
	}
	for _, t := range []time.Time{now, now.Add(ttl)} {
		if err := backend.CheckTime("lease time", t); err != nil {
			return kant.Lease{}, fmt.Errorf("bigquery acquire lease %q: %w", name, err)
		}
	}
	exp := now.Add(ttl)
	t := s.table("leases")
	// In a MERGE's UPDATE, every expression reads the target row as it was.
	q := `MERGE ` + t + ` AS l
USING (SELECT @name AS name, @holder AS holder) AS n
ON l.name = n.name
WHEN MATCHED AND (l.expires_ns <= @now_ns OR l.holder = n.holder) THEN UPDATE SET
  generation = CASE WHEN l.holder = n.holder AND l.expires_ns > @now_ns THEN l.generation ELSE l.generation + 1 END,
  since      = CASE WHEN l.holder = n.holder AND l.expires_ns > @now_ns THEN l.since ELSE TIMESTAMP_MICROS(@now_us) END,
  since_ns   = CASE WHEN l.holder = n.holder AND l.expires_ns > @now_ns THEN l.since_ns ELSE @now_ns END,
  holder     = n.holder,
  expires    = TIMESTAMP_MICROS(@exp_us),
  expires_ns = @exp_ns
WHEN NOT MATCHED THEN INSERT (name, holder, generation, since, expires, since_ns, expires_ns)
  VALUES (n.name, n.holder, 1, TIMESTAMP_MICROS(@now_us), TIMESTAMP_MICROS(@exp_us), @now_ns, @exp_ns);
SELECT holder, generation, since_ns, expires_ns FROM ` + t + ` WHERE name = @name;`
	rows, err := s.query(ctx, q, []bigquery.QueryParameter{
		param("name", name), param("holder", holder),
		param("now_ns", now.UnixNano()), param("now_us", now.UnixMicro()),
		param("exp_ns", exp.UnixNano()), param("exp_us", exp.UnixMicro()),
	})
	if err != nil {
		return kant.Lease{}, fmt.Errorf("bigquery acquire lease %q: %w", name, err)
	}
	return leaseOf(name, rows), nil
}

// ReleaseLease ends the lease now when holder holds it at generation.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string, generation int64, now time.Time) error {
	if err := backend.CheckTime("lease time", now); err != nil {
		return fmt.Errorf("bigquery release lease %q: %w", name, err)
	}
	_, err := s.query(ctx, `UPDATE `+s.table("leases")+` SET expires = TIMESTAMP_MICROS(@now_us), expires_ns = @now_ns
WHERE name = @name AND holder = @holder AND generation = @generation AND expires_ns > @now_ns`,
		[]bigquery.QueryParameter{param("name", name), param("holder", holder), param("generation", generation),
			param("now_ns", now.UnixNano()), param("now_us", now.UnixMicro())})
	if err != nil {
		return fmt.Errorf("bigquery release lease %q: %w", name, err)
	}
	return nil
}

// Lease reads the lease as stored.
func (s *Store) Lease(ctx context.Context, name string) (kant.Lease, error) {
	rows, err := s.query(ctx, `SELECT holder, generation, since_ns, expires_ns FROM `+s.table("leases")+` WHERE name = @name`,
		[]bigquery.QueryParameter{param("name", name)})
	if err != nil {
		return kant.Lease{}, fmt.Errorf("bigquery read lease %q: %w", name, err)
	}
	return leaseOf(name, rows), nil
}

// leaseOf reads the lease from rows of holder, generation, since_ns,
// expires_ns: the zero lease when there are none.
func leaseOf(name string, rows [][]bigquery.Value) kant.Lease {
	l := kant.Lease{Name: name}
	if len(rows) == 0 {
		return l
	}
	r := rows[0]
	l.Holder, l.Generation, l.Since, l.Expires = asString(r[0]), asInt(r[1]), asTime(r[2]), asTime(r[3])
	return l
}

// fenceCondition is the condition a fenced write's statement carries: no
// newer generation of the lease @fence_lease than @fence_generation exists.
// BigQuery evaluates it on the same snapshot the statement writes on.
func (s *Store) fenceCondition() string {
	return `NOT EXISTS (SELECT 1 FROM ` + s.table("leases") + ` WHERE name = @fence_lease AND generation > @fence_generation)`
}

func fenceParams(f kant.Fence) []bigquery.QueryParameter {
	return []bigquery.QueryParameter{param("fence_lease", f.Lease), param("fence_generation", f.Generation)}
}

// fenceResult is the statement that follows a fenced write in its script:
// how many rows the write changed (0: it was refused) and the lease's
// generation.
func (s *Store) fenceResult() string {
	return `SELECT @@row_count AS n, (SELECT MAX(generation) FROM ` + s.table("leases") + ` WHERE name = @fence_lease) AS generation;`
}

// fenceOutcome reads the fenceResult row: the write changed nothing only
// when the fence refused it.
func fenceOutcome(rows [][]bigquery.Value, f kant.Fence) error {
	if len(rows) != 1 || len(rows[0]) != 2 {
		return fmt.Errorf("fenced write: unexpected result %v", rows)
	}
	if asInt(rows[0][0]) > 0 {
		return nil
	}
	return kant.Fenced(f, asInt(rows[0][1]))
}

// Fenced returns the store with PutAlert and SetCheckpoint fenced by f: each
// is one DML statement whose condition is f (see fenceCondition), so that
// BigQuery checks the lease and writes in one atomic statement.
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
