// Command genruns writes synthetic run observations as JSON Lines, in the
// push format, for load tests of `kant import` and the evaluator: N jobs of
// one source over D days, one daily run per job, about one in ten failing
// first and retried, each run observed running then finished. With
// -retry-one-in 0 -running=false it writes exactly one succeeded observation
// per job and day (bench/gate.sh).
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
	jobs := flag.Int("jobs", 1000, "number of jobs")
	days := flag.Int("days", 90, "number of days")
	obs := flag.Int("n", 0, "stop after this many observations (0: all)")
	end := flag.String("end", "2026-06-30", "last business date")
	oneIn := flag.Int("retry-one-in", 10, "one run in this many fails first and is retried (0: none)")
	running := flag.Bool("running", true, "observe each attempt running before it finishes")
	flag.Parse()
	last, err := time.Parse(time.DateOnly, *end)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genruns: -end:", err)
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	emit := func(job, date string, attempt int, state, start, finish string) bool {
		fmt.Fprintf(w, `{"source":"bench","job":"job_%s","run_id":"%s","attempt":%d,"state":"%s","logical_date":"%s","started_at":"%s"`,
			job, date, attempt, state, date, start)
		if finish != "" {
			fmt.Fprintf(w, `,"finished_at":"%s"`, finish)
		}
		w.WriteString("}\n")
		n++
		return *obs == 0 || n < *obs
	}
	for d := *days - 1; d >= 0; d-- {
		day := last.AddDate(0, 0, -d)
		date := day.Format(time.DateOnly)
		for j := 0; j < *jobs; j++ {
			job := fmt.Sprintf("%05d", j)
			start := day.Add(time.Duration(60+rng.IntN(120)) * time.Minute)
			finish := start.Add(time.Duration(5+rng.IntN(240)) * time.Minute)
			attempt := 1
			if *oneIn > 0 && rng.IntN(*oneIn) == 0 {
				if (*running && !emit(job, date, 1, "running", start.Format(time.RFC3339), "")) ||
					!emit(job, date, 1, "failed", start.Format(time.RFC3339), finish.Format(time.RFC3339)) {
					return
				}
				attempt = 2
				start = finish.Add(10 * time.Minute)
				finish = start.Add(time.Duration(5+rng.IntN(60)) * time.Minute)
			}
			if (*running && !emit(job, date, attempt, "running", start.Format(time.RFC3339), "")) ||
				!emit(job, date, attempt, "succeeded", start.Format(time.RFC3339), finish.Format(time.RFC3339)) {
				return
			}
		}
	}
}
