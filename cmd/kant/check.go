package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// cmdCheck validates the configuration and prints what it configures.
// Exit status 2 means the configuration is not usable.
func cmdCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var c common
	c.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return exitConfig
	}
	cfg, _, ok := c.setup(getenv, stderr)
	if !ok {
		return exitConfig
	}
	fmt.Fprint(stdout, cfg.Summary())
	fmt.Fprintln(stdout, "configuration OK")
	return exitOK
}
