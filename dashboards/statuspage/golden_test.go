package statuspage

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.html from the current output")

// get serves path from h and returns the status and body.
func get(t testing.TB, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestPagesMatchGoldenFiles(t *testing.T) {
	h := newFixture(fixedNow).handler(t)
	tests := []struct {
		name   string
		path   string
		status int
	}{
		{"home", "/", http.StatusOK},
		{"home-problems", "/?date=2026-06-10&only=problems", http.StatusOK},
		{"home-past", "/?date=2026-06-03&refresh=60", http.StatusOK},
		{"home-empty", "/?date=2027-01-01", http.StatusOK},
		{"calendar", "/calendar", http.StatusOK},
		{"job", "/jobs/hegel/load_orders", http.StatusOK},
		{"job-unknown", "/jobs/hegel/no_such_job", http.StatusNotFound},
		{"bad-date", "/?date=June", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, h, tt.path)
			if status != tt.status {
				t.Errorf("GET %s: status %d, want %d", tt.path, status, tt.status)
			}
			golden := filepath.Join("testdata", tt.name+".golden.html")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal([]byte(body), want) {
				t.Errorf("GET %s differs from %s (run go test -update after checking the change):\n%s",
					tt.path, golden, firstDiff(string(want), body))
			}
		})
	}
}

// firstDiff shows where got first departs from want, with some context.
func firstDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-120)
	return "want: …" + want[lo:min(len(want), i+120)] + "\n got: …" + got[lo:min(len(got), i+120)]
}
