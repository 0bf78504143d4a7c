package glue

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantproject/kant/collector/internal/awsmodel"
)

// The Glue service model, as published (see shared/contracts/README.md).
// The excerpt holds the operations kant uses; shapes it lacks (Job and what
// Job refers to) are taken from the full model beside it.
const (
	excerptModel = "../../contracts/glue-2017-03-31.excerpt.json"
	fullModel    = "../../contracts/glue-2017-03-31.full.json"
)

var (
	modelOnce sync.Once
	modelVal  *awsmodel.Model
	modelErr  error
)

// loadModel returns the Glue model: the excerpt of the operations kant
// uses, completed from the full model; its absence fails the test.
func loadModel(t testing.TB) *awsmodel.Model {
	t.Helper()
	modelOnce.Do(func() {
		if modelVal, modelErr = awsmodel.Read(excerptModel); modelErr != nil {
			return
		}
		full, err := awsmodel.Read(fullModel)
		if err != nil {
			return // the excerpt alone; missing shapes fail validation
		}
		// ListWorkflows (workflow globs) is in the full model only.
		modelVal.Fill(full, "ListWorkflows")
	})
	if modelErr != nil {
		t.Fatalf("Glue contract %s is needed by the wire-format tests: %v", excerptModel, modelErr)
	}
	return modelVal
}

// fakeRun is a Glue JobRun as the fake serves it.
type fakeRun struct {
	ID, PreviousRunID, State, ErrorMessage string
	Attempt, ExecutionTime                 int
	StartedOn, CompletedOn                 time.Time
	Arguments                              map[string]string
}

func (r fakeRun) wire(job string) map[string]any {
	m := map[string]any{"Id": r.ID, "JobName": job, "Attempt": r.Attempt, "JobRunState": r.State}
	if r.PreviousRunID != "" {
		m["PreviousRunId"] = r.PreviousRunID
	}
	if r.ErrorMessage != "" {
		m["ErrorMessage"] = r.ErrorMessage
	}
	if r.ExecutionTime != 0 {
		m["ExecutionTime"] = r.ExecutionTime
	}
	if !r.StartedOn.IsZero() {
		m["StartedOn"] = float64(r.StartedOn.Unix())
	}
	if !r.CompletedOn.IsZero() {
		m["CompletedOn"] = float64(r.CompletedOn.Unix())
		m["LastModifiedOn"] = float64(r.CompletedOn.Unix())
	}
	if len(r.Arguments) > 0 {
		m["Arguments"] = r.Arguments
	}
	return m
}

// fakeWorkflowRun is a Glue WorkflowRun as the fake serves it.
type fakeWorkflowRun struct {
	ID, PreviousRunID, Status, ErrorMessage string
	StartedOn, CompletedOn                  time.Time
	Statistics                              map[string]int // e.g. "FailedActions": 1
	Properties                              map[string]string
}

func (r fakeWorkflowRun) wire(workflow string) map[string]any {
	m := map[string]any{"Name": workflow, "WorkflowRunId": r.ID, "Status": r.Status}
	if r.PreviousRunID != "" {
		m["PreviousRunId"] = r.PreviousRunID
	}
	if r.ErrorMessage != "" {
		m["ErrorMessage"] = r.ErrorMessage
	}
	if !r.StartedOn.IsZero() {
		m["StartedOn"] = float64(r.StartedOn.Unix())
	}
	if !r.CompletedOn.IsZero() {
		m["CompletedOn"] = float64(r.CompletedOn.Unix())
	}
	if len(r.Statistics) > 0 {
		m["Statistics"] = r.Statistics
	}
	if len(r.Properties) > 0 {
		m["WorkflowRunProperties"] = r.Properties
	}
	return m
}

// fault is an error the fake answers with instead of the operation's result.
type fault struct {
	Status   int    // 400 for client errors, 500 for server ones
	Type     string // e.g. ThrottlingException
	inHeader bool   // send the type in X-Amzn-ErrorType instead of __type
}

// fakeGlue is a local Glue (JSON 1.1) and STS (query) endpoint. Every request
// and response body is checked against the Glue model.
type fakeGlue struct {
	t       testing.TB
	model   *awsmodel.Model
	latency time.Duration

	mu          sync.Mutex
	maxRetries  map[string]int               // job name -> MaxRetries
	runs        map[string][]fakeRun         // job name -> runs, newest first
	workflows   map[string][]fakeWorkflowRun // workflow name -> runs, oldest first (the API promises no order)
	calls       map[string]int               // operation -> calls the SDK was asked to make (first attempts)
	attempted   map[string]int               // operation -> requests, retries included
	runCalls    map[string]int               // job name -> GetJobRuns calls
	maxResults  []int                        // MaxResults of each GetJobRuns call
	runPages    map[string]bool              // job and NextToken of each GetJobRuns call
	faults      map[string][]fault           // operation -> faults to answer next, in order
	faultFor    map[string]fault             // job name -> fault GetJobRuns answers every time
	accessKeys  []string                     // access key of each Glue request
	stsCalls    int
	webTokens   []string      // WebIdentityToken of each STS call ("" for AssumeRole)
	stsLifetime time.Duration // lifetime of the credentials STS hands out
}

func newFakeGlue(t testing.TB) (*fakeGlue, *httptest.Server) {
	f := &fakeGlue{
		t:          t,
		model:      loadModel(t),
		maxRetries: map[string]int{},
		runs:       map[string][]fakeRun{},
		workflows:  map[string][]fakeWorkflowRun{},
		calls:      map[string]int{}, attempted: map[string]int{},
		runCalls:    map[string]int{},
		faults:      map[string][]fault{},
		faultFor:    map[string]fault{},
		stsLifetime: time.Hour,
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// addJob defines a job with its MaxRetries and runs (any order).
func (f *fakeGlue) addJob(name string, maxRetries int, runs ...fakeRun) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maxRetries[name] = maxRetries
	f.runs[name] = nil
	f.addRunsLocked(name, runs...)
}

// addRuns adds runs to a job, keeping newest first.
func (f *fakeGlue) addRuns(job string, runs ...fakeRun) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addRunsLocked(job, runs...)
}

func (f *fakeGlue) addRunsLocked(job string, runs ...fakeRun) {
	f.runs[job] = append(f.runs[job], runs...)
	slices.SortStableFunc(f.runs[job], func(a, b fakeRun) int { return b.StartedOn.Compare(a.StartedOn) })
}

// setRun replaces the run with r.ID.
func (f *fakeGlue) setRun(job string, r fakeRun) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, old := range f.runs[job] {
		if old.ID == r.ID {
			f.runs[job][i] = r
			return
		}
	}
	f.t.Fatalf("no run %s of %s", r.ID, job)
}

// setWorkflow defines a workflow with its runs, replacing any before.
func (f *fakeGlue) setWorkflow(name string, runs ...fakeWorkflowRun) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.workflows[name] = runs
}

func (f *fakeGlue) failNext(op string, faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], faults...)
}

func (f *fakeGlue) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// attempts returns the requests for op, retries included.
func (f *fakeGlue) attempts(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempted[op]
}

func (f *fakeGlue) resetCounts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
	f.attempted = map[string]int{}
	f.runCalls = map[string]int{}
	f.maxResults = nil
	f.runPages = nil
	f.accessKeys = nil
}

func (f *fakeGlue) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.latency > 0 {
		time.Sleep(f.latency) // the simulated network, not test synchronization
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get("X-Amz-Target") == "" { // STS
		f.serveSTS(w, r, body)
		return
	}
	c, ok := f.model.Decode(f.t, r, body)
	if !ok {
		if c.Op == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
		} else {
			f.writeError(w, fault{Status: 400, Type: "InvalidInputException"})
		}
		return
	}
	op, in := c.Op, c.In

	f.mu.Lock()
	// A retry of a request the fake answered slowly on a loaded machine is
	// not a call of kant's.
	if c.First {
		f.calls[op]++
	}
	f.attempted[op]++
	if c.AccessKey != "" {
		f.accessKeys = append(f.accessKeys, c.AccessKey)
	}
	var flt *fault
	if q := f.faults[op]; len(q) > 0 {
		flt, f.faults[op] = &q[0], q[1:]
	}
	var out map[string]any
	if flt == nil {
		out, flt = f.answerLocked(op, in)
	}
	f.mu.Unlock()

	if flt != nil {
		f.writeError(w, *flt)
		return
	}
	f.model.Write(f.t, w, op, out)
}

func (f *fakeGlue) answerLocked(op string, in map[string]any) (map[string]any, *fault) {
	offset := 0
	if tok, ok := in["NextToken"].(string); ok {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil {
			return nil, &fault{Status: 400, Type: "InvalidInputException"}
		}
		offset = n
	}
	limit := 100
	if n, ok := in["MaxResults"].(float64); ok {
		limit = int(n)
	}
	page := func(total int) (int, int, map[string]any) {
		end := min(offset+limit, total)
		out := map[string]any{}
		if end < total {
			out["NextToken"] = "page-" + strconv.Itoa(end)
		}
		return min(offset, total), end, out
	}
	switch op {
	case "GetJobs":
		names := slices.Sorted(maps.Keys(f.maxRetries))
		from, to, out := page(len(names))
		jobs := []any{}
		for _, n := range names[from:to] {
			j := map[string]any{"Name": n, "Role": "arn:aws:iam::123456789012:role/glue"}
			if mr := f.maxRetries[n]; mr > 0 {
				j["MaxRetries"] = mr
			}
			jobs = append(jobs, j)
		}
		out["Jobs"] = jobs
		return out, nil
	case "GetJobRuns":
		job, _ := in["JobName"].(string)
		f.runCalls[job]++
		f.maxResults = append(f.maxResults, limit)
		tok, _ := in["NextToken"].(string)
		if f.runPages == nil {
			f.runPages = map[string]bool{}
		}
		f.runPages[job+" "+tok] = true
		if flt, ok := f.faultFor[job]; ok {
			return nil, &flt
		}
		runs, ok := f.runs[job]
		if !ok {
			return nil, &fault{Status: 400, Type: "EntityNotFoundException"}
		}
		from, to, out := page(len(runs))
		list := []any{}
		for _, r := range runs[from:to] {
			list = append(list, r.wire(job))
		}
		out["JobRuns"] = list
		return out, nil
	case "ListWorkflows":
		names := slices.Sorted(maps.Keys(f.workflows))
		from, to, out := page(len(names))
		out["Workflows"] = names[from:to]
		return out, nil
	case "GetWorkflowRuns":
		name, _ := in["Name"].(string)
		runs, ok := f.workflows[name]
		if !ok {
			return nil, &fault{Status: 400, Type: "EntityNotFoundException"}
		}
		from, to, out := page(len(runs))
		list := []any{}
		for _, r := range runs[from:to] {
			list = append(list, r.wire(name))
		}
		if len(list) > 0 { // WorkflowRuns has at least one member
			out["Runs"] = list
		}
		return out, nil
	case "GetJobRun":
		job, _ := in["JobName"].(string)
		id, _ := in["RunId"].(string)
		for _, r := range f.runs[job] {
			if r.ID == id {
				return map[string]any{"JobRun": r.wire(job)}, nil
			}
		}
		return nil, &fault{Status: 400, Type: "EntityNotFoundException"}
	}
	f.t.Errorf("the fake does not answer %s", op)
	return nil, &fault{Status: 400, Type: "InvalidInputException"}
}

func (f *fakeGlue) writeError(w http.ResponseWriter, flt fault) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	body := map[string]string{"message": flt.Type + " from the fake"}
	if flt.inHeader {
		w.Header().Set("X-Amzn-ErrorType", flt.Type+":http://internal.amazon.com/coral/com.amazonaws.glue/")
	} else {
		body["__type"] = flt.Type
	}
	w.WriteHeader(flt.Status)
	json.NewEncoder(w).Encode(body)
}

// serveSTS answers AssumeRole and AssumeRoleWithWebIdentity (query protocol) with credentials whose access
// key counts the calls: AKIDROLE1, AKIDROLE2, ...
func (f *fakeGlue) serveSTS(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	action := form.Get("Action")
	if err != nil || (action != "AssumeRole" && action != "AssumeRoleWithWebIdentity") {
		f.t.Errorf("unexpected STS request %q", body)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.stsCalls++
	n := f.stsCalls
	f.webTokens = append(f.webTokens, form.Get("WebIdentityToken"))
	lifetime := f.stsLifetime
	f.mu.Unlock()
	exp := time.Now().Add(lifetime).UTC().Format(time.RFC3339) // the SDK's cache uses the real clock
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[7]sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <%[7]sResult>
    <Credentials>
      <AccessKeyId>AKIDROLE%[1]d</AccessKeyId>
      <SecretAccessKey>secret%[2]d</SecretAccessKey>
      <SessionToken>token%[3]d</SessionToken>
      <Expiration>%[4]s</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>%[5]s/kant</Arn>
      <AssumedRoleId>AROA:kant</AssumedRoleId>
    </AssumedRoleUser>
  </%[7]sResult>
  <ResponseMetadata><RequestId>req-%[6]d</RequestId></ResponseMetadata>
</%[7]sResponse>`, n, n, n, exp, form.Get("RoleArn"), n, action)
}
