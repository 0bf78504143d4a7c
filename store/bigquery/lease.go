package bigquery

import (
	"context"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
)

// TODO(issue 13): leases through conditional DML; being written.

func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (kant.Lease, error) {
	return kant.Lease{}, kant.Errorf(kant.EINTERNAL, "bigquery: leases not implemented yet")
}

func (s *Store) ReleaseLease(ctx context.Context, name, holder string, generation int64, now time.Time) error {
	return kant.Errorf(kant.EINTERNAL, "bigquery: leases not implemented yet")
}

func (s *Store) Lease(ctx context.Context, name string) (kant.Lease, error) {
	return kant.Lease{}, kant.Errorf(kant.EINTERNAL, "bigquery: leases not implemented yet")
}

func (s *Store) Fenced(f kant.Fence) store.Store { return s }
