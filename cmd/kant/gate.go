package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kantproject/kant/gate"
)

// cmdGate runs `kant gate wait`: long-poll the gate until upstream has
// finished. Exit 0 open, 1 upstream failed, 2 timed out, 3 usage or
// connection error; progress goes to stderr.
func cmdGate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "wait" {
		fmt.Fprintln(stderr, "usage: kant gate wait -jobs a,b | -slo NAME [-date YYYY-MM-DD] [-timeout 2h] [-url URL]")
		return gate.ExitError
	}
	fs := flag.NewFlagSet("gate wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jobs := fs.String("jobs", "", "comma-separated job keys or globs, like hegel/export_*")
	sloName := fs.String("slo", "", "wait for every job of this SLO")
	date := fs.String("date", "", "business date YYYY-MM-DD (default: the current occurrence)")
	timeout := fs.Duration("timeout", 2*time.Hour, "give up after this long (exit 2)")
	url := fs.String("url", "", "kant's URL (default $KANT_URL, else http://localhost:8080)")
	if err := fs.Parse(args[1:]); err != nil {
		return gate.ExitError
	}
	if *url == "" {
		*url = getenv("KANT_URL")
	}
	if *url == "" {
		*url = "http://localhost:8080"
	}
	c := &gate.Client{URL: *url, Token: getenv("KANT_TOKEN"), Output: stderr}
	code, a, err := c.Wait(ctx, *jobs, *sloName, *date, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "kant gate: %v\n", err)
	}
	if code == gate.ExitOpen {
		fmt.Fprintf(stdout, "open: %d job(s) succeeded for %s\n", len(a.Jobs), a.Date)
	}
	return code
}
