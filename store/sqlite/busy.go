package sqlite

import (
	"errors"
	"fmt"
	"time"

	"github.com/kantproject/kant"

	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyRetryAfter is how long a caller is told to wait when the store is
// busy; fullRetryAfter when its disk is full: space comes back in minutes,
// not milliseconds.
const (
	busyRetryAfter = time.Second
	fullRetryAfter = 10 * time.Second
)

// classify returns err as a kant.Unavailable error when SQLite answered
// SQLITE_BUSY or SQLITE_LOCKED (another connection or process held the lock
// longer than Config.BusyTimeout: kant import beside kant serve), so that
// the HTTP API answers 503 with Retry-After instead of 500; any other error
// is returned as it is. Every read and write the API makes goes through it.
//
// SQLITE_FULL (no space left on the device) and SQLITE_IOERR (a write the
// operating system refused: a file-size limit, a failing disk) are
// kant.ErrStoreFull: the transaction was rolled back, nothing of it is
// visible, and the write can be made again once space returns.
func classify(err error) error {
	var se *driver.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one (SQLITE_BUSY_SNAPSHOT…)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return kant.Unavailable(err, busyRetryAfter, "store busy")
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
			return kant.Unavailable(fmt.Errorf("%w: %w", kant.ErrStoreFull, err), fullRetryAfter, "store cannot write")
		}
	}
	return err
}
