package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kantproject/kant"
)

// busyRetryAfter is how long a caller is told to wait when the store is
// unavailable; fullRetryAfter when its disk is full.
const (
	busyRetryAfter = time.Second
	fullRetryAfter = 10 * time.Second
)

// errPoolExhausted is a connection of the pool not found within the
// acquire timeout: every one is busy.
type errPoolExhausted struct{ err error }

func (e errPoolExhausted) Error() string { return "no free connection in the pool: " + e.err.Error() }
func (e errPoolExhausted) Unwrap() error { return e.err }

// classify returns err as a kant.Unavailable error when a retry can help:
// the server cannot be reached or refuses connections, the pool has no
// free connection, or PostgreSQL gave up on a transaction that can simply
// be run again (a serialization failure, a deadlock, a lock or statement
// timeout, the server shutting down or starting), so that the HTTP API
// answers 503 with Retry-After instead of 500; any other error is returned
// as it is. Every read and write goes through it.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ke *kant.Error
	if errors.As(err, &ke) {
		return err // already classified (EINVALID, a fence, ...)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return kant.Unavailable(fmt.Errorf("%w: %w", kant.ErrStoreFull, err), fullRetryAfter, "store cannot write")
		case pe.Code == "40001", // serialization_failure
			pe.Code == "40P01", // deadlock_detected
			pe.Code == "55P03", // lock_not_available (lock_timeout)
			pe.Code == "57014" && strings.Contains(pe.Message, "statement timeout"), // query_canceled by statement_timeout
			pe.Code == "53300",                // too_many_connections
			pe.Code == "53400",                // configuration_limit_exceeded
			strings.HasPrefix(pe.Code, "08"),  // connection_exception
			strings.HasPrefix(pe.Code, "57P"): // admin_shutdown, crash_shutdown, cannot_connect_now
			return kant.Unavailable(err, busyRetryAfter, "store unavailable")
		}
		return err
	}
	var pool errPoolExhausted
	var ce *pgconn.ConnectError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &pool), errors.As(err, &ce), errors.As(err, &oe), errors.As(err, &ne) && ne.Timeout():
		return kant.Unavailable(err, busyRetryAfter, "store unavailable")
	case pgconn.SafeToRetry(err) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		return kant.Unavailable(err, busyRetryAfter, "store unavailable")
	}
	return err
}
