package stepfunctions

import (
	"errors"

	"github.com/aws/smithy-go"

	"github.com/kantproject/kant/collector/internal/awsclient"
)

// retryableCodes are Step Functions and AWS error codes for which trying
// again later can help: throttling and the service's own transient
// failures.
var retryableCodes = map[string]bool{
	"ThrottlingException":         true,
	"Throttling":                  true,
	"TooManyRequestsException":    true,
	"RequestLimitExceeded":        true,
	"KmsThrottlingException":      true,
	"ServiceUnavailable":          true,
	"ServiceUnavailableException": true,
	"InternalFailure":             true,
	"InternalServerError":         true,
	"RequestTimeout":              true,
	"RequestTimeoutException":     true,
}

// classify marks an error of a Step Functions call as retryable when trying
// again soon can help: a throttling or transient code, or a 5xx response.
// Network errors and timeouts are retryable as they are (see
// collector.IsRetryable); access denied, an unknown state machine
// (StateMachineDoesNotExist) and invalid input are not: they are reported
// and wait for the next regular poll.
func classify(err error) error { return awsclient.Classify(err, retryableCodes) }

// isCode reports whether err carries the AWS error code.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}
