package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/kantproject/kant"
)

type errorBody struct {
	Error  string `json:"error"`
	Detail any    `json:"detail,omitempty"`
}

// statuses maps kant error codes to HTTP statuses.
var statuses = map[string]int{
	kant.EINVALID:  http.StatusBadRequest,
	kant.ENOTFOUND: http.StatusNotFound,
	kant.EINTERNAL: http.StatusInternalServerError,
}

// error writes err as a JSON error. Internal errors are logged with their
// detail and answered with a generic message.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := kant.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		status = http.StatusRequestEntityTooLarge
		err = kant.Errorf(kant.EINVALID, "request body larger than %d bytes", tooBig.Limit)
	}
	if status >= 500 {
		s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: kant.ErrorMessage(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
