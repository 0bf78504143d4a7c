package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/cloudlogging"
)

// newExporter returns the Cloud Logging exporter of export.cloud_logging, or
// nil when none is configured. It is told the verdicts the store already
// holds, which were exported before, so that a restart exports only what
// changes.
func newExporter(ctx context.Context, cfg *config.Config, db store.Store, now time.Time, logger *slog.Logger) (*cloudlogging.Exporter, error) {
	cl := cfg.Export.CloudLogging
	if cl == nil {
		return nil, nil
	}
	exp, err := cloudlogging.New(ctx, cloudlogging.Config{Project: cl.Project, LogID: cl.LogID,
		CommonLabels: map[string]string{"service": "kant"}, Logger: logger.With("component", "cloudlogging")})
	if err != nil {
		return nil, err
	}
	today := kant.DateOf(now.In(cfg.Location))
	from := today.AddDays(-int(cfg.Evaluate.Retention/(24*time.Hour)) - 1)
	stored, err := db.Results(ctx, kant.ResultFilter{From: from, To: today.AddDays(1)})
	if err != nil {
		exp.Close()
		return nil, fmt.Errorf("cloud logging: read stored verdicts: %w", err)
	}
	exp.Seed(stored)
	return exp, nil
}
