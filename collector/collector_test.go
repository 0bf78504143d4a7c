package collector_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

// writer stores nothing; it returns new as the new observations, or err.
type writer struct {
	new []kant.Run
	err error
}

func (w writer) WriteRuns(context.Context, []kant.Run) ([]kant.Run, error) { return w.new, w.err }

// observer records what it was told.
type observer struct{ got [][]kant.Run }

func (o *observer) Observe(_ context.Context, runs []kant.Run) { o.got = append(o.got, runs) }

func TestSink(t *testing.T) {
	a := kant.Run{Job: "a/x", RunID: "1"}
	b := kant.Run{Job: "a/x", RunID: "2"}
	tests := []struct {
		name     string
		w        writer
		stored   int
		notified int
		wantErr  bool
	}{
		{name: "observers hear of exactly the new observations", w: writer{new: []kant.Run{b}}, stored: 1, notified: 1},
		{name: "a batch of repeats notifies nobody", w: writer{}, stored: 0, notified: 0},
		{name: "a failed write notifies nobody and says so", w: writer{err: errors.New("disk full")}, notified: 0, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o1, o2 := &observer{}, &observer{}
			n, err := collector.NewSink(tt.w, nil, o1, o2).Ingest(context.Background(), []kant.Run{a, b})
			if (err != nil) != tt.wantErr || n != tt.stored {
				t.Fatalf("Ingest = %d, %v", n, err)
			}
			if len(o1.got) != tt.notified || len(o2.got) != tt.notified {
				t.Fatalf("observers told %d and %d times, want %d", len(o1.got), len(o2.got), tt.notified)
			}
			if tt.notified > 0 && (len(o1.got[0]) != 1 || o1.got[0][0].RunID != "2") {
				t.Errorf("observer told %v, want only run 2", o1.got[0])
			}
		})
	}
}

func TestWhenTellsItsObserverOnlyWhileItsConditionHolds(t *testing.T) {
	var got []string
	o := observerFunc(func(_ context.Context, runs []kant.Run) { got = append(got, runs[0].RunID) })
	leading := false
	w := collector.When(func() bool { return leading }, o)
	w.Observe(context.Background(), []kant.Run{{RunID: "1"}})
	leading = true
	w.Observe(context.Background(), []kant.Run{{RunID: "2"}})
	if len(got) != 1 || got[0] != "2" {
		t.Errorf("observed %v, want only [2]", got)
	}
}

func TestSignalWakesWithoutWaiting(t *testing.T) {
	ch := make(chan struct{}, 1)
	s := collector.Signal(ch)
	s.Observe(context.Background(), nil)
	s.Observe(context.Background(), nil) // the channel is full: it does not block
	if len(ch) != 1 {
		t.Errorf("%d signals pending, want 1", len(ch))
	}
}

type observerFunc func(ctx context.Context, runs []kant.Run)

func (f observerFunc) Observe(ctx context.Context, runs []kant.Run) { f(ctx, runs) }
