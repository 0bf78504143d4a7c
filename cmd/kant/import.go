package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector/push"
)

// cmdImport loads a JSON Lines file of run observations in one transaction:
// all of it or, on the first bad line, none of it. Then it re-evaluates the
// SLOs so verdicts include the imported runs.
func cmdImport(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var c common
	c.register(fs)
	evaluate := fs.Bool("evaluate", true, "re-evaluate SLOs after the import")
	if err := parseFlags(fs, args, stderr); err != nil {
		return exitConfig
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "kant: import needs exactly one FILE.jsonl (or - for stdin)")
		return exitConfig
	}
	cfg, logger, ok := c.setup(getenv, stderr)
	if !ok {
		return exitConfig
	}
	name := fs.Arg(0)
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "kant: %v\n", err)
			return exitFail
		}
		defer f.Close()
		in = f
	}
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitFail
	}
	defer db.Close()

	start := time.Now()
	read := 0
	counted := func(seq iter.Seq2[kant.Run, error]) iter.Seq2[kant.Run, error] {
		return func(yield func(kant.Run, error) bool) {
			for r, err := range seq {
				if err == nil {
					read++
				}
				if !yield(r, err) {
					return
				}
			}
		}
	}
	stored, err := db.ImportRuns(ctx, counted(push.Decoder{Sources: pushSources(cfg)}.Lines(in, start)), nil)
	if err != nil {
		fmt.Fprintf(stderr, "kant: import %s: %s; nothing was stored\n", name, kant.ErrorMessage(err))
		if kant.ErrorCode(err) != kant.EINVALID {
			logger.Error("import failed", "component", "import", "err", err)
		}
		return exitFail
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "imported %s: %d observations read, %d new, in %s (%.0f/s)\n",
		name, read, stored, elapsed.Round(time.Millisecond), float64(read)/elapsed.Seconds())
	if *evaluate && stored > 0 {
		eval, err := newEvaluator(cfg, db, nil, nil, logger, time.Now)
		if err == nil {
			err = eval.Evaluate(ctx, time.Now(), cfg.Evaluate.Retention)
		}
		if err != nil {
			fmt.Fprintf(stderr, "kant: evaluate after import: %v\n", err)
			return exitFail
		}
	}
	return exitOK
}
