package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// TestAClockThatStepsSendsNothingTwice steps the engine's clock back an
// hour and forward a day (an NTP correction, a VM resumed): no alert is
// repeated, the day's digest goes out once, and the next day's once.
func TestAClockThatStepsSendsNothingTwice(t *testing.T) {
	w := newWorld(t, def("hegel-nightly", "hegel/*"))
	w.policy.Digest = &slo.Clock{Hour: 9}
	w.restart()
	w.observe(run(export, "jr_1", 1, 1, kant.StateFailed, at(1, 0), at(2, 0), "boom"),
		run("hegel/users", "jr_2", 1, 0, kant.StateSucceeded, at(1, 0), at(5, 0), ""))
	count := map[string]int{} // posts by their first words
	tally := func(calls []call) {
		for _, c := range calls {
			if c.Op != "post" {
				continue
			}
			key := c.Text
			if strings.HasPrefix(key, "Daily digest") {
				key = key[:min(len(key), 40)]
			}
			count[key]++
		}
	}
	for _, step := range []struct {
		what string
		now  time.Time
	}{
		{"after the failure", at(2, 1)},
		{"the clock steps back an hour", at(1, 1)},
		{"and returns", at(2, 2)},
		{"the digest time", at(24+9, 0)},
		{"the clock steps back before the digest time", at(24+8, 0)},
		{"and past it again", at(24+9, 30)},
		{"the clock jumps a day forward", at(48+9, 30)},
		{"and back", at(24+9, 40)},
	} {
		w.evaluate(step.now)
		if err := w.engine.Tick(t.Context(), step.now); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		tally(w.n.take())
	}
	t.Logf("posts: %v", count)
	for text, n := range count {
		if n > 1 {
			t.Errorf("posted %d times: %q", n, text)
		}
	}
	digests := 0
	for text := range count {
		if strings.HasPrefix(text, "Daily digest") {
			digests++
		}
	}
	if digests != 2 {
		t.Errorf("%d digests posted, want 2 (one per day reached): %v", digests, count)
	}
	if count["hegel/export failed for 2026-06-01 (attempt 1)"] != 1 {
		t.Errorf("the failure was posted %d times, want once", count["hegel/export failed for 2026-06-01 (attempt 1)"])
	}
}
