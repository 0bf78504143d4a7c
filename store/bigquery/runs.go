package bigquery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// runRow is one observation ready for insertAll.
type runRow struct {
	index int // in its batch
	run   kant.Run
	job   string
	hash  int64
	id    string // insert ID: job and observation hash
	vals  map[string]bigquery.Value
	dup   bool // set by the committer: the same observation was in a batch sent with it
}

// Save implements bigquery.ValueSaver.
func (r *runRow) Save() (map[string]bigquery.Value, string, error) { return r.vals, r.id, nil }

// encodeRun validates a copy of r and encodes it as the index-th run of its
// batch. The write sequence is set by the committer.
func encodeRun(index int, r kant.Run) (*runRow, error) {
	if err := r.Validate(); err != nil {
		return nil, invalidRun(index, err)
	}
	for _, err := range [...]error{
		backend.CheckTime("started_at", r.StartedAt), backend.CheckTime("finished_at", r.FinishedAt),
		backend.CheckTime("observed_at", r.ObservedAt), backend.CheckDate("logical_date", r.LogicalDate),
	} {
		if err != nil {
			return nil, invalidRun(index, err)
		}
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range r.Attributes {
			if !yield(k) {
				return
			}
		}
	})
	var attrs any
	if len(r.Attributes) > 0 {
		b, err := json.Marshal(r.Attributes) // keys sorted
		if err != nil {
			return nil, invalidRun(index, err)
		}
		attrs = string(b)
	}
	var dur, maxAttempts any
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		dur = r.Duration().Seconds()
	}
	if r.MaxAttempts > 0 {
		maxAttempts = strconv.Itoa(r.MaxAttempts)
	}
	h, _ := backend.ObservationHash(nil, &r, keys)
	job := string(r.Job)
	jobSum := sha256.Sum256([]byte(job))
	row := &runRow{
		index: index,
		run:   r,
		job:   job,
		hash:  h,
		id:    hex.EncodeToString(jobSum[:8]) + "-" + strconv.FormatUint(uint64(h), 16),
		vals: map[string]bigquery.Value{
			"source":        r.Source,
			"job":           job,
			"run_id":        r.RunID,
			"attempt":       strconv.Itoa(r.Attempt),
			"max_attempts":  maxAttempts,
			"state":         string(r.State),
			"source_state":  text(r.SourceState),
			"logical_date":  dateValue(r.LogicalDate),
			"started_at":    tsText(r.StartedAt),
			"finished_at":   tsText(r.FinishedAt),
			"duration_s":    dur,
			"error_message": text(r.ErrorMessage),
			"observed_at":   tsText(r.ObservedAt),
			"attributes":    attrs,
			"obs_hash":      strconv.FormatInt(h, 10),
			"started_ns":    ns(r.StartedAt),
			"finished_ns":   ns(r.FinishedAt),
			"observed_ns":   ns(r.ObservedAt),
			"at_ns":         ns(r.At()),
		},
	}
	return row, nil
}

func invalidRun(i int, err error) error {
	return kant.Errorf(kant.EINVALID, "runs[%d]: %s", i, kant.ErrorMessage(err))
}

// WriteRuns appends the observations that are new and returns them,
// validated, in input order. It returns once they are stored.
func (s *Store) WriteRuns(ctx context.Context, runs []kant.Run) ([]kant.Run, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	rows := make([]*runRow, 0, len(runs))
	for i, r := range runs {
		row, err := encodeRun(i, r)
		if err != nil {
			return nil, fmt.Errorf("bigquery write runs: %w", err)
		}
		rows = append(rows, row)
	}
	fresh, err := s.writeRows(ctx, rows)
	if err != nil {
		return nil, fmt.Errorf("bigquery write runs: %w", err)
	}
	out := make([]kant.Run, 0, len(fresh))
	for _, r := range fresh {
		out = append(out, r.run)
	}
	return out, nil
}

// ImportRuns reads runs to the end, validating them, and then writes the new
// ones; it returns how many were new. An error from the sequence, an invalid
// run, or ctx being done while reading stores nothing.
func (s *Store) ImportRuns(ctx context.Context, runs iter.Seq2[kant.Run, error], fresh func(index int)) (int, error) {
	var rows []*runRow
	i := 0
	for r, err := range runs {
		if err == nil && i%1024 == 0 {
			err = ctx.Err()
		}
		if err != nil {
			return 0, err
		}
		row, err := encodeRun(i, r)
		if err != nil {
			return 0, err
		}
		rows = append(rows, row)
		i++
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	written, err := s.writeRows(ctx, rows)
	if err != nil {
		return 0, fmt.Errorf("bigquery import runs: %w", err)
	}
	if fresh != nil {
		for _, r := range written {
			fresh(r.index)
		}
	}
	return len(written), nil
}

// writeRows drops the repeats among rows, within them and against the
// store, writes the rest, and returns the rows written.
func (s *Store) writeRows(ctx context.Context, rows []*runRow) ([]*runRow, error) {
	type obsKey struct {
		job  string
		hash int64
	}
	seen := make(map[obsKey]bool, len(rows))
	var fresh []*runRow
	for _, r := range rows {
		k := obsKey{r.job, r.hash}
		if !seen[k] {
			seen[k] = true
			fresh = append(fresh, r)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Which of them are stored already? One query per chunk, selecting by
	// jobs and hashes (a superset of the pairs), the pairs checked here.
	const chunk = 10_000
	stored := map[obsKey]bool{}
	for c := range slices.Chunk(fresh, chunk) {
		jobs := map[string]bool{}
		var jobList []string
		hashes := make([]int64, 0, len(c))
		for _, r := range c {
			if !jobs[r.job] {
				jobs[r.job] = true
				jobList = append(jobList, r.job)
			}
			hashes = append(hashes, r.hash)
		}
		res, err := s.query(ctx, "SELECT DISTINCT job, obs_hash FROM "+s.table("job_runs")+
			" WHERE job IN UNNEST(@jobs) AND obs_hash IN UNNEST(@hashes)",
			[]bigquery.QueryParameter{param("jobs", jobList), param("hashes", hashes)})
		if err != nil {
			return nil, fmt.Errorf("read stored observations: %w", err)
		}
		for _, row := range res {
			stored[obsKey{asString(row[0]), asInt(row[1])}] = true
		}
	}
	fresh = slices.DeleteFunc(fresh, func(r *runRow) bool { return stored[obsKey{r.job, r.hash}] })
	for c := range slices.Chunk(fresh, s.commit.max) {
		if err := s.commit.write(ctx, c); err != nil {
			return nil, err
		}
	}
	return slices.DeleteFunc(fresh, func(r *runRow) bool { return r.dup }), nil
}

const latestColumns = `source, job, run_id, attempt, max_attempts, state, source_state, logical_date,
  error_message, attributes, started_ns, finished_ns, observed_ns`

// scanRun reads the latestColumns of one row.
func scanRun(row []bigquery.Value) (kant.Run, error) {
	var d decoder
	r := kant.Run{
		Source:       asString(row[0]),
		Job:          kant.JobKey(asString(row[1])),
		RunID:        asString(row[2]),
		Attempt:      int(asInt(row[3])),
		MaxAttempts:  int(asInt(row[4])),
		State:        kant.State(asString(row[5])),
		SourceState:  asString(row[6]),
		LogicalDate:  d.date(row[7]),
		ErrorMessage: asString(row[8]),
		Attributes:   d.attributes(row[9]),
		StartedAt:    asTime(row[10]),
		FinishedAt:   asTime(row[11]),
		ObservedAt:   asTime(row[12]),
	}
	return r, d.err
}

// params collects a query's named parameters.
type params struct{ list []bigquery.QueryParameter }

// add adds a parameter and returns its reference, @pN.
func (p *params) add(v any) string {
	name := "p" + strconv.Itoa(len(p.list))
	p.list = append(p.list, param(name, v))
	return "@" + name
}

func civilDate(d kant.Date) civil.Date {
	return civil.Date{Year: d.Year, Month: d.Month, Day: d.Day}
}

// LatestRuns returns the newest observation of every run matching f, ordered
// by Run.At() then Job, RunID, Attempt. An answer kept while job_runs is
// unchanged is returned without reading it again (see runCache).
func (s *Store) LatestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	if s.cache == nil || !cacheable(f) {
		return s.latestRuns(ctx, f)
	}
	count, err := s.countRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("bigquery latest runs: %w", err)
	}
	if runs, ok := s.cache.latest(f, count, s.now()); ok {
		return runs, nil
	}
	// Read for every job: the evaluator asks next for the same window of
	// another SLO's jobs, which the kept answer then gives.
	read := f
	widen := len(f.Jobs) > 0 && s.cache.widens()
	if widen {
		read.Jobs = nil
	}
	runs, err := s.latestRuns(ctx, read)
	if err != nil {
		return nil, err
	}
	s.cache.putLatest(read, count, s.now(), runs)
	if widen {
		runs = slices.DeleteFunc(runs, func(r kant.Run) bool { return !kant.MatchAny(f.Jobs, r.Job) })
	}
	return runs, nil
}

// latestRuns reads LatestRuns's answer from job_runs.
//
// It ranks the observations of job_runs itself rather than reading the
// job_runs_latest view, so that the conditions that keep a run's newest
// observation whenever they keep the run are applied before the ranking:
// the jobs (every observation of a run has its job) and ObservedFrom (a
// run's newest observation is observed at least as late as any other).
// ObservedFrom is also given on observed_at, the partitioning column, so
// that BigQuery reads only the partitions observed from then on. The other
// conditions are on the newest observation alone and apply after ranking.
func (s *Store) latestRuns(ctx context.Context, f kant.RunFilter) ([]kant.Run, error) {
	var p params
	var inner, where []string
	jobs, exact := jobFilter(&p, "job", f.Jobs)
	if jobs != "" {
		inner = append(inner, jobs)
	}
	dated := []string{"logical_date IS NOT NULL"}
	if !f.DateFrom.IsZero() {
		dated = append(dated, "logical_date >= "+p.add(civilDate(f.DateFrom)))
	}
	if !f.DateTo.IsZero() {
		dated = append(dated, "logical_date <= "+p.add(civilDate(f.DateTo)))
	}
	undated := []string{"logical_date IS NULL"}
	if !f.From.IsZero() {
		undated = append(undated, "at_ns >= "+p.add(backend.ClampNs(f.From)))
	}
	if !f.To.IsZero() {
		undated = append(undated, "at_ns < "+p.add(backend.ClampNs(f.To)))
	}
	if len(dated) > 1 || len(undated) > 1 {
		where = append(where, "(("+strings.Join(dated, " AND ")+") OR ("+strings.Join(undated, " AND ")+"))")
	}
	if !f.ObservedFrom.IsZero() {
		inner = append(inner, "observed_ns >= "+p.add(backend.ClampNs(f.ObservedFrom)))
		if backend.CheckTime("observed_from", f.ObservedFrom) == nil {
			// observed_at is observed_ns truncated to microseconds.
			inner = append(inner, "observed_at >= TIMESTAMP_MICROS("+p.add(f.ObservedFrom.UnixMicro())+")")
		}
	}
	q := "SELECT " + latestColumns + " FROM (\n  SELECT " + latestColumns + `, at_ns,
    ROW_NUMBER() OVER (PARTITION BY job, run_id, attempt ORDER BY observed_ns DESC, seq DESC) AS rn
  FROM ` + s.table("job_runs")
	if len(inner) > 0 {
		q += "\n  WHERE " + strings.Join(inner, " AND ")
	}
	q += "\n) AS ranked\nWHERE " + strings.Join(append([]string{"rn = 1"}, where...), " AND ")
	q += " ORDER BY at_ns, job, run_id, attempt"
	if exact && f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	rows, err := s.query(ctx, q, p.list)
	if err != nil {
		return nil, fmt.Errorf("bigquery latest runs: %w", err)
	}
	var out []kant.Run
	for _, row := range rows {
		r, err := scanRun(row)
		if err != nil {
			return nil, fmt.Errorf("bigquery latest runs: %w", err)
		}
		if len(f.Jobs) > 0 && !kant.MatchAny(f.Jobs, r.Job) {
			continue
		}
		out = append(out, r)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// jobFilter returns a condition on col that every job matching one of the
// glob patterns satisfies, and whether it matches nothing else. Globs are
// reduced to their literal prefix (a range, which clustering by job
// serves); kant.Match decides the rest. "" means no restriction.
func jobFilter(p *params, col string, patterns []string) (string, bool) {
	sel := backend.SelectJobs(patterns)
	if sel.All {
		return "", sel.Exact
	}
	var ors []string
	for _, r := range sel.Ranges {
		if r.To != "" {
			ors = append(ors, "("+col+" >= "+p.add(r.From)+" AND "+col+" < "+p.add(r.To)+")")
		} else {
			ors = append(ors, col+" >= "+p.add(r.From))
		}
	}
	if len(sel.Literals) > 0 {
		ors = append(ors, col+" IN UNNEST("+p.add(sel.Literals)+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", sel.Exact
}

// Jobs returns every job that has at least one observation, ordered by key.
// An answer kept while job_runs is unchanged is returned without reading it
// again (see runCache).
func (s *Store) Jobs(ctx context.Context) ([]kant.JobInfo, error) {
	if s.cache == nil {
		return s.jobs(ctx)
	}
	count, err := s.countRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("bigquery jobs: %w", err)
	}
	if jobs, ok := s.cache.jobList(count, s.now()); ok {
		return jobs, nil
	}
	jobs, err := s.jobs(ctx)
	if err != nil {
		return nil, err
	}
	s.cache.putJobs(count, s.now(), jobs)
	return jobs, nil
}

func (s *Store) jobs(ctx context.Context) ([]kant.JobInfo, error) {
	rows, err := s.query(ctx, "SELECT job, MIN(at_ns) AS at_ns, MIN(logical_date) AS logical_date FROM "+
		s.table("job_runs")+" GROUP BY job ORDER BY job", nil)
	if err != nil {
		return nil, fmt.Errorf("bigquery jobs: %w", err)
	}
	out := make([]kant.JobInfo, 0, len(rows))
	for _, row := range rows {
		var d decoder
		out = append(out, kant.JobInfo{Key: kant.JobKey(asString(row[0])), FirstAt: asTime(row[1]), FirstDate: d.date(row[2])})
		if d.err != nil {
			return nil, fmt.Errorf("bigquery jobs: %w", d.err)
		}
	}
	return out, nil
}
