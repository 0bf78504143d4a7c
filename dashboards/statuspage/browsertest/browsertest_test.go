package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindHonoursKantChromium(t *testing.T) {
	t.Setenv("KANT_CHROMIUM", filepath.Join(t.TempDir(), "no-such-browser"))
	if _, err := Find(t.TempDir()); err == nil || !strings.Contains(err.Error(), "KANT_CHROMIUM") {
		t.Errorf("Find with a missing KANT_CHROMIUM: err %v, want one naming the variable", err)
	}
}

func TestArtifactDirIsKantArtifactsWhenSet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "artifacts", "nested")
	t.Setenv("KANT_ARTIFACTS", dir)
	if got := ArtifactDir(t); got != dir {
		t.Errorf("ArtifactDir = %q, want %q", got, dir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("the directory was not created: %v", err)
	}
}

func TestChromiumDumpsTheDOMAfterScriptsRanAndTakesScreenshots(t *testing.T) {
	b := Require(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><p id="p">static</p><script>document.getElementById("p").textContent = "scripted"</script>`)
	}))
	defer srv.Close()
	dom, err := b.DumpDOM(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dom, `<p id="p">scripted</p>`) {
		t.Errorf("DOM %q: want the paragraph as the script left it", dom)
	}
	png := filepath.Join(t.TempDir(), "shot.png")
	if err := b.Screenshot(context.Background(), srv.URL, png, 400, 300); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(png)
	if err != nil || !strings.HasPrefix(string(data), "\x89PNG") {
		t.Errorf("screenshot is not a PNG (err %v)", err)
	}
}
