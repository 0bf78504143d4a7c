package sqlite

import (
	"cmp"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/kantproject/kant"
)

// WriteRuns appends the observations of runs that are new and returns them,
// validated, in input order. An invalid run fails the batch with an EINVALID
// error naming its index.
func (db *DB) WriteRuns(ctx context.Context, runs []kant.Run) ([]kant.Run, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	isNew := make([]bool, len(runs))
	err := db.writeRuns(ctx, ctx, func(w *runWriter) error {
		w.onNew = func(i int) { isNew[i] = true }
		for i, r := range runs {
			if err := w.add(i, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite write runs: %w", classify(err))
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
// naming its index.
//
// The sequence is consumed on the calling goroutine, which validates and
// encodes the runs while another goroutine inserts them; both have ended
// when ImportRuns returns.
func (db *DB) ImportRuns(ctx context.Context, runs iter.Seq2[kant.Run, error], fresh func(index int)) (int, error) {
	const chunkSize = 256
	var (
		chunks  = make(chan []encodedRun, 4) // encoded runs, to the writer
		free    = make(chan []encodedRun, 6) // spent chunks, back for reuse
		stopped = make(chan struct{})        // the writer has ended
		n       int                          // new observations
		werr    error                        // the writer's error
		perr    error                        // the producer's error, returned as it is
	)
	go func() {
		defer close(stopped)
		// A statement call with a cancellable context costs the driver a
		// watcher goroutine, so the statements run without cancellation
		// and the producer checks ctx instead.
		werr = db.writeRuns(ctx, context.WithoutCancel(ctx), func(w *runWriter) error {
			w.onNew = func(i int) {
				n++
				if fresh != nil {
					fresh(i)
				}
			}
			for c := range chunks {
				for i := range c {
					if err := w.addEncoded(c[i]); err != nil {
						return err
					}
				}
				select {
				case free <- c[:0]:
				default:
				}
			}
			if perr != nil {
				return perr // roll back
			}
			return nil
		})
	}()

	var enc runEncoder
	chunk := make([]encodedRun, 0, chunkSize)
	send := func() bool {
		select {
		case chunks <- chunk:
		case <-stopped:
			return false
		}
		select {
		case chunk = <-free:
		default:
			chunk = make([]encodedRun, 0, chunkSize)
		}
		return true
	}
	// If runs panics, the writer must still roll back and end before the
	// panic goes on.
	finished := false
	defer func() {
		if !finished {
			perr = errors.New("import aborted")
			close(chunks)
			<-stopped
		}
	}()
	i := 0
	for r, err := range runs {
		if err == nil && i%1024 == 0 {
			err = ctx.Err()
		}
		if err != nil {
			perr = err
			break
		}
		x, err := enc.encode(i, r)
		if err != nil {
			perr = invalidRun(i, err)
			break
		}
		chunk = append(chunk, x)
		if len(chunk) == chunkSize && !send() {
			break
		}
		i++
	}
	if perr == nil && len(chunk) > 0 {
		send()
	}
	finished = true
	close(chunks) // after perr is set: the writer reads it once chunks is drained
	<-stopped
	switch {
	case perr != nil:
		return 0, perr
	case werr != nil && ctx.Err() != nil:
		return 0, ctx.Err()
	case werr != nil:
		return 0, fmt.Errorf("sqlite import runs: %w", classify(werr))
	}
	return n, nil
}

// writeRuns runs fn with a runWriter in one write transaction, and commits
// when fn returns nil and ctx is not done. It drives the driver connection
// directly: at a million rows, database/sql's per-call work is noticeable.
// The transaction is begun and committed under ctx; the writer's statements
// run under stmtCtx.
func (db *DB) writeRuns(ctx, stmtCtx context.Context, fn func(*runWriter) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) (err error) {
		c, ok := dc.(driverConn)
		if !ok {
			return fmt.Errorf("driver connection %T lacks BeginTx or PrepareContext", dc)
		}
		tx, err := c.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return err
		}
		w := newRunWriter(stmtCtx, c)
		defer func() {
			w.close()
			if err != nil {
				tx.Rollback()
			}
		}()
		if err := fn(w); err != nil {
			return err
		}
		if err := w.finish(); err != nil {
			return err
		}
		w.close()
		if err := ctx.Err(); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// driverConn is what writeRuns needs of the driver's connection.
type driverConn interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

// Rows per statement: several rows per call spare the driver's per-call
// work, which at a million rows is as much as SQLite's own. A multi-row
// upsert also copies each page it changes to a statement journal once, so
// that larger run_current upserts copy fewer pages per run.
const (
	insertBatch  = 64      // observations per INSERT
	insertTail   = 16      // observations per INSERT of the last few
	currentBatch = 256     // runs per run_current upsert
	currentTail  = 16      // runs per run_current upsert of the last few
	currentSteps = 1       // run_current upserts after each INSERT, once due
	flushRuns    = 1 << 16 // runs collected before they are written to run_current
)

// runWriter inserts observations in a transaction and keeps run_current and
// jobs up to date with the new ones. It looks up each job's id once, adding
// the jobs the store lacks, and collects the new observations and the
// earliest At and date of each job; it writes the newest observation of
// each run in key order when it has collected enough of them and at the
// end: run by run upserts as the rows go in would cost as much as the
// inserts themselves.
type runWriter struct {
	ctx   context.Context
	conn  driverConn
	enc   runEncoder
	onNew func(index int) // called for each new observation, in input order

	pending []encodedRun // encoded, not yet inserted
	vals    []any

	insert, current, job *batchStmt
	inserted             driver.Stmt // SELECT of rows inserted by a partly ignored INSERT
	jobID                driver.Stmt // SELECT of a job's id

	runs   []current // collected, in insert order
	spare  []current // the buffer of the runs sorted before
	sorted []current // the runs sorted, yet to be written
	jobs   map[int64]*firstSeen
	jobIDs map[string]int64 // jobs.id of the jobs met
}

// current is a new observation of a run, as run_current points at it.
type current struct {
	ref              runRef
	id               int64
	observedNs, atNs int64
	logicalDate      any // string or nil
}

// firstSeen is the earliest At and logical date of a job's new observations.
type firstSeen struct {
	job    string
	source string
	at     string
	date   any // string or nil
}

func newRunWriter(ctx context.Context, conn driverConn) *runWriter {
	return &runWriter{
		ctx:  ctx,
		conn: conn,
		insert: &batchStmt{conn: conn, cols: runArgs, head: `INSERT OR IGNORE INTO job_runs (
	source, job, run_id, attempt, max_attempts, state, source_state, logical_date,
	started_at, finished_at, duration_s, error_message, observed_at,
	attributes, job_id, obs_hash
) VALUES `},
		current: &batchStmt{conn: conn, cols: 6, head: `INSERT INTO run_current (
	job_id, run_key, run_rowid, observed_ns, at_ns, logical_date
) VALUES `, tail: `
ON CONFLICT (job_id, run_key) DO UPDATE SET
	run_rowid = excluded.run_rowid,
	observed_ns = excluded.observed_ns,
	at_ns = excluded.at_ns,
	logical_date = excluded.logical_date
WHERE excluded.observed_ns >= run_current.observed_ns`},
		job: &batchStmt{conn: conn, cols: 4, head: `INSERT INTO jobs (job, source, first_at, first_date) VALUES `, tail: `
ON CONFLICT (job) DO UPDATE SET
	first_at = min(jobs.first_at, excluded.first_at),
	first_date = coalesce(min(jobs.first_date, excluded.first_date), jobs.first_date, excluded.first_date)
WHERE excluded.first_at < jobs.first_at
	OR excluded.first_date < jobs.first_date
	OR (jobs.first_date IS NULL AND excluded.first_date IS NOT NULL)`},
		pending: make([]encodedRun, 0, insertBatch),
		jobs:    make(map[int64]*firstSeen),
		jobIDs:  make(map[string]int64),
	}
}

// add validates and encodes r, the index-th run of the batch, and inserts it
// with the next few unless the store has the same observation.
func (w *runWriter) add(index int, r kant.Run) error {
	x, err := w.enc.encode(index, r)
	if err != nil {
		return invalidRun(index, err)
	}
	return w.addEncoded(x)
}

// addEncoded is add for a run already encoded.
func (w *runWriter) addEncoded(x encodedRun) error {
	id, ok := w.jobIDs[x.job]
	if !ok {
		var err error
		if id, err = w.lookupJob(&x); err != nil {
			return err
		}
		w.jobIDs[x.job] = id
	}
	x.ref.jobID = id
	x.args[jobIDArg] = id
	w.pending = append(w.pending, x)
	if len(w.pending) == insertBatch {
		return w.flushInserts()
	}
	return nil
}

// lookupJob returns the id of x's job, adding the job to jobs, with x's At
// and date as its first ones, when it is not there: a job the store does
// not know has no stored observation, so x is new. finish brings the first
// At and date of every job down to those of its new observations.
func (w *runWriter) lookupJob(x *encodedRun) (int64, error) {
	if w.jobID == nil {
		var err error
		if w.jobID, err = w.conn.PrepareContext(w.ctx, `SELECT id FROM jobs WHERE job = ?`); err != nil {
			return 0, err
		}
	}
	rows, err := w.jobID.(driver.StmtQueryContext).QueryContext(w.ctx, []driver.NamedValue{{Ordinal: 1, Value: x.job}})
	if err != nil {
		return 0, fmt.Errorf("job id: %w", err)
	}
	dest := make([]driver.Value, 1)
	err = rows.Next(dest)
	rows.Close()
	switch {
	case err == nil:
		id, _ := dest[0].(int64)
		return id, nil
	case !errors.Is(err, io.EOF):
		return 0, fmt.Errorf("job id: %w", err)
	}
	res, err := w.job.exec(w.ctx, []any{x.job, kant.JobKey(x.job).Source(), x.at, x.logicalDate})
	if err != nil {
		return 0, fmt.Errorf("add job: %w", err)
	}
	return res.LastInsertId()
}

// invalidRun reports a bad run in a batch by its index.
func invalidRun(i int, err error) error {
	return kant.Errorf(kant.EINVALID, "runs[%d]: %s", i, kant.ErrorMessage(err))
}

// flushInserts inserts the pending observations, insertBatch rows per
// statement and what is left in statements of insertTail rows, then one,
// and writes some of the runs collected to run_current.
func (w *runWriter) flushInserts() error {
	p := w.pending
	w.pending = w.pending[:0]
	for len(p) > 0 {
		n := rowsPerStatement(len(p), insertBatch, insertTail)
		if err := w.insertRows(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return w.writeSomeRuns()
}

// insertRows inserts p with one statement and collects the new ones.
func (w *runWriter) insertRows(p []encodedRun) error {
	w.vals = w.vals[:0]
	for i := range p {
		w.vals = append(w.vals, p[i].args[:]...)
	}
	res, err := w.insert.exec(w.ctx, w.vals)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return err
	}
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if int(n) == len(p) {
		// Every row was new. A rowid table without AUTOINCREMENT gives each
		// inserted row the largest rowid plus one, so they are consecutive.
		for i := range p {
			w.collect(&p[i], last-int64(len(p)-1-i))
		}
		return nil
	}
	return w.collectSome(p, last-n)
}

// collectSome finds which of p a multi-row INSERT stored after the row with
// id after: the rows it inserted follow in input order, each matching the
// first remaining observation with its run and hash.
func (w *runWriter) collectSome(p []encodedRun, after int64) error {
	if w.inserted == nil {
		var err error
		w.inserted, err = w.conn.PrepareContext(w.ctx,
			`SELECT id, job_id, run_id, attempt, obs_hash FROM job_runs WHERE id > ? ORDER BY id`)
		if err != nil {
			return err
		}
	}
	rows, err := w.inserted.(driver.StmtQueryContext).QueryContext(w.ctx, []driver.NamedValue{{Ordinal: 1, Value: after}})
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, 5)
	j := 0
	for {
		if err := rows.Next(dest); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		for j < len(p) && !(dest[1] == p[j].ref.jobID && dest[2] == p[j].runID &&
			dest[3] == p[j].attempt && dest[4] == p[j].hash) {
			j++
		}
		if j == len(p) {
			return fmt.Errorf("inserted observation %v matches no input", dest[0])
		}
		id, _ := dest[0].(int64)
		w.collect(&p[j], id)
		j++
	}
}

// collect records that x was stored with the given id.
func (w *runWriter) collect(x *encodedRun, id int64) {
	w.onNew(x.index)
	w.runs = append(w.runs, current{ref: x.ref, id: id, observedNs: x.observedNs, atNs: x.atNs, logicalDate: x.logicalDate})
	if f := w.jobs[x.ref.jobID]; f == nil {
		w.jobs[x.ref.jobID] = &firstSeen{job: x.job, source: kant.JobKey(x.job).Source(), at: x.at, date: x.logicalDate}
	} else {
		f.at = min(f.at, x.at)
		if d, ok := x.logicalDate.(string); ok {
			if fd, ok := f.date.(string); !ok || d < fd {
				f.date = d
			}
		}
	}
}

// writeSomeRuns writes run_current as the rows go in, so that the inserts
// never wait for all of it: once flushRuns runs are collected it sorts
// them, then writes currentSteps statements of them after each INSERT. At
// that pace they are written before as many more are collected, so that
// each run is written in the order it was collected.
func (w *runWriter) writeSomeRuns() error {
	if len(w.sorted) == 0 && len(w.runs) >= flushRuns {
		w.sortRuns()
	}
	n := min(len(w.sorted), currentSteps*currentBatch)
	err := w.writeCurrent(w.sorted[:n])
	w.sorted = w.sorted[n:]
	return err
}

// sortRuns moves the newest of the collected observations of each run to
// sorted, in key order: the one observed last, of those observed at the
// same time the one inserted last (the greatest id).
func (w *runWriter) sortRuns() {
	cur := w.runs
	slices.SortFunc(cur, func(a, b current) int {
		return cmp.Or(cmp.Compare(a.ref.jobID, b.ref.jobID), cmp.Compare(a.ref.key, b.ref.key),
			cmp.Compare(a.observedNs, b.observedNs), cmp.Compare(a.id, b.id))
	})
	newest := cur[:0]
	for i := range cur {
		if i+1 < len(cur) && cur[i+1].ref == cur[i].ref {
			continue
		}
		newest = append(newest, cur[i])
	}
	w.sorted = newest
	w.runs, w.spare = w.spare[:0], cur
}

// writeCurrent writes cur to run_current, currentBatch runs per statement
// and what is left in statements of currentTail runs, then one. The upsert
// keeps a current observation that was observed later; ties go to the one
// written, inserted later.
func (w *runWriter) writeCurrent(cur []current) error {
	for len(cur) > 0 {
		n := rowsPerStatement(len(cur), currentBatch, currentTail)
		if err := w.upsertCurrent(cur[:n]); err != nil {
			return err
		}
		cur = cur[n:]
	}
	return nil
}

// rowsPerStatement returns how many of n rows left the next statement
// writes: batch while there are as many, then tail, then one. Each row
// count is a statement prepared once.
func rowsPerStatement(n, batch, tail int) int {
	switch {
	case n >= batch:
		return batch
	case n >= tail:
		return tail
	}
	return 1
}

func (w *runWriter) upsertCurrent(cur []current) error {
	w.vals = w.vals[:0]
	for _, c := range cur {
		w.vals = append(w.vals, c.ref.jobID, c.ref.key, c.id, c.observedNs, c.atNs, c.logicalDate)
	}
	if _, err := w.current.exec(w.ctx, w.vals); err != nil {
		return fmt.Errorf("update current runs: %w", err)
	}
	return nil
}

// finish inserts what is pending and writes what the writer has collected.
func (w *runWriter) finish() error {
	if err := w.flushInserts(); err != nil {
		return err
	}
	if err := w.writeCurrent(w.sorted); err != nil {
		return err
	}
	w.sortRuns()
	if err := w.writeCurrent(w.sorted); err != nil {
		return err
	}
	w.sorted = nil
	jobs := slices.SortedFunc(maps.Values(w.jobs), func(a, b *firstSeen) int { return cmp.Compare(a.job, b.job) })
	for _, f := range jobs {
		if _, err := w.job.exec(w.ctx, []any{f.job, f.source, f.at, f.date}); err != nil {
			return fmt.Errorf("update jobs: %w", err)
		}
	}
	clear(w.jobs)
	return nil
}

// close closes the writer's statements.
func (w *runWriter) close() {
	w.insert.close()
	w.current.close()
	w.job.close()
	for _, st := range []*driver.Stmt{&w.inserted, &w.jobID} {
		if *st != nil {
			(*st).Close()
			*st = nil
		}
	}
}

// batchStmt is an INSERT of one or more rows of cols values each: head, the
// rows' placeholders, tail. It prepares one statement per row count used.
type batchStmt struct {
	conn       driver.ConnPrepareContext
	head, tail string
	cols       int
	stmts      map[int]driver.Stmt
	args       []driver.NamedValue
}

// exec runs the statement for len(vals)/cols rows.
func (b *batchStmt) exec(ctx context.Context, vals []any) (driver.Result, error) {
	rows := len(vals) / b.cols
	st := b.stmts[rows]
	if st == nil {
		row := "(?" + strings.Repeat(", ?", b.cols-1) + ")"
		q := b.head + row + strings.Repeat(", "+row, rows-1) + b.tail
		var err error
		if st, err = b.conn.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		if b.stmts == nil {
			b.stmts = make(map[int]driver.Stmt)
		}
		b.stmts[rows] = st
	}
	b.args = b.args[:0]
	for i, v := range vals {
		b.args = append(b.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return st.(driver.StmtExecContext).ExecContext(ctx, b.args)
}

func (b *batchStmt) close() {
	for _, st := range b.stmts {
		st.Close()
	}
	clear(b.stmts)
}
