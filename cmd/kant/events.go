package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kantproject/kant/collector/eventbridge"
	"github.com/kantproject/kant/collector/glue"
	"github.com/kantproject/kant/config"
)

// newEvents builds the decoder of POST /v1/events/aws: one eventbridge
// source per glue and stepfunctions source of cfg, each Glue one with a
// poller of its own to read the runs events name (every replica serves
// the endpoint; the leader's pollers live only for its term). It is nil,
// and the endpoint not served, when cfg has neither kind of source.
func newEvents(ctx context.Context, cfg *config.Config, logger *slog.Logger, now func() time.Time) (*eventbridge.Decoder, error) {
	var sources []eventbridge.Source
	for _, s := range cfg.Sources {
		switch {
		case s.Glue != nil:
			g := s.Glue
			p, err := glue.New(ctx, glue.Config{
				Source: s.Name, Region: g.Region, Jobs: g.Jobs, Endpoint: g.Endpoint, RoleARN: g.RoleARN,
				WebIdentityAudience: g.WebIdentityAudience, LogicalDateArgument: g.LogicalDateArgument,
				LogicalDateOffset: g.LogicalDateOffset, Now: now,
				Logger: logger.With("component", "eventbridge", "source", s.Name),
			}, glue.Deps{})
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			sources = append(sources, eventbridge.Source{
				Name: s.Name, Kind: eventbridge.KindGlue, Region: g.Region, Jobs: g.Jobs,
				Account: account(g.Account, g.RoleARN), Runs: p,
			})
		case s.StepFunctions != nil:
			f := s.StepFunctions
			sources = append(sources, eventbridge.Source{
				Name: s.Name, Kind: eventbridge.KindStepFunctions, Region: f.Region, Jobs: f.StateMachines,
				Account: account(f.Account, f.RoleARN), LogicalDatePath: f.LogicalDatePath, LogicalDateOffset: f.LogicalDateOffset,
			})
		}
	}
	if len(sources) == 0 {
		return nil, nil
	}
	return eventbridge.New(eventbridge.Config{Sources: sources, Logger: logger})
}

// account is a source's AWS account for matching events: the configured
// one, else the one in its role ARN; "" (any account) with neither.
func account(configured, roleARN string) string {
	if configured != "" {
		return configured
	}
	return eventbridge.RoleAccount(roleARN)
}
