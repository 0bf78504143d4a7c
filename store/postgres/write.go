package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/kantproject/kant"
)

// The write path: the observations of a batch or an import are copied
// (COPY, binary) into kant_stage, a temporary table of the session emptied
// at every commit, and storeStaged then stores the new ones with everything
// derived from them, in one statement of the same transaction.

const createStage = `CREATE TEMP TABLE IF NOT EXISTS kant_stage (
	ord           bigint  NOT NULL,
	source        text    NOT NULL,
	job           text    COLLATE "C" NOT NULL,
	run_id        text    COLLATE "C" NOT NULL,
	attempt       integer NOT NULL,
	max_attempts  integer,
	state         text    NOT NULL,
	source_state  text,
	logical_date  date,
	started_ns    bigint,
	finished_ns   bigint,
	duration_s    double precision,
	error_message text,
	observed_ns   bigint  NOT NULL,
	attributes    text,
	obs_hash      bigint  NOT NULL
) ON COMMIT DELETE ROWS`

// storeStaged inserts the staged observations that are new (a repeat within
// the stage or of a stored one is dropped: the first in stage order is
// kept), points run_current at the newest new observation of each run
// unless the current one was observed later (ties go to the new one,
// written later), lowers the first At and date of their jobs, and returns
// the ord of each new observation, in order. run_current and jobs are
// written in key order, so that concurrent writers lock rows in one order.
const storeStaged = `WITH ins AS (
	INSERT INTO job_runs (source, job, run_id, attempt, max_attempts, state, source_state, logical_date,
		started_ns, finished_ns, duration_s, error_message, observed_ns, attributes, obs_hash)
	SELECT source, job, run_id, attempt, max_attempts, state, source_state, logical_date,
		started_ns, finished_ns, duration_s, error_message, observed_ns, attributes::jsonb, obs_hash
	FROM kant_stage ORDER BY ord
	ON CONFLICT (job, obs_hash) DO NOTHING
	RETURNING id, source, job, run_id, attempt, obs_hash, observed_ns,
		coalesce(started_ns, finished_ns, observed_ns) AS at_ns, logical_date
), cur AS (
	INSERT INTO run_current AS c (job, run_id, attempt, run_row, observed_ns, at_ns, logical_date)
	SELECT DISTINCT ON (job, run_id, attempt) job, run_id, attempt, id, observed_ns, at_ns, logical_date
	FROM ins ORDER BY job, run_id, attempt, observed_ns DESC, id DESC
	ON CONFLICT (job, run_id, attempt) DO UPDATE SET
		run_row = excluded.run_row,
		observed_ns = excluded.observed_ns,
		at_ns = excluded.at_ns,
		logical_date = excluded.logical_date
	WHERE excluded.observed_ns >= c.observed_ns
), jb AS (
	INSERT INTO jobs AS j (job, source, first_at_ns, first_date)
	SELECT job, min(source), min(at_ns), min(logical_date) FROM ins GROUP BY job ORDER BY job
	ON CONFLICT (job) DO UPDATE SET
		first_at_ns = least(j.first_at_ns, excluded.first_at_ns),
		first_date = least(j.first_date, excluded.first_date)
	WHERE excluded.first_at_ns < j.first_at_ns
		OR excluded.first_date < j.first_date
		OR (j.first_date IS NULL AND excluded.first_date IS NOT NULL)
)
SELECT min(s.ord) FROM ins JOIN kant_stage s ON s.job = ins.job AND s.obs_hash = ins.obs_hash
GROUP BY ins.id ORDER BY 1`

// WriteRuns appends the observations of runs that are new and returns them,
// validated, in input order. An invalid run fails the batch with an EINVALID
// error naming its index.
func (s *Store) WriteRuns(ctx context.Context, runs []kant.Run) ([]kant.Run, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	var enc runEncoder
	rows := make([][]any, len(runs))
	for i, r := range runs {
		row, err := enc.encode(i, r)
		if err != nil {
			return nil, fmt.Errorf("postgres write runs: %w", invalidRun(i, err))
		}
		rows[i] = append([]any(nil), row...)
	}
	isNew := make([]bool, len(runs))
	err := s.writeRuns(ctx, pgx.CopyFromRows(rows), func(i int) { isNew[i] = true })
	if err != nil {
		return nil, fmt.Errorf("postgres write runs: %w", classify(err))
	}
	var out []kant.Run
	for i, r := range runs {
		if isNew[i] {
			r.Validate() // as stored: normalized
			out = append(out, r)
		}
	}
	return out, nil
}

// ImportRuns consumes runs in one transaction and returns how many were new.
// An error yielded by the sequence, or ctx's error, is returned as it is and
// nothing is stored; an invalid run fails the import with an EINVALID error
// naming its index. The runs are validated and encoded as COPY consumes
// them, so that the import holds one run at a time.
func (s *Store) ImportRuns(ctx context.Context, runs iter.Seq2[kant.Run, error], fresh func(index int)) (int, error) {
	next, stop := iter.Pull2(runs)
	defer stop()
	src := &importSource{ctx: ctx, next: next}
	n := 0
	err := s.writeRuns(ctx, src, func(i int) {
		n++
		if fresh != nil {
			fresh(i)
		}
	})
	if src.panicked != nil {
		panic(src.panicked) // on the caller's goroutine, after the rollback
	}
	switch {
	case src.err != nil:
		return 0, src.err
	case err != nil && ctx.Err() != nil:
		return 0, ctx.Err()
	case err != nil:
		return 0, fmt.Errorf("postgres import runs: %w", classify(err))
	}
	return n, nil
}

// importSource feeds COPY from a pulled sequence of runs. pgx calls Next
// on a goroutine of its own: a panic of the sequence is caught there, ends
// the COPY (the transaction rolls back), and ImportRuns panics with it.
type importSource struct {
	ctx      context.Context
	next     func() (kant.Run, error, bool)
	enc      runEncoder
	i        int
	row      []any
	err      error // the sequence's error, ctx's, or an invalid run's
	panicked any
}

func (src *importSource) Next() (more bool) {
	if src.err != nil {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			src.panicked, src.err, more = p, errors.New("import aborted by a panic"), false
		}
	}()
	r, err, ok := src.next()
	if !ok {
		return false
	}
	if err == nil && src.i%1024 == 0 {
		err = src.ctx.Err()
	}
	if err != nil {
		src.err = err
		return false
	}
	if src.row, err = src.enc.encode(src.i, r); err != nil {
		src.err = invalidRun(src.i, err)
		return false
	}
	src.i++
	return true
}

func (src *importSource) Values() ([]any, error) { return src.row, nil }

func (src *importSource) Err() error { return src.err }

// writeRuns stages the rows of src and stores the new ones in one
// transaction, calling onNew with the ord of each new one, in order,
// before it commits.
func (s *Store) writeRuns(ctx context.Context, src pgx.CopyFromSource, onNew func(int)) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, createStage); err != nil {
			return fmt.Errorf("create staging table: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"kant_stage"}, stageColumns, src); err != nil {
			return err
		}
		if err := src.Err(); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, storeStaged)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ord int64
			if err := rows.Scan(&ord); err != nil {
				return err
			}
			onNew(int(ord))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return nil
	})
}
