package terraform_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

const (
	kantSA  = "113456789012345678901" // kant's service account's unique ID
	otherSA = "118765432109876543210" // another service account of the same project
)

// A statement is an IAM policy statement as an aws_iam_policy_document
// block states it, evaluated.
type statement struct {
	sid        string
	effect     string
	actions    []string
	principals map[string][]string // type → identifiers
	conditions []condition
	resources  []string
}

type condition struct {
	test, variable string
	values         []string
}

// policyDocument evaluates the statement blocks (dynamic ones included) of
// a data "aws_iam_policy_document".
func policyDocument(t *testing.T, doc node) []statement {
	t.Helper()
	var out []statement
	for _, s := range doc.blocks(t, "statement") {
		st := statement{effect: "Allow", principals: map[string][]string{}}
		if s.has("sid") {
			st.sid = s.str(t, "sid")
		}
		if s.has("effect") {
			st.effect = s.str(t, "effect")
		}
		if s.has("actions") {
			st.actions = s.strs(t, "actions")
		}
		if s.has("resources") {
			st.resources = s.strs(t, "resources")
		}
		for _, unsupported := range []string{"not_actions", "not_resources", "not_principals"} {
			if s.has(unsupported) || len(s.blocks(t, unsupported)) > 0 {
				t.Fatalf("%s: %s: the test's evaluator does not know it", s.at, unsupported)
			}
		}
		for _, p := range s.blocks(t, "principals") {
			typ := p.str(t, "type")
			st.principals[typ] = append(st.principals[typ], p.strs(t, "identifiers")...)
		}
		for _, c := range s.blocks(t, "condition") {
			st.conditions = append(st.conditions, condition{test: c.str(t, "test"), variable: c.str(t, "variable"), values: c.strs(t, "values")})
		}
		out = append(out, st)
	}
	return out
}

// A request to STS: who presents what for which action.
type request struct {
	principalType, principal, action string
	context                          map[string]string // condition keys
}

// googleWebIdentity is AssumeRoleWithWebIdentity with a Google ID token of
// these claims, with the condition keys IAM derives from them: azp (or aud
// when there is none) as accounts.google.com:aud, aud as
// accounts.google.com:oaud, sub as accounts.google.com:sub.
func googleWebIdentity(claimsJSON string) request {
	var claims struct{ Aud, Azp, Sub, Email string }
	if err := json.Unmarshal([]byte(claimsJSON), &claims); err != nil {
		panic(err)
	}
	aud := claims.Azp
	if aud == "" {
		aud = claims.Aud
	}
	return request{principalType: "Federated", principal: "accounts.google.com", action: "sts:AssumeRoleWithWebIdentity",
		context: map[string]string{"accounts.google.com:aud": aud, "accounts.google.com:oaud": claims.Aud, "accounts.google.com:sub": claims.Sub}}
}

// allows evaluates a trust policy for a request: allowed when an Allow
// statement matches and no Deny does. A condition operator the evaluator
// does not know fails the test rather than pass unevaluated.
func allows(t *testing.T, policy []statement, r request) bool {
	t.Helper()
	matches := func(st statement) bool {
		if !slices.Contains(st.actions, r.action) && !slices.Contains(st.actions, "*") {
			return false
		}
		if !slices.Contains(st.principals[r.principalType], r.principal) {
			return false
		}
		for _, c := range st.conditions {
			if c.test != "StringEquals" {
				t.Fatalf("statement %q: condition operator %s: the test's evaluator knows only StringEquals", st.sid, c.test)
			}
			v, present := r.context[c.variable]
			if !present || !slices.Contains(c.values, v) {
				return false
			}
		}
		return true
	}
	allowed := false
	for _, st := range policy {
		if !matches(st) {
			continue
		}
		switch st.effect {
		case "Deny":
			return false
		case "Allow":
			allowed = true
		default:
			t.Fatalf("statement %q: effect %q", st.sid, st.effect)
		}
	}
	return allowed
}

func claims(aud, sa string) string {
	return fmt.Sprintf(`{"aud":%q,"azp":%q,"email":"kant@my-project.iam.gserviceaccount.com","email_verified":true,
		"exp":1780000000,"iat":1779996400,"iss":"https://accounts.google.com","sub":%q}`, aud, sa, sa)
}

func TestTheRolesTrustPolicyAdmitsKantsServiceAccountForItsAudienceOnly(t *testing.T) {
	m := loadModule(t, "aws")
	withAudience := func(aud string) []statement {
		e := m.evaluate(t, map[string]cty.Value{"google_service_account_id": cty.StringVal(kantSA), "audience": cty.StringVal(aud)})
		if got := e.resource(t, "aws_iam_role.kant").str(t, "assume_role_policy"); got != "data.aws_iam_policy_document.trust.json" {
			t.Fatalf("the role's trust policy is %q, not the trust document", got)
		}
		return policyDocument(t, e.dataSource(t, "aws_iam_policy_document.trust"))
	}
	defaultPolicy := withAudience("kant-glue-reader")
	otherProvider := googleWebIdentity(claims("kant-glue-reader", kantSA))
	otherProvider.principal = "cognito-identity.amazonaws.com"
	assumeRole := googleWebIdentity(claims("kant-glue-reader", kantSA))
	assumeRole.action = "sts:AssumeRole"
	noAzp := googleWebIdentity(`{"aud":"kant-glue-reader","sub":"` + kantSA + `"}`)
	// Domain-wide delegation: kant's account acting as a user signs a token
	// whose azp is the account and whose sub is the user.
	delegated := googleWebIdentity(`{"aud":"kant-glue-reader","azp":"` + kantSA + `","sub":"104321098765432109876"}`)
	userToken := googleWebIdentity(`{"aud":"kant-glue-reader","azp":"32555940559.apps.googleusercontent.com","sub":"` + kantSA + `"}`)

	tests := []struct {
		name   string
		policy []statement
		req    request
		want   bool
	}{
		{"kant's service account with the audience kant asks for is admitted", defaultPolicy, googleWebIdentity(claims("kant-glue-reader", kantSA)), true},
		{"another service account of the project is refused", defaultPolicy, googleWebIdentity(claims("kant-glue-reader", otherSA)), false},
		{"kant's service account with another audience is refused", defaultPolicy, googleWebIdentity(claims("sts.amazonaws.com", kantSA)), false},
		{"kant's service account with an empty audience is refused", defaultPolicy, googleWebIdentity(claims("", kantSA)), false},
		{"a token whose azp is an OAuth client, not the account, is refused", defaultPolicy, userToken, false},
		{"a token of kant's account acting for a user (another sub) is refused", defaultPolicy, delegated, false},
		{"a token without azp (aud becomes accounts.google.com:aud) is refused", defaultPolicy, noAzp, false},
		{"the same claims from another identity provider are refused", defaultPolicy, otherProvider, false},
		{"plain AssumeRole is refused", defaultPolicy, assumeRole, false},
		{"a role for another audience admits that audience", withAudience("kant-prod"), googleWebIdentity(claims("kant-prod", kantSA)), true},
		{"a role for another audience refuses kant-glue-reader", withAudience("kant-prod"), googleWebIdentity(claims("kant-glue-reader", kantSA)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := allows(t, tt.policy, tt.req); got != tt.want {
				t.Errorf("allowed = %v, want %v, for %+v", got, tt.want, tt.req.context)
			}
		})
	}
}

func TestTheRolesPolicyReadsGlueMWAAAndStepFunctionsAndChangesNothing(t *testing.T) {
	m := loadModule(t, "aws")
	tests := []struct {
		name string
		vars map[string]cty.Value
		want []string // actions, each of which must be granted
		not  []string // actions that must not be
	}{
		{
			name: "without MWAA environments, Glue jobs and workflows and Step Functions",
			want: []string{"glue:GetJobs", "glue:GetJob", "glue:GetJobRuns", "glue:GetJobRun", "glue:GetWorkflow",
				"glue:GetWorkflowRuns", "glue:ListWorkflows", "states:ListExecutions", "states:DescribeExecution", "states:ListStateMachines"},
			not: []string{"airflow:InvokeRestApi", "airflow:CreateWebLoginToken"},
		},
		{
			name: "with an MWAA environment, InvokeRestApi as Viewer too",
			vars: map[string]cty.Value{"mwaa_environments": cty.ListVal([]cty.Value{cty.StringVal("prod-env")})},
			want: []string{"glue:GetJobRuns", "airflow:InvokeRestApi"},
			not:  []string{"airflow:CreateWebLoginToken"},
		},
		{
			name: "with the web login for old MWAA, CreateWebLoginToken too",
			vars: map[string]cty.Value{"mwaa_environments": cty.ListVal([]cty.Value{cty.StringVal("prod-env")}), "mwaa_web_login": cty.True},
			want: []string{"airflow:InvokeRestApi", "airflow:CreateWebLoginToken"},
		},
	}
	readOnly := regexp.MustCompile(`^(glue:(Get|List)[A-Za-z]+|states:(List|Describe)[A-Za-z]+|airflow:(InvokeRestApi|CreateWebLoginToken))$`)
	arn := regexp.MustCompile(`^(\*|arn:aws:(glue|states|airflow):ap-northeast-1:123456789012:[A-Za-z]+[:/].+)$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]cty.Value{"google_service_account_id": cty.StringVal(kantSA)}
			for k, v := range tt.vars {
				vars[k] = v
			}
			e := m.evaluate(t, vars)
			pol := e.resource(t, "aws_iam_role_policy.read")
			if pol.str(t, "role") != "aws_iam_role.kant.id" || pol.str(t, "policy") != "data.aws_iam_policy_document.read.json" {
				t.Fatalf("the read policy is not the read document on kant's role")
			}
			granted := map[string][]string{}
			for _, st := range policyDocument(t, e.dataSource(t, "aws_iam_policy_document.read")) {
				if st.effect != "Allow" || len(st.conditions) > 0 || len(st.principals) > 0 {
					t.Errorf("statement %q: effect %s, %d conditions, principals %v", st.sid, st.effect, len(st.conditions), st.principals)
				}
				for _, a := range st.actions {
					if !readOnly.MatchString(a) {
						t.Errorf("statement %q grants %s, which is not a read", st.sid, a)
					}
					granted[a] = append(granted[a], st.resources...)
				}
				for _, r := range st.resources {
					if !arn.MatchString(r) {
						t.Errorf("statement %q: resource %q is neither * nor an ARN of this account and region", st.sid, r)
					}
				}
			}
			for _, a := range tt.want {
				if len(granted[a]) == 0 {
					t.Errorf("%s is not granted (granted: %v)", a, sortedKeys(granted))
				}
			}
			for _, a := range tt.not {
				if _, ok := granted[a]; ok {
					t.Errorf("%s is granted", a)
				}
			}
			if rs, ok := granted["airflow:InvokeRestApi"]; ok && !slices.Equal(rs, []string{"arn:aws:airflow:ap-northeast-1:123456789012:role/prod-env/Viewer"}) {
				t.Errorf("InvokeRestApi on %v, want the environment's Viewer role", rs)
			}
		})
	}
}

// eventMatches is EventBridge's matching of a pattern made only of fields
// listing exact string values (anything else fails the test).
func eventMatches(t *testing.T, pattern map[string]any, event map[string]string) bool {
	t.Helper()
	for field, want := range pattern {
		values, ok := want.([]any)
		if !ok {
			t.Fatalf("pattern field %q is %T, not a list of values", field, want)
		}
		var hit bool
		for _, v := range values {
			s, ok := v.(string)
			if !ok {
				t.Fatalf("pattern field %q holds %T", field, v)
			}
			hit = hit || event[field] == s
		}
		if !hit {
			return false
		}
	}
	return true
}

func TestEventBridgeSendsGlueAndStepFunctionsChangesToKantWithItsWriteToken(t *testing.T) {
	m := loadModule(t, "aws")
	kinds := []string{"aws_cloudwatch_event_connection.kant", "aws_cloudwatch_event_api_destination.kant",
		"aws_cloudwatch_event_rule.kant", "aws_cloudwatch_event_target.kant", "aws_iam_role.eventbridge", "aws_iam_role_policy.eventbridge"}

	t.Run("without eventbridge_endpoint nothing of EventBridge is created", func(t *testing.T) {
		e := m.evaluate(t, map[string]cty.Value{"google_service_account_id": cty.StringVal(kantSA)})
		for _, k := range kinds {
			if n := e.instances(t, k); n != 0 {
				t.Errorf("%s: %d instances", k, n)
			}
		}
	})

	t.Run("with eventbridge_endpoint the rules post to /v1/events/aws with the token", func(t *testing.T) {
		e := m.evaluate(t, map[string]cty.Value{
			"google_service_account_id": cty.StringVal(kantSA),
			"eventbridge_endpoint":      cty.StringVal("https://kant-123456789012.asia-northeast1.run.app/"),
			"write_token":               cty.StringVal("w-token"),
		})
		conn := e.resource(t, "aws_cloudwatch_event_connection.kant")
		key := conn.block(t, "auth_parameters").block(t, "api_key")
		if conn.str(t, "authorization_type") != "API_KEY" || key.str(t, "key") != "Authorization" || key.str(t, "value") != "Bearer w-token" {
			t.Errorf("the connection sends %s %q: %q", conn.str(t, "authorization_type"), key.str(t, "key"), key.str(t, "value"))
		}
		dest := e.resource(t, "aws_cloudwatch_event_api_destination.kant")
		if got := dest.str(t, "invocation_endpoint"); got != "https://kant-123456789012.asia-northeast1.run.app/v1/events/aws" {
			t.Errorf("the API destination calls %q", got)
		}
		if dest.str(t, "http_method") != "POST" || dest.str(t, "connection_arn") != "aws_cloudwatch_event_connection.kant[0].arn" {
			t.Errorf("the API destination: %s with %s", dest.str(t, "http_method"), dest.str(t, "connection_arn"))
		}

		// Which events the rules take.
		rules := m.resources["aws_cloudwatch_event_rule.kant"]
		each, diags := rules.Body.Attributes["for_each"].Expr.Value(e.ctx)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		var patterns []map[string]any
		for it := each.ElementIterator(); it.Next(); {
			k, v := it.Element()
			r := node{body: rules.Body, ctx: e.ctx.NewChild(), at: "aws_cloudwatch_event_rule.kant"}
			r.ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})}
			var p map[string]any
			if err := json.Unmarshal([]byte(r.str(t, "event_pattern")), &p); err != nil {
				t.Fatalf("rule %s: event_pattern: %v", k.AsString(), err)
			}
			patterns = append(patterns, p)
		}
		events := []struct {
			source, detailType string
			want               bool
		}{
			{"aws.glue", "Glue Job State Change", true},
			{"aws.glue", "Glue Job Run Status", true},
			{"aws.states", "Step Functions Execution Status Change", true},
			{"aws.glue", "Glue Crawler State Change", false},
			{"aws.glue", "Glue Data Catalog Table State Change", false},
			{"aws.states", "Step Functions State Machine Status Change", false},
			{"aws.ec2", "EC2 Instance State-change Notification", false},
		}
		for _, ev := range events {
			var matched int
			for _, p := range patterns {
				if eventMatches(t, p, map[string]string{"source": ev.source, "detail-type": ev.detailType}) {
					matched++
				}
			}
			if got := matched > 0; got != ev.want || matched > 1 {
				t.Errorf("%s %q: matched by %d rules, want %v", ev.source, ev.detailType, matched, ev.want)
			}
		}

		tgt := e.resource(t, "aws_cloudwatch_event_target.kant")
		if tgt.str(t, "arn") != "aws_cloudwatch_event_api_destination.kant[0].arn" || tgt.str(t, "role_arn") != "aws_iam_role.eventbridge[0].arn" {
			t.Errorf("the targets call %s as %s", tgt.str(t, "arn"), tgt.str(t, "role_arn"))
		}
		if e.instances(t, "aws_cloudwatch_event_target.kant") != len(patterns) {
			t.Errorf("%d targets for %d rules", e.instances(t, "aws_cloudwatch_event_target.kant"), len(patterns))
		}

		// The role EventBridge invokes the destination as.
		trust := policyDocument(t, e.dataSource(t, "aws_iam_policy_document.eventbridge_trust"))
		events_ := request{principalType: "Service", principal: "events.amazonaws.com", action: "sts:AssumeRole",
			context: map[string]string{"aws:SourceAccount": "123456789012"}}
		if !allows(t, trust, events_) {
			t.Error("EventBridge of this account may not assume its role")
		}
		events_.context["aws:SourceAccount"] = "999999999999"
		if allows(t, trust, events_) {
			t.Error("EventBridge of another account may assume the role")
		}
		if got := e.resource(t, "aws_iam_role.eventbridge").str(t, "assume_role_policy"); got != "data.aws_iam_policy_document.eventbridge_trust.json" {
			t.Errorf("the EventBridge role trusts %q", got)
		}
		var invoke struct {
			Statement []struct{ Effect, Action, Resource string }
		}
		if err := json.Unmarshal([]byte(e.resource(t, "aws_iam_role_policy.eventbridge").str(t, "policy")), &invoke); err != nil {
			t.Fatal(err)
		}
		want := []struct{ Effect, Action, Resource string }{{"Allow", "events:InvokeApiDestination", "aws_cloudwatch_event_api_destination.kant[0].arn"}}
		if !slices.Equal(invoke.Statement, want) {
			t.Errorf("the EventBridge role may %+v, want %+v", invoke.Statement, want)
		}
	})
}

// The outputs a user pastes into kant.yaml.
func TestTheAWSOutputsGiveKantYAMLTheRoleAndAudience(t *testing.T) {
	m := loadModule(t, "aws")
	e := m.evaluate(t, map[string]cty.Value{"google_service_account_id": cty.StringVal(kantSA)})
	out := node{body: m.outputs["role_arn"].Body, ctx: e.ctx, at: "output.role_arn"}
	if got := out.str(t, "value"); got != "aws_iam_role.kant.arn" {
		t.Errorf("output role_arn is %q", got)
	}
	src := node{body: m.outputs["glue_source_yaml"].Body, ctx: e.ctx, at: "output.glue_source_yaml"}.str(t, "value")
	for _, want := range []string{"role_arn: aws_iam_role.kant.arn\n", "web_identity_audience: kant-glue-reader\n", "region: ap-northeast-1\n", "type: glue\n"} {
		if !strings.Contains(src, want) {
			t.Errorf("glue_source_yaml lacks %q:\n%s", want, src)
		}
	}
}
