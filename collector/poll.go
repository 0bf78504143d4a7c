package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kantproject/kant"
)

// What every poll shares: the wait between cycles, the summary of a failed
// cycle for source_health, and the versioned JSON of a checkpoint.

// Sleep waits for d, or returns ctx's error when ctx ends first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// NextDelay is the wait before the next cycle: interval after a success or a
// permanent failure (failures == 0), otherwise a full-jitter exponential
// backoff from 1 s, capped at interval, and never under 100 ms. jitter is in
// [0, 1).
func NextDelay(interval time.Duration, failures int, jitter float64) time.Duration {
	if failures <= 0 {
		return interval
	}
	ceiling := time.Second << min(failures-1, 20)
	if ceiling > interval || ceiling <= 0 {
		ceiling = interval
	}
	return max(time.Duration(jitter*float64(ceiling)), 100*time.Millisecond)
}

// HealthMessage summarizes a failed cycle for source_health: the number of
// failures and the first message, cut at limit bytes on a character
// boundary.
func HealthMessage(err error, limit int) string {
	leaves := LeafErrors(err)
	msg := err.Error()
	if len(leaves) > 1 {
		msg = fmt.Sprintf("%d errors; first: %s", len(leaves), leaves[0].Error())
	}
	return kant.Truncate(msg, limit)
}

// LeafErrors flattens err's tree of joined errors (errors.Join) into the
// errors that are not themselves joins, in order. A join wrapped by another
// error counts as one leaf; errors.As still looks inside it.
func LeafErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, LeafErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// DecodeCheckpoint reads a checkpoint saved as JSON whose "v" field is its
// version into cp (a pointer). ok is false when s is empty (no checkpoint
// yet); a checkpoint that does not parse or has another version is an error.
func DecodeCheckpoint(s string, version int, cp any) (ok bool, err error) {
	if s == "" {
		return false, nil
	}
	var v struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return false, err
	}
	if v.V != version {
		return false, fmt.Errorf("checkpoint version %d, want %d", v.V, version)
	}
	if err := json.Unmarshal([]byte(s), cp); err != nil {
		return false, err
	}
	return true, nil
}
