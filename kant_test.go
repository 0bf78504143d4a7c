package kant_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kantproject/kant"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		key     kant.JobKey
		want    bool
	}{
		{"a literal key matches itself", "hegel/export", "hegel/export", true},
		{"a literal key does not match another", "hegel/export", "hegel/export2", false},
		{"a source glob matches every job of the source", "hegel/*", "hegel/export_users", true},
		{"a source glob does not match another source", "hegel/*", "socrates/daily", false},
		{"a star matches across dots of Airflow task keys", "socrates/daily_load.*", "socrates/daily_load.load_users", true},
		{"a question mark matches one character", "hegel/job?", "hegel/job1", true},
		{"a question mark needs a character", "hegel/job?", "hegel/job", false},
		{"a star alone matches everything", "*", "a/b/c", true},
		{"stars backtrack", "*/export_*_daily", "hegel/export_users_daily", true},
		{"matching is case-sensitive", "Hegel/*", "hegel/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kant.Match(tt.pattern, tt.key); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.key, got, tt.want)
			}
		})
	}
}

func TestStates(t *testing.T) {
	for _, s := range kant.States {
		got, err := kant.ParseState(string(s))
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := kant.ParseState("done"); err == nil {
		t.Error("ParseState(done) succeeded")
	}
	terminal := map[kant.State]bool{kant.StateSucceeded: true, kant.StateFailed: true, kant.StateTimeout: true,
		kant.StateStopped: true, kant.StateSkipped: true, kant.StateUpstreamFailed: true}
	for _, s := range kant.States {
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
	}
	var s kant.State
	if err := json.Unmarshal([]byte(`"nope"`), &s); err == nil {
		t.Error("unmarshalled an unknown state")
	}
}

func TestDate(t *testing.T) {
	d, err := kant.ParseDate("2026-02-28")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.AddDays(1).String(); got != "2026-03-01" {
		t.Errorf("AddDays(1) = %s", got)
	}
	if got := d.AddDays(-59).String(); got != "2025-12-31" {
		t.Errorf("AddDays(-59) = %s", got)
	}
	if n := d.AddDays(30).DaysSince(d); n != 30 {
		t.Errorf("DaysSince = %d", n)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if got := kant.DateOf(time.Date(2026, 6, 1, 16, 0, 0, 0, time.UTC).In(tokyo)).String(); got != "2026-06-02" {
		t.Errorf("DateOf in Tokyo = %s", got)
	}
	b, _ := json.Marshal(struct{ D kant.Date }{})
	if string(b) != `{"D":null}` {
		t.Errorf("zero date marshals as %s", b)
	}
	if _, err := kant.ParseDate("2026-02-30"); err == nil {
		t.Error("parsed 2026-02-30")
	}
}

func TestRunAsOf(t *testing.T) {
	r := kant.Run{State: kant.StateSucceeded,
		StartedAt:  time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC),
		FinishedAt: time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)}
	tests := []struct {
		name   string
		at     time.Time
		ok     bool
		state  kant.State
		finish bool
	}{
		{"before its start the run did not exist", time.Date(2026, 6, 1, 0, 59, 0, 0, time.UTC), false, "", false},
		{"between start and end the run was running", time.Date(2026, 6, 1, 1, 30, 0, 0, time.UTC), true, kant.StateRunning, false},
		{"at its end the run had its final state", time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC), true, kant.StateSucceeded, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.AsOf(tt.at)
			if ok != tt.ok || got.State != tt.state || got.FinishedAt.IsZero() == tt.finish {
				t.Errorf("AsOf = %+v, %v", got, ok)
			}
		})
	}
}

func TestRunValidate(t *testing.T) {
	obs := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	r := kant.Run{Source: "a", Job: "a/j", RunID: "1", State: kant.StateQueued, ObservedAt: obs,
		ErrorMessage: string(make([]byte, kant.MaxErrorMessage+10))}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.Attempt != 1 || len(r.ErrorMessage) != kant.MaxErrorMessage {
		t.Errorf("attempt %d, error message %d bytes", r.Attempt, len(r.ErrorMessage))
	}
	bad := r
	bad.Job = "b/j"
	if err := bad.Validate(); err == nil {
		t.Error("a job of another source validated")
	}
}

func TestTruncateNeverSplitsACharacter(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"a short string is kept whole", "abc", 5, "abc"},
		{"an ASCII string is cut at n bytes", "abcdef", 4, "abcd"},
		{"a cut inside a three-byte character moves back before it", "日本語", 4, "日"},
		{"a cut at a character boundary keeps n bytes", "日本語", 6, "日本"},
		{"a cut before the first character leaves nothing", "日本", 2, ""},
		{"a negative limit leaves nothing", "abc", -1, ""},
		{"bytes that are not UTF-8 become U+FFFD and the cut keeps the result valid", "\xff日本", 4, "\uFFFD"},
		{"a short string that is not UTF-8 is made valid", "a\x80b", 10, "a\uFFFDb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := kant.Truncate(tc.s, tc.n)
			if got != tc.want || !utf8.ValidString(got) {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

// TestAValidatedRunKeepsItsErrorMessageValidUTF8 is the defect of issue 12:
// 3,000 × "日" (9,000 bytes) was cut at 8,192 bytes, inside a character.
func TestAValidatedRunKeepsItsErrorMessageValidUTF8(t *testing.T) {
	r := kant.Run{Source: "glue", Job: "glue/a", RunID: "1", State: kant.StateFailed,
		ErrorMessage: strings.Repeat("日", 3000), ObservedAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(r.ErrorMessage) || len(r.ErrorMessage) > kant.MaxErrorMessage || len(r.ErrorMessage) < kant.MaxErrorMessage-3 {
		t.Errorf("error message: %d bytes, valid UTF-8 %v; want at most %d, valid", len(r.ErrorMessage), utf8.ValidString(r.ErrorMessage), kant.MaxErrorMessage)
	}
}

func TestHTTPStatus(t *testing.T) {
	busy := kant.Unavailable(errors.New("database is locked"), 2500*time.Millisecond, "store busy")
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter int
	}{
		{"an invalid request is a bad request", kant.Errorf(kant.EINVALID, "date: bad"), 400, 1},
		{"a missing thing is not found", kant.Errorf(kant.ENOTFOUND, "no silence"), 404, 1},
		{"a contradiction of what is stored is a conflict", kant.Errorf(kant.ECONFLICT, "stale write"), 409, 1},
		{"an unavailable store is a 503 retried after its delay, rounded up", fmt.Errorf("sqlite write runs: %w", busy), 503, 3},
		{"an unavailable store naming no delay is retried after a second", kant.Unavailable(nil, 0, "busy"), 503, 1},
		{"an internal error is a 500", kant.Errorf(kant.EINTERNAL, "bug"), 500, 1},
		{"an error without a code is a 500", errors.New("boom"), 500, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kant.HTTPStatus(tt.err); got != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", got, tt.status)
			}
			if got := kant.RetryAfterSeconds(tt.err); got != tt.retryAfter {
				t.Errorf("RetryAfterSeconds = %d, want %d", got, tt.retryAfter)
			}
		})
	}
}
