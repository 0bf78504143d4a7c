package airflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/collector"
)

// Checkpoint keys, one per level.
const (
	checkpointTasks = "task_instances"
	checkpointDAGs  = "dag_runs"
)

// checkpoint is what the poller remembers between polls, saved as JSON
// under (source, key). Since is the Unix time at which the last complete
// poll started: the next poll reads what ended at or after Since - Overlap,
// plus everything not finished.
type checkpoint struct {
	V     int   `json:"v"`
	Since int64 `json:"since"`
}

const checkpointVersion = 1

// Airflow states that are not finished, as sent in the "state" filter.
var (
	openTaskStates = []string{"scheduled", "queued", "running", "up_for_retry", "up_for_reschedule", "deferred", "restarting"}
	openDAGStates  = []string{"queued", "running"}
)

// State maps an Airflow task instance or DAG run state to kant's normalized
// state (DESIGN.md "Run states", except up_for_retry): up_for_reschedule,
// deferred and restarting are running; scheduled, queued and none (null, "")
// are queued; removed is skipped. up_for_retry is failed: the try failed and
// the next one is to come, so with MaxAttempts = max_tries+1 the observation
// is "retry pending" (kant.Run.RetryPending), as a Glue attempt followed by
// a retry is, and the failed try keeps its own record when the next try
// (a higher try_number) starts. known is false for a state kant does not know,
// which is StateUnknown and counts as not finished.
func State(s string) (st kant.State, known bool) {
	switch s {
	case "success":
		return kant.StateSucceeded, true
	case "failed", "up_for_retry":
		return kant.StateFailed, true
	case "upstream_failed":
		return kant.StateUpstreamFailed, true
	case "skipped", "removed":
		return kant.StateSkipped, true
	case "running", "up_for_reschedule", "deferred", "restarting":
		return kant.StateRunning, true
	case "scheduled", "queued", "none", "":
		return kant.StateQueued, true
	}
	return kant.StateUnknown, false
}

// wireTI is a task instance as both APIs send it (v1 TaskInstance, v2
// TaskInstanceResponse); fields one version lacks stay nil.
type wireTI struct {
	DagID         string  `json:"dag_id"`
	TaskID        string  `json:"task_id"`
	DagRunID      string  `json:"dag_run_id"`
	MapIndex      *int    `json:"map_index"`
	State         *string `json:"state"`
	TryNumber     int     `json:"try_number"`
	MaxTries      int     `json:"max_tries"`
	StartDate     *string `json:"start_date"`
	EndDate       *string `json:"end_date"`
	ExecutionDate *string `json:"execution_date"` // v1
	LogicalDate   *string `json:"logical_date"`   // v2, may be null
	RunAfter      *string `json:"run_after"`      // v2
}

// wireDagRun is a DAG run as both APIs send it (v1 DAGRun, v2 DAGRunResponse).
type wireDagRun struct {
	DagID           string  `json:"dag_id"`
	DagRunID        string  `json:"dag_run_id"`
	State           *string `json:"state"`
	RunType         string  `json:"run_type"`
	StartDate       *string `json:"start_date"`
	EndDate         *string `json:"end_date"`
	ExecutionDate   *string `json:"execution_date"` // v1
	LogicalDate     *string `json:"logical_date"`   // may be null in v2
	DataIntervalEnd *string `json:"data_interval_end"`
	RunAfter        *string `json:"run_after"` // v2
}

// dagRunAt is what the poller keeps of a v1 DAG run for its task instances:
// the tick (data_interval_end) that dates them.
type dagRunAt struct {
	dataIntervalEnd string
}

// maxRunInfo bounds the cache of v1 DAG run ticks.
const maxRunInfo = 100_000

// Attribute names kept next to an observation.
const (
	AttrDagID           = "dag_id"
	AttrTaskID          = "task_id"
	AttrDagRunID        = "dag_run_id"
	AttrLogicalDate     = "logical_date"
	AttrRunAfter        = "run_after"
	AttrDataIntervalEnd = "data_interval_end"
	AttrMapIndex        = "map_index"
	AttrRunType         = "run_type"
)

// Poll reads the source once: it detects the API version when it is not
// known, resolves the DAG list when it is due, reads what changed since the
// checkpoint (key "task_instances" or "dag_runs", by level) and emits it
// with the next checkpoint in one unit.
func (p *Poller) Poll(ctx context.Context, c *collector.Cycle) error {
	now := p.now()
	api, err := p.apiVersion(ctx)
	if err != nil {
		return err
	}
	dags, listErr := p.resolveDAGs(ctx, api)
	if len(dags) == 0 {
		if listErr == nil {
			p.log.Debug("airflow: no DAG matches", "dags", strings.Join(p.cfg.DAGs, ","))
		}
		return listErr
	}

	key := checkpointTasks
	if p.cfg.Level == LevelDAG {
		key = checkpointDAGs
	}
	saved, err := c.Checkpoint(ctx, key)
	if err != nil {
		return errors.Join(listErr, fmt.Errorf("airflow: %w", err))
	}
	var cp checkpoint
	ok, err := collector.DecodeCheckpoint(saved, checkpointVersion, &cp)
	if err != nil {
		p.log.Warn("airflow checkpoint unreadable, reading the backfill window again", "error", err)
	}
	from := now.Add(-p.cfg.Backfill)
	if ok {
		from = time.Unix(cp.Since, 0).Add(-p.cfg.Overlap)
	}
	openFrom := now.Add(-p.cfg.Backfill)
	cutsBefore := p.cuts.Load()

	var runs []kant.Run
	if p.cfg.Level == LevelDAG {
		runs, err = p.pollDagRuns(ctx, api, dags, from, openFrom, now)
	} else {
		runs, err = p.pollTaskInstances(ctx, api, dags, from, openFrom, now)
	}
	if err != nil {
		return errors.Join(listErr, err)
	}
	p.log.Debug("airflow polled", "dags", len(dags), "read", len(runs))
	u := collector.Unit{Key: key, Runs: runs}
	if p.cuts.Load() == cutsBefore {
		// Unless a list was cut short: what it did not reach ended after
		// the checkpoint, so the checkpoint stays where it was.
		next, _ := json.Marshal(checkpoint{V: checkpointVersion, Since: now.Unix()})
		u.Next = string(next)
	}
	return errors.Join(listErr, c.Emit(ctx, u))
}

// pollTaskInstances reads the task instances of dags that ended at or after
// from, and those not finished (scheduled, queued, running, waiting for a
// retry or a reschedule, deferred, restarting) of runs after openFrom: two
// filtered batch lists, so that a poll reads what changed, not the history.
// A task that starts has a state among the open ones; one that ends has an
// end_date; a poll sees both. In v1 the tick of each task's DAG run comes
// from the DAG runs list, read only for runs not seen before.
func (p *Poller) pollTaskInstances(ctx context.Context, api string, dags []string, from, openFrom, now time.Time) ([]kant.Run, error) {
	seen := map[string]bool{}
	var tis []wireTI
	collect := func(raw json.RawMessage) error {
		var ti wireTI
		if err := json.Unmarshal(raw, &ti); err != nil {
			return err
		}
		k := ti.DagID + "\x00" + ti.TaskID + "\x00" + ti.DagRunID + "\x00" + strconv.Itoa(deref(ti.MapIndex, -1)) + "\x00" + strconv.Itoa(ti.TryNumber)
		if !seen[k] {
			seen[k] = true
			tis = append(tis, ti)
		}
		return nil
	}
	if err := p.listChanged(ctx, api, "/dags/~/dagRuns/~/taskInstances/list", "task_instances", "state", openTaskStates,
		dags, from, openFrom, collect); err != nil {
		return nil, err
	}
	if api == APIv1 {
		if err := p.learnDagRuns(ctx, tis); err != nil {
			return nil, err
		}
	}
	runs := make([]kant.Run, 0, len(tis))
	for _, ti := range tis {
		r, err := p.taskRun(api, ti, now)
		if err != nil {
			p.log.Warn("airflow task instance skipped", "job", ti.DagID+"."+ti.TaskID, "run_id", ti.DagRunID, "error", err)
			continue
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// pollDagRuns reads the DAG runs of dags that ended at or after from, and
// those queued or running after openFrom.
func (p *Poller) pollDagRuns(ctx context.Context, api string, dags []string, from, openFrom, now time.Time) ([]kant.Run, error) {
	seen := map[string]bool{}
	var drs []wireDagRun
	collect := func(raw json.RawMessage) error {
		var dr wireDagRun
		if err := json.Unmarshal(raw, &dr); err != nil {
			return err
		}
		if k := dr.DagID + "\x00" + dr.DagRunID; !seen[k] {
			seen[k] = true
			drs = append(drs, dr)
		}
		return nil
	}
	if err := p.listChanged(ctx, api, "/dags/~/dagRuns/list", "dag_runs", "states", openDAGStates,
		dags, from, openFrom, collect); err != nil {
		return nil, err
	}
	runs := make([]kant.Run, 0, len(drs))
	for _, dr := range drs {
		r, err := p.dagRun(api, dr, now)
		if err != nil {
			p.log.Warn("airflow DAG run skipped", "job", dr.DagID, "run_id", dr.DagRunID, "error", err)
			continue
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// listChanged reads what changed among the items of a batch list of dags
// (under key in each answer) and hands each to each: those that ended at or
// after from, and those in one of the open states (the body key stateField)
// of runs after openFrom. A starting item is open; an ending one has an
// end_date; a poll sees both. each sees an item once per list it is in.
func (p *Poller) listChanged(ctx context.Context, api, path, key, stateField string, openStates, dags []string,
	from, openFrom time.Time, each func(json.RawMessage) error) error {
	dateField := "execution_date_gte"
	if api == APIv2 {
		dateField = "run_after_gte"
	}
	for chunk := range slices.Chunk(dags, dagChunk) {
		ended := map[string]any{"dag_ids": chunk, "end_date_gte": wireTime(from)}
		if err := p.listAll(ctx, api, path, ended, key, each); err != nil {
			return err
		}
		open := map[string]any{"dag_ids": chunk, stateField: openStates, dateField: wireTime(openFrom)}
		if err := p.listAll(ctx, api, path, open, key, each); err != nil {
			return err
		}
	}
	return nil
}

// learnDagRuns reads, for v1 task instances whose DAG run the poller has
// not seen yet, the DAG runs of their DAGs over their execution dates, and
// keeps each run's data_interval_end. Runs already seen cost nothing.
func (p *Poller) learnDagRuns(ctx context.Context, tis []wireTI) error {
	p.mu.Lock()
	var (
		dagSet         = map[string]bool{}
		lo, hi         time.Time
		missing        int
		runInfoCurrent = p.runInfo
	)
	for _, ti := range tis {
		if _, ok := runInfoCurrent[ti.DagID+"\x00"+ti.DagRunID]; ok || ti.ExecutionDate == nil {
			continue
		}
		t, err := parseTime(*ti.ExecutionDate)
		if err != nil {
			continue
		}
		missing++
		dagSet[ti.DagID] = true
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if hi.IsZero() || t.After(hi) {
			hi = t
		}
	}
	p.mu.Unlock()
	if missing == 0 {
		return nil
	}
	dags := make([]string, 0, len(dagSet))
	for d := range dagSet {
		dags = append(dags, d)
	}
	slices.Sort(dags)
	found := map[string]dagRunAt{}
	collect := func(raw json.RawMessage) error {
		var dr wireDagRun
		if err := json.Unmarshal(raw, &dr); err != nil {
			return err
		}
		found[dr.DagID+"\x00"+dr.DagRunID] = dagRunAt{dataIntervalEnd: deref(dr.DataIntervalEnd, "")}
		return nil
	}
	for chunk := range slices.Chunk(dags, dagChunk) {
		// wireTime drops fractions of a second: widen the upper bound by one.
		body := map[string]any{"dag_ids": chunk, "execution_date_gte": wireTime(lo), "execution_date_lte": wireTime(hi.Add(time.Second))}
		if err := p.listAll(ctx, APIv1, "/dags/~/dagRuns/list", body, "dag_runs", collect); err != nil {
			return fmt.Errorf("airflow: read the DAG runs of task instances: %w", err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.runInfo)+len(found) > maxRunInfo {
		p.runInfo = map[string]dagRunAt{}
	}
	for k, v := range found {
		p.runInfo[k] = v
	}
	return nil
}

// taskRun maps a task instance to a validated observation made at now.
//
// Attempt is try_number (at least 1). Airflow's max_tries is the task's
// retries (raised when a task is cleared), so it allows max_tries+1 tries:
// MaxAttempts is max_tries+1 while the task is not finished. Once Airflow
// has put it in a finished state it will not retry it on its own (a retry
// to come is the state up_for_retry), so a finished task's MaxAttempts is
// at most its Attempt, and kant never calls a failed Airflow task "retry
// pending".
func (p *Poller) taskRun(api string, ti wireTI, now time.Time) (kant.Run, error) {
	if ti.DagID == "" || ti.TaskID == "" || ti.DagRunID == "" {
		return kant.Run{}, fmt.Errorf("task instance without dag_id, task_id or dag_run_id")
	}
	raw := deref(ti.State, "")
	st := p.state(raw)
	attempt := max(ti.TryNumber, 1)
	maxAttempts := max(ti.MaxTries, 0) + 1
	if st.Terminal() && raw != "up_for_retry" {
		maxAttempts = min(maxAttempts, attempt)
	}
	runID := ti.DagRunID
	attrs := map[string]string{AttrDagID: ti.DagID, AttrTaskID: ti.TaskID, AttrDagRunID: ti.DagRunID}
	if mi := deref(ti.MapIndex, -1); mi >= 0 {
		// A mapped task has one instance per index, each its own run.
		runID = fmt.Sprintf("%s[%d]", ti.DagRunID, mi)
		attrs[AttrMapIndex] = strconv.Itoa(mi)
	}
	r := kant.Run{
		Source:      p.cfg.Source,
		Job:         kant.NewJobKey(p.cfg.Source, ti.DagID+"."+ti.TaskID),
		RunID:       runID,
		Attempt:     attempt,
		MaxAttempts: maxAttempts,
		State:       st,
		SourceState: sourceState(raw),
		ObservedAt:  now,
		Attributes:  attrs,
	}
	var tick string
	if api == APIv2 {
		tick = deref(ti.RunAfter, "")
		setAttr(attrs, AttrRunAfter, tick)
		setAttr(attrs, AttrLogicalDate, deref(ti.LogicalDate, ""))
	} else {
		setAttr(attrs, AttrLogicalDate, deref(ti.ExecutionDate, ""))
		p.mu.Lock()
		tick = p.runInfo[ti.DagID+"\x00"+ti.DagRunID].dataIntervalEnd
		p.mu.Unlock()
		setAttr(attrs, AttrDataIntervalEnd, tick)
	}
	if err := p.fill(&r, ti.StartDate, ti.EndDate, tick); err != nil {
		return kant.Run{}, err
	}
	return r, r.Validate()
}

// dagRun maps a DAG run to a validated observation made at now.
func (p *Poller) dagRun(api string, dr wireDagRun, now time.Time) (kant.Run, error) {
	if dr.DagID == "" || dr.DagRunID == "" {
		return kant.Run{}, fmt.Errorf("DAG run without dag_id or dag_run_id")
	}
	raw := deref(dr.State, "")
	attrs := map[string]string{AttrDagID: dr.DagID, AttrDagRunID: dr.DagRunID}
	setAttr(attrs, AttrRunType, dr.RunType)
	r := kant.Run{
		Source:      p.cfg.Source,
		Job:         kant.NewJobKey(p.cfg.Source, dr.DagID),
		RunID:       dr.DagRunID,
		Attempt:     1,
		State:       p.state(raw),
		SourceState: sourceState(raw),
		ObservedAt:  now,
		Attributes:  attrs,
	}
	var tick string
	if api == APIv2 {
		tick = deref(dr.RunAfter, "")
		setAttr(attrs, AttrRunAfter, tick)
		setAttr(attrs, AttrLogicalDate, deref(dr.LogicalDate, ""))
	} else {
		tick = deref(dr.DataIntervalEnd, "")
		setAttr(attrs, AttrDataIntervalEnd, tick)
		setAttr(attrs, AttrLogicalDate, deref(dr.LogicalDate, deref(dr.ExecutionDate, "")))
	}
	if err := p.fill(&r, dr.StartDate, dr.EndDate, tick); err != nil {
		return kant.Run{}, err
	}
	return r, r.Validate()
}

// fill sets r's times and its logical date: the local date, in Location, of
// the tick (v2 run_after, v1 data_interval_end). A run that is not finished
// has no finish time, even where Airflow keeps the end of an earlier try.
func (p *Poller) fill(r *kant.Run, start, end *string, tick string) error {
	var err error
	if s := deref(start, ""); s != "" {
		if r.StartedAt, err = parseTime(s); err != nil {
			return fmt.Errorf("start_date: %w", err)
		}
	}
	if e := deref(end, ""); e != "" && r.State.Terminal() {
		if r.FinishedAt, err = parseTime(e); err != nil {
			return fmt.Errorf("end_date: %w", err)
		}
		if !r.StartedAt.IsZero() && r.FinishedAt.Before(r.StartedAt) {
			r.FinishedAt = r.StartedAt
		}
	}
	if tick != "" {
		t, err := parseTime(tick)
		if err != nil {
			return fmt.Errorf("logical date: %w", err)
		}
		r.LogicalDate = kant.DateOf(t.In(p.cfg.Location))
	}
	return nil
}

// state maps raw and logs each unknown state value once.
func (p *Poller) state(raw string) kant.State {
	st, known := State(raw)
	if !known {
		p.mu.Lock()
		first := !p.unknown[raw]
		p.unknown[raw] = true
		p.mu.Unlock()
		if first {
			p.log.Warn("airflow state unknown to kant, treated as not finished", "state", raw)
		}
	}
	return st
}

// sourceState is the state kept next to the normalized one: Airflow's own,
// with null written as Airflow names it, "none".
func sourceState(raw string) string {
	if raw == "" {
		return "none"
	}
	return raw
}

func setAttr(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// parseTime reads Airflow's ISO 8601 times, which carry an offset.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return t, nil
}

// wireTime formats a filter time: UTC with a zone, as Airflow rejects naive
// times, to the second (rounded down).
func wireTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// listAll reads every page of a batch list (POST with a JSON body) and
// hands each item under key to each. It sends page_limit and page_offset
// and stops when it has read total_entries items, so that it works against
// servers that ignore page_limit and return everything (before 2.10.3) and
// against those that cap pages at 100 or less.
func (p *Poller) listAll(ctx context.Context, api, path string, body map[string]any, key string, each func(json.RawMessage) error) error {
	return p.pages(ctx, api, path, key, each, func(offset int) request {
		b := make(map[string]any, len(body)+2)
		for k, v := range body {
			b[k] = v
		}
		b["page_limit"], b["page_offset"] = pageLimit, offset
		return request{method: http.MethodPost, api: api, path: path, body: b}
	})
}

// getAll reads every page of a GET list (limit and offset in the query).
func (p *Poller) getAll(ctx context.Context, api, path string, key string, each func(json.RawMessage) error) error {
	return p.pages(ctx, api, path, key, each, func(offset int) request {
		q := url.Values{"limit": {strconv.Itoa(pageLimit)}, "offset": {strconv.Itoa(offset)}}
		return request{method: http.MethodGet, api: api, path: path, query: q}
	})
}

// pages reads the pages that page(offset) asks for, handing each item under
// key to each, until total_entries items were read or a page is empty. A
// list longer than maxPages pages is cut short, counted in p.cuts.
func (p *Poller) pages(ctx context.Context, api, path, key string, each func(json.RawMessage) error, page func(offset int) request) error {
	offset := 0
	for range maxPages {
		req := page(offset)
		var coll map[string]json.RawMessage
		if err := p.call(ctx, req, &coll); err != nil {
			return err
		}
		var items []json.RawMessage
		var total int
		if err := json.Unmarshal(coll[key], &items); err != nil {
			return fmt.Errorf("airflow %s /api/%s%s: no %s list in the answer", req.method, api, path, key)
		}
		if raw, ok := coll["total_entries"]; ok {
			_ = json.Unmarshal(raw, &total)
		}
		for _, it := range items {
			if err := each(it); err != nil {
				return fmt.Errorf("airflow %s /api/%s%s: %w", req.method, api, path, err)
			}
		}
		offset += len(items)
		if len(items) == 0 || offset >= total {
			return nil
		}
	}
	p.cuts.Add(1)
	p.log.Warn("airflow list cut short; the rest is read by the next poll", "path", path, "pages", maxPages)
	return nil
}

// resolveDAGs returns the DAG ids to poll, listing them again when the
// list is older than RelistEvery. A literal id with no such DAG is an
// ENOTFOUND error returned with the DAGs that were found.
func (p *Poller) resolveDAGs(ctx context.Context, api string) ([]string, error) {
	p.mu.Lock()
	due := p.dags == nil || p.listedAt.IsZero() || p.now().Sub(p.listedAt) >= p.cfg.RelistEvery
	known := p.dags
	p.mu.Unlock()
	if !due {
		return known, nil
	}
	dags, err := p.listDAGs(ctx, api)
	if err != nil && dags == nil {
		if known != nil {
			return known, err // keep polling what we know; the listing is tried again next cycle
		}
		return nil, err
	}
	p.mu.Lock()
	p.dags, p.listedAt = dags, p.now()
	p.mu.Unlock()
	return dags, err
}

// listDAGs reads the DAG list (GET /dags) and keeps the ids matching the
// configured ids and globs.
func (p *Poller) listDAGs(ctx context.Context, api string) ([]string, error) {
	dags := []string{}
	err := p.getAll(ctx, api, "/dags", "dags", func(raw json.RawMessage) error {
		var d struct {
			DagID string `json:"dag_id"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		if d.DagID != "" && kant.MatchAny(p.cfg.DAGs, kant.JobKey(d.DagID)) {
			dags = append(dags, d.DagID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("airflow: list DAGs: %w", err)
	}
	slices.Sort(dags)
	dags = slices.Compact(dags)
	var missing []string
	for _, pat := range p.cfg.DAGs {
		if !kant.IsGlob(pat) && !slices.Contains(dags, pat) {
			missing = append(missing, pat)
		}
	}
	if len(missing) > 0 {
		return dags, kant.Errorf(kant.ENOTFOUND, "airflow DAGs not found (or not readable): %s", strings.Join(missing, ", "))
	}
	return dags, nil
}

// apiVersion returns the configured or detected API version.
func (p *Poller) apiVersion(ctx context.Context) (string, error) {
	p.mu.Lock()
	api := p.api
	p.mu.Unlock()
	if api != "" {
		return api, nil
	}
	api, _, err := p.detect(ctx)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.api = api
	p.mu.Unlock()
	p.log.Debug("airflow API detected", "api", api)
	return api, nil
}

// detect finds the API version and the Airflow version: GET /api/v2/version
// (Airflow 3), then /api/v1/version (Airflow 2). Through MWAA, whose paths
// carry no version, one /version call answers and the major version decides.
func (p *Poller) detect(ctx context.Context) (api, version string, err error) {
	var v struct {
		Version string `json:"version"`
	}
	if p.cfg.Auth == AuthMWAA {
		if err := p.call(ctx, request{method: http.MethodGet, api: APIv1, path: "/version"}, &v); err != nil {
			return "", "", fmt.Errorf("airflow: read version: %w", err)
		}
		if strings.HasPrefix(v.Version, "2.") {
			return APIv1, v.Version, nil
		}
		return APIv2, v.Version, nil
	}
	err2 := p.call(ctx, request{method: http.MethodGet, api: APIv2, path: "/version"}, &v)
	if err2 == nil && v.Version != "" {
		return APIv2, v.Version, nil
	}
	var apiErr *APIError
	if err2 != nil && !(errors.As(err2, &apiErr) && (apiErr.Status == http.StatusNotFound || apiErr.Status == http.StatusMethodNotAllowed)) {
		return "", "", fmt.Errorf("airflow: read version: %w", err2)
	}
	if err := p.call(ctx, request{method: http.MethodGet, api: APIv1, path: "/version"}, &v); err != nil {
		return "", "", fmt.Errorf("airflow: read version (neither /api/v2 nor /api/v1 answered): %w", err)
	}
	return APIv1, v.Version, nil
}
