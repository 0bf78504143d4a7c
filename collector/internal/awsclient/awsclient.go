// Package awsclient holds what the sources that call AWS (collector/glue,
// collector/stepfunctions, and collector/airflow for MWAA) share: the AWS
// config their clients are built from, the retryer and the assumed role
// (AssumeRole, or web identity federation from GCP; role.go,
// webidentity.go), and the classification of AWS errors for the poll
// engine. It imports collector and aws-sdk-go-v2; nothing else of kant.
package awsclient

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"github.com/kantproject/kant/collector"
)

// Config returns a copy of injected when it is set (tests, a caller that
// built its own), else the default credential chain's config; region, when
// set, replaces the config's.
func Config(ctx context.Context, injected *aws.Config, region string) (aws.Config, error) {
	var cfg aws.Config
	if injected != nil {
		cfg = injected.Copy()
	} else {
		var err error
		if cfg, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region)); err != nil {
			return aws.Config{}, err
		}
	}
	if region != "" {
		cfg.Region = region
	}
	return cfg, nil
}

// Classify marks err as retryable (collector.Retryable) when it carries one
// of the retryable AWS error codes or a 5xx response; other errors are
// returned as they are (network errors and timeouts are retryable as they
// are, see collector.IsRetryable).
func Classify(err error, retryableCodes map[string]bool) error {
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok && retryableCodes[apiErr.ErrorCode()] {
		return collector.Retryable(err, 0)
	}
	if respErr, ok := errors.AsType[*awshttp.ResponseError](err); ok && respErr.HTTPStatusCode() >= 500 {
		return collector.Retryable(err, 0)
	}
	return err
}
