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
func cmdImport(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
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
	k, err := assemble(ctx, cfg, logger, time.Now, coreOptions{getenv: getenv})
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitFail
	}
	code = exitOK
	defer func() {
		if err := k.Close(); err != nil {
			fmt.Fprintf(stderr, "kant: %v\n", err)
			code = exitFail
		}
	}()

	start := time.Now()
	read := 0
	// With an export, the runs read are kept so that the new ones can be
	// exported once the import is committed.
	var kept []kant.Run
	counted := func(seq iter.Seq2[kant.Run, error]) iter.Seq2[kant.Run, error] {
		return func(yield func(kant.Run, error) bool) {
			for r, err := range seq {
				if err == nil {
					read++
					if k.export != nil {
						kept = append(kept, r)
					}
				}
				if !yield(r, err) {
					return
				}
			}
		}
	}
	var fresh func(int)
	var newRuns []kant.Run
	if k.export != nil {
		fresh = func(i int) { newRuns = append(newRuns, kept[i]) }
	}
	stored, err := k.db.ImportRuns(ctx, counted(push.Decoder{Sources: cfg.PushSources()}.Lines(in, start)), fresh)
	if err != nil {
		fmt.Fprintf(stderr, "kant: import %s: %s; nothing was stored\n", name, kant.ErrorMessage(err))
		if kant.ErrorCode(err) != kant.EINVALID {
			logger.Error("import failed", "component", "import", "err", err)
		}
		return exitFail
	}
	kept = nil
	if k.export != nil {
		k.export.Observe(ctx, newRuns)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "imported %s: %d observations read, %d new, in %s (%.0f/s)\n",
		name, read, stored, elapsed.Round(time.Millisecond), float64(read)/elapsed.Seconds())
	if *evaluate && stored > 0 {
		if err := k.eval.Evaluate(ctx, time.Now(), cfg.Evaluate.Retention); err != nil {
			fmt.Fprintf(stderr, "kant: evaluate after import: %v\n", err)
			return exitFail
		}
	}
	return exitOK
}
