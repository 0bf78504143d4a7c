package gate

import (
	"time"

	"github.com/kantproject/kant"
)

// setOpened sets when ja's job first answered open for the date, and the
// start of latest when it came after (a re-run, a backfill of the same
// date): derived from the runs of the date alone (kant.FirstOpen), so it
// survives restarts without state of its own. It allocates nothing in the
// common case, a job done once: opened_at is then its finish.
func setOpened(ja *JobAnswer, runs []kant.Run, latest *kant.Run) {
	opener, at := kant.FirstOpen(runs)
	switch {
	case opener == nil:
	case opener == latest && ja.FinishedAt != nil && ja.FinishedAt.Equal(at):
		ja.OpenedAt = ja.FinishedAt
	default:
		ts := &[2]time.Time{at.UTC(), latest.At().UTC()}
		ja.OpenedAt = &ts[0]
		if opener != latest && latest.Later(opener) {
			ja.ChangedSinceOpen, ja.RerunAt = true, &ts[1]
		}
	}
}
