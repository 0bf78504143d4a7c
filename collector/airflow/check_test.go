package airflow

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, api := range []string{APIv1, APIv2} {
		t.Run("a reachable Airflow "+api+" reports its version, its DAGs and what it reads, storing nothing", func(t *testing.T) {
			h := newHarness(t, api)
			h.cfg.DAGs = []string{"daily_*"}
			h.fake.addDAGs("daily_load", "daily_export", "weekly")
			r := day("daily_load", 9, "success")
			h.fake.addRun(r)
			h.fake.addTI(ti(r, "a", "success", 1, 0), ti(r, "b", "success", 1, 0))
			report, err := h.source(t).Check(context.Background())
			want := "Airflow " + h.fake.version + ", API " + api + "; lists 2 matching DAG(s); reads task instances (2 in all)"
			if err != nil || report != want {
				t.Fatalf("Check = %q, %v; want %q", report, err, want)
			}
			if len(h.take()) != 0 || h.health.Last() != "<none>" || h.cps.Len() != 0 {
				t.Error("Check stored runs, health or checkpoints")
			}
		})
	}
	t.Run("refused credentials are reported after the version", func(t *testing.T) {
		h := newHarness(t, APIv1)
		h.cfg.Auth, h.cfg.Username, h.cfg.Password = AuthBasic, "kant", "wrong"
		h.fake.auth = func(*http.Request) bool { return false }
		report, err := h.source(t).Check(context.Background())
		if err == nil || !strings.Contains(err.Error(), "cannot list DAGs") || !strings.Contains(err.Error(), "401") || !strings.HasPrefix(report, "Airflow 2.10.5") {
			t.Errorf("Check = %q, %v", report, err)
		}
	})
	t.Run("an unreachable Airflow says so", func(t *testing.T) {
		h := newHarness(t, APIv2)
		h.cfg.URL = "http://127.0.0.1:1"
		if _, err := h.source(t).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot reach Airflow") {
			t.Errorf("Check err = %v", err)
		}
	})
	t.Run("a configured api the server does not speak is reported", func(t *testing.T) {
		h := newHarness(t, APIv1)
		h.cfg.API = APIv2
		if _, err := h.source(t).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "api: v2") {
			t.Errorf("Check err = %v", err)
		}
	})
}
