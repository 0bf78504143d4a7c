// Package image tests kant's container image: build.sh builds it offline
// with the local Go and podman, and checks it without running a container.
// The package holds only this test; nothing imports it.
package image

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestTheImageBuildsAndItsBinaryServes runs build.sh, which fails unless
// the image is user 65532 with no shell and nothing but kant, its CA
// certificates and passwd, and its binary prints its version and answers
// /healthz from kant serve on a config naming Asia/Tokyo. It needs podman
// (apt-get install podman buildah); without it the test skips, or fails
// when KANT_REQUIRE_TOOLS is set, as in CI. It builds kant afresh
// (-trimpath, CGO_ENABLED=0), so -short skips it.
func TestTheImageBuildsAndItsBinaryServes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the image build compiles kant")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv("KANT_REQUIRE_TOOLS") != "" {
			t.Fatalf("podman is required (KANT_REQUIRE_TOOLS): %v", err)
		}
		t.Skipf("podman not installed (apt-get install podman buildah): %v", err)
	}
	var out bytes.Buffer
	cmd := exec.Command("bash", "build.sh")
	cmd.Env = append(os.Environ(), "KANT_IMAGE=localhost/kant:test")
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("build.sh:\n%s", out.String())
	if err != nil {
		t.Fatalf("build.sh: %v", err)
	}
	for _, want := range []string{"User|Entrypoint|Cmd|WorkingDir|layers: 65532:65532|", `/healthz: {"status":"ok"}`, "ok: localhost/kant:test"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("build.sh printed no %q", want)
		}
	}
}
