package awsclient

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// What the AWS sources share in how they authenticate and retry.
const (
	// DefaultMaxAttempts is how many times the SDK tries one call before a
	// retryable error (throttling, 5xx, timeout) is returned to the poller.
	DefaultMaxAttempts = 5
	// DefaultExpiryWindow is how long before they expire assumed-role
	// credentials are refreshed.
	DefaultExpiryWindow = 5 * time.Minute
)

// Role is an IAM role a source assumes.
type Role struct {
	// ARN is the role's ARN; empty: no role, cfg's own credentials.
	ARN string
	// WebIdentityAudience, when set, assumes the role with
	// AssumeRoleWithWebIdentity and a Google ID token for this audience
	// from the GCP metadata server (see webidentity.go for the trust
	// policy), instead of AssumeRole with cfg's credentials.
	WebIdentityAudience string
	// Session names the role session ("kant-" and the source's name; kept
	// to the characters STS allows).
	Session string
	// IdentityToken, when set, replaces the GCP metadata server as the
	// source of web identity tokens (tests, other identity providers).
	IdentityToken func() ([]byte, error)
}

// Prepare gives cfg what every kant AWS client needs: when it has no
// Retryer, a standard one with jittered exponential backoff on
// throttling, 5xx and timeouts (access denied and unknown resources are
// not retried); and when role.ARN is set, that role's credentials through
// STS, cached and refreshed DefaultExpiryWindow before they expire.
func Prepare(cfg *aws.Config, role Role) {
	if cfg.Retryer == nil {
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = DefaultMaxAttempts
				o.MaxBackoff = 20 * time.Second
			})
		}
	}
	if role.ARN == "" {
		return
	}
	stsClient := sts.NewFromConfig(*cfg)
	session := SessionName(role.Session)
	var provider aws.CredentialsProvider
	if role.WebIdentityAudience != "" {
		var tokens stscreds.IdentityTokenRetriever = newGCPIDToken(role.WebIdentityAudience)
		if role.IdentityToken != nil {
			tokens = tokenFunc(role.IdentityToken)
		}
		provider = stscreds.NewWebIdentityRoleProvider(stsClient, role.ARN, tokens, func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = session
		})
	} else {
		provider = stscreds.NewAssumeRoleProvider(stsClient, role.ARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = session
		})
	}
	cfg.Credentials = aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = DefaultExpiryWindow
		o.ExpiryWindowJitterFrac = 0.2
	})
}

// tokenFunc adapts a function to stscreds.IdentityTokenRetriever.
type tokenFunc func() ([]byte, error)

func (f tokenFunc) GetIdentityToken() ([]byte, error) { return f() }

// SessionName is "kant-" and s with only the characters STS allows in a
// role session name ([\w+=,.@-]), at most 64 in all.
func SessionName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_+=,.@-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 59 {
		out = out[:59]
	}
	return "kant-" + out
}

// Problems returns what is wrong with the settings every AWS source has:
// its kant source name (required, without '/'), its region (required
// unless a config is injected), a web identity audience without a role,
// and a logical date offset that is not whole days.
func Problems(source, region string, injected bool, role Role, logicalDateOffset time.Duration) []string {
	var problems []string
	if source == "" || strings.Contains(source, "/") {
		problems = append(problems, "source: required, without '/'")
	}
	if logicalDateOffset%(24*time.Hour) != 0 {
		problems = append(problems, "logical_date_offset: must be whole days")
	}
	if role.WebIdentityAudience != "" && role.ARN == "" {
		problems = append(problems, "web identity: role_arn required")
	}
	if !injected && region == "" {
		problems = append(problems, "region: required")
	}
	return problems
}

// Load returns the AWS config a source's client is built from: the
// injected one or the default chain's, in region, prepared for role
// (Prepare).
func Load(ctx context.Context, injected *aws.Config, region string, role Role) (aws.Config, error) {
	cfg, err := Config(ctx, injected, region)
	if err != nil {
		return aws.Config{}, err
	}
	Prepare(&cfg, role)
	return cfg, nil
}
