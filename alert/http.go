package alert

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// ResponseError is the delivery error of an HTTP destination that answered
// res: retryable as the destination's protocol says and, when a retryable
// 408 or 429 names one, after the wait its Retry-After header asks for
// (whole seconds).
func ResponseError(err error, res *http.Response, retryable bool) *Error {
	e := &Error{Err: err, Retryable: retryable}
	if retryable && (res.StatusCode == http.StatusRequestTimeout || res.StatusCode == http.StatusTooManyRequests) {
		if secs, perr := strconv.Atoi(res.Header.Get("Retry-After")); perr == nil && secs > 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}

// MarshalBody is json.Marshal without HTML escaping, for the bodies HTTP
// destinations are sent: a "<" in a job's error stays "<" for whoever
// reads it.
func MarshalBody(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
