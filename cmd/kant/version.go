package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// cmdVersion prints the module version, the VCS revision it was built from
// and the Go toolchain, as the binary's build information records them.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "kant: version takes no arguments, got %q\n", args)
		return exitConfig
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(info))
	return exitOK
}

// versionLine formats build information as
//
//	kant v0.0.0-20261204010203-abcdef123456 (revision abcdef123456, 2026-12-04T01:02:03Z, modified=false) go1.26.8 linux/amd64
//
// leaving out what info does not record (a binary built without VCS
// stamping has no revision). A nil info, as in a binary built without
// module support, prints "(unknown)".
func versionLine(info *debug.BuildInfo) string {
	version, goVersion := "(unknown)", runtime.Version()
	goos, goarch := runtime.GOOS, runtime.GOARCH
	var vcs []string
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		s := map[string]string{}
		for _, kv := range info.Settings {
			s[kv.Key] = kv.Value
		}
		if rev := s["vcs.revision"]; rev != "" {
			vcs = append(vcs, "revision "+rev)
		}
		if t := s["vcs.time"]; t != "" {
			vcs = append(vcs, t)
		}
		if m := s["vcs.modified"]; m != "" {
			vcs = append(vcs, "modified="+m)
		}
		if v := s["GOOS"]; v != "" {
			goos = v
		}
		if v := s["GOARCH"]; v != "" {
			goarch = v
		}
	}
	var b strings.Builder
	b.WriteString("kant " + version)
	if len(vcs) > 0 {
		b.WriteString(" (" + strings.Join(vcs, ", ") + ")")
	}
	fmt.Fprintf(&b, " %s %s/%s", goVersion, goos, goarch)
	return b.String()
}
