package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// resultJSON is one occurrence verdict as /v1/slo shows it.
type resultJSON struct {
	SLO         string       `json:"slo"`
	Job         kant.JobKey  `json:"job"`
	Date        kant.Date    `json:"date"`
	ExpectedAt  time.Time    `json:"expected_at"`
	Deadline    time.Time    `json:"deadline"`
	RecoverBy   time.Time    `json:"recover_by"`
	Verdict     kant.Verdict `json:"verdict"`
	Reason      kant.Reason  `json:"reason"`
	SucceededAt *time.Time   `json:"succeeded_at"`
	LatenessS   float64      `json:"lateness_s"`
	Runs        int          `json:"runs"`
	EvaluatedAt time.Time    `json:"evaluated_at"`
}

func (s *Server) sloByName(name string) (slo.Definition, error) {
	names := make([]string, 0, len(s.cfg.SLOs))
	for _, d := range s.cfg.SLOs {
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return slo.Definition{}, kant.Errorf(kant.EINVALID, "slo: unknown SLO %q (configured: %s)", name, strings.Join(names, ", "))
}

// configured reports whether name is a configured SLO: stored verdicts of
// SLOs since removed from the configuration are not served.
func (s *Server) configured(name string) bool {
	return slices.ContainsFunc(s.cfg.SLOs, func(d slo.Definition) bool { return d.Name == name })
}

func (s *Server) getSLO(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := kant.ResultFilter{SLO: q.Get("slo")}
	loc := s.cfg.Location
	if f.SLO != "" {
		def, err := s.sloByName(f.SLO)
		if err != nil {
			s.error(w, r, err)
			return
		}
		loc = def.Location
	}
	if v := q.Get("job"); v != "" {
		f.Jobs = splitList(v)
	}
	date := kant.DateOf(s.cfg.Now().In(loc))
	if v := q.Get("date"); v != "" {
		d, err := kant.ParseDate(v)
		if err != nil {
			s.error(w, r, kant.Errorf(kant.EINVALID, "date: %s", kant.ErrorMessage(err)))
			return
		}
		date = d
	}
	f.From, f.To = date, date
	results, err := s.cfg.Results.Results(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := make([]resultJSON, 0, len(results))
	for _, res := range results {
		if !s.configured(res.SLO) {
			continue // an SLO removed from the configuration
		}
		out = append(out, resultJSON{
			SLO: res.SLO, Job: res.Job, Date: res.Date, ExpectedAt: res.ExpectedAt.UTC(),
			Deadline: res.Deadline.UTC(), RecoverBy: res.RecoverBy.UTC(), Verdict: res.Verdict,
			Reason: res.Reason, SucceededAt: timePtr(res.SucceededAt), LatenessS: res.Lateness.Seconds(),
			Runs: res.Runs, EvaluatedAt: res.EvaluatedAt.UTC(),
		})
	}
	body := map[string]any{"date": date, "results": out}
	if note := s.onDemand(f.SLO, date); note != nil {
		body["on_demand"] = note
	}
	writeJSON(w, http.StatusOK, body)
}

// onDemandJSON tells that some verdicts of an answer were judged for it.
type onDemandJSON struct {
	Before kant.Date `json:"before"`
	Note   string    `json:"note"`
}

// onDemand returns the note for an answer that reaches back to from, for
// one SLO or all: nil when every date asked for is stored.
func (s *Server) onDemand(name string, from kant.Date) *onDemandJSON {
	if s.cfg.Kept == nil {
		return nil
	}
	now := s.cfg.Now()
	var before kant.Date
	for _, def := range s.cfg.SLOs {
		if name != "" && def.Name != name {
			continue
		}
		if kept := s.cfg.Kept(def, now); from.Before(kept) && (before.IsZero() || kept.After(before)) {
			before = kept
		}
	}
	if before.IsZero() {
		return nil
	}
	return &onDemandJSON{Before: before, Note: fmt.Sprintf(
		"dates before %s are older than evaluate.retention: their verdicts were judged from the stored runs for this request and are not stored", before)}
}

func (s *Server) getSLA(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	defs := s.cfg.SLOs
	loc := s.cfg.Location
	if name := q.Get("slo"); name != "" {
		def, err := s.sloByName(name)
		if err != nil {
			s.error(w, r, err)
			return
		}
		defs, loc = []slo.Definition{def}, def.Location
	}
	from, to, err := dateRange(q.Get("from"), q.Get("to"), s.cfg.Now().In(loc), 29)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := kant.ResultFilter{SLO: q.Get("slo"), From: from, To: to}
	days, err := s.cfg.Results.Days(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	days = slices.DeleteFunc(days, func(d kant.Day) bool { return !s.configured(d.SLO) })
	if days == nil {
		days = []kant.Day{}
	}
	var silences []kant.Silence
	if s.cfg.Silences != nil && slices.ContainsFunc(defs, func(d slo.Definition) bool { return d.ExcludeSilenced }) {
		// Days under a silence leave the attainment of SLOs that say so.
		if silences, err = s.cfg.Silences(r.Context(), from.In(loc).AddDate(0, 0, -1), to.In(loc).AddDate(0, 0, 2)); err != nil {
			s.error(w, r, err)
			return
		}
	}
	summary := make([]kant.Attainment, 0, len(defs))
	for _, def := range defs {
		var own []kant.Day
		for _, d := range days {
			if d.SLO == def.Name {
				own = append(own, d)
			}
		}
		summary = append(summary, slo.Summarize(def, def.Excluding(own, silences)))
	}
	slices.SortFunc(summary, func(a, b kant.Attainment) int { return strings.Compare(a.SLO, b.SLO) })
	body := map[string]any{"from": from, "to": to, "days": days, "summary": summary}
	if note := s.onDemand(q.Get("slo"), from); note != nil {
		body["on_demand"] = note
	}
	writeJSON(w, http.StatusOK, body)
}
