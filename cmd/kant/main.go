// Command kant watches batch jobs across clouds: it collects runs, judges
// them against deadlines, and serves verdicts over HTTP. This package only
// parses flags, wires the parts together and turns signals into
// cancellation; the parts live in their own packages.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// The time zone database is embedded so that time zones like
	// Asia/Tokyo load in a container image that has no /usr/share/zoneinfo.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK     = 0
	exitFail   = 1 // the command ran and failed
	exitConfig = 2 // bad usage or configuration; nothing was started or written
)

const usage = `kant watches batch jobs: collects runs, judges deadlines, serves verdicts.

Usage:
  kant serve    [-config kant.yaml] [-listen :8080]   push API, evaluator and HTTP server
  kant collect  -once [-config ...]                   poll every source once
  kant evaluate -once [-now RFC3339] [-config ...]    verdicts as of a time (default: now)
  kant import   [-config ...] FILE.jsonl              load run observations (- for stdin)
  kant check    [-config kant.yaml]                   validate the configuration, reach each source
  kant demo     [-listen 127.0.0.1:8080]             everything on a temporary store, with a
                                                      simulated night of runs, in one minute
  kant gate wait -jobs a,b | -slo NAME [-date D] [-timeout 2h] [-url URL]
                                                      wait until upstream finished: exit 0 open,
                                                      1 upstream failed, 2 timed out, 3 error
  kant version                                        the module version, VCS revision and Go of this binary

Without -config, ./kant.yaml is used when it exists; otherwise kant runs on
./kant.db with the push API and a default SLO (every job succeeds by the end
of its business day, UTC).
`

// run is the whole program; tests call it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, getenv, stdout, stderr)
	case "evaluate":
		return cmdEvaluate(ctx, rest, getenv, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, getenv, stdin, stdout, stderr)
	case "check":
		return cmdCheck(ctx, rest, getenv, stdout, stderr)
	case "gate":
		return cmdGate(ctx, rest, getenv, stdout, stderr)
	case "collect":
		return cmdCollect(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, getenv, stdout, stderr)
	case "version", "-version", "--version":
		return cmdVersion(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "kant: unknown command %q\n\n%s", cmd, usage)
	return exitConfig
}
