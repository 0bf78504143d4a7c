// Command genplatform writes a synthetic platform for bench/scale.sh: the
// kant config of S SLOs (one per team, each selecting team_NN/*) and, as
// JSON Lines in the push format, D days of daily runs of N jobs spread over
// those teams, ending on -end and clipped at -now. Each occurrence is one of:
// a plain success (most), a failure retried to success (about 1 in 10), a
// late success past the 06:00 deadline (1 in 25), a failure never recovered
// (1 in 50), and a few backfills (1 in 500): the run of an old date made
// days later, carrying that date as its logical_date.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	jobs := flag.Int("jobs", 10000, "number of jobs")
	slos := flag.Int("slos", 50, "number of SLOs (teams)")
	days := flag.Int("days", 90, "number of days")
	end := flag.String("end", time.Now().UTC().Format(time.DateOnly), "last business date")
	nowFlag := flag.String("now", time.Now().UTC().Format(time.RFC3339), "no run starts after this time")
	config := flag.String("config", "", "write the kant config here (store path from -db)")
	db := flag.String("db", "kant.db", "the SQLite path the config names")
	listen := flag.String("listen", "127.0.0.1:8080", "the listen address the config names")
	flag.Parse()
	last, err := time.Parse(time.DateOnly, *end)
	if err != nil {
		fail("-end: %v", err)
	}
	now, err := time.Parse(time.RFC3339, *nowFlag)
	if err != nil {
		fail("-now: %v", err)
	}
	if *slos < 1 || *jobs < *slos {
		fail("-slos must be between 1 and -jobs")
	}
	if *config != "" {
		if err := writeConfig(*config, *slos, *db, *listen); err != nil {
			fail("%v", err)
		}
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	rng := rand.New(rand.NewPCG(1, 2))
	emit := func(job string, date time.Time, runID string, attempt int, state string, start, finish time.Time) {
		if start.After(now) {
			return
		}
		if finish.After(now) {
			fmt.Fprintf(w, `{"source":"bench","job":"%s","run_id":"%s","attempt":%d,"state":"running","logical_date":"%s","started_at":"%s"}`+"\n",
				job, runID, attempt, date.Format(time.DateOnly), start.Format(time.RFC3339))
			return
		}
		fmt.Fprintf(w, `{"source":"bench","job":"%s","run_id":"%s","attempt":%d,"state":"%s","logical_date":"%s","started_at":"%s","finished_at":"%s"}`+"\n",
			job, runID, attempt, state, date.Format(time.DateOnly), start.Format(time.RFC3339), finish.Format(time.RFC3339))
	}
	for d := *days - 1; d >= 0; d-- {
		day := last.AddDate(0, 0, -d)
		ymd := day.Format(time.DateOnly)
		for j := 0; j < *jobs; j++ {
			job := fmt.Sprintf("team_%02d/job_%05d", j%*slos, j)
			// The SLO's tick is 01:00 UTC, its deadline 06:00.
			start := day.Add(time.Duration(60+rng.IntN(120)) * time.Minute)
			finish := start.Add(time.Duration(5+rng.IntN(120)) * time.Minute)
			switch k := rng.IntN(500); {
			case k < 50: // failed, retried to success
				emit(job, day, ymd, 1, "failed", start, finish)
				start = finish.Add(10 * time.Minute)
				emit(job, day, ymd, 2, "succeeded", start, start.Add(time.Duration(5+rng.IntN(60))*time.Minute))
			case k < 70: // late
				start = day.Add(time.Duration(6*60+rng.IntN(300)) * time.Minute)
				emit(job, day, ymd, 1, "succeeded", start, start.Add(time.Duration(5+rng.IntN(60))*time.Minute))
			case k < 80: // failed for good
				emit(job, day, ymd, 1, "failed", start, finish)
			case k < 81 && d >= 3: // backfilled three days later
				start = start.AddDate(0, 0, 3)
				emit(job, day, ymd+"-backfill", 1, "succeeded", start, start.Add(30*time.Minute))
			default:
				emit(job, day, ymd, 1, "succeeded", start, finish)
			}
		}
	}
}

func writeConfig(path string, slos int, db, listen string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "listen: %q\nstore:\n  sqlite: {path: %q}\nsources:\n  - name: bench\n    type: push\nevaluate:\n  retention: 90d\nslos:\n", listen, db)
	for s := 0; s < slos; s++ {
		fmt.Fprintf(w, "  - name: team-%02d\n    jobs: [\"bench/team_%02d/*\"]\n    schedule: \"0 1 * * *\"\n    deadline: \"06:00\"\n    recover_by: \"23:59\"\n    target: 0.95\n", s, s)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "genplatform: "+format+"\n", args...)
	os.Exit(2)
}
