package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func TestAWriteBlockedByAnotherProcessesLockIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kant.db")
	db, err := Open(ctx, Config{Path: path, BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Another process (a kant import) holds the write lock.
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(50)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	r := run("hegel/export_users", "jr_1", kant.StateSucceeded, t0.Add(time.Hour))
	writes := []struct {
		name  string
		write func() error
	}{
		{"WriteRuns", func() error { _, err := db.WriteRuns(ctx, []kant.Run{r}); return err }},
		{"ImportRuns", func() error {
			_, err := db.ImportRuns(ctx, func(yield func(kant.Run, error) bool) { yield(r, nil) }, nil)
			return err
		}},
		{"PutSilence", func() error {
			return db.PutSilence(ctx, kant.Silence{ID: "s1", Start: t0, End: t0.Add(time.Hour), Reason: "upgrade", CreatedAt: t0})
		}},
	}
	for _, w := range writes {
		err := w.write()
		if code := kant.ErrorCode(err); code != kant.EUNAVAILABLE || kant.RetryAfter(err) <= 0 {
			t.Errorf("%s while another process holds the lock: %v (code %s, retry after %v); want %s with a retry delay",
				w.name, err, code, kant.RetryAfter(err), kant.EUNAVAILABLE)
		}
	}

	// Once the lock is released the same write goes through.
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	stored, err := db.WriteRuns(ctx, []kant.Run{r})
	if err != nil || len(stored) != 1 {
		t.Fatalf("after the lock is released: %v, %d stored", err, len(stored))
	}
	runs, err := db.LatestRuns(ctx, kant.RunFilter{})
	if err != nil || !slices.ContainsFunc(runs, func(x kant.Run) bool { return x.RunID == "jr_1" }) {
		t.Errorf("LatestRuns: %v %v", runs, err)
	}
}
