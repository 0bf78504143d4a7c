package main

import (
	"context"
	"log/slog"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/cloudlogging"
)

// newExporter returns the Cloud Logging exporter of export.cloud_logging, or
// nil when none is configured.
func newExporter(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*cloudlogging.Exporter, error) {
	cl := cfg.Export.CloudLogging
	if cl == nil {
		return nil, nil
	}
	return cloudlogging.New(ctx, cloudlogging.Config{Project: cl.Project, LogID: cl.LogID,
		CommonLabels: map[string]string{"service": "kant"}, Logger: logger.With("component", "cloudlogging")})
}

// exportingStore is the evaluator's store that also writes every verdict it
// stores to Cloud Logging.
type exportingStore struct {
	evaluator.Store
	exp interface {
		ExportResults(ctx context.Context, results []kant.Result)
	}
}

func (s exportingStore) WriteEvaluation(ctx context.Context, e store.Evaluation) error {
	if err := s.Store.WriteEvaluation(ctx, e); err != nil {
		return err
	}
	s.exp.ExportResults(ctx, e.Results)
	return nil
}
