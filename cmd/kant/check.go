package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kantproject/kant/collector"
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
	cfg, logger, ok := c.setup(getenv, stderr)
	if !ok {
		return exitConfig
	}
	fmt.Fprint(stdout, cfg.Summary())
	fmt.Fprintln(stdout, "configuration OK")
	// Reach every polled source: can it list jobs and read runs?
	sources, err := newSources(ctx, cfg, logger, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return exitConfig
	}
	code := exitOK
	for _, s := range sources {
		c, ok := s.source.(collector.Checker)
		if !ok {
			fmt.Fprintf(stdout, "source %s: not checked: the source cannot be probed\n", s.source.Name())
			continue
		}
		report, err := c.Check(ctx)
		if err != nil {
			fmt.Fprintf(stdout, "source %s: FAILED: %s%v\n", s.source.Name(), prefix(report), err)
			code = exitFail
			continue
		}
		fmt.Fprintf(stdout, "source %s: ok: %s\n", s.source.Name(), report)
	}
	// Reach Slack: does it accept the token?
	if s := cfg.Alerts.Slack; s.Token != "" || s.WebhookURL != "" {
		n, err := newNotifier(cfg, appDeps{logger: logger})
		if err != nil {
			fmt.Fprintf(stdout, "slack: FAILED: %v\n", err)
			return exitFail
		}
		if c, ok := n.(interface {
			Check(context.Context) (string, error)
		}); ok {
			report, err := c.Check(ctx)
			if err != nil {
				fmt.Fprintf(stdout, "slack: FAILED: %v\n", err)
				code = exitFail
			} else {
				fmt.Fprintf(stdout, "slack: ok: %s\n", report)
			}
		}
	}
	return code
}

func prefix(report string) string {
	if report == "" {
		return ""
	}
	return report + "; "
}
