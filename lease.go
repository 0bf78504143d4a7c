package kant

import (
	"errors"
	"fmt"
	"time"
)

// LeaderLease names the lease kant serve replicas elect their leader by.
const LeaderLease = "leader"

// Lease is a named lease kept in the store: who holds it, since when, until
// when, and its generation, a fencing token that grows each time the lease
// is taken anew (by another holder, or by the same one after it expired).
// Writes only the holder may make carry the generation (a Fence), and the
// store refuses them once a newer generation exists.
type Lease struct {
	Name       string    `json:"name"`
	Holder     string    `json:"holder"`
	Generation int64     `json:"generation"`
	Since      time.Time `json:"since"`   // when Holder took it
	Expires    time.Time `json:"expires"` // when it ends unless renewed
}

// HeldBy reports whether holder holds l at now.
func (l Lease) HeldBy(holder string, now time.Time) bool {
	return holder != "" && l.Holder == holder && now.Before(l.Expires)
}

// Held reports whether anyone holds l at now.
func (l Lease) Held(now time.Time) bool { return l.Holder != "" && now.Before(l.Expires) }

// Fence is carried by the writes only a lease's holder may make (claiming
// an alert for delivery, recording a post, advancing a checkpoint): the
// lease and the generation the writer holds it at.
type Fence struct {
	Lease      string
	Generation int64
}

// ErrFenced is the cause of the ECONFLICT error a store returns for a
// fenced write whose generation is no longer the lease's newest:
// errors.Is(err, ErrFenced) tells that this process lost the lease and must
// stop the work it did as its holder.
var ErrFenced = errors.New("fenced: the lease has a newer generation")

// Fenced returns the error of a write refused because f is stale: the
// lease is at generation current.
func Fenced(f Fence, current int64) *Error {
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf("lease %q is at generation %d, newer than this writer's %d: it is no longer the holder",
		f.Lease, current, f.Generation), Err: ErrFenced}
}

// CheckLeaseArgs validates the arguments of a lease call (for backends).
func CheckLeaseArgs(name, holder string, ttl time.Duration) error {
	switch {
	case name == "":
		return Errorf(EINVALID, "lease: name required")
	case holder == "":
		return Errorf(EINVALID, "lease %q: holder required", name)
	case ttl <= 0:
		return Errorf(EINVALID, "lease %q: ttl must be positive", name)
	}
	return nil
}
