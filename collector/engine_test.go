package collector_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/collector/collectortest"
)

var t0 = time.Date(2026, 6, 10, 3, 0, 0, 0, time.UTC)

// fakeSource polls with its poll function.
type fakeSource struct {
	poll func(ctx context.Context, c *collector.Cycle) error
}

func (fakeSource) Name() string { return "src" }
func (f fakeSource) Poll(ctx context.Context, c *collector.Cycle) error {
	return f.poll(ctx, c)
}

// emitting is a source that emits one unit per key, with one run each and
// the checkpoint "<key>@<n>" where n counts the cycles.
func emitting(keys ...string) fakeSource {
	n := 0
	return fakeSource{poll: func(ctx context.Context, c *collector.Cycle) error {
		n++
		var errs []error
		for _, k := range keys {
			u := collector.Unit{Key: k, Runs: []kant.Run{{Source: "src", Job: kant.JobKey("src/" + k), RunID: fmt.Sprint(n)}}, Next: fmt.Sprintf("%s@%d", k, n)}
			errs = append(errs, c.Emit(ctx, u))
		}
		return errors.Join(errs...)
	}}
}

type parts struct {
	cps    *collectortest.Checkpoints
	health *collectortest.Health
	runs   *collectortest.Ingester
	clock  *collectortest.Clock
	sleeps *collectortest.Sleeps
	cfg    collector.EngineConfig
}

func newParts(src collector.Source) *parts {
	p := &parts{cps: &collectortest.Checkpoints{}, health: &collectortest.Health{}, runs: &collectortest.Ingester{},
		clock: collectortest.NewClock(t0), sleeps: &collectortest.Sleeps{}}
	p.cfg = collector.EngineConfig{Source: src, Ingester: p.runs, Checkpoints: p.cps, Health: p.health,
		Interval: time.Minute, Now: p.clock.Now, Sleep: p.sleeps.Sleep}
	return p
}

func (p *parts) engine(t *testing.T) *collector.Engine {
	t.Helper()
	e, err := collector.NewEngine(p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// orderedIngester fails the test when the checkpoint of the unit it stores
// was saved before the runs.
type orderedIngester struct {
	t   *testing.T
	cps *collectortest.Checkpoints
	collectortest.Ingester
}

func (o *orderedIngester) Ingest(ctx context.Context, runs []kant.Run) (int, error) {
	if v := o.cps.Get("src", "a"); v != "" {
		o.t.Errorf("checkpoint %q saved before its runs were stored", v)
	}
	return o.Ingester.Ingest(ctx, runs)
}

func TestACheckpointIsSavedOnlyAfterItsRunsAreStored(t *testing.T) {
	p := newParts(emitting("a"))
	p.cfg.Ingester = &orderedIngester{t: t, cps: p.cps}
	if n, err := p.engine(t).PollOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("PollOnce = %d, %v", n, err)
	}
	if got := p.cps.Get("src", "a"); got != "a@1" {
		t.Errorf("checkpoint = %q, want a@1", got)
	}
}

func TestAFailedIngestKeepsTheOldCheckpoint(t *testing.T) {
	p := newParts(emitting("a"))
	e := p.engine(t)
	if _, err := e.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.runs.FailNext(1)
	n, err := e.PollOnce(context.Background())
	if n != 0 || !errors.Is(err, collectortest.ErrStoreDown) || !strings.Contains(err.Error(), `store 1 runs of "a"`) {
		t.Fatalf("PollOnce = %d, %v; want the store's error naming the unit", n, err)
	}
	if got := p.cps.Get("src", "a"); got != "a@1" {
		t.Errorf("checkpoint = %q, want the old a@1", got)
	}
	if !strings.Contains(p.health.Last(), "store is down") {
		t.Errorf("health = %q", p.health.Last())
	}
}

func TestOneFailingUnitKeepsTheOtherUnitsProgress(t *testing.T) {
	src := fakeSource{poll: func(ctx context.Context, c *collector.Cycle) error {
		errA := c.Emit(ctx, collector.Unit{Key: "a", Runs: []kant.Run{{RunID: "1"}}, Next: "a@1"})
		errB := c.Emit(ctx, collector.Unit{Key: "b", Runs: []kant.Run{{RunID: "2"}}, Next: "b@1"})
		return errors.Join(errA, errB)
	}}
	p := newParts(src)
	p.runs.FailNext(1) // a's ingest fails, b's succeeds
	n, err := p.engine(t).PollOnce(context.Background())
	if n != 1 || err == nil {
		t.Fatalf("PollOnce = %d, %v; want b stored and a's error", n, err)
	}
	if a, b := p.cps.Get("src", "a"), p.cps.Get("src", "b"); a != "" || b != "b@1" {
		t.Errorf("checkpoints a=%q b=%q, want none and b@1", a, b)
	}
}

func TestAnEmitErrorThePollDropsIsStillReported(t *testing.T) {
	src := fakeSource{poll: func(ctx context.Context, c *collector.Cycle) error {
		_ = c.Emit(ctx, collector.Unit{Key: "a", Runs: []kant.Run{{RunID: "1"}}, Next: "a@1"})
		return nil
	}}
	p := newParts(src)
	p.runs.FailNext(1)
	if _, err := p.engine(t).PollOnce(context.Background()); !errors.Is(err, collectortest.ErrStoreDown) {
		t.Fatalf("PollOnce = %v, want the store's error", err)
	}
	if p.health.Last() == "" {
		t.Error("the cycle was recorded as a success")
	}
}

func TestAUnitWithoutRunsOrCheckpointWritesNothing(t *testing.T) {
	src := fakeSource{poll: func(ctx context.Context, c *collector.Cycle) error {
		return c.Emit(ctx, collector.Unit{Key: "a"})
	}}
	p := newParts(src)
	if n, err := p.engine(t).PollOnce(context.Background()); n != 0 || err != nil {
		t.Fatalf("PollOnce = %d, %v", n, err)
	}
	if _, calls := p.runs.Take(); calls != 0 || p.cps.Sets() != 0 {
		t.Errorf("%d ingests and %d checkpoint saves", calls, p.cps.Sets())
	}
}

// stepped is a source that moves the clock during its poll, as time passes.
func stepped(clock *collectortest.Clock, d time.Duration, err error) fakeSource {
	return fakeSource{poll: func(context.Context, *collector.Cycle) error {
		clock.Advance(d)
		return err
	}}
}

// metrics records what it is told.
type metrics struct{ calls []string }

func (m *metrics) Polled(_ context.Context, source string, start time.Time, took time.Duration, err error) {
	m.calls = append(m.calls, fmt.Sprintf("%s %s %s %v", source, start.Format(time.TimeOnly), took, err))
}

func TestHealthIsRecordedOncePerCycleWithItsStartTime(t *testing.T) {
	p := newParts(nil)
	p.cfg.Source = stepped(p.clock, 3*time.Second, nil)
	m := &metrics{}
	o := &pollObserver{}
	p.cfg.Metrics = m
	p.cfg.Observers = []collector.PollObserver{o}
	e := p.engine(t)
	e.PollOnce(context.Background())
	p.cfg.Source = stepped(p.clock, 2*time.Second, errors.New("access denied"))
	e = p.engine(t)
	e.PollOnce(context.Background())
	want := []collectortest.Record{{Source: "src", At: t0}, {Source: "src", At: t0.Add(3 * time.Second), Err: "access denied"}}
	if got := p.health.Records(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("health records %v, want %v", got, want)
	}
	if got := strings.Join(m.calls, "|"); got != "src 03:00:00 3s <nil>|src 03:00:03 2s access denied" {
		t.Errorf("metrics told %s", got)
	}
	if got := strings.Join(o.calls, "|"); got != "src 03:00:00 <nil>|src 03:00:03 access denied" {
		t.Errorf("observer told %s", got)
	}
}

// pollObserver keeps what it is told as "source hh:mm:ss err".
type pollObserver struct{ calls []string }

func (o *pollObserver) ObservePoll(source string, at time.Time, err error) {
	o.calls = append(o.calls, fmt.Sprintf("%s %s %v", source, at.Format("15:04:05"), err))
}

func TestTheCycleTimeoutCancelsAHungPollAndIsRetryable(t *testing.T) {
	src := fakeSource{poll: func(ctx context.Context, _ *collector.Cycle) error {
		<-ctx.Done() // hung until the cycle's deadline
		return ctx.Err()
	}}
	p := newParts(src)
	p.cfg.CycleTimeout = time.Millisecond
	_, err := p.engine(t).PollOnce(context.Background())
	if err == nil || !collector.IsRetryable(err) || !strings.Contains(err.Error(), "poll cycle timed out after 1ms") {
		t.Fatalf("PollOnce = %v, want a retryable timeout", err)
	}
	if !strings.Contains(p.health.Last(), "timed out") {
		t.Errorf("health = %q", p.health.Last())
	}
}

func TestRunBacksOffOnlyOnRetryableFailures(t *testing.T) {
	throttled := collector.Retryable(errors.New("throttled"), 0)
	tests := []struct {
		name  string
		err   error
		check func(d time.Duration) bool
		want  string
	}{
		{"after a success the next cycle waits the interval", nil,
			func(d time.Duration) bool { return d == time.Minute }, "1m"},
		{"after a permanent failure the next cycle waits the interval", kant.Errorf(kant.ENOTFOUND, "no such job"),
			func(d time.Duration) bool { return d == time.Minute }, "1m"},
		{"after a retryable failure the next cycle comes within a second", throttled,
			func(d time.Duration) bool { return d >= 100*time.Millisecond && d <= time.Second }, "100ms..1s"},
		{"a network error is retryable without being marked", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
			func(d time.Duration) bool { return d <= time.Second }, "at most 1s"},
		{"a Retry-After is honoured", collector.Retryable(errors.New("429"), 20*time.Second),
			func(d time.Duration) bool { return d == 20*time.Second }, "20s"},
		{"a Retry-After longer than the interval is capped at the interval", collector.Retryable(errors.New("429"), time.Hour),
			func(d time.Duration) bool { return d == time.Minute }, "1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newParts(fakeSource{poll: func(context.Context, *collector.Cycle) error { return tt.err }})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p.sleeps.OnSleep = func(time.Duration) { cancel() }
			if err := p.engine(t).Run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v", err)
			}
			if d := p.sleeps.Durations(); len(d) != 1 || !tt.check(d[0]) {
				t.Errorf("waited %v, want %s", d, tt.want)
			}
		})
	}
}

func TestRunPollsUntilItsContextEnds(t *testing.T) {
	p := newParts(emitting("a"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.health.OnPoll = func() {
		if len(p.health.Records()) == 3 {
			cancel()
		}
	}
	if err := p.engine(t).Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if n := len(p.health.Records()); n != 3 {
		t.Errorf("polled %d times, want 3", n)
	}
	if got := p.cps.Get("src", "a"); got != "a@3" {
		t.Errorf("checkpoint %q, want a@3", got)
	}
}

func TestIsRetryable(t *testing.T) {
	plain := errors.New("access denied")
	tests := []struct {
		name  string
		err   error
		want  bool
		after time.Duration
	}{
		{"no error is not retryable", nil, false, 0},
		{"a plain error is not retryable", plain, false, 0},
		{"an error marked retryable is, with its Retry-After", fmt.Errorf("get: %w", collector.Retryable(plain, 7*time.Second)), true, 7 * time.Second},
		{"a refused connection is retryable", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true, 0},
		{"a reset connection is retryable", fmt.Errorf("read: %w", &net.OpError{Op: "read", Err: syscall.ECONNRESET}), true, 0},
		{"a deadline is retryable", fmt.Errorf("get: %w", context.DeadlineExceeded), true, 0},
		{"a cancellation is not retryable", context.Canceled, false, 0},
		{"a busy store is retryable, after what it says", fmt.Errorf("store runs: %w", kant.Unavailable(plain, 2*time.Second, "store busy")), true, 2 * time.Second},
		{"one retryable error among joined ones makes the whole retryable, with the longest Retry-After",
			errors.Join(plain, collector.Retryable(plain, time.Second), collector.Retryable(plain, 3*time.Second)), true, 3 * time.Second},
		{"an error marked not retryable is not, even around a network error", &collector.Error{Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collector.IsRetryable(tt.err); got != tt.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if got := collector.RetryAfterOf(tt.err); got != tt.after {
				t.Errorf("RetryAfterOf(%v) = %v, want %v", tt.err, got, tt.after)
			}
		})
	}
}

func TestNextDelay(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		jitter   float64
		want     time.Duration
	}{
		{"after a success or a permanent failure the next poll waits the interval", 0, 0.5, 5 * time.Minute},
		{"after a first retryable failure the wait is jittered within a second", 1, 0.5, 500 * time.Millisecond},
		{"the backoff doubles with each retryable failure", 4, 0.5, 4 * time.Second},
		{"the backoff never exceeds the interval", 30, 0.99, time.Duration(0.99 * float64(5*time.Minute))},
		{"the backoff is never shorter than 100 ms", 1, 0, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collector.NextDelay(5*time.Minute, tt.failures, tt.jitter); got != tt.want {
				t.Errorf("NextDelay = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAHealthMessageNeverSplitsACharacter(t *testing.T) {
	msg := collector.HealthMessage(errors.New(strings.Repeat("日", 3000)), 1024)
	if !utf8.ValidString(msg) || len(msg) > 1024 || len(msg) < 1021 {
		t.Errorf("message of %d bytes, valid UTF-8 %v", len(msg), utf8.ValidString(msg))
	}
	joined := collector.HealthMessage(errors.Join(errors.New("a"), errors.New("b")), 1024)
	if joined != "2 errors; first: a" {
		t.Errorf("joined message %q", joined)
	}
}

func TestNewEngineNamesEveryMissingPart(t *testing.T) {
	_, err := collector.NewEngine(collector.EngineConfig{})
	if kant.ErrorCode(err) != kant.EINVALID {
		t.Fatalf("NewEngine = %v, want EINVALID", err)
	}
	for _, want := range []string{"source", "ingester", "checkpoints", "health", "interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
}
