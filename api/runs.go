package api

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
)

// runJSON is a run as the read API shows it.
type runJSON struct {
	Source       string            `json:"source"`
	Job          kant.JobKey       `json:"job"`
	RunID        string            `json:"run_id"`
	Attempt      int               `json:"attempt"`
	State        kant.State        `json:"state"`
	SourceState  string            `json:"source_state"`
	LogicalDate  kant.Date         `json:"logical_date"`
	StartedAt    *time.Time        `json:"started_at"`
	FinishedAt   *time.Time        `json:"finished_at"`
	DurationS    *float64          `json:"duration_s"`
	ErrorMessage string            `json:"error_message"`
	ObservedAt   time.Time         `json:"observed_at"`
	Attributes   map[string]string `json:"attributes"`
}

func toRunJSON(r kant.Run) runJSON {
	out := runJSON{
		Source: r.Source, Job: r.Job, RunID: r.RunID, Attempt: r.Attempt, State: r.State,
		SourceState: r.SourceState, LogicalDate: r.LogicalDate, StartedAt: timePtr(r.StartedAt),
		FinishedAt: timePtr(r.FinishedAt), ErrorMessage: r.ErrorMessage, ObservedAt: r.ObservedAt.UTC(),
		Attributes: r.Attributes,
	}
	if d := r.Duration(); d > 0 {
		s := d.Seconds()
		out.DurationS = &s
	}
	if out.Attributes == nil {
		out.Attributes = map[string]string{}
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// maxRunsLimit caps GET /v1/runs.
const maxRunsLimit = 10000

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := kant.RunFilter{Limit: 1000}
	if v := q.Get("job"); v != "" {
		f.Jobs = splitList(v)
	}
	from, to, err := dateRange(q.Get("from"), q.Get("to"), s.cfg.Now().In(s.cfg.Location), 0)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if q.Get("from") != "" || q.Get("to") != "" {
		// A run matches by its logical date, or by when it ran (in the
		// service's zone) when it carries none.
		f.DateFrom, f.DateTo = from, to
		f.From, f.To = from.In(s.cfg.Location), to.AddDays(1).In(s.cfg.Location)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRunsLimit {
			s.error(w, r, kant.Errorf(kant.EINVALID, "limit: want a number from 1 to %d", maxRunsLimit))
			return
		}
		f.Limit = n
	}
	limit := f.Limit
	f.Limit++ // one more, to tell whether the list was cut
	runs, err := s.cfg.Runs.LatestRuns(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	truncated := len(runs) > limit
	if truncated {
		runs = runs[:limit]
	}
	out := make([]runJSON, len(runs))
	for i, run := range runs {
		out[i] = toRunJSON(run)
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out, "truncated": truncated})
}

func (s *Server) postRuns(w http.ResponseWriter, r *http.Request) {
	s.ingest(w, r, s.cfg.Push.DecodeBody, http.StatusOK)
}

// postLineage takes OpenLineage RunEvents, on the path Marquez serves, so
// that existing emitters work. It answers 201, as Marquez does.
func (s *Server) postLineage(w http.ResponseWriter, r *http.Request) {
	s.ingest(w, r, s.cfg.Lineage.DecodeBody, http.StatusCreated)
}

// postEvents takes one EventBridge event, as an API destination delivers
// it. Every valid event is answered 200, EventBridge's success, whether it
// stored a run, repeated one already stored (stored: 0), or belongs to no
// configured source (ignored: why): none of these would change if it
// were sent again, and an API destination retries only on 401, 407, 409,
// 429 and 5xx. A malformed event is a 400 (not retried: it goes to the
// rule's dead-letter queue, if any); a source that cannot be read now is a
// 503, which is retried.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), ingestTimeout)
	defer cancel()
	runs, ignored, err := s.cfg.Events.DecodeEvent(ctx, body, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if ignored != "" {
		s.logger.Debug("event ignored", "reason", ignored)
		writeJSON(w, http.StatusOK, map[string]any{"received": 1, "stored": 0, "ignored": ignored})
		return
	}
	stored, err := s.cfg.Ingester.Ingest(ctx, runs)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"received": 1, "stored": stored})
}

// ingestTimeout bounds the work a push sets off, which no longer ends when
// its client leaves.
const ingestTimeout = time.Minute

// ingest decodes a pushed body with decode and stores it all or nothing.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, decode func([]byte, time.Time) ([]kant.Run, error), status int) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		s.error(w, r, err)
		return
	}
	runs, err := decode(body, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	// What the push sets off (the write, then the observers: the gate's
	// index, the evaluation) must not depend on the client staying: a
	// client that leaves once it has sent its body would otherwise cancel
	// work on a write that is durable. The context keeps the request's
	// values (its trace) and is bounded on its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), ingestTimeout)
	defer cancel()
	stored, err := s.cfg.Ingester.Ingest(ctx, runs)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, status, map[string]int{"received": len(runs), "stored": stored})
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// dateRange parses from/to query values. A missing to is today; a missing
// from is `days` days before to.
func dateRange(fromS, toS string, now time.Time, days int) (from, to kant.Date, err error) {
	to = kant.DateOf(now)
	if toS != "" {
		if to, err = kant.ParseDate(toS); err != nil {
			return from, to, kant.Errorf(kant.EINVALID, "to: %s", kant.ErrorMessage(err))
		}
	}
	from = to.AddDays(-days)
	if fromS != "" {
		if from, err = kant.ParseDate(fromS); err != nil {
			return from, to, kant.Errorf(kant.EINVALID, "from: %s", kant.ErrorMessage(err))
		}
	}
	if from.After(to) {
		return from, to, kant.Errorf(kant.EINVALID, "from: %s is after to: %s", from, to)
	}
	if to.DaysSince(from) > 366 {
		return from, to, kant.Errorf(kant.EINVALID, "from..to: more than 366 days")
	}
	return from, to, nil
}
