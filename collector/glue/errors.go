package glue

import (
	"context"
	"errors"
	"net"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/kantproject/kant/collector"
)

// retryableCodes are Glue and AWS error codes for which trying again later
// can help: throttling and the service's own transient failures.
var retryableCodes = map[string]bool{
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"ThrottledException":                     true,
	"TooManyRequestsException":               true,
	"RequestLimitExceeded":                   true,
	"ProvisionedThroughputExceededException": true,
	"InternalServiceException":               true,
	"OperationTimeoutException":              true,
	"ServiceUnavailable":                     true,
	"ServiceUnavailableException":            true,
	"InternalFailure":                        true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
}

// Retryable reports whether any error in err's tree is one that trying again
// soon can help with: throttling, a 5xx response, or a timeout. Access
// denied, an unknown job (EntityNotFoundException) and invalid input are not:
// they are reported and wait for the next regular poll.
func Retryable(err error) bool {
	for _, e := range collector.LeafErrors(err) {
		if retryable(e) {
			return true
		}
	}
	return false
}

func retryable(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if retryableCodes[apiErr.ErrorCode()] {
			return true
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	return false
}

// isCode reports whether err carries the AWS error code.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}
