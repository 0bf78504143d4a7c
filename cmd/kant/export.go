package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/dashboards/views"
	"github.com/kantproject/kant/evaluator"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/bigquery"
	"github.com/kantproject/kant/store/cloudlogging"
)

// EnvCloudLoggingEmulator, when set to host:port, sends the Cloud Logging
// export there in plaintext and without credentials, as the emulator
// variables of other Google clients (PUBSUB_EMULATOR_HOST) do: for a local
// stand-in of the Logging API, and tests.
const EnvCloudLoggingEmulator = "KANT_CLOUD_LOGGING_EMULATOR_HOST"

// EnvBigQueryEmulator, when set to a base URL (http://host:port), sends the
// BigQuery export (export.bigquery) there without credentials: for a local
// stand-in of the BigQuery REST API, and tests. The BigQuery client itself
// honours no emulator variable.
const EnvBigQueryEmulator = "KANT_BIGQUERY_EMULATOR_HOST"

// exports fans the configured exports out: each new observation and each
// stored evaluation goes to every one. It is a collector.Observer and an
// evaluator.Exporter.
type exports struct {
	cloudLogging *cloudlogging.Exporter // export.cloud_logging
	bigQuery     *bigquery.Exporter     // export.bigquery
}

var (
	_ collector.Observer = (*exports)(nil)
	_ evaluator.Exporter = (*exports)(nil)
)

// Observe gives new observations to every export.
func (x *exports) Observe(ctx context.Context, runs []kant.Run) {
	if x.cloudLogging != nil {
		x.cloudLogging.Observe(ctx, runs)
	}
	if x.bigQuery != nil {
		x.bigQuery.Observe(ctx, runs)
	}
}

// ExportEvaluation gives a stored evaluation to every export.
func (x *exports) ExportEvaluation(ctx context.Context, e kant.Evaluation) {
	if x.cloudLogging != nil {
		x.cloudLogging.ExportEvaluation(ctx, e)
	}
	if x.bigQuery != nil {
		x.bigQuery.ExportEvaluation(ctx, e)
	}
}

// Close flushes every export; its error names those that did not get out.
func (x *exports) Close() error {
	var errs []error
	if x.cloudLogging != nil {
		if err := x.cloudLogging.Close(); err != nil {
			errs = append(errs, fmt.Errorf("flush the Cloud Logging export: %w", err))
		}
	}
	if x.bigQuery != nil {
		if err := x.bigQuery.Close(); err != nil {
			errs = append(errs, fmt.Errorf("flush the BigQuery export: %w", err))
		}
	}
	return errors.Join(errs...)
}

// newExports returns the configured exports, or nil when there are none.
func newExports(ctx context.Context, cfg *config.Config, db store.Store, now time.Time, getenv func(string) string, logger *slog.Logger) (*exports, error) {
	x := &exports{}
	var err error
	if x.cloudLogging, err = newExporter(ctx, cfg, db, now, getenv, logger); err != nil {
		return nil, err
	}
	if x.bigQuery, err = newBigQueryExporter(ctx, cfg, getenv, logger); err != nil {
		x.Close()
		return nil, err
	}
	if x.cloudLogging == nil && x.bigQuery == nil {
		return nil, nil
	}
	return x, nil
}

// newBigQueryExporter returns the exporter of export.bigquery, or nil when
// none is configured: it opens the dataset, creating or migrating the
// tables and BI views as the BigQuery store does.
func newBigQueryExporter(ctx context.Context, cfg *config.Config, getenv func(string) string, logger *slog.Logger) (*bigquery.Exporter, error) {
	bq := cfg.Export.BigQuery
	if bq == nil {
		return nil, nil
	}
	var opts []option.ClientOption
	if getenv != nil {
		if url := getenv(EnvBigQueryEmulator); url != "" {
			opts = append(opts, option.WithEndpoint(url), option.WithoutAuthentication())
		}
	}
	var vs []bigquery.View
	for _, v := range views.BigQueryFor(bq.Project, bq.Dataset) {
		vs = append(vs, bigquery.View{Name: v.Name, Query: v.Query})
	}
	exp, err := bigquery.NewExporter(ctx, bigquery.ExporterConfig{Config: bigquery.Config{
		Project: bq.Project, Dataset: bq.Dataset, Location: bq.Location, Views: vs, ClientOptions: opts,
		Logger: logger,
	}})
	if err != nil {
		return nil, fmt.Errorf("export bigquery %s.%s: %w", bq.Project, bq.Dataset, err)
	}
	return exp, nil
}

// newExporter returns the Cloud Logging exporter of export.cloud_logging, or
// nil when none is configured. It is told the verdicts the store already
// holds, which were exported before, so that a restart exports only what
// changes.
func newExporter(ctx context.Context, cfg *config.Config, db store.Store, now time.Time, getenv func(string) string, logger *slog.Logger) (*cloudlogging.Exporter, error) {
	cl := cfg.Export.CloudLogging
	if cl == nil {
		return nil, nil
	}
	var opts []option.ClientOption
	if getenv != nil {
		if host := getenv(EnvCloudLoggingEmulator); host != "" {
			opts = append(opts, option.WithEndpoint(host), option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		}
	}
	exp, err := cloudlogging.New(ctx, cloudlogging.Config{Project: cl.Project, LogID: cl.LogID, ClientOptions: opts,
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
