// Package browsertest runs a headless Chromium for tests: it loads a URL and
// returns the DOM as rendered, or saves a screenshot. It is imported only by
// tests (the status page's, cmd/kant's) and imports only the standard
// library.
//
// Each call starts a fresh browser with its own profile directory and the
// flags that keep it quiet and offline apart from the URL given:
// --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
// --disable-background-networking --disable-component-update --disable-sync.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Names are the executables looked up on PATH, in order, when KANT_CHROMIUM
// does not name one.
var Names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Browser is a headless Chromium executable and a directory for its
// profiles.
type Browser struct {
	Path    string        // the executable
	Dir     string        // parent of each run's profile directory
	Timeout time.Duration // per run; default 60s
	runs    atomic.Int64
}

// Find looks for Chromium: the executable named by the environment variable
// KANT_CHROMIUM, else the first of Names on PATH. Profiles go under dir.
func Find(dir string) (*Browser, error) {
	if p := os.Getenv("KANT_CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return nil, fmt.Errorf("browsertest: KANT_CHROMIUM=%q: %w", p, err)
		}
		return &Browser{Path: path, Dir: dir}, nil
	}
	for _, n := range Names {
		if path, err := exec.LookPath(n); err == nil {
			return &Browser{Path: path, Dir: dir}, nil
		}
	}
	return nil, fmt.Errorf("browsertest: none of %v is on PATH (install Debian's chromium, or set KANT_CHROMIUM)", Names)
}

// Require returns a Browser with profiles under t.TempDir(), or skips the
// test with a plain message when Chromium is not installed.
func Require(t testing.TB) *Browser {
	t.Helper()
	b, err := Find(t.TempDir())
	if err != nil {
		if os.Getenv("KANT_REQUIRE_TOOLS") != "" {
			t.Fatal("chromium not found on PATH and KANT_REQUIRE_TOOLS is set")
		}
		t.Skip("chromium not found on PATH; skipping the browser test (CI installs it)")
	}
	return b
}

// ArtifactDir returns the directory for screenshots and other test
// artifacts: $KANT_ARTIFACTS (created when missing), else t.TempDir().
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KANT_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

// DumpDOM loads url and returns the serialized DOM after the page loaded.
func (b *Browser) DumpDOM(ctx context.Context, url string) (string, error) {
	out, err := b.run(ctx, "--dump-dom", url)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// Screenshot loads url in a window of width×height CSS pixels and saves a
// PNG of the viewport at path.
func (b *Browser) Screenshot(ctx context.Context, url, path string, width, height int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("browsertest: screenshot path: %w", err)
	}
	_ = os.Remove(abs)
	if _, err := b.run(ctx, "--screenshot="+abs, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height),
		"--hide-scrollbars", url); err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err != nil || fi.Size() == 0 {
		return fmt.Errorf("browsertest: screenshot of %s: no image written at %s", url, abs)
	}
	return nil
}

// run starts Chromium with a fresh profile and the given arguments and
// returns its standard output.
func (b *Browser) run(ctx context.Context, args ...string) ([]byte, error) {
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	profile := filepath.Join(b.Dir, "profile-"+strconv.FormatInt(b.runs.Add(1), 10))
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, fmt.Errorf("browsertest: profile dir: %w", err)
	}
	flags := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + profile,
	}
	cmd := exec.CommandContext(ctx, b.Path, append(flags, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("browsertest: chromium %v: %w", args, ctx.Err())
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("browsertest: chromium %v: %w; stderr: %s", args, err, tail(stderr.Bytes(), 2000))
		}
		return nil, fmt.Errorf("browsertest: chromium %v: %w", args, err)
	}
	return stdout.Bytes(), nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
