// Package store defines the storage contract every backend satisfies
// (store/sqlite, store/postgres, store/bigquery), leases and fenced writes
// included. The conformance suite in store/storetest checks a backend
// against this contract. Backends live in subpackages; this package
// imports only kant.
package store

import (
	"context"
	"iter"
	"time"

	"github.com/kantproject/kant"
)

// Store is the whole storage contract. Consumers should declare the smaller
// interface they need instead of depending on Store.
type Store interface {
	// WriteRuns appends the observations that are new and returns them, in
	// input order. An observation is new when no stored observation of the
	// same run (Job, RunID, Attempt) says the same thing (kant.Run.SameObservation);
	// repeats, within the batch or against the store, are dropped. The batch
	// is written atomically: on error nothing is stored. Runs must already be
	// validated (kant.Run.Validate); a backend checks them again, and an
	// invalid run fails the batch with an EINVALID error naming its index.
	WriteRuns(ctx context.Context, runs []kant.Run) ([]kant.Run, error)

	// ImportRuns is WriteRuns for large streams: it consumes runs in one
	// transaction and returns how many were new. If the sequence yields an
	// error, or ctx is cancelled, nothing is stored and that error is returned
	// (errors.Is finds it); an invalid run fails the import with an EINVALID
	// error naming its index. fresh, when not nil, is called with the index
	// in the sequence of each new observation, in order, before the import
	// commits and from one goroutine (an exporter of the new observations
	// uses the indexes once ImportRuns returned without error).
	ImportRuns(ctx context.Context, runs iter.Seq2[kant.Run, error], fresh func(index int)) (int, error)

	// LatestRuns returns the newest observation of every run matching f,
	// ordered by Run.At() then Job, RunID, Attempt. The newest observation
	// is the one observed last; of two observed at the same time, the one
	// written last. The filter applies to that newest observation.
	LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error)

	// Jobs returns every job that has at least one observation, ordered by
	// key.
	Jobs(ctx context.Context) ([]kant.JobInfo, error)

	// WriteEvaluation atomically replaces the results and days of one SLO
	// for the dates [From, To] (restricted to Jobs when it is not empty): what
	// was stored there and is not in e is removed. A zero bound is open.
	// Every result and day must belong to e.SLO and fall within the dates,
	// and every result to Jobs when it is given; otherwise, or when a result
	// lacks its job, date, expected time or verdict, nothing is written and
	// the error is EINVALID.
	WriteEvaluation(ctx context.Context, e kant.Evaluation) error

	// Results returns occurrence results matching f, ordered by date, SLO,
	// job, expected time.
	Results(ctx context.Context, f kant.ResultFilter) ([]kant.Result, error)

	// Days returns per-day SLO summaries matching f's SLO and dates (f.Jobs
	// does not apply: a day summarizes all its jobs), ordered by SLO then
	// date.
	Days(ctx context.Context, f kant.ResultFilter) ([]kant.Day, error)

	// RecordPoll records the outcome of one poll of a source at time at:
	// success when pollErr is empty (the last success and attempt become at,
	// the error is cleared and the failure count reset), otherwise a failure
	// with that message (the last attempt becomes at and the failure count
	// grows by one). Polls of a source are recorded in the order they
	// happened. An empty source or a zero time is an EINVALID error.
	RecordPoll(ctx context.Context, source string, at time.Time, pollErr string) error

	// SourceHealth returns the health of every source that has been polled,
	// ordered by source name.
	SourceHealth(ctx context.Context) ([]kant.SourceHealth, error)

	// Checkpoint returns the checkpoint a collector saved for (source, key),
	// or "" when there is none.
	Checkpoint(ctx context.Context, source, key string) (string, error)

	// SetCheckpoint saves value as the checkpoint of (source, key),
	// replacing any earlier one. Source and key are required (EINVALID).
	SetCheckpoint(ctx context.Context, source, key, value string) error

	// PutAlert inserts or replaces the alert with a.ID, which is required
	// (EINVALID). Every field of kant.Alert comes back from Alerts as it was
	// put (times in UTC).
	PutAlert(ctx context.Context, a kant.Alert) error

	// Alerts returns the stored alerts matching f, oldest first (by
	// CreatedAt, then ID).
	Alerts(ctx context.Context, f kant.AlertFilter) ([]kant.Alert, error)

	// PutSilence inserts or replaces the silence with s.ID; s must be valid
	// (kant.Silence.Validate, EINVALID otherwise).
	PutSilence(ctx context.Context, s kant.Silence) error

	// DeleteSilence removes the silence with that ID; ENOTFOUND when there is
	// none.
	DeleteSilence(ctx context.Context, id string) error

	// Silences returns the silences whose End is after endsAfter (all when it
	// is zero), ordered by Start, then ID.
	Silences(ctx context.Context, endsAfter time.Time) ([]kant.Silence, error)

	// AcquireLease takes or renews the lease name for holder, atomically:
	// when the lease was never taken, or has expired at now, holder takes
	// it with the next generation (1 the first time), Since = now; when
	// holder holds it unexpired, it is renewed (same generation and Since).
	// Either way Expires becomes now + ttl. When another holder holds it
	// unexpired, nothing changes. It returns the lease as stored after the
	// call: holder holds it when Lease.HeldBy(holder, now). Of holders
	// racing for a free lease exactly one gets it. Name and holder are
	// required and ttl positive (EINVALID).
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (kant.Lease, error)

	// ReleaseLease ends holder's lease name at generation gen at once
	// (Expires = now), so that another replica takes it without waiting for
	// the TTL. It does nothing when the lease has another holder or
	// generation.
	ReleaseLease(ctx context.Context, name, holder string, generation int64, now time.Time) error

	// Lease returns the lease name as stored: the zero Lease with Name set
	// when it was never taken.
	Lease(ctx context.Context, name string) (kant.Lease, error)

	// Fenced returns this store with its writes that only the leader may
	// make, PutAlert and SetCheckpoint, fenced by f: each is refused,
	// changing nothing, with an ECONFLICT error wrapping kant.ErrFenced
	// when the lease f.Lease has a generation newer than f.Generation,
	// checked in the same transaction as the write. Everything else is as
	// on the store itself; Close closes the store.
	Fenced(f kant.Fence) Store

	// Close releases the backend's resources.
	Close() error
}

// Follower is implemented by the backends that several replicas share
// (store/postgres, and store/sqlite on one host): it reads the observations
// other processes stored, so that every replica's gate and the leader's
// evaluator and alerts follow them without a full reload.
type Follower interface {
	// ObservationsAfter returns observations stored after cursor, oldest
	// first, at most limit, and the cursor to ask with next time. A reader
	// that keeps asking with the cursor it was given sees every stored
	// observation exactly once, whichever process wrote it and however
	// their transactions interleaved. The empty cursor means "now": it
	// returns no observation, only the cursor of what is stored so far.
	ObservationsAfter(ctx context.Context, cursor string, limit int) ([]kant.Run, string, error)
}
