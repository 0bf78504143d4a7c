package main

import (
	"io/fs"
	"testing"
)

func TestTheContainerMemoryLimitIsReadFromTheCgroupAndNoLimitIsNone(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  int64
		ok    bool
	}{
		{"a cgroup v2 limit of 512 MiB", map[string]string{"/sys/fs/cgroup/memory.max": "536870912\n"}, 536870912, true},
		{"cgroup v2 without a limit", map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, 0, false},
		{"a cgroup v1 limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824"}, 1073741824, true},
		{"cgroup v1 without a limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, 0, false},
		{"no cgroup files", map[string]string{}, 0, false},
		{"a file that is not a number", map[string]string{"/sys/fs/cgroup/memory.max": "lots"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := func(name string) ([]byte, error) {
				if v, ok := tt.files[name]; ok {
					return []byte(v), nil
				}
				return nil, fs.ErrNotExist
			}
			got, _, ok := containerMemoryLimit(read)
			if got != tt.want || ok != tt.ok {
				t.Errorf("containerMemoryLimit = %d, %t; want %d, %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}
