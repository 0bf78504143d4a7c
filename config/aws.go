package config

import (
	"fmt"
	"strings"
	"time"
)

// What the AWS source types (glue, stepfunctions) share, and the
// stepfunctions type.

// stepFunctionsKeys are the keys of a stepfunctions source.
var stepFunctionsKeys = []string{"region", "state_machines", "interval", "poll_timeout", "endpoint", "role_arn",
	"web_identity_audience", "account", "logical_date_path", "logical_date_offset", "backfill"}

// stepFunctions decodes the keys of a stepfunctions source.
func (d *decoder) stepFunctions(m *mapping, src *Source) {
	sf := &StepFunctions{StateMachines: []string{"*"}, Interval: DefaultPollInterval, Backfill: DefaultBackfill}
	m.require("region")
	for _, k := range []struct {
		key string
		dst *string
	}{{"region", &sf.Region}, {"endpoint", &sf.Endpoint}, {"role_arn", &sf.RoleARN},
		{"web_identity_audience", &sf.WebIdentityAudience}, {"logical_date_path", &sf.LogicalDatePath}} {
		if v, p := m.get(k.key); v != nil {
			if s, ok := d.str(v, p); ok {
				*k.dst = s
			}
		}
	}
	d.awsRole(m, sf.RoleARN, sf.WebIdentityAudience, &sf.Account)
	if v, p := m.get("state_machines"); v != nil {
		sf.StateMachines = d.strs(v, p, "empty: list state machine ARNs or name globs, like \"nightly_*\"")
		for i, s := range sf.StateMachines {
			if strings.HasPrefix(s, "arn:") && !strings.Contains(s, ":stateMachine:") {
				d.errorf(v.Content[i], fmt.Sprintf("%s[%d]", p, i), "%q is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)", s)
			}
		}
	}
	if p := sf.LogicalDatePath; p != "" && p != "$" && !strings.HasPrefix(p, "$.") && !strings.HasPrefix(p, "$[") {
		v, kp := m.get("logical_date_path")
		d.errorf(v, kp, "%q is not a JSON path into the execution input, like \"$.date\"", p)
	}
	if v, kp := m.get("logical_date_offset"); v != nil && sf.LogicalDatePath == "" {
		d.errorf(v, kp, "needs logical_date_path: the input field whose date it shifts")
	}
	d.awsDurations(m, &sf.Interval, &sf.LogicalDateOffset, &sf.Backfill)
	src.StepFunctions = sf
}

// awsRole checks role_arn and web_identity_audience and reads account
// into *account, defaulting it to the account in roleARN.
func (d *decoder) awsRole(m *mapping, roleARN, audience string, account *string) {
	if audience != "" && roleARN == "" {
		v, p := m.get("web_identity_audience")
		d.errorf(v, p, "needs role_arn: the role assumed with the identity token")
	}
	if roleARN != "" && !strings.HasPrefix(roleARN, "arn:") {
		v, p := m.get("role_arn")
		d.errorf(v, p, "%q is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", roleARN)
	}
	if v, p := m.get("account"); v != nil {
		if s, ok := d.str(v, p); ok {
			if !isAccountID(s) {
				d.errorf(v, p, "%q is not an AWS account ID (12 digits)", s)
			}
			*account = s
		}
		return
	}
	*account = ARNAccount(roleARN)
}

// ARNAccount returns the account ID of an ARN
// (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE), "" when it has none.
func ARNAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || !isAccountID(parts[4]) {
		return ""
	}
	return parts[4]
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// awsDurations reads interval, logical_date_offset (whole days, may be 0)
// and backfill.
func (d *decoder) awsDurations(m *mapping, interval, offset, backfill *time.Duration) {
	for _, k := range []struct {
		key string
		dst *time.Duration
	}{{"interval", interval}, {"logical_date_offset", offset}, {"backfill", backfill}} {
		if v, p := m.get(k.key); v != nil {
			if dur, ok := d.duration(v, p); ok {
				if dur < 0 || (dur == 0 && k.key != "logical_date_offset") {
					d.errorf(v, p, "must be positive")
				}
				if k.key == "logical_date_offset" && dur%(24*time.Hour) != 0 {
					d.errorf(v, p, "must be whole days, like 1d")
				}
				*k.dst = dur
			}
		}
	}
}
