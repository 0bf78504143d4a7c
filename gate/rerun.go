package gate

import (
	"time"

	"github.com/kantproject/kant"
)

// opened finds when a job's answer for a date first turned open, and
// whether a newer run came since, from the runs of that date alone (so it
// survives restarts without state of its own). The answer was open at the
// finish of a successful run that was then the latest started: opened is
// the earliest such finish. A run later than that success (a re-run, a
// backfill of the same date) changed the answer since; rerun is its start.
// ok is false when the answer never opened.
func opened(runs []kant.Run, latest *kant.Run) (at time.Time, rerun time.Time, ok bool) {
	var opener *kant.Run
	for i := range runs {
		r := &runs[i]
		if r.State != kant.StateSucceeded {
			continue
		}
		fin := finish(r)
		if opener != nil && !fin.Before(at) {
			continue
		}
		// r opened the answer unless a later run had started by its finish.
		shadowed := false
		for k := range runs {
			if s := &runs[k]; s != r && s.Later(r) && !s.At().After(fin) {
				shadowed = true
				break
			}
		}
		if !shadowed {
			opener, at = r, fin
		}
	}
	if opener == nil {
		return time.Time{}, time.Time{}, false
	}
	if latest != opener && latest.Later(opener) {
		rerun = latest.At().UTC()
	}
	return at.UTC(), rerun, true
}

// finish is when r finished, or when it was seen finished when the source
// gave no finish time.
func finish(r *kant.Run) time.Time {
	if !r.FinishedAt.IsZero() {
		return r.FinishedAt
	}
	return r.ObservedAt
}
