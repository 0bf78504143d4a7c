package bigquery

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
)

// maxInsertRows is how many rows one insertAll request carries at most
// (BigQuery recommends 500).
const maxInsertRows = 500

// flushTimeout bounds one flush, retries included. A flush carries several
// callers' rows, so it does not end when one of them gives up.
const flushTimeout = 5 * time.Minute

// committer sends job_runs rows with group commit. Callers queue their
// batches; one of them at a time, the leader, takes what is queued (up to max
// rows), sends it, reports the outcome to every caller whose rows it carried,
// and hands the lead to the first caller still queued. There is no
// background goroutine: the callers do the work. The queue holds at most max
// rows (a batch larger than that is queued alone); callers beyond it wait.
type committer struct {
	s      *Store
	max    int
	linger time.Duration

	mu      sync.Mutex
	queue   []*batch
	queued  int           // rows in queue
	leading bool          // a leader is flushing or about to
	room    chan struct{} // closed when rows leave the queue
	waiting int           // callers waiting for room
	active  sync.WaitGroup
}

// batch is one caller's rows waiting to be sent.
type batch struct {
	rows  []*runRow
	done  chan error    // the outcome, when another caller sent the rows
	lead  chan struct{} // the lead is handed to this caller
	taken bool          // a leader has taken the rows
}

// write queues rows and returns once they are stored, or with the error
// that stopped them. When ctx ends before a leader has taken the rows they
// are not sent and ctx's error is returned; once taken, write waits for the
// outcome.
func (c *committer) write(ctx context.Context, rows []*runRow) error {
	b := &batch{rows: rows, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	c.mu.Lock()
	for c.queued > 0 && c.queued+len(rows) > c.max {
		if c.room == nil {
			c.room = make(chan struct{})
		}
		room := c.room
		c.waiting++
		c.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			c.mu.Lock()
			c.waiting--
			c.mu.Unlock()
			return ctx.Err()
		}
		c.mu.Lock()
		c.waiting--
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return err
	}
	// Rows are numbered in queue order: what is written later is later.
	seq := c.s.nextSeq(len(rows))
	for i, r := range rows {
		r.vals["seq"] = strconv.FormatInt(seq+int64(i), 10)
	}
	c.queue = append(c.queue, b)
	c.queued += len(rows)
	c.active.Add(1)
	defer c.active.Done()
	leader := !c.leading
	c.leading = true
	c.mu.Unlock()

	if !leader {
		select {
		case err := <-b.done:
			return err
		case <-b.lead:
		case <-ctx.Done():
			c.mu.Lock()
			if b.taken {
				c.mu.Unlock()
				return <-b.done
			}
			c.queue = slices.DeleteFunc(c.queue, func(x *batch) bool { return x == b })
			c.queued -= len(b.rows)
			c.freeRoom()
			select {
			case <-b.lead: // handed the lead meanwhile: pass it on
				c.handOff()
			default:
			}
			c.mu.Unlock()
			return ctx.Err()
		}
	}
	return c.flushAsLeader(ctx, b)
}

// flushAsLeader sends what is queued, own (the head of the queue) first,
// and hands the lead on.
func (c *committer) flushAsLeader(ctx context.Context, own *batch) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if c.linger > 0 {
		c.s.sleep(fctx, c.linger)
	}
	c.mu.Lock()
	var taken []*batch
	var rows []*runRow
	n := 0
	for len(c.queue) > 0 && (n == 0 || n+len(c.queue[0].rows) <= c.max) {
		b := c.queue[0]
		c.queue = c.queue[1:]
		b.taken = true
		taken = append(taken, b)
		n += len(b.rows)
	}
	c.queued -= n
	c.freeRoom()
	c.mu.Unlock()

	// The same observation from two callers is sent once; the later caller
	// does not return it as new.
	ids := make(map[string]bool, n)
	for _, b := range taken {
		for _, r := range b.rows {
			if ids[r.id] {
				r.dup = true
				continue
			}
			ids[r.id] = true
			rows = append(rows, r)
		}
	}
	err := c.send(fctx, rows)
	if err != nil {
		err = fmt.Errorf("insert %d observations: %w", len(rows), err)
	}
	var ownErr error
	for _, b := range taken {
		if b == own {
			ownErr = err
		} else {
			b.done <- err
		}
	}
	c.mu.Lock()
	c.handOff()
	c.mu.Unlock()
	return ownErr // own was the head of the queue, so it was taken
}

// handOff gives the lead to the first queued caller, or ends leadership.
// c.mu is held.
func (c *committer) handOff() {
	if len(c.queue) > 0 {
		c.queue[0].lead <- struct{}{}
		return
	}
	c.leading = false
}

// freeRoom wakes the callers waiting for room. c.mu is held.
func (c *committer) freeRoom() {
	if c.room != nil {
		close(c.room)
		c.room = nil
	}
}

// send inserts rows, maxInsertRows per request, each request retried while
// a retry can help. Insert IDs make a retried request store nothing twice.
func (c *committer) send(ctx context.Context, rows []*runRow) error {
	ins := c.s.client.Dataset(c.s.dataset).Table("job_runs").Inserter()
	for chunk := range slices.Chunk(rows, maxInsertRows) {
		savers := make([]bigquery.ValueSaver, len(chunk))
		for i, r := range chunk {
			savers[i] = r
		}
		if err := c.s.retry(ctx, "insert runs", func(ctx context.Context) error { return ins.Put(ctx, savers) }); err != nil {
			return err
		}
	}
	return nil
}

// wait returns when no write is in flight.
func (c *committer) wait() { c.active.Wait() }
