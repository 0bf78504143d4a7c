package sqlite

import (
	"errors"
	"time"

	"github.com/kantproject/kant"

	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyRetryAfter is how long a caller is told to wait when the store is busy.
const busyRetryAfter = time.Second

// classify returns err as a kant.Unavailable error when SQLite answered
// SQLITE_BUSY or SQLITE_LOCKED (another connection or process held the lock
// longer than Config.BusyTimeout: kant import beside kant serve), so that
// the HTTP API answers 503 with Retry-After instead of 500; any other error
// is returned as it is. Every read and write the API makes goes through it.
func classify(err error) error {
	var se *driver.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one (SQLITE_BUSY_SNAPSHOT…)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return kant.Unavailable(err, busyRetryAfter, "store busy")
		}
	}
	return err
}
