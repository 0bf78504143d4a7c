package awsmodel

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Call is one request of the model's JSON protocol, as a local test server
// receives it.
type Call struct {
	Op        string         // the operation, from X-Amz-Target
	In        map[string]any // the request body, checked against the input shape
	First     bool           // the SDK's first attempt at the call (not a retry)
	AccessKey string         // the access key that signed it
}

// Decode reads r, whose body is body, as a call of m's JSON protocol: POST
// /, X-Amz-Target "PREFIX.Operation", Content-Type
// application/x-amz-json-VERSION, a body that follows the operation's input
// shape. What does not is reported to t. ok is false when the request names
// no operation of the model or its body is not JSON: there is nothing to
// answer but an error.
func (m *Model) Decode(t testing.TB, r *http.Request, body []byte) (c Call, ok bool) {
	t.Helper()
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, m.Metadata.TargetPrefix+".")
	if r.Method != http.MethodPost || r.URL.Path != "/" || !ok {
		t.Errorf("unexpected request %s %s target %q", r.Method, r.URL.Path, target)
		return Call{}, false
	}
	if ct, want := r.Header.Get("Content-Type"), m.contentType(); ct != want {
		t.Errorf("%s: Content-Type %q, want %q", op, ct, want)
	}
	spec, ok := m.Operations[op]
	if !ok {
		t.Errorf("operation %s is not in the model", op)
		return Call{Op: op}, false
	}
	c = Call{Op: op}
	if err := json.Unmarshal(body, &c.In); err != nil {
		t.Errorf("%s: request body is not JSON: %v", op, err)
		return c, false
	}
	if err := m.Check(spec.Input.Shape, c.In, op+" request"); err != nil {
		t.Errorf("request does not follow the model: %v", err)
	}
	a := r.Header.Get("amz-sdk-request") // "attempt=N; max=M", the same call's retries numbered
	c.First = a == "" || strings.HasPrefix(a, "attempt=1;")
	if _, key, found := strings.Cut(r.Header.Get("Authorization"), "Credential="); found {
		c.AccessKey, _, _ = strings.Cut(key, "/")
	}
	return c, true
}

// Write answers op with out, after checking what goes on the wire (not
// the Go values) against the operation's output shape; what does not
// follow it is reported to t.
func (m *Model) Write(t testing.TB, w http.ResponseWriter, op string, out map[string]any) {
	t.Helper()
	b, err := json.Marshal(out)
	if err != nil {
		t.Errorf("%s: encode response: %v", op, err)
	}
	var sent any
	if err := json.Unmarshal(b, &sent); err != nil {
		t.Errorf("%s: decode response: %v", op, err)
	}
	if err := m.Check(m.Operations[op].Output.Shape, sent, op+" response"); err != nil {
		t.Errorf("the fake's response does not follow the model: %v", err)
	}
	w.Header().Set("Content-Type", m.contentType())
	w.Write(b)
}

func (m *Model) contentType() string { return "application/x-amz-json-" + m.Metadata.JSONVersion }
