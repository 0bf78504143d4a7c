package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/cloudlogging"
)

// EnvCloudLoggingEmulator, when set to host:port, sends the Cloud Logging
// export there in plaintext and without credentials, as the emulator
// variables of other Google clients (PUBSUB_EMULATOR_HOST) do: for a local
// stand-in of the Logging API, and tests.
const EnvCloudLoggingEmulator = "KANT_CLOUD_LOGGING_EMULATOR_HOST"

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
