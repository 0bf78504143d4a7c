// Package kant holds the vocabulary of the service: run observations, their
// normalized states, job keys, occurrences and verdicts. It does no I/O and
// imports only the standard library; every other package speaks these types.
package kant

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Error codes classify errors so that adapters (HTTP, CLI) can map them to a
// status without string matching.
const (
	EINVALID  = "invalid"   // the caller sent something malformed
	ENOTFOUND = "not_found" // the named thing does not exist
	EINTERNAL = "internal"  // a bug or an outage; details are logged, not returned
	// EUNAVAILABLE: a dependency (the store, a source) cannot answer now,
	// and asking again soon can help: the store is busy or not reachable,
	// or the replica is not the one that may write. HTTP answers 503 with
	// Retry-After.
	EUNAVAILABLE = "unavailable"
	// ECONFLICT: the request contradicts what is stored (a stale write,
	// an existing name).
	ECONFLICT = "conflict"
)

// httpStatuses is the one table from error codes to HTTP statuses, read by
// every part that answers HTTP (the api, the gate, the status page) through
// HTTPStatus. The numbers are net/http's StatusBadRequest and so on,
// written out so that the vocabulary does not import net/http.
var httpStatuses = map[string]int{
	EINVALID:     400, // Bad Request
	ENOTFOUND:    404, // Not Found
	ECONFLICT:    409, // Conflict
	EUNAVAILABLE: 503, // Service Unavailable, with Retry-After (RetryAfterSeconds)
	EINTERNAL:    500, // Internal Server Error: a generic message, the detail logged
}

// HTTPStatus returns the HTTP status that answers err: by the code of the
// first *Error in its chain, 500 for anything else.
func HTTPStatus(err error) int {
	if s, ok := httpStatuses[ErrorCode(err)]; ok {
		return s
	}
	return 500
}

// RetryAfterSeconds returns the Retry-After header value, in whole
// seconds, for an answer to err with status 503: its RetryAfter rounded up,
// and 1 when it names none.
func RetryAfterSeconds(err error) int {
	d := RetryAfter(err)
	if d <= 0 {
		return 1
	}
	return int((d + time.Second - 1) / time.Second)
}

// Error is an error with a code and a message safe to show to the caller.
type Error struct {
	Code    string
	Message string
	// RetryAfter, with EUNAVAILABLE, is how long the caller should wait
	// before asking again; 0 leaves it to the caller.
	RetryAfter time.Duration
	// Err is the underlying cause, for logs and errors.Is/As; its text is
	// never shown to an HTTP caller.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrStoreFull is in the chain of an error from a store that cannot write
// because its disk is full or failing (SQLite's SQLITE_FULL or a write
// I/O error, PostgreSQL's disk_full). It comes as an EUNAVAILABLE error:
// the write changed nothing, and the same write can succeed once space
// returns.
var ErrStoreFull = errors.New("disk full or failing")

// Unavailable returns an EUNAVAILABLE error wrapping cause, saying what
// could not be done; retryAfter may be 0.
func Unavailable(cause error, retryAfter time.Duration, format string, args ...any) *Error {
	return &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf(format, args...), RetryAfter: retryAfter, Err: cause}
}

// RetryAfter returns the RetryAfter of the first *Error in err's chain.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Truncate returns s cut to at most n bytes without splitting a UTF-8
// character: the cut moves back to the start of the character it would
// fall in. The result is always valid UTF-8: each run of bytes of s that
// are not UTF-8 is first replaced by U+FFFD, as a JSON encoder would show
// it, so that a cut never leaves a broken sequence behind.
func Truncate(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, string(utf8.RuneError))
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err: the message of an
// *Error in its chain, or a generic text for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
