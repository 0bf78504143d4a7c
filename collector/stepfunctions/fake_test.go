package stepfunctions

import (
	"encoding/json"
	"fmt"
	"io"
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

// The Step Functions service model, as published (see contracts/README.md).
const sfnModel = "../../contracts/sfn-2016-11-23.json"

var (
	modelOnce sync.Once
	modelVal  *awsmodel.Model
	modelErr  error
)

// loadModel returns the Step Functions model; its absence fails the test.
func loadModel(t testing.TB) *awsmodel.Model {
	t.Helper()
	modelOnce.Do(func() { modelVal, modelErr = awsmodel.Read(sfnModel) })
	if modelErr != nil {
		t.Fatalf("the Step Functions contract is needed by the wire-format tests: %v", modelErr)
	}
	return modelVal
}

// fakeExec is an execution as the fake serves it.
type fakeExec struct {
	Name, Status, Input, Error, Cause string
	RedriveCount                      int
	Start, Stop, RedriveDate          time.Time
}

// fault is an error the fake answers with instead of the operation's result.
type fault struct {
	Status int    // 400 for client errors, 500 for server ones
	Type   string // e.g. ThrottlingException
}

const account = "123456789012"

func machineARN(name string) string {
	return "arn:aws:states:eu-west-1:" + account + ":stateMachine:" + name
}

func execARN(machine, name string) string {
	return "arn:aws:states:eu-west-1:" + account + ":execution:" + machine + ":" + name
}

// fakeSFN is a local Step Functions (JSON 1.0) and STS (query) endpoint.
// Every request and response body is checked against the model.
type fakeSFN struct {
	t     testing.TB
	model *awsmodel.Model

	mu         sync.Mutex
	machines   map[string]string      // name -> type (STANDARD, EXPRESS)
	execs      map[string][]*fakeExec // machine name -> executions
	calls      map[string]int         // operation -> calls the SDK was asked to make (first attempts)
	attempted  map[string]int         // operation -> requests, retries included
	described  []string               // execution names DescribeExecution was asked for
	filters    []string               // redriveFilter of each ListExecutions ("" none)
	faults     map[string][]fault     // operation -> faults to answer next
	faultFor   map[string]fault       // machine name -> fault ListExecutions answers every time
	accessKeys []string               // access key of each Step Functions request
	stsCalls   int
}

func newFakeSFN(t testing.TB) (*fakeSFN, *httptest.Server) {
	f := &fakeSFN{t: t, model: loadModel(t), machines: map[string]string{}, execs: map[string][]*fakeExec{},
		calls: map[string]int{}, attempted: map[string]int{}, faults: map[string][]fault{}, faultFor: map[string]fault{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeSFN) addMachine(name, typ string, execs ...fakeExec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.machines[name] = typ
	f.execs[name] = nil
	for _, e := range execs {
		f.execs[name] = append(f.execs[name], &e)
	}
}

func (f *fakeSFN) addExecs(machine string, execs ...fakeExec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range execs {
		f.execs[machine] = append(f.execs[machine], &e)
	}
}

// update changes the execution named name.
func (f *fakeSFN) update(machine, name string, change func(*fakeExec)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.execs[machine] {
		if e.Name == name {
			change(e)
			return
		}
	}
	f.t.Fatalf("no execution %s of %s", name, machine)
}

func (f *fakeSFN) failNext(op string, faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], faults...)
}

func (f *fakeSFN) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// attempts returns the requests for op, retries included.
func (f *fakeSFN) attempts(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempted[op]
}

func (f *fakeSFN) resetCounts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.attempted, f.described, f.filters, f.accessKeys = map[string]int{}, map[string]int{}, nil, nil, nil
}

func (f *fakeSFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get("X-Amz-Target") == "" { // STS
		f.serveSTS(w, body)
		return
	}
	c, ok := f.model.Decode(f.t, r, body)
	if !ok {
		if c.Op == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
		} else {
			f.writeError(w, "", fault{Status: 400, Type: "ValidationException"})
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
		f.writeError(w, op, *flt)
		return
	}
	f.model.Write(f.t, w, op, out)
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (e *fakeExec) listItem(machine string) map[string]any {
	m := map[string]any{"executionArn": execARN(machine, e.Name), "stateMachineArn": machineARN(machine),
		"name": e.Name, "status": e.Status, "startDate": epoch(e.Start)}
	if !e.Stop.IsZero() {
		m["stopDate"] = epoch(e.Stop)
	}
	if e.RedriveCount > 0 {
		m["redriveCount"] = e.RedriveCount
		m["redriveDate"] = epoch(e.RedriveDate)
	}
	return m
}

func (f *fakeSFN) answerLocked(op string, in map[string]any) (map[string]any, *fault) {
	offset := 0
	if tok, ok := in["nextToken"].(string); ok {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil {
			return nil, &fault{Status: 400, Type: "InvalidToken"}
		}
		offset = n
	}
	limit := 100 // the default, also for maxResults 0
	if n, ok := in["maxResults"].(float64); ok && n > 0 {
		limit = int(n)
	}
	page := func(total int) (int, int, map[string]any) {
		end := min(offset+limit, total)
		out := map[string]any{}
		if end < total {
			out["nextToken"] = "page-" + strconv.Itoa(end)
		}
		return min(offset, total), end, out
	}
	switch op {
	case "ListStateMachines":
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range f.machines {
				if !yield(n) {
					return
				}
			}
		})
		from, to, out := page(len(names))
		list := []any{}
		for _, n := range names[from:to] {
			list = append(list, map[string]any{"stateMachineArn": machineARN(n), "name": n, "type": f.machines[n],
				"creationDate": epoch(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))})
		}
		out["stateMachines"] = list
		return out, nil
	case "ListExecutions":
		arn, _ := in["stateMachineArn"].(string)
		name := strings.TrimPrefix(arn, machineARN(""))
		filter, _ := in["redriveFilter"].(string)
		f.filters = append(f.filters, filter)
		if flt, ok := f.faultFor[name]; ok {
			return nil, &flt
		}
		if _, ok := f.machines[name]; !ok || !strings.HasPrefix(arn, machineARN("")) {
			return nil, &fault{Status: 400, Type: "StateMachineDoesNotExist"}
		}
		if f.machines[name] == "EXPRESS" {
			return nil, &fault{Status: 400, Type: "StateMachineTypeNotSupported"}
		}
		var list []*fakeExec
		for _, e := range f.execs[name] {
			if filter == "REDRIVEN" && e.RedriveCount == 0 || filter == "NOT_REDRIVEN" && e.RedriveCount > 0 {
				continue
			}
			list = append(list, e)
		}
		slices.SortStableFunc(list, func(a, b *fakeExec) int { return b.Start.Compare(a.Start) })
		from, to, out := page(len(list))
		items := []any{}
		for _, e := range list[from:to] {
			items = append(items, e.listItem(name))
		}
		out["executions"] = items
		return out, nil
	case "DescribeExecution":
		arn, _ := in["executionArn"].(string)
		for machine, execs := range f.execs {
			for _, e := range execs {
				if execARN(machine, e.Name) != arn {
					continue
				}
				f.described = append(f.described, e.Name)
				out := e.listItem(machine)
				delete(out, "redriveCount")
				delete(out, "redriveDate")
				out["input"] = e.Input
				if e.Input == "" {
					out["input"] = "{}"
				}
				if e.RedriveCount > 0 {
					out["redriveCount"] = e.RedriveCount
					out["redriveDate"] = epoch(e.RedriveDate)
				}
				if e.Error != "" {
					out["error"] = e.Error
				}
				if e.Cause != "" {
					out["cause"] = e.Cause
				}
				return out, nil
			}
		}
		return nil, &fault{Status: 400, Type: "ExecutionDoesNotExist"}
	}
	f.t.Errorf("the fake does not answer %s", op)
	return nil, &fault{Status: 400, Type: "ValidationException"}
}

// writeError answers a fault; an error a model operation declares must be
// one of its errors (or a common AWS error).
func (f *fakeSFN) writeError(w http.ResponseWriter, op string, flt fault) {
	if spec, ok := f.model.Operations[op]; ok && flt.Status < 500 {
		common := []string{"ThrottlingException", "AccessDeniedException", "ValidationException"}
		declared := slices.ContainsFunc(spec.Errors, func(e awsmodel.Ref) bool {
			return e.Shape == flt.Type
		})
		if !declared && !slices.Contains(common, flt.Type) {
			f.t.Errorf("%s does not declare the error %s", op, flt.Type)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(flt.Status)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.swf.service.v2.model#" + flt.Type, "message": flt.Type + " from the fake"})
}

// serveSTS answers AssumeRole (query protocol) with credentials whose access
// key counts the calls: AKIDROLE1, AKIDROLE2, ...
func (f *fakeSFN) serveSTS(w http.ResponseWriter, body []byte) {
	form, err := url.ParseQuery(string(body))
	action := form.Get("Action")
	if err != nil || action != "AssumeRole" {
		f.t.Errorf("unexpected STS request %q", body)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.stsCalls++
	n := f.stsCalls
	f.mu.Unlock()
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339) // the SDK's cache uses the real clock
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>AKIDROLE%[1]d</AccessKeyId>
      <SecretAccessKey>secret%[1]d</SecretAccessKey>
      <SessionToken>token%[1]d</SessionToken>
      <Expiration>%[2]s</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>%[3]s/kant</Arn><AssumedRoleId>AROA:kant</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>req-%[1]d</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, n, exp, form.Get("RoleArn"))
}
