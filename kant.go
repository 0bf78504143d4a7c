// Package kant holds the vocabulary of the service: run observations, their
// normalized states, job keys, occurrences and verdicts. It does no I/O and
// imports only the standard library; every other package speaks these types.
package kant

import (
	"errors"
	"fmt"
)

// Error codes classify errors so that adapters (HTTP, CLI) can map them to a
// status without string matching.
const (
	EINVALID  = "invalid"   // the caller sent something malformed
	ENOTFOUND = "not_found" // the named thing does not exist
	EINTERNAL = "internal"  // a bug or an outage; details are logged, not returned
)

// Error is an error with a code and a message safe to show to the caller.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

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
