package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// The cgroup files that hold the memory limit of the container kant runs
// in: cgroup v2 (Cloud Run, current Kubernetes), then v1.
var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// memoryLimitShare is the share of the container's limit the Go runtime
// aims to stay under; the rest is for SQLite's page caches, stacks and
// the binary.
const memoryLimitShare = 0.8

// setMemoryLimit sets the Go runtime's soft memory limit to
// memoryLimitShare of the container's memory limit, unless GOMEMLIMIT is
// set (the runtime has read it) or there is no limit: under a limit the
// garbage collector works harder before the container is killed, instead
// of letting the heap grow to twice what it holds live.
func setMemoryLimit(getenv func(string) string, logger *slog.Logger) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	limit, file, ok := containerMemoryLimit(os.ReadFile)
	if !ok {
		return
	}
	soft := int64(float64(limit) * memoryLimitShare)
	debug.SetMemoryLimit(soft)
	logger.Info("go memory limit set from the container's", "component", "main", "container_bytes", limit,
		"go_bytes", soft, "file", file)
}

// containerMemoryLimit returns the memory limit of the cgroup kant runs in,
// in bytes, and the file it came from; false when there is none (no such
// file, "max", or a value no machine has).
func containerMemoryLimit(read func(string) ([]byte, error)) (int64, string, bool) {
	for _, f := range cgroupLimitFiles {
		b, err := read(f)
		if err != nil { // absent, or not readable: the next, or none
			continue
		}
		v := strings.TrimSpace(string(b))
		if v == "max" {
			return 0, "", false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		// cgroup v1 says "no limit" with a page-rounded maximum int64.
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0, "", false
		}
		return n, f, true
	}
	return 0, "", false
}
