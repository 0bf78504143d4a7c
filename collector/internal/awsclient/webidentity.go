package awsclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Web identity federation from GCP.
//
// When Role.WebIdentityAudience is set with the role's ARN, a source assumes
// the role with AssumeRoleWithWebIdentity, presenting a Google-signed ID token of
// the service account kant runs as (fetched from the GCP metadata server for
// that audience), so no AWS keys are stored in GCP. The role's trust policy
// must accept Google as the identity provider and pin the service account and
// the audience, for example:
//
//	{
//	  "Version": "2012-10-17",
//	  "Statement": [{
//	    "Effect": "Allow",
//	    "Principal": {"Federated": "accounts.google.com"},
//	    "Action": "sts:AssumeRoleWithWebIdentity",
//	    "Condition": {"StringEquals": {
//	      "accounts.google.com:sub": "<service account's unique numeric ID>",
//	      "accounts.google.com:aud": "<service account's unique numeric ID>",
//	      "accounts.google.com:oaud": "<WebIdentityAudience, e.g. kant-aws-reader>"
//	    }}
//	  }]
//	}
//
// (Google's ID tokens carry azp, which IAM exposes as accounts.google.com:aud,
// while the requested audience is accounts.google.com:oaud.) The role needs
// the read actions of the source (docs/glue.md, docs/stepfunctions.md).

// metadataHost is the GCP metadata server; GCE_METADATA_HOST overrides it,
// as Google's own clients allow.
const metadataHost = "metadata.google.internal"

// gcpIDToken fetches a Google ID token for an audience from the metadata
// server. It satisfies stscreds.IdentityTokenRetriever.
type gcpIDToken struct {
	audience string
	baseURL  string // http://host, without a trailing slash
	client   *http.Client
}

func newGCPIDToken(audience string) gcpIDToken {
	host := os.Getenv("GCE_METADATA_HOST")
	if host == "" {
		host = metadataHost
	}
	return gcpIDToken{audience: audience, baseURL: "http://" + host, client: &http.Client{Timeout: 10 * time.Second}}
}

// GetIdentityToken returns the ID token. The token itself never appears in
// an error.
func (g gcpIDToken) GetIdentityToken() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := g.baseURL + "/computeMetadata/v1/instance/service-accounts/default/identity?format=full&audience=" + url.QueryEscape(g.audience)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("gcp id token: %w", err)
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gcp id token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("gcp id token: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gcp id token: metadata server answered %s", resp.Status)
	}
	tok := strings.TrimSpace(string(body))
	if tok == "" {
		return nil, fmt.Errorf("gcp id token: empty token")
	}
	return []byte(tok), nil
}
