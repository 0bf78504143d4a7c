package gate

import (
	"time"

	"github.com/kantproject/kant"
)

// opened returns when a job's answer for a date first turned open, and the
// start of the run deciding it now when that run came after (a re-run, a
// backfill of the same date): derived from the runs of the date alone
// (kant.FirstOpen), so it survives restarts without state of its own. ok is
// false when the answer never opened.
func opened(runs []kant.Run, latest *kant.Run) (at time.Time, rerun time.Time, ok bool) {
	opener, at := kant.FirstOpen(runs)
	if opener == nil {
		return time.Time{}, time.Time{}, false
	}
	if latest != opener && latest.Later(opener) {
		rerun = latest.At().UTC()
	}
	return at.UTC(), rerun, true
}
