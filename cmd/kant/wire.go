package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/dashboards/views"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/store/bigquery"
	"github.com/kantproject/kant/store/postgres"
	"github.com/kantproject/kant/store/sqlite"
)

// common holds the flags every command that reads the configuration shares.
type common struct {
	configPath string
	logFormat  string
	logLevel   string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", "", "configuration file (default ./kant.yaml when it exists)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// logger builds the one logger of the process, writing to stderr.
func (c *common) logger(stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %q is not debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, fmt.Errorf("-log-format: %q is not text or json", c.logFormat)
}

// load reads the configuration: the -config file, else ./kant.yaml when it
// exists, else the built-in default.
func (c *common) load(getenv func(string) string) (*config.Config, error) {
	path := c.configPath
	if path == "" {
		if _, err := os.Stat("kant.yaml"); err == nil {
			path = "kant.yaml"
		}
	}
	if path == "" {
		return config.Default(getenv)
	}
	return config.Load(path, getenv)
}

// parseFlags parses args, printing usage errors to stderr.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	return fs.Parse(args)
}

// setup parses the shared flags' results into a logger and a configuration,
// reporting problems on stderr. ok is false when the command must exit 2.
func (c *common) setup(getenv func(string) string, stderr io.Writer) (*config.Config, *slog.Logger, bool) {
	logger, err := c.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kant: %v\n", err)
		return nil, nil, false
	}
	cfg, err := c.load(getenv)
	if err != nil {
		reportConfig(stderr, err)
		return nil, nil, false
	}
	return cfg, logger, true
}

func reportConfig(stderr io.Writer, err error) {
	var errs *config.Errors
	if errors.As(err, &errs) {
		fmt.Fprintf(stderr, "kant: configuration has %d problem(s):\n", errs.Len())
		for _, line := range strings.Split(errs.Error(), "\n") {
			fmt.Fprintf(stderr, "  %s\n", line)
		}
		return
	}
	fmt.Fprintf(stderr, "kant: %v\n", err)
}

// openStore opens the configured store: BigQuery when configured (kant
// refuses to start, with the reason, when its dataset cannot be reached),
// else the SQLite file. Both get the BI views of dashboards/views.
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (store.Store, error) {
	if bq := cfg.Store.BigQuery; bq != nil {
		var vs []bigquery.View
		for _, v := range views.BigQueryFor(bq.Project, bq.Dataset) {
			vs = append(vs, bigquery.View{Name: v.Name, Query: v.Query})
		}
		db, err := bigquery.New(ctx, bigquery.Config{Project: bq.Project, Dataset: bq.Dataset, Location: bq.Location,
			Views: vs, Logger: logger.With("component", "store")})
		if err != nil {
			return nil, fmt.Errorf("open store bigquery %s.%s: %w", bq.Project, bq.Dataset, err)
		}
		logger.Debug("store open", "component", "store", "bigquery", bq.Project+"."+bq.Dataset)
		return db, nil
	}
	if pg := cfg.Store.Postgres; pg != nil {
		var vs []postgres.View
		for _, v := range views.Postgres() {
			vs = append(vs, postgres.View{Name: v.Name, SQL: v.SQL})
		}
		db, err := postgres.Open(ctx, postgres.Config{DSN: pg.DSN, Logger: logger.With("component", "store"), Views: vs})
		if err != nil {
			return nil, fmt.Errorf("open store postgres %s: %w", pg.Redacted(), err)
		}
		logger.Debug("store open", "component", "store", "postgres", pg.Redacted())
		return db, nil
	}
	var vs []sqlite.View
	for _, v := range views.SQLite() {
		vs = append(vs, sqlite.View{Name: v.Name, SQL: v.SQL})
	}
	db, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.Store.SQLitePath, Logger: logger, Views: vs})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Store.SQLitePath, err)
	}
	logger.Debug("store open", "component", "store", "path", cfg.Store.SQLitePath)
	return db, nil
}

// storeName says which store is used, for logs.
func storeName(cfg *config.Config) string {
	if bq := cfg.Store.BigQuery; bq != nil {
		return "bigquery " + bq.Project + "." + bq.Dataset
	}
	if pg := cfg.Store.Postgres; pg != nil {
		return "postgres " + pg.Redacted()
	}
	return cfg.Store.SQLitePath
}
