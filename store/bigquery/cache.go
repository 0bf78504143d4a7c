package bigquery

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// What LatestRuns and Jobs read changes only when job_runs does, and kant
// serve asks the same of it every 30 seconds (the evaluator, per SLO) while
// collectors write every few minutes. So the store keeps their answers
// with the number of rows job_runs held when they were read, and before
// answering asks BigQuery that number again: SELECT COUNT(*) of a whole
// table is answered from metadata and billed nothing. job_runs is
// append-only (a repeat sent again is dropped by its insert ID, adding no
// row), so an unchanged count means unchanged rows and the kept answer is
// exact; any write, by this process or another, changes it. A table whose
// rows someone deleted (partition expiration, a DELETE by hand) while as
// many were added would fool the count: answers are therefore kept at most
// Config.CacheMaxAge.
//
// An answer kept for a filter also answers a narrower one (the same jobs
// or any, each bound as tight or tighter): the alert engine's and the
// gate's windows move with the clock. A filter of some jobs is read for
// every job and kept so: the evaluator reads the same window for each SLO
// in turn, and in BigQuery one read of the window costs at most what a
// read of a part does (every query reads the columns of the whole table,
// at least 10 MiB billed; clustering by job can prune a part's read, not
// below that minimum). The kept runs are bounded in number
// (Config.CacheRuns), the least recently used answer dropped first; once
// an answer for every job did not fit, filters are read as they are.

// runCache is the kept answers. It is safe for concurrent use.
type runCache struct {
	maxRuns int
	maxAge  time.Duration

	mu      sync.Mutex
	entries []*cacheEntry // least recently used first
	runs    int
	jobs    *jobsEntry
	narrow  bool // an answer read for every job was too large to keep
}

// widens reports whether a filter of some jobs is to be read for all.
func (c *runCache) widens() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.narrow
}

type cacheEntry struct {
	f     kant.RunFilter
	count int64 // job_runs rows when read
	at    time.Time
	runs  []kant.Run
}

type jobsEntry struct {
	count int64
	at    time.Time
	jobs  []kant.JobInfo
}

// countRuns asks how many rows job_runs holds.
func (s *Store) countRuns(ctx context.Context) (int64, error) {
	rows, err := s.query(ctx, "SELECT COUNT(*) AS n FROM "+s.table("job_runs"), nil)
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("count runs: unexpected result %v", rows)
	}
	return asInt(rows[0][0]), nil
}

// cacheable reports whether LatestRuns answers for f may be kept: a limit
// cuts an answer that a narrower filter could not be taken from.
func cacheable(f kant.RunFilter) bool { return f.Limit == 0 }

// latest returns the kept runs matching f, read when job_runs held count
// rows, and whether there were any.
func (c *runCache) latest(f kant.RunFilter, count int64, now time.Time) ([]kant.Run, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.entries) - 1; i >= 0; i-- {
		e := c.entries[i]
		if e.count != count || now.Sub(e.at) > c.maxAge || !covers(e.f, f) {
			continue
		}
		c.entries = append(slices.Delete(c.entries, i, i+1), e) // most recently used
		out := make([]kant.Run, 0, len(e.runs))
		for _, r := range e.runs {
			if matches(f, r) && (len(f.Jobs) == 0 || kant.MatchAny(f.Jobs, r.Job)) {
				r.Attributes = maps.Clone(r.Attributes)
				out = append(out, r)
			}
		}
		return out, true
	}
	return nil, false
}

// putLatest keeps runs, the answer for f read when job_runs held count
// rows, and drops the answers read at another count, or the least recently
// used beyond maxRuns.
func (c *runCache) putLatest(f kant.RunFilter, count int64, now time.Time, runs []kant.Run) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = slices.DeleteFunc(c.entries, func(e *cacheEntry) bool {
		if e.count != count || covers(f, e.f) {
			c.runs -= len(e.runs)
			return true
		}
		return false
	})
	if len(runs) > c.maxRuns {
		if len(f.Jobs) == 0 {
			c.narrow = true
		}
		return
	}
	kept := make([]kant.Run, len(runs))
	for i, r := range runs {
		r.Attributes = maps.Clone(r.Attributes)
		kept[i] = r
	}
	c.entries = append(c.entries, &cacheEntry{f: f, count: count, at: now, runs: kept})
	c.runs += len(kept)
	for c.runs > c.maxRuns {
		c.runs -= len(c.entries[0].runs)
		c.entries = slices.Delete(c.entries, 0, 1)
	}
}

// jobList returns the kept Jobs answer when it was read at count.
func (c *runCache) jobList(count int64, now time.Time) ([]kant.JobInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.jobs == nil || c.jobs.count != count || now.Sub(c.jobs.at) > c.maxAge {
		return nil, false
	}
	return slices.Clone(c.jobs.jobs), true
}

func (c *runCache) putJobs(count int64, now time.Time, jobs []kant.JobInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs = &jobsEntry{count: count, at: now, jobs: slices.Clone(jobs)}
}

// covers reports whether every run matching g matches f, so that g's
// answer is f's filtered by matches and g's jobs: f of every job or of the
// same job patterns, and each bound of f absent or no tighter than g's.
func covers(f, g kant.RunFilter) bool {
	if (len(f.Jobs) > 0 && !slices.Equal(f.Jobs, g.Jobs)) || f.Limit != 0 || g.Limit != 0 {
		return false
	}
	lower := func(a, b time.Time) bool { return a.IsZero() || (!b.IsZero() && !b.Before(a)) }
	upper := func(a, b time.Time) bool { return a.IsZero() || (!b.IsZero() && !b.After(a)) }
	lowerDate := func(a, b kant.Date) bool { return a.IsZero() || (!b.IsZero() && !b.Before(a)) }
	upperDate := func(a, b kant.Date) bool { return a.IsZero() || (!b.IsZero() && !b.After(a)) }
	return lowerDate(f.DateFrom, g.DateFrom) && upperDate(f.DateTo, g.DateTo) &&
		lower(f.From, g.From) && upper(f.To, g.To) && lower(f.ObservedFrom, g.ObservedFrom)
}

// matches reports whether LatestRuns(f) would return r, a newest
// observation of a run of f's jobs: LatestRuns's conditions, in Go.
func matches(f kant.RunFilter, r kant.Run) bool {
	if !r.LogicalDate.IsZero() {
		if (!f.DateFrom.IsZero() && r.LogicalDate.Before(f.DateFrom)) || (!f.DateTo.IsZero() && r.LogicalDate.After(f.DateTo)) {
			return false
		}
	} else {
		at := r.At().UnixNano()
		if (!f.From.IsZero() && at < backend.ClampNs(f.From)) || (!f.To.IsZero() && at >= backend.ClampNs(f.To)) {
			return false
		}
	}
	return f.ObservedFrom.IsZero() || r.ObservedAt.UnixNano() >= backend.ClampNs(f.ObservedFrom)
}
