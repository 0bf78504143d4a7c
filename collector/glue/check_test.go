package glue

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	t.Run("a reachable source lists its jobs and reads runs, storing nothing", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addJob("export", 0, succeeded("jr_1", time.Hour))
		h.fake.addJob("import", 0)
		report, err := h.source(t).Check(context.Background())
		if err != nil || !strings.Contains(report, "lists 2 matching job(s); reads runs (export: 1 run(s)") {
			t.Fatalf("Check = %q, %v", report, err)
		}
		if got, _ := h.runs.Take(); len(got) != 0 || h.health.Last() != "<none>" {
			t.Errorf("Check stored %d runs or recorded health %q", len(got), h.health.Last())
		}
	})
	t.Run("a source that may not list jobs says so", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addJob("export", 0)
		h.fake.failNext("GetJobs", fault{Status: 400, Type: "AccessDeniedException"})
		if _, err := h.source(t).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot list jobs") ||
			!strings.Contains(err.Error(), "AccessDeniedException") {
			t.Errorf("Check err = %v, want cannot list jobs: AccessDeniedException", err)
		}
	})
	t.Run("a source that may not read runs says so", func(t *testing.T) {
		h := newHarness(t)
		h.fake.addJob("export", 0)
		h.fake.faultFor["export"] = fault{Status: 400, Type: "AccessDeniedException"}
		if _, err := h.source(t).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot read runs of export") {
			t.Errorf("Check err = %v, want cannot read runs", err)
		}
	})
}
