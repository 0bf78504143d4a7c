package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/kantproject/kant"
)

type errorBody struct {
	Error  string `json:"error"`
	Detail any    `json:"detail,omitempty"`
}

// error writes err as a JSON error; see writeError.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, s.logger, err)
}

// writeError writes err as a JSON error with the status kant.HTTPStatus
// gives its code (the one table), or 413 for a body over its limit. A 503
// says when to ask again in Retry-After. Internal errors are logged with
// their detail and answered with a generic message; an unavailable
// dependency is logged as a warning and answered with its message.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status := kant.HTTPStatus(err)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		status = http.StatusRequestEntityTooLarge
		err = kant.Errorf(kant.EINVALID, "request body larger than %d bytes", tooBig.Limit)
	}
	msg := kant.ErrorMessage(err)
	switch {
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(kant.RetryAfterSeconds(err)))
		logger.Warn("request unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	case status >= 500:
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	writeJSON(w, status, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
