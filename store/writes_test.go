package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store"
)

// failing is a Store whose writes answer err; its other methods are not
// called.
type failing struct {
	store.Store
	err error
}

func (f *failing) WriteRuns(context.Context, []kant.Run) ([]kant.Run, error)   { return nil, f.err }
func (f *failing) SetCheckpoint(context.Context, string, string, string) error { return f.err }
func (f *failing) Fenced(kant.Fence) store.Store                               { return f }

func TestWritesFollowsWhetherTheStoreTakesWrites(t *testing.T) {
	full := kant.Unavailable(fmt.Errorf("%w: disk I/O error", kant.ErrStoreFull), 10*time.Second, "store cannot write")
	busy := kant.Unavailable(errors.New("database is locked"), time.Second, "store busy")
	bad := kant.Errorf(kant.EINVALID, "runs[0]: job is required")
	for _, tc := range []struct {
		name    string
		results []error // of successive writes
		failing bool
		changes int
	}{
		{"writes that succeed say nothing", []error{nil, nil}, false, 0},
		{"a write on a full disk marks the store failing", []error{nil, full}, true, 1},
		{"more writes on a full disk are one failure", []error{full, full, full}, true, 1},
		{"a write that succeeds after a full disk marks it writing again", []error{full, full, nil}, false, 2},
		{"a busy store or a bad request says nothing about the disk", []error{busy, bad}, false, 0},
		{"a bad request on a full disk does not clear the failure", []error{full, bad}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
			w := store.NewWrites(func() time.Time { return clock })
			st := &failing{}
			s := store.Watch(st, w)
			changes := 0
			for i, err := range tc.results {
				clock = clock.Add(time.Minute)
				st.err = err
				if i%2 == 0 {
					s.WriteRuns(t.Context(), nil)
				} else {
					s.Fenced(kant.Fence{}).SetCheckpoint(t.Context(), "glue", "job", "x")
				}
				select {
				case <-w.Changed():
					changes++
				default:
				}
			}
			err, _ := w.Failure()
			if (err != nil) != tc.failing || changes != tc.changes {
				t.Errorf("failure %v after %d changes, want failing %v after %d", err, changes, tc.failing, tc.changes)
			}
		})
	}
}
