package alert

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// Log is the store's log of observations (store.Follower): every
// observation any process stored, read after a cursor; the empty cursor
// returns none, only the cursor of what is stored so far.
type Log interface {
	ObservationsAfter(ctx context.Context, cursor string, limit int) ([]kant.Run, string, error)
}

// logBatch is how many observations one read of the log returns at most.
const logBatch = 5000

// insertAtMost is how many runs recentRuns.apply inserts one by one; more
// are appended and the whole sorted again.
const insertAtMost = 32

// recentRuns is the engine's copy of the lookback window's runs, what
// Reader.LatestRuns returns for it, kept from one tick to the next by the
// store's log. A tick reads the observations stored since the last one
// (a few, or none) instead of the window's runs again: 80,000 at 10,000
// jobs, read and dropped every tick.
//
// It holds the newest observation of every run (by ObservedAt, the later
// in the log on a tie, as the stores keep it) whose logical date is on or
// after dateFrom, or, without one, whose At() is on or after from, ordered
// as LatestRuns orders (At, then Job, RunID, Attempt, bytewise). It keeps
// the runs dated after the window's end too, which a later window takes
// in.
type recentRuns struct {
	cursor   string
	dateFrom kant.Date
	from     time.Time
	runs     []kant.Run
}

// primeRuns reads the log's cursor, then the runs of the window from
// dateFrom (dated) and from (undated) on: an observation stored between
// the two reads is both in the runs and after the cursor, and applying it
// again changes nothing.
func primeRuns(ctx context.Context, log Log, r Reader, dateFrom kant.Date, from time.Time) (*recentRuns, error) {
	_, cursor, err := log.ObservationsAfter(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	runs, err := r.LatestRuns(ctx, kant.RunFilter{DateFrom: dateFrom, From: from})
	if err != nil {
		return nil, err
	}
	c := &recentRuns{cursor: cursor, dateFrom: dateFrom, from: from, runs: runs}
	// The store's order, made exactly the one apply keeps.
	slices.SortFunc(c.runs, byAt)
	return c, nil
}

// catchUp applies what the log holds after c's cursor, and reports
// whether it did: false when the log holds more observations than c holds
// runs (an import, a long pause), which reading the window again costs
// less than. On an error, or false, c holds what it applied, with the
// cursor of it.
func (c *recentRuns) catchUp(ctx context.Context, log Log) (bool, error) {
	read, held := 0, len(c.runs)
	for {
		obs, next, err := log.ObservationsAfter(ctx, c.cursor, logBatch)
		if err != nil {
			return false, err
		}
		c.apply(obs)
		c.cursor = next
		if len(obs) < logBatch {
			return true, nil
		}
		if read += len(obs); read > held {
			return false, nil
		}
	}
}

// holds reports whether r is within c's window's lower bounds.
func (c *recentRuns) holds(r *kant.Run) bool {
	if !r.LogicalDate.IsZero() {
		return !r.LogicalDate.Before(c.dateFrom)
	}
	return !r.At().Before(c.from)
}

// apply merges observations, in the log's order, into c.
func (c *recentRuns) apply(obs []kant.Run) {
	if len(obs) == 0 {
		return
	}
	fresh := make(map[kant.RunKey]kant.Run, len(obs))
	for _, o := range obs {
		k := o.Key()
		if cur, ok := fresh[k]; !ok || !o.ObservedAt.Before(cur.ObservedAt) {
			fresh[k] = o
		}
	}
	// The runs held that a fresh observation replaces are taken out (and
	// put back below if it is still within the window); those it does not
	// replace, an older observation stored later, stay.
	c.runs = slices.DeleteFunc(c.runs, func(r kant.Run) bool {
		o, ok := fresh[r.Key()]
		if !ok {
			return false
		}
		if o.ObservedAt.Before(r.ObservedAt) {
			delete(fresh, r.Key())
			return false
		}
		return true
	})
	added := make([]kant.Run, 0, len(fresh))
	for _, o := range fresh {
		if c.holds(&o) {
			added = append(added, o)
		}
	}
	if len(added) > insertAtMost {
		c.runs = append(c.runs, added...)
		slices.SortFunc(c.runs, byAt)
		return
	}
	for _, r := range added {
		i, _ := slices.BinarySearchFunc(c.runs, r, byAt)
		c.runs = slices.Insert(c.runs, i, r)
	}
}

// window moves c's lower bounds on to dateFrom and from (neither before
// c's: Engine.recent reads a window that begins earlier afresh), dropping
// the runs that left it, and returns the runs of the window up to dateTo:
// c's own slice unless runs are dated after it. The caller must not modify
// them.
func (c *recentRuns) window(dateFrom, dateTo kant.Date, from time.Time) []kant.Run {
	if c.dateFrom != dateFrom || !c.from.Equal(from) {
		c.dateFrom, c.from = dateFrom, from
		c.runs = slices.DeleteFunc(c.runs, func(r kant.Run) bool { return !c.holds(&r) })
	}
	ahead := func(r kant.Run) bool { return !r.LogicalDate.IsZero() && r.LogicalDate.After(dateTo) }
	if !slices.ContainsFunc(c.runs, ahead) {
		return c.runs
	}
	return slices.DeleteFunc(slices.Clone(c.runs), ahead)
}

// byAt orders runs as the stores' LatestRuns does.
func byAt(a, b kant.Run) int {
	return cmp.Or(a.At().Compare(b.At()), strings.Compare(string(a.Job), string(b.Job)),
		strings.Compare(a.RunID, b.RunID), cmp.Compare(a.Attempt, b.Attempt))
}
