package kant

import (
	"encoding/json"
	"fmt"
	"strings"
)

// State is the normalized state of a run. The source's own state is kept next
// to it in Run.SourceState.
type State string

// The normalized run states.
const (
	StateQueued         State = "queued"
	StateRunning        State = "running"
	StateSucceeded      State = "succeeded"
	StateFailed         State = "failed"
	StateTimeout        State = "timeout"
	StateStopped        State = "stopped"
	StateSkipped        State = "skipped"
	StateUpstreamFailed State = "upstream_failed"
	StateUnknown        State = "unknown"
)

// States lists every valid state, in lifecycle order.
var States = []State{
	StateQueued, StateRunning, StateSucceeded, StateFailed, StateTimeout,
	StateStopped, StateSkipped, StateUpstreamFailed, StateUnknown,
}

// ParseState returns the State named s, or an EINVALID error listing the
// valid names.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	names := make([]string, len(States))
	for i, st := range States {
		names[i] = string(st)
	}
	return "", Errorf(EINVALID, "unknown state %q (valid: %s)", s, strings.Join(names, ", "))
}

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	_, err := ParseState(string(s))
	return err == nil
}

// Terminal reports whether a run in state s will not change state again on
// its own: succeeded, failed, timeout, stopped, skipped or upstream_failed.
func (s State) Terminal() bool {
	switch s {
	case StateSucceeded, StateFailed, StateTimeout, StateStopped, StateSkipped, StateUpstreamFailed:
		return true
	}
	return false
}

// Failed reports whether s is terminal and not a success. A skipped run is
// counted as not succeeded: the job did not produce its output.
func (s State) Failed() bool { return s.Terminal() && s != StateSucceeded }

// Active reports whether a run in state s has not finished: queued, running,
// or unknown (a source state kant does not know is treated as not finished).
func (s State) Active() bool { return !s.Terminal() }

// UnmarshalJSON rejects unknown state names.
func (s *State) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("state must be a string")
	}
	st, err := ParseState(str)
	if err != nil {
		return err
	}
	*s = st
	return nil
}
