package awsclient

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGCPIDToken(t *testing.T) {
	t.Run("the GCP ID token is fetched from the metadata server for the audience", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Metadata-Flavor") != "Google" || r.URL.Path != "/computeMetadata/v1/instance/service-accounts/default/identity" ||
				r.URL.Query().Get("audience") != "kant glue" || r.URL.Query().Get("format") != "full" {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, "eyJhbGciOi.token\n")
		}))
		defer srv.Close()
		t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(srv.URL, "http://"))
		tok, err := newGCPIDToken("kant glue").GetIdentityToken()
		if err != nil || string(tok) != "eyJhbGciOi.token" {
			t.Errorf("token %q, %v", tok, err)
		}
		if _, err := newGCPIDToken("other").GetIdentityToken(); err == nil || strings.Contains(err.Error(), "token\n") {
			t.Errorf("a refused request gave %v", err)
		}
	})
}

func TestSessionName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"a plain source name is kept after the kant- prefix", "hegel", "kant-hegel"},
		{"characters STS refuses become underscores", "a b/c", "kant-a_b_c"},
		{"a long name is cut to 64 characters in all", strings.Repeat("x", 80), "kant-" + strings.Repeat("x", 59)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SessionName(tt.in); got != tt.want {
				t.Errorf("SessionName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
