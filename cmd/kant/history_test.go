package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/sqlite"
)

// historyConfig is an SLO over imported on-prem jobs, with a retention
// window of retention.
func historyConfig(db, retention string) string {
	return `store:
  sqlite: {path: ` + db + `}
evaluate:
  lookback: 7d
  retention: ` + retention + `
slos:
  - name: onprem-nightly
    jobs: ["onprem/*"]
    schedule: "0 1 * * *"
    timezone: Asia/Tokyo
    calendar: jp-business-days
    deadline: "06:00"
    recover_by: "23:59"
`
}

// TestADateOlderThanRetentionAnswersWhatEvaluateOnceComputes is the defect
// of issue 12: /v1/slo for a date older than evaluate.retention answered
// {"results":[]}, like a holiday, and /v1/sla attainment 1, while the
// day's runs were stored. It imports three months old history, asks the
// API, then lets `kant evaluate -once -now` with a window covering those
// dates compute them, and compares.
func TestADateOlderThanRetentionAnswersWhatEvaluateOnceComputes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "kant.db")
	now := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC) // 09:00 JST
	line := func(job, id, state, start, end string) string {
		return fmt.Sprintf(`{"source":"onprem","job":%q,"run_id":%q,"state":%q,"started_at":%q,"finished_at":%q}`+"\n", job, id, state, start, end)
	}
	history := line("load", "1", "succeeded", "2026-03-02T01:00:00+09:00", "2026-03-02T05:00:00+09:00") +
		line("report", "2", "succeeded", "2026-03-02T01:00:00+09:00", "2026-03-02T07:00:00+09:00") +
		line("load", "3", "failed", "2026-03-03T01:00:00+09:00", "2026-03-03T02:00:00+09:00") +
		line("report", "4", "succeeded", "2026-03-03T01:00:00+09:00", "2026-03-03T04:00:00+09:00") +
		line("load", "5", "succeeded", "2026-06-01T01:00:00+09:00", "2026-06-01T02:00:00+09:00")
	file := filepath.Join(dir, "history.jsonl")
	if err := os.WriteFile(file, []byte(history), 0o644); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.yaml")
	if err := os.WriteFile(short, []byte(historyConfig(db, "30d")), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"import", "-config", short, file}, env(nil), nil, &stdout, &stderr); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr.String())
	}

	s := startOn(t, db, historyConfig(db, "30d"), nil, now)
	code, slo := s.do(t, "GET", "/v1/slo?date=2026-03-03", "", "")
	if code != 200 {
		t.Fatalf("/v1/slo: %d %v", code, slo)
	}
	note, _ := slo["on_demand"].(map[string]any)
	if note == nil || note["before"] != "2026-05-03" || !strings.Contains(note["note"].(string), "evaluate.retention") {
		t.Errorf("/v1/slo on_demand = %v, want a note that dates before 2026-05-03 were judged on demand", slo["on_demand"])
	}
	code, sla := s.do(t, "GET", "/v1/sla?from=2026-03-02&to=2026-03-03", "", "")
	if code != 200 {
		t.Fatalf("/v1/sla: %d %v", code, sla)
	}
	code, tooMany := s.do(t, "GET", "/v1/sla?from=2025-06-02&to=2026-06-01", "", "")
	if code != 400 || !strings.Contains(fmt.Sprint(tooMany["error"]), "92 days") {
		t.Errorf("a year before the window: %d %v, want 400 naming the 92-day limit", code, tooMany)
	}
	s.stop()

	// kant evaluate -once -now, with a window that covers March, writes
	// what the API answered.
	long := filepath.Join(dir, "long.yaml")
	if err := os.WriteFile(long, []byte(historyConfig(db, "120d")), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"evaluate", "-config", long, "-once", "-now", now.Format(time.RFC3339)}, env(nil), nil, &stdout, &stderr); code != 0 {
		t.Fatalf("evaluate -once: exit %d: %s", code, stderr.String())
	}
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d2, d3 := kant.Date{Year: 2026, Month: 3, Day: 2}, kant.Date{Year: 2026, Month: 3, Day: 3}
	stored, err := st.Results(context.Background(), kant.ResultFilter{From: d3, To: d3})
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, r := range stored {
		want = append(want, fmt.Sprintf("%s %s %s %s", r.Job, r.Date, r.Verdict, r.Reason))
	}
	for _, r := range slo["results"].([]any) {
		m := r.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s %s %s", m["job"], m["date"], m["verdict"], m["reason"]))
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) != 2 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("/v1/slo for 2026-03-03:\n%s\nkant evaluate -once (2 expected):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	days, err := st.Days(context.Background(), kant.ResultFilter{From: d2, To: d3})
	if err != nil {
		t.Fatal(err)
	}
	want, got = nil, nil
	for _, d := range days {
		want = append(want, fmt.Sprintf("%s %d occ %d met %d late %d missed slo %v sla %v", d.Date, d.Occurrences, d.Met, d.Late, d.Missed, d.SLOMet, d.SLAMet))
	}
	for _, d := range sla["days"].([]any) {
		m := d.(map[string]any)
		got = append(got, fmt.Sprintf("%s %v occ %v met %v late %v missed slo %v sla %v", m["date"], m["occurrences"], m["met"], m["late"], m["missed"], m["slo_met"], m["sla_met"]))
	}
	if len(want) != 2 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("/v1/sla days:\n%s\nkant evaluate -once:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	summary := sla["summary"].([]any)[0].(map[string]any)
	if summary["attainment"] == 1.0 {
		t.Errorf("attainment over a day with a missed deadline is 1: %v", summary)
	}
	t.Logf("/v1/slo 2026-03-03: %s; /v1/sla summary: %v", strings.Join(got, "; "), summary)
}
