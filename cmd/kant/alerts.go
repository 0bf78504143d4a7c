package main

import (
	"fmt"
	"net"
	"time"

	"github.com/kantproject/kant/alert"
	"github.com/kantproject/kant/alert/pagerduty"
	"github.com/kantproject/kant/alert/slack"
	"github.com/kantproject/kant/alert/webhook"
	"github.com/kantproject/kant/config"
	"github.com/kantproject/kant/store"
	"github.com/kantproject/kant/telemetry"
)

// newNotifier returns where alerts go: Slack with a bot token or a webhook,
// else the log.
func newNotifier(cfg *config.Config, deps appDeps) (alert.Notifier, error) {
	if deps.notifier != nil {
		return deps.notifier, nil
	}
	s := cfg.Alerts.Slack
	if s.Token == "" && s.WebhookURL == "" {
		return alert.NewLogNotifier(deps.logger), nil
	}
	if s.Token != "" && cleartext(s.APIURL) {
		deps.logger.Warn("the Slack token will cross the network unencrypted: alerts.slack.api_url is http://", "component", "alert")
	}
	return slack.New(slack.Config{Token: string(s.Token), WebhookURL: string(s.WebhookURL), APIURL: s.APIURL,
		Logger: deps.logger.With("component", "slack")})
}

// newSenders returns the event destinations by name: PagerDuty services
// and webhooks.
func newSenders(cfg *config.Config, deps appDeps) (map[string]alert.Sender, error) {
	out := map[string]alert.Sender{}
	for _, p := range cfg.Alerts.PagerDuty {
		s, err := pagerduty.New(pagerduty.Config{RoutingKey: string(p.RoutingKey), URL: p.URL, ClientURL: statusURL(cfg)})
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", p.Name, err)
		}
		out[p.Name] = s
	}
	for _, w := range cfg.Alerts.Webhooks {
		s, err := webhook.New(webhook.Config{URL: string(w.URL), Secret: string(w.Secret), Now: deps.now})
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", w.Name, err)
		}
		out[w.Name] = s
	}
	return out, nil
}

// newAlerts wires the alert engine: routing and thresholds from cfg,
// verdicts and the sent record from db, delivery through the notifier;
// log, when set (the store's log of observations), keeps the window's
// runs between ticks.
func newAlerts(cfg *config.Config, db store.Store, log alert.Log, metrics *telemetry.Metrics, deps appDeps) (*alert.Engine, error) {
	n, err := newNotifier(cfg, deps)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	senders, err := newSenders(cfg, deps)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	var deliver []alert.DeliverRule
	for _, r := range cfg.Alerts.Deliver {
		deliver = append(deliver, alert.DeliverRule{Kinds: r.Kinds, SLOs: r.SLOs, To: r.To})
	}
	routes := map[string]alert.Route{}
	for kind, ch := range cfg.Alerts.Routes {
		routes[kind] = alert.Route{Channel: ch}
	}
	return alert.New(alert.Config{
		Reader:   db,
		Store:    db,
		Log:      log,
		Notifier: n,
		Senders:  senders,
		Deliver:  deliver,
		Metrics:  metrics, // nil-safe: a nil *telemetry.Metrics records nothing
		Policy: alert.Policy{
			SLOs:        cfg.SLOs,
			Channel:     cfg.Alerts.Slack.Channel,
			Routes:      routes,
			StaleAfter:  staleAfter(cfg),
			BudgetBelow: cfg.Alerts.BudgetBelow,
			Digest:      cfg.Alerts.Digest,
			Location:    cfg.Location,
			StatusURL:   statusURL(cfg),
			ConsoleLink: consoleLinks(cfg),
			Flapping:    flapping(cfg.Alerts.Flapping),
		},
		Maintenance: maintenance(cfg),
		Interval:    min(cfg.Evaluate.Interval, time.Minute),
		Lookback:    max(1, int(cfg.Evaluate.Lookback/(24*time.Hour))),
		Now:         deps.now,
		Logger:      deps.logger,
	})
}

// maintenance converts the configured maintenance windows.
func maintenance(cfg *config.Config) []alert.Maintenance {
	out := make([]alert.Maintenance, 0, len(cfg.Alerts.Maintenance))
	for _, w := range cfg.Alerts.Maintenance {
		m := alert.Maintenance{Name: w.Name, Location: cfg.Location, Duration: w.Duration, From: w.From, To: w.To,
			SLOs: w.SLOs, Jobs: w.Jobs, Reason: w.Reason}
		if w.Schedule != nil {
			m.Schedule = *w.Schedule
		}
		out = append(out, m)
	}
	return out
}

// statusURL is the base URL links in alerts point at: alerts.status_url, or
// the listen address on localhost.
func statusURL(cfg *config.Config) string {
	if cfg.Alerts.StatusURL != "" {
		return cfg.Alerts.StatusURL
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// flapping turns alerts.flapping into the policy's: none set, the defaults;
// flips: 0, never flapping.
func flapping(f *config.Flapping) alert.Flapping {
	if f == nil {
		return alert.Flapping{}
	}
	if f.Flips == 0 {
		return alert.Flapping{Flips: -1, Window: f.Window}
	}
	return alert.Flapping{Flips: f.Flips, Window: f.Window}
}
