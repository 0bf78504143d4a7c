package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// PagerDuty is a PagerDuty destination (Events API v2): alerts routed to it
// trigger an incident when they open and resolve it when they resolve.
type PagerDuty struct {
	Name       string
	RoutingKey Secret // the integration key of a PagerDuty service
	// URL overrides https://events.pagerduty.com/v2/enqueue (an EU
	// account, a proxy, tests).
	URL  string
	Line int
}

// Webhook is a webhook destination: every revision of the alerts routed to
// it is POSTed as JSON, signed with HMAC-SHA256 under Secret.
type Webhook struct {
	Name   string
	URL    Secret // may hold a token of the receiver's
	Secret Secret
	Line   int
}

// DeliverRule routes alerts: those of Kinds (any when empty) about SLOs
// (any when empty) go to To, which names "slack" or a destination.
type DeliverRule struct {
	Kinds []string
	SLOs  []string
	To    []string
	Line  int
}

// DestinationSlack is the destination name of Slack (or of the log, when
// Slack is not configured).
const DestinationSlack = "slack"

// Destinations returns the names of the configured event destinations.
func (a Alerts) Destinations() []string {
	var names []string
	for _, p := range a.PagerDuty {
		names = append(names, p.Name)
	}
	for _, w := range a.Webhooks {
		names = append(names, w.Name)
	}
	return names
}

var destinationName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// destinationName reads the name of the destination m, checking its form
// and that no destination read before has it.
func (d *decoder) destinationName(m *mapping, a *Alerts) string {
	v, p := m.get("name")
	if v == nil {
		return ""
	}
	name, ok := d.str(v, p)
	switch {
	case !ok:
		return ""
	case name == DestinationSlack:
		d.errorf(v, p, "%q is Slack's name: choose another", name)
	case !destinationName.MatchString(name):
		d.errorf(v, p, "bad name %q: want lower-case letters, digits, - and _, like \"oncall\"", name)
	case slices.Contains(a.Destinations(), name):
		d.errorf(v, p, "another destination is named %q", name)
	}
	return name
}

// httpURL reports whether s is an absolute http(s) URL.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func (d *decoder) pagerDuty(n *yaml.Node, path string, a *Alerts) {
	items, _ := d.seq(n, path)
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		m := d.mapping(item, p)
		if m == nil {
			continue
		}
		m.only("name", "routing_key", "url")
		m.require("name", "routing_key")
		pd := PagerDuty{Name: d.destinationName(m, a), Line: item.Line}
		if v, kp := m.get("routing_key"); v != nil {
			if key, ok := d.secret(v, kp); ok {
				switch {
				case key == "":
					d.errorf(v, kp, "empty (is the environment variable set?)")
				case strings.ContainsAny(key, " \t\r\n"):
					d.errorf(v, kp, "not a routing key: it holds white space (value not shown)")
				}
				pd.RoutingKey = Secret(key)
			}
		}
		if v, kp := m.get("url"); v != nil {
			if s, ok := d.str(v, kp); ok {
				if !httpURL(s) {
					d.errorf(v, kp, "%q is not an http(s) URL, like https://events.pagerduty.com/v2/enqueue", s)
				}
				pd.URL = s
			}
		}
		a.PagerDuty = append(a.PagerDuty, pd)
	}
}

func (d *decoder) webhooks(n *yaml.Node, path string, a *Alerts) {
	items, _ := d.seq(n, path)
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		m := d.mapping(item, p)
		if m == nil {
			continue
		}
		m.only("name", "url", "secret")
		m.require("name", "url", "secret")
		w := Webhook{Name: d.destinationName(m, a), Line: item.Line}
		if v, kp := m.get("url"); v != nil {
			if s, ok := d.secret(v, kp); ok {
				if !httpURL(s) {
					d.errorf(v, kp, "not an http(s) URL, like https://hooks.example.com/kant (value not shown)")
				}
				w.URL = Secret(s)
			}
		}
		if v, kp := m.get("secret"); v != nil {
			if s, ok := d.secret(v, kp); ok {
				if s == "" {
					d.errorf(v, kp, "empty (is the environment variable set?)")
				}
				w.Secret = Secret(s)
			}
		}
		a.Webhooks = append(a.Webhooks, w)
	}
}

// deliver reads alerts.deliver. Destination names are checked by
// checkDeliver, once every destination is known.
func (d *decoder) deliver(n *yaml.Node, path string, a *Alerts) {
	items, _ := d.seq(n, path)
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		m := d.mapping(item, p)
		if m == nil {
			continue
		}
		m.only("kinds", "slos", "to")
		m.require("to")
		r := DeliverRule{Line: item.Line}
		if v, kp := m.get("kinds"); v != nil {
			r.Kinds = d.strs(v, kp, "")
			for j, k := range r.Kinds {
				if !slices.Contains(AlertKinds, k) {
					d.errorf(v, fmt.Sprintf("%s[%d]", kp, j), "unknown alert kind %q (known: %s)", k, strings.Join(AlertKinds, ", "))
				}
			}
		}
		if v, kp := m.get("slos"); v != nil {
			r.SLOs = d.strs(v, kp, "")
		}
		if v, kp := m.get("to"); v != nil {
			r.To = d.strs(v, kp, "want at least one destination, like [slack]")
		}
		a.Deliver = append(a.Deliver, r)
	}
}

// checkDeliver checks that the rules name known destinations and SLOs.
func (d *decoder) checkDeliver(c *Config) {
	dests := append([]string{DestinationSlack}, c.Alerts.Destinations()...)
	slos := make([]string, len(c.SLOs))
	for i, s := range c.SLOs {
		slos[i] = s.Name
	}
	for i, r := range c.Alerts.Deliver {
		path := fmt.Sprintf("alerts.deliver[%d]", i)
		unknown := func(what, name string, known []string) {
			hint := ""
			if near := closest(name, known); near != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", near)
			}
			d.problems = append(d.problems, Problem{File: d.file, Line: r.Line, Path: path,
				Message: fmt.Sprintf("unknown %s %q%s", what, name, hint)})
		}
		for _, to := range r.To {
			if !slices.Contains(dests, to) {
				unknown("destination", to, dests)
			}
		}
		for _, s := range r.SLOs {
			if !slices.Contains(slos, s) {
				unknown("SLO", s, slos)
			}
		}
	}
}

// destinationsSummary reports the other destinations and the rules, for
// kant check. Secrets are not shown.
func (a Alerts) destinationsSummary() string {
	var b strings.Builder
	for _, p := range a.PagerDuty {
		to := "events.pagerduty.com"
		if p.URL != "" {
			to = p.URL
		}
		fmt.Fprintf(&b, "alerts: destination %s: PagerDuty Events API v2 at %s\n", p.Name, to)
	}
	for _, w := range a.Webhooks {
		host := ""
		if u, err := url.Parse(string(w.URL)); err == nil {
			host = u.Host
		}
		fmt.Fprintf(&b, "alerts: destination %s: webhook to %s, signed\n", w.Name, host)
	}
	for _, r := range a.Deliver {
		kinds, slos := "every kind", "every SLO"
		if len(r.Kinds) > 0 {
			kinds = strings.Join(r.Kinds, ", ")
		}
		if len(r.SLOs) > 0 {
			slos = strings.Join(r.SLOs, ", ")
		}
		fmt.Fprintf(&b, "alerts: %s of %s to %s\n", kinds, slos, strings.Join(r.To, ", "))
	}
	return b.String()
}
