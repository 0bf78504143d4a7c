package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/kantproject/kant"
)

// TestAKilledWriterLosesNoAcknowledgedWrite runs a writer in a child process
// that prints "ack N" after each batch is committed, kills it with SIGKILL
// after some acknowledgements, and checks that every acknowledged batch is
// in the file. The kill comes at a point fixed by the acknowledgements, not
// by a timer.
func TestAKilledWriterLosesNoAcknowledgedWrite(t *testing.T) {
	if path := os.Getenv("KANT_KILL_TEST_DB"); path != "" {
		writeUntilKilled(path)
		return
	}
	path := t.TempDir() + "/kant.db"
	cmd := exec.Command(os.Args[0], "-test.run=^TestAKilledWriterLosesNoAcknowledgedWrite$")
	cmd.Env = append(os.Environ(), "KANT_KILL_TEST_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "ack %d", &n); err == nil {
			acked = n
		}
		if acked >= 20 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < 20 {
		t.Fatalf("the writer acknowledged only %d batches", acked)
	}

	db, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.LatestRuns(context.Background(), kant.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range runs {
		have[r.RunID] = true
	}
	for i := 0; i <= acked; i++ {
		for j := 0; j < 10; j++ {
			if id := fmt.Sprintf("b%d_r%d", i, j); !have[id] {
				t.Fatalf("acknowledged run %s is missing after the kill (%d batches acknowledged, %d runs found)", id, acked+1, len(runs))
			}
		}
	}
}

// writeUntilKilled writes batches of ten runs forever, acknowledging each on
// stdout once WriteRuns has returned.
func writeUntilKilled(path string) {
	db, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		batch := make([]kant.Run, 10)
		for j := range batch {
			batch[j] = run("hegel/export", "b"+strconv.Itoa(i)+"_r"+strconv.Itoa(j), kant.StateSucceeded, t0)
		}
		if _, err := db.WriteRuns(context.Background(), batch); err != nil {
			fmt.Println("write:", err)
			os.Exit(1)
		}
		fmt.Printf("ack %d\n", i)
	}
}
