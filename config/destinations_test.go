package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kantproject/kant/config"
)

const destinationsSLO = `slos:
  - name: hegel-nightly
    jobs: ["hegel/*"]
    schedule: "0 1 * * *"
    deadline: "06:00"
`

var destinationsEnv = map[string]string{"PAGERDUTY_ROUTING_KEY": "pd-key-0123456789abcdef0123456",
	"KANT_WEBHOOK_SECRET": "whsec-value-42", "HOOK_URL": "https://hooks.example.com/kant?token=hook-token-77"}

func TestPagerDutyWebhooksAndDeliverRulesAreDecoded(t *testing.T) {
	c := mustParse(t, destinationsSLO+`alerts:
  pagerduty:
    - name: oncall
      routing_key: ${PAGERDUTY_ROUTING_KEY}
    - name: eu-oncall
      routing_key: ${PAGERDUTY_ROUTING_KEY}
      url: https://events.eu.pagerduty.com/v2/enqueue
  webhooks:
    - name: incidents
      url: ${HOOK_URL}
      secret: ${KANT_WEBHOOK_SECRET}
  deliver:
    - {kinds: [missed, failed], slos: [hegel-nightly], to: [slack, oncall, incidents]}
    - {to: [slack, incidents]}
`, destinationsEnv)
	a := c.Alerts
	wantPD := []config.PagerDuty{
		{Name: "oncall", RoutingKey: "pd-key-0123456789abcdef0123456", Line: 8},
		{Name: "eu-oncall", RoutingKey: "pd-key-0123456789abcdef0123456", URL: "https://events.eu.pagerduty.com/v2/enqueue", Line: 10},
	}
	wantHooks := []config.Webhook{{Name: "incidents", URL: config.Secret(destinationsEnv["HOOK_URL"]), Secret: "whsec-value-42", Line: 14}}
	wantRules := []config.DeliverRule{
		{Kinds: []string{"missed", "failed"}, SLOs: []string{"hegel-nightly"}, To: []string{"slack", "oncall", "incidents"}, Line: 18},
		{To: []string{"slack", "incidents"}, Line: 19},
	}
	if !reflect.DeepEqual(a.PagerDuty, wantPD) {
		t.Errorf("PagerDuty = %+v, want %+v", a.PagerDuty, wantPD)
	}
	if !reflect.DeepEqual(a.Webhooks, wantHooks) {
		t.Errorf("Webhooks = %+v, want %+v", a.Webhooks, wantHooks)
	}
	if !reflect.DeepEqual(a.Deliver, wantRules) {
		t.Errorf("Deliver = %+v, want %+v", a.Deliver, wantRules)
	}
	sum := c.Summary()
	for _, want := range []string{"destination oncall: PagerDuty Events API v2 at events.pagerduty.com",
		"destination incidents: webhook to hooks.example.com, signed", "missed, failed of hegel-nightly to slack, oncall, incidents",
		"every kind of every SLO to slack, incidents"} {
		if !strings.Contains(sum, want) {
			t.Errorf("Summary lacks %q:\n%s", want, sum)
		}
	}
	for _, s := range []string{sum, fmtAll(c), fmtAll(*c), fmtAll(a)} {
		for _, secret := range destinationsEnv {
			if strings.Contains(s, secret) || strings.Contains(s, "hook-token-77") {
				t.Errorf("output shows a secret:\n%s", s)
			}
		}
	}
}

func TestDestinationProblemsNameTheLineAndNeverTheSecret(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []string // a prefix of each problem, in order
	}{
		{
			name: "a rule naming a destination that does not exist suggests the nearest",
			yaml: "alerts:\n  pagerduty: [{name: oncall, routing_key: k}]\n  deliver:\n    - {to: [slack, oncal]}\n",
			want: []string{`kant.yaml:4: alerts.deliver[0]: unknown destination "oncal" (did you mean "oncall"?)`},
		},
		{
			name: "a rule naming an unknown SLO suggests the nearest",
			yaml: destinationsSLO + "alerts:\n  deliver:\n    - {slos: [hegel-nigthly], to: [slack]}\n",
			want: []string{`kant.yaml:8: alerts.deliver[0]: unknown SLO "hegel-nigthly" (did you mean "hegel-nightly"?)`},
		},
		{
			name: "a rule with an unknown kind or no destinations is an error",
			yaml: "alerts:\n  deliver:\n    - {kinds: [mised], to: [slack]}\n    - {kinds: [missed], to: []}\n",
			want: []string{`kant.yaml:3: alerts.deliver[0].kinds[0]: unknown alert kind "mised"`,
				`kant.yaml:4: alerts.deliver[1].to: want at least one destination`},
		},
		{
			name: "two destinations with one name, or one named slack, are errors",
			yaml: "alerts:\n  pagerduty:\n    - {name: oncall, routing_key: k}\n    - {name: slack, routing_key: k}\n  webhooks:\n    - {name: oncall, url: \"https://h.example.com\", secret: s}\n",
			want: []string{`kant.yaml:4: alerts.pagerduty[1].name: "slack" is Slack's name`,
				`kant.yaml:6: alerts.webhooks[0].name: another destination is named "oncall"`},
		},
		{
			name: "an empty routing key or webhook secret is reported without the URL",
			yaml: "alerts:\n  pagerduty:\n    - {name: oncall, routing_key: \"\"}\n  webhooks:\n    - {name: hook, url: \"${HOOK_URL}\", secret: \"\"}\n",
			want: []string{`kant.yaml:3: alerts.pagerduty[0].routing_key: empty (is the environment variable set?)`,
				`kant.yaml:5: alerts.webhooks[0].secret: empty (is the environment variable set?)`},
		},
		{
			name: "a webhook without a secret, or with a URL that is not one, is an error",
			yaml: "alerts:\n  webhooks:\n    - {name: hook, url: \"${KANT_WEBHOOK_SECRET}\"}\n",
			want: []string{`kant.yaml:3: alerts.webhooks[0]: missing required key "secret"`,
				`kant.yaml:3: alerts.webhooks[0].url: not an http(s) URL, like https://hooks.example.com/kant (value not shown)`},
		},
		{
			name: "a PagerDuty URL that is not http(s) is an error",
			yaml: "alerts:\n  pagerduty:\n    - {name: oncall, routing_key: k, url: \"events.pagerduty.com\"}\n",
			want: []string{`kant.yaml:3: alerts.pagerduty[0].url: "events.pagerduty.com" is not an http(s) URL`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.yaml, destinationsEnv)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			got := problems(t, err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range tt.want {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
			for _, secret := range destinationsEnv {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret:\n%s", err)
				}
			}
		})
	}
}
