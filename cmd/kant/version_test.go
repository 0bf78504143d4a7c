package main

import (
	"bytes"
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	local := " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{
			name: "a binary built from a clean checkout names its version, revision and commit time",
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/kantproject/kant", Version: "v0.0.0-20261204010203-abcdef123456"},
				Settings: []debug.BuildSetting{
					{Key: "CGO_ENABLED", Value: "0"}, {Key: "GOARCH", Value: "arm64"}, {Key: "GOOS", Value: "linux"},
					{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "abcdef1234567890"},
					{Key: "vcs.time", Value: "2026-12-04T01:02:03Z"}, {Key: "vcs.modified", Value: "false"},
				}},
			want: "kant v0.0.0-20261204010203-abcdef123456 (revision abcdef1234567890, 2026-12-04T01:02:03Z, modified=false) go1.26.8 linux/arm64",
		},
		{
			name: "a binary built from a modified checkout says so",
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3+dirty"},
				Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
					{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}},
			want: "kant v1.2.3+dirty (revision abc, modified=true) go1.26.8 linux/amd64",
		},
		{
			name: "a binary built without VCS stamping prints no revision",
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}},
			want: "kant (devel) go1.26.8 linux/amd64",
		},
		{
			name: "a binary without build information still names its Go and platform",
			info: nil,
			want: "kant (unknown)" + local,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.info); got != tt.want {
				t.Errorf("versionLine =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	t.Run("kant version prints one line naming this binary's Go", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"version"}, func(string) string { return "" }, nil, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d, stderr %s", code, stderr.String())
		}
		out := stdout.String()
		if !strings.HasPrefix(out, "kant ") || !strings.HasSuffix(out, " "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n") || strings.Count(out, "\n") != 1 {
			t.Errorf("stdout = %q", out)
		}
	})
	t.Run("kant version with an argument is a usage error", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"version", "-x"}, func(string) string { return "" }, nil, &stdout, &stderr); code != exitConfig {
			t.Errorf("exit %d, want %d", code, exitConfig)
		}
		if !strings.Contains(stderr.String(), "takes no arguments") {
			t.Errorf("stderr = %q", stderr.String())
		}
	})
}
