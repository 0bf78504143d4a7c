// Package store defines the storage contract every backend satisfies
// (store/sqlite, and later store/bigquery) and the filters it takes. The
// conformance suite in store/storetest checks a backend against this
// contract. Backends live in subpackages; this package imports only kant.
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

	// Close releases the backend's resources.
	Close() error
}
