package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/api"
)

// named answers 200 with its name, so a test sees which handler a route reached.
type named string

func (n named) ServeHTTP(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(n)) }

func TestEveryRouteIsServedWithTheTokenItNeeds(t *testing.T) {
	h := newServer(t, &fakeStore{}, api.Config{
		ReadTokens: []string{"r"}, WriteTokens: []string{"w"},
		Gate: named("gate"), StatusPage: named("page"), SilenceHandler: named("silences"), Metrics: named("metrics"),
		Status: func() kant.ReplicaStatus {
			return kant.ReplicaStatus{Replica: "r1", Role: kant.RoleLeader, Leader: "r1"}
		},
	})
	tests := []struct {
		name, method, path, token string
		status                    int
		reached                   string // the handler that answered, when one of those passed in
	}{
		{"the gate is served with a read token", "GET", "/v1/gate?jobs=a", "r", 200, "gate"},
		{"the gate needs a read token", "GET", "/v1/gate?jobs=a", "", 401, ""},
		{"the gate answers GET only", "POST", "/v1/gate", "r", 405, ""},
		{"silences are listed with a read token", "GET", "/v1/silences", "r", 200, "silences"},
		{"a silence is created with a write token", "POST", "/v1/silences", "w", 200, "silences"},
		{"a silence is not created with a read token", "POST", "/v1/silences", "r", 401, ""},
		{"a silence is deleted with a write token", "DELETE", "/v1/silences/sil_1", "w", 200, "silences"},
		{"a silence is not deleted without a token", "DELETE", "/v1/silences/sil_1", "", 401, ""},
		{"the status page's home is served without a token", "GET", "/", "", 200, "page"},
		{"the calendar is served", "GET", "/calendar", "", 200, "page"},
		{"a job page is served", "GET", "/jobs/hegel/export_users", "", 200, "page"},
		{"static files are served", "GET", "/static/style.css", "", 200, "page"},
		{"metrics are served without a token", "GET", "/metrics", "", 200, "metrics"},
		{"the replica's status is served with a read token", "GET", "/v1/status", "r", 200, ""},
		{"the replica's status needs a read token", "GET", "/v1/status", "", 401, ""},
		{"an unknown path is a JSON 404", "GET", "/nope", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || (tt.reached != "" && rec.Body.String() != tt.reached) {
				t.Errorf("%s %s: %d %q, want %d from %q", tt.method, tt.path, rec.Code, rec.Body.String(), tt.status, tt.reached)
			}
		})
	}
}

func TestAPartNotPassedInIsNotServed(t *testing.T) {
	h := newServer(t, &fakeStore{}, api.Config{})
	for _, path := range []string{"/v1/gate", "/v1/silences", "/", "/calendar", "/metrics", "/v1/status"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rec.Code)
		}
	}
}
