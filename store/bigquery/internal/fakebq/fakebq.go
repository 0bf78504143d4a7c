// Package fakebq is a local stand-in for the BigQuery REST API, for tests:
// an httptest server that answers the calls store/bigquery makes through the
// real client (cloud.google.com/go/bigquery pointed at it with
// option.WithEndpoint and option.WithoutAuthentication):
//
//	GET/POST  projects/{p}/datasets[/{d}]                 datasets.get, datasets.insert
//	GET/POST/PATCH projects/{p}/datasets/{d}/tables[/{t}] tables.get, insert, patch
//	POST      projects/{p}/datasets/{d}/tables/{t}/insertAll   tabledata.insertAll
//	POST      projects/{p}/queries                        jobs.query
//	GET       projects/{p}/queries/{jobId}                jobs.getQueryResults
//
// Any other call is answered 501 naming it, so that a new call shows up as
// a failing test rather than a silent pass.
//
// Data lives in an in-memory SQLite database (modernc.org/sqlite): each
// BigQuery table is a SQLite table named "dataset.table", each view a SQLite
// view. Queries are GoogleSQL translated by a small, fixed table of rewrites
// (see query.go; MERGE, which SQLite lacks, is run as the statements that
// do what BigQuery's does, see merge.go) for the constructs kant uses that
// SQLite spells differently; everything else must be SQL both dialects accept, and the
// constructs SQLite would accept but BigQuery would not (? placeholders,
// double-quoted identifiers, INSERT OR REPLACE, ON CONFLICT, SQLite's JSON
// functions) are refused, as is QUALIFY, which SQLite cannot run.
//
// What it checks as BigQuery would: schemas (types, modes, additive-only
// patches, partitioning and clustering fields), insertAll rows against the
// schema (unknown fields, types, required fields; all-or-nothing unless
// skipInvalidRows; insertId deduplication), query parameters (every @name
// declared, values parseable as their types), the query location against
// the dataset's, and DML UPDATE or DELETE on a table with rows in the
// streaming buffer (refused, as BigQuery refuses it for about 30 minutes
// after a streaming insert; the fake never flushes the buffer).
//
// What it counts: the statements, rows and bytes each query reads, as
// BigQuery's on-demand pricing would bill them (see cost.go, QueryStats).
//
// What it does not emulate: jobs.insert (the client's slow path), the Storage
// Read API, quotas, and eventual consistency (every write is visible at
// once).
package fakebq

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"

	bq "google.golang.org/api/bigquery/v2"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// Fault is an error the server answers with instead of doing a call.
type Fault struct {
	Code   int
	Reason string // BigQuery's error reason, e.g. notFound, accessDenied, quotaExceeded
	// AfterWrite makes the call do its work and then answer the error, as
	// when an answer is lost on the way back.
	AfterWrite bool
}

// Insert records one insertAll call.
type Insert struct {
	Dataset, Table string
	InsertIDs      []string
}

// Server is the fake. Create it with New; it is closed when the test ends.
type Server struct {
	URL     string
	Project string

	srv *httptest.Server
	db  *sql.DB

	mu       sync.Mutex
	datasets map[string]*dataset
	results  map[string]*result
	jobSeq   int
	pageSize int
	fault    func(op string) *Fault
	onInsert func(dataset, table string, ids []string)
	calls    map[string]int
	inserts  []Insert
	stats    []QueryStat
}

type dataset struct {
	id, location string
	tables       map[string]*table
}

type table struct {
	meta      bq.Table
	insertIDs map[string]bool
	streamed  bool // rows arrived by insertAll: DML may not touch them
	etag      int
}

// result is a query's result kept for getQueryResults.
type result struct {
	schema *bq.TableSchema
	rows   []*bq.TableRow
	int64s bool
}

// TB is what New needs of a test.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// New starts a fake serving project.
func New(t TB, project string) *Server {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatalf("fakebq: %v", err)
	}
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	s := &Server{
		Project:  project,
		db:       db,
		datasets: map[string]*dataset{},
		results:  map[string]*result{},
		pageSize: 1000,
		calls:    map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(func() {
		s.srv.Close()
		db.Close()
	})
	return s
}

// AddDataset creates a dataset in location (as Terraform would).
func (s *Server) AddDataset(id, location string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.datasets[id] = &dataset{id: id, location: location, tables: map[string]*table{}}
}

// SetFault makes the server answer a call with a Fault when fn returns one.
// op is the API method: datasets.get, tables.get, tables.insert,
// tables.patch, tabledata.insertAll, jobs.query, jobs.getQueryResults.
func (s *Server) SetFault(fn func(op string) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = fn
}

// OnInsertAll sets a function called at the start of every insertAll, before
// the rows are looked at; it may block (tests use it to hold a request).
func (s *Server) OnInsertAll(fn func(dataset, table string, insertIDs []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onInsert = fn
}

// SetPageSize sets how many rows a query answer carries per page.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// Calls returns how many times op was called.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Inserts returns the insertAll calls made so far that reached the data.
func (s *Server) Inserts() []Insert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.inserts)
}

// Table returns a table's metadata as tables.get would.
func (s *Server) Table(datasetID, tableID string) (*bq.Table, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.datasets[datasetID]
	if d == nil {
		return nil, false
	}
	t := d.tables[tableID]
	if t == nil {
		return nil, false
	}
	m := t.meta
	return &m, true
}

// Count returns the number of rows stored in a table, duplicates included.
func (s *Server) Count(datasetID, tableID string) (int, error) {
	var n int
	err := s.db.QueryRow(`SELECT count(*) FROM "` + datasetID + "." + tableID + `"`).Scan(&n)
	return n, err
}

// apiError is an error answered in BigQuery's JSON shape.
type apiError struct {
	code    int
	reason  string
	message string
}

func (e *apiError) Error() string { return e.message }

func errorf(code int, reason, format string, args ...any) *apiError {
	return &apiError{code: code, reason: reason, message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": e.code, "message": e.message,
		"errors": []map[string]string{{"reason": e.reason, "message": e.message, "domain": "global"}},
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// serve routes a request. Paths may carry the /bigquery/v2 prefix or not.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/bigquery/v2")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	op, args := route(r.Method, parts)
	if op == "" {
		writeError(w, errorf(http.StatusNotImplemented, "notImplemented", "fakebq: %s %s is not emulated", r.Method, r.URL.Path))
		return
	}
	s.mu.Lock()
	s.calls[op]++
	fault := s.fault
	s.mu.Unlock()
	var after *Fault
	if fault != nil {
		if f := fault(op); f != nil && f.AfterWrite {
			after = f
		} else if f != nil {
			writeError(w, errorf(f.Code, f.Reason, "fakebq: injected %s failure of %s", f.Reason, op))
			return
		}
	}
	if args[0] != s.Project {
		writeError(w, errorf(http.StatusNotFound, "notFound", "Not found: Project %s", args[0]))
		return
	}
	var v any
	var err *apiError
	switch op {
	case "datasets.get":
		v, err = s.getDataset(args[1])
	case "datasets.insert":
		v, err = s.insertDataset(r)
	case "tables.get":
		v, err = s.getTable(args[1], args[2])
	case "tables.insert":
		v, err = s.insertTable(r, args[1])
	case "tables.patch":
		v, err = s.patchTable(r, args[1], args[2])
	case "tabledata.insertAll":
		v, err = s.insertAll(r, args[1], args[2])
	case "jobs.query":
		v, err = s.query(r)
	case "jobs.getQueryResults":
		v, err = s.getQueryResults(r, args[1])
	}
	if err == nil && after != nil {
		err = errorf(after.Code, after.Reason, "fakebq: injected %s failure of %s after it was done", after.Reason, op)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, v)
}

// route names the API method of a request and its path arguments.
func route(method string, p []string) (string, []string) {
	if len(p) < 2 || p[0] != "projects" {
		return "", nil
	}
	switch {
	case len(p) == 3 && p[2] == "datasets" && method == http.MethodPost:
		return "datasets.insert", []string{p[1]}
	case len(p) == 4 && p[2] == "datasets" && method == http.MethodGet:
		return "datasets.get", []string{p[1], p[3]}
	case len(p) == 5 && p[2] == "datasets" && p[4] == "tables" && method == http.MethodPost:
		return "tables.insert", []string{p[1], p[3]}
	case len(p) == 6 && p[2] == "datasets" && p[4] == "tables" && method == http.MethodGet:
		return "tables.get", []string{p[1], p[3], p[5]}
	case len(p) == 6 && p[2] == "datasets" && p[4] == "tables" && (method == http.MethodPatch || method == http.MethodPut):
		return "tables.patch", []string{p[1], p[3], p[5]}
	case len(p) == 7 && p[2] == "datasets" && p[4] == "tables" && p[6] == "insertAll" && method == http.MethodPost:
		return "tabledata.insertAll", []string{p[1], p[3], p[5]}
	case len(p) == 3 && p[2] == "queries" && method == http.MethodPost:
		return "jobs.query", []string{p[1]}
	case len(p) == 4 && p[2] == "queries" && method == http.MethodGet:
		return "jobs.getQueryResults", []string{p[1], p[3]}
	}
	return "", nil
}

func decode(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "parseError", "bad request body: %v", err)
	}
	return nil
}

func (s *Server) datasetRef(id string) *bq.DatasetReference {
	return &bq.DatasetReference{ProjectId: s.Project, DatasetId: id}
}

func (s *Server) getDataset(id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.datasets[id]
	if d == nil {
		return nil, errorf(http.StatusNotFound, "notFound", "Not found: Dataset %s:%s", s.Project, id)
	}
	return &bq.Dataset{Kind: "bigquery#dataset", Id: s.Project + ":" + id, DatasetReference: s.datasetRef(id), Location: d.location}, nil
}

func (s *Server) insertDataset(r *http.Request) (any, *apiError) {
	var in bq.Dataset
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.DatasetReference == nil || in.DatasetReference.DatasetId == "" {
		return nil, errorf(http.StatusBadRequest, "invalid", "datasetReference.datasetId is required")
	}
	id := in.DatasetReference.DatasetId
	s.mu.Lock()
	if s.datasets[id] != nil {
		s.mu.Unlock()
		return nil, errorf(http.StatusConflict, "duplicate", "Already Exists: Dataset %s:%s", s.Project, id)
	}
	loc := in.Location
	if loc == "" {
		loc = "US"
	}
	s.datasets[id] = &dataset{id: id, location: loc, tables: map[string]*table{}}
	s.mu.Unlock()
	return s.getDataset(id)
}

// lookup returns a table; s.mu is held.
func (s *Server) lookup(datasetID, tableID string) (*dataset, *table, *apiError) {
	d := s.datasets[datasetID]
	if d == nil {
		return nil, nil, errorf(http.StatusNotFound, "notFound", "Not found: Dataset %s:%s", s.Project, datasetID)
	}
	t := d.tables[tableID]
	if t == nil {
		return d, nil, errorf(http.StatusNotFound, "notFound", "Not found: Table %s:%s.%s", s.Project, datasetID, tableID)
	}
	return d, t, nil
}

func (s *Server) getTable(datasetID, tableID string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, err := s.lookup(datasetID, tableID)
	if err != nil {
		return nil, err
	}
	m := t.meta
	return &m, nil
}

// Column types: BigQuery's legacy names (which the client sends) and the
// GoogleSQL names, to one canonical name.
var canonicalType = map[string]string{
	"STRING": "STRING", "INTEGER": "INTEGER", "INT64": "INTEGER", "FLOAT": "FLOAT", "FLOAT64": "FLOAT",
	"BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP",
}

// sqliteType is the SQLite declared type of a BigQuery column: its affinity
// keeps the stored value's kind, and the name tells query answers the
// BigQuery type back (see bqType).
var sqliteType = map[string]string{
	"STRING": "STRING_TEXT", "INTEGER": "INTEGER", "FLOAT": "FLOAT_REAL", "BOOLEAN": "BOOLEAN_INT",
	"DATE": "DATE_TEXT", "TIMESTAMP": "TIMESTAMP_INT",
}

func bqType(decl string) string {
	switch strings.ToUpper(decl) {
	case "STRING_TEXT":
		return "STRING"
	case "INTEGER":
		return "INTEGER"
	case "FLOAT_REAL":
		return "FLOAT"
	case "BOOLEAN_INT":
		return "BOOLEAN"
	case "DATE_TEXT":
		return "DATE"
	case "TIMESTAMP_INT":
		return "TIMESTAMP"
	}
	return ""
}

func checkSchema(schema *bq.TableSchema) *apiError {
	seen := map[string]bool{}
	for _, f := range schema.Fields {
		if f.Name == "" {
			return errorf(http.StatusBadRequest, "invalid", "a field has no name")
		}
		if canonicalType[f.Type] == "" {
			return errorf(http.StatusBadRequest, "invalid", "field %s: type %q is not emulated", f.Name, f.Type)
		}
		if f.Mode != "" && f.Mode != "NULLABLE" && f.Mode != "REQUIRED" {
			return errorf(http.StatusBadRequest, "invalid", "field %s: mode %q is not emulated", f.Name, f.Mode)
		}
		if seen[strings.ToLower(f.Name)] {
			return errorf(http.StatusBadRequest, "invalid", "Field %s already exists in schema", f.Name)
		}
		seen[strings.ToLower(f.Name)] = true
	}
	return nil
}

func fieldOf(schema *bq.TableSchema, name string) *bq.TableFieldSchema {
	if schema == nil {
		return nil
	}
	for _, f := range schema.Fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func columnDef(f *bq.TableFieldSchema, create bool) string {
	def := `"` + f.Name + `" ` + sqliteType[canonicalType[f.Type]]
	if create && f.Mode == "REQUIRED" {
		def += " NOT NULL"
	}
	return def
}

func (s *Server) insertTable(r *http.Request, datasetID string) (any, *apiError) {
	var in bq.Table
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.TableReference == nil || in.TableReference.TableId == "" {
		return nil, errorf(http.StatusBadRequest, "invalid", "tableReference.tableId is required")
	}
	tableID := in.TableReference.TableId
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _, err := s.lookup(datasetID, tableID)
	if d == nil {
		return nil, err
	}
	if d.tables[tableID] != nil {
		return nil, errorf(http.StatusConflict, "duplicate", "Already Exists: Table %s:%s.%s", s.Project, datasetID, tableID)
	}
	name := quoteTable(datasetID, tableID)
	t := &table{meta: in, insertIDs: map[string]bool{}, etag: 1}
	t.meta.Kind = "bigquery#table"
	t.meta.Id = s.Project + ":" + datasetID + "." + tableID
	t.meta.TableReference = &bq.TableReference{ProjectId: s.Project, DatasetId: datasetID, TableId: tableID}
	t.meta.Location = d.location
	switch {
	case in.View != nil:
		if in.View.UseLegacySql {
			return nil, errorf(http.StatusBadRequest, "invalid", "legacy SQL views are not emulated")
		}
		schema, err := s.createView(name, in.View.Query)
		if err != nil {
			return nil, err
		}
		t.meta.Type = "VIEW"
		t.meta.Schema = schema
	case in.Schema != nil:
		if err := checkSchema(in.Schema); err != nil {
			return nil, err
		}
		if p := in.TimePartitioning; p != nil {
			f := fieldOf(in.Schema, p.Field)
			if p.Field != "" && (f == nil || (f.Type != "TIMESTAMP" && f.Type != "DATE")) {
				return nil, errorf(http.StatusBadRequest, "invalid", "The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: %v", f)
			}
			switch p.Type {
			case "DAY", "HOUR", "MONTH", "YEAR":
			default:
				return nil, errorf(http.StatusBadRequest, "invalid", "bad time partitioning type %q", p.Type)
			}
		}
		if c := in.Clustering; c != nil {
			if len(c.Fields) > 4 {
				return nil, errorf(http.StatusBadRequest, "invalid", "Too many clustering fields: %d, only 4 are allowed", len(c.Fields))
			}
			for _, name := range c.Fields {
				if fieldOf(in.Schema, name) == nil {
					return nil, errorf(http.StatusBadRequest, "invalid", "The field specified for clustering cannot be found in the schema: %s", name)
				}
			}
		}
		var cols []string
		for _, f := range in.Schema.Fields {
			cols = append(cols, columnDef(f, true))
		}
		if _, err := s.db.Exec("CREATE TABLE " + name + " (" + strings.Join(cols, ", ") + ")"); err != nil {
			return nil, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
		}
		t.meta.Type = "TABLE"
	default:
		return nil, errorf(http.StatusBadRequest, "invalid", "a table needs a schema or a view")
	}
	t.meta.Etag = strconv.Itoa(t.etag)
	d.tables[tableID] = t
	m := t.meta
	return &m, nil
}

// createView creates a SQLite view for a GoogleSQL view query and returns
// the view's schema. s.mu is held.
func (s *Server) createView(name, query string) (*bq.TableSchema, *apiError) {
	q, err := s.translate(query, nil)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Exec("CREATE VIEW " + name + " AS " + q); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidQuery", "view query: %v", err)
	}
	rows, qerr := s.db.Query("SELECT * FROM " + name + " LIMIT 0")
	if qerr != nil {
		s.db.Exec("DROP VIEW " + name)
		return nil, errorf(http.StatusBadRequest, "invalidQuery", "view query: %v", qerr)
	}
	defer rows.Close()
	cts, cerr := rows.ColumnTypes()
	if cerr != nil {
		return nil, errorf(http.StatusBadRequest, "invalidQuery", "view query: %v", cerr)
	}
	return s.resultSchema(cts, nil), nil
}

func (s *Server) patchTable(r *http.Request, datasetID, tableID string) (any, *apiError) {
	var in bq.Table
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, err := s.lookup(datasetID, tableID)
	if err != nil {
		return nil, err
	}
	if m := r.Header.Get("If-Match"); m != "" && m != t.meta.Etag {
		return nil, errorf(http.StatusPreconditionFailed, "conditionNotMet", "Precondition check failed.")
	}
	name := quoteTable(datasetID, tableID)
	if in.View != nil {
		if t.meta.Type != "VIEW" {
			return nil, errorf(http.StatusBadRequest, "invalid", "%s is not a view", tableID)
		}
		if _, err := s.db.Exec("DROP VIEW " + name); err != nil {
			return nil, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
		}
		schema, err := s.createView(name, in.View.Query)
		if err != nil {
			return nil, err
		}
		t.meta.View = in.View
		t.meta.Schema = schema
	}
	if in.Schema != nil && t.meta.Type == "TABLE" {
		if err := checkSchema(in.Schema); err != nil {
			return nil, err
		}
		old := t.meta.Schema.Fields
		for _, f := range old {
			nf := fieldOf(in.Schema, f.Name)
			if nf == nil {
				return nil, errorf(http.StatusBadRequest, "invalid", "Provided Schema does not match Table %s. Cannot add fields (field: %s) or remove fields", tableID, f.Name)
			}
			if canonicalType[nf.Type] != canonicalType[f.Type] {
				return nil, errorf(http.StatusBadRequest, "invalid", "Provided Schema does not match Table %s. Field %s has changed type from %s to %s", tableID, f.Name, f.Type, nf.Type)
			}
			if nf.Mode == "REQUIRED" && f.Mode != "REQUIRED" {
				return nil, errorf(http.StatusBadRequest, "invalid", "Provided Schema does not match Table %s. Field %s has changed mode from NULLABLE to REQUIRED", tableID, f.Name)
			}
		}
		for _, nf := range in.Schema.Fields {
			if fieldOf(t.meta.Schema, nf.Name) != nil {
				continue
			}
			if nf.Mode == "REQUIRED" {
				return nil, errorf(http.StatusBadRequest, "invalid", "Provided Schema does not match Table %s. Cannot add required fields to an existing schema. (field: %s)", tableID, nf.Name)
			}
			if _, err := s.db.Exec("ALTER TABLE " + name + " ADD COLUMN " + columnDef(nf, false)); err != nil {
				return nil, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
			}
		}
		t.meta.Schema = in.Schema
	}
	if in.Description != "" {
		t.meta.Description = in.Description
	}
	t.etag++
	t.meta.Etag = strconv.Itoa(t.etag)
	m := t.meta
	return &m, nil
}

func quoteTable(datasetID, tableID string) string { return `"` + datasetID + "." + tableID + `"` }

func (s *Server) insertAll(r *http.Request, datasetID, tableID string) (any, *apiError) {
	var in bq.TableDataInsertAllRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Rows))
	for i, row := range in.Rows {
		ids[i] = row.InsertId
	}
	s.mu.Lock()
	hook := s.onInsert
	s.mu.Unlock()
	if hook != nil {
		hook(datasetID, tableID, ids)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, err := s.lookup(datasetID, tableID)
	if err != nil {
		return nil, err
	}
	if t.meta.Type != "TABLE" {
		return nil, errorf(http.StatusBadRequest, "invalid", "Cannot insert into a view")
	}
	if in.TemplateSuffix != "" {
		return nil, errorf(http.StatusBadRequest, "invalid", "templateSuffix is not emulated")
	}
	fields := t.meta.Schema.Fields
	type rowErr struct {
		index  int64
		reason string
		msg    string
	}
	var bad []rowErr
	values := make([][]any, len(in.Rows))
	for i, row := range in.Rows {
		vals := make([]any, len(fields))
		var msg string
		for name := range row.Json {
			if fieldOf(t.meta.Schema, name) == nil && !in.IgnoreUnknownValues {
				msg = "no such field: " + name + "."
			}
		}
		for j, f := range fields {
			v, err := cellValue(f, row.Json[f.Name])
			if err != nil && msg == "" {
				msg = err.Error()
			}
			vals[j] = v
		}
		if msg != "" {
			bad = append(bad, rowErr{int64(i), "invalid", msg})
		}
		values[i] = vals
	}
	resp := &bq.TableDataInsertAllResponse{Kind: "bigquery#tableDataInsertAllResponse"}
	if len(bad) > 0 {
		isBad := map[int64]bool{}
		for _, b := range bad {
			isBad[b.index] = true
			resp.InsertErrors = append(resp.InsertErrors, &bq.TableDataInsertAllResponseInsertErrors{
				Index: b.index, Errors: []*bq.ErrorProto{{Reason: b.reason, Message: b.msg}}})
		}
		if !in.SkipInvalidRows {
			for i := range in.Rows {
				if !isBad[int64(i)] {
					resp.InsertErrors = append(resp.InsertErrors, &bq.TableDataInsertAllResponseInsertErrors{
						Index: int64(i), Errors: []*bq.ErrorProto{{Reason: "stopped"}}})
				}
			}
			return resp, nil
		}
		var keepVals [][]any
		var keepIDs []string
		for i := range values {
			if !isBad[int64(i)] {
				keepVals = append(keepVals, values[i])
				keepIDs = append(keepIDs, ids[i])
			}
		}
		values, ids = keepVals, keepIDs
	}
	var cols []string
	for _, f := range fields {
		cols = append(cols, `"`+f.Name+`"`)
	}
	stmt := "INSERT INTO " + quoteTable(datasetID, tableID) + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	tx, txErr := s.db.Begin()
	if txErr != nil {
		return nil, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", txErr)
	}
	var stored []string
	for i, vals := range values {
		id := ids[i]
		if id != "" && t.insertIDs[id] {
			continue // BigQuery drops a row whose insert ID it has seen
		}
		if _, err := tx.Exec(stmt, vals...); err != nil {
			tx.Rollback()
			return nil, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
		}
		stored = append(stored, id)
	}
	if err := tx.Commit(); err != nil {
		return nil, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
	}
	for _, id := range stored {
		if id != "" {
			t.insertIDs[id] = true
		}
	}
	if len(stored) > 0 {
		t.streamed = true
	}
	s.inserts = append(s.inserts, Insert{Dataset: datasetID, Table: tableID, InsertIDs: ids})
	return resp, nil
}

func (s *Server) getQueryResults(r *http.Request, jobID string) (any, *apiError) {
	s.mu.Lock()
	res := s.results[jobID]
	size := s.pageSize
	s.mu.Unlock()
	if res == nil {
		return nil, errorf(http.StatusNotFound, "notFound", "Not found: Job %s:%s", s.Project, jobID)
	}
	start := 0
	if tok := r.URL.Query().Get("pageToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid", "bad page token")
		}
		start = n
	} else if si := r.URL.Query().Get("startIndex"); si != "" {
		start, _ = strconv.Atoi(si)
	}
	if mr := r.URL.Query().Get("maxResults"); mr != "" {
		if n, _ := strconv.Atoi(mr); n > 0 && n < size {
			size = n
		}
	}
	rows, next := page(res.rows, start, size)
	return &bq.GetQueryResultsResponse{
		Kind: "bigquery#getQueryResultsResponse", JobComplete: true, Schema: res.schema,
		JobReference: &bq.JobReference{ProjectId: s.Project, JobId: jobID},
		Rows:         rows, PageToken: next, TotalRows: uint64(len(res.rows)),
	}, nil
}

func page(rows []*bq.TableRow, start, size int) ([]*bq.TableRow, string) {
	start = min(start, len(rows))
	end := min(start+size, len(rows))
	next := ""
	if end < len(rows) {
		next = strconv.Itoa(end)
	}
	return rows[start:end], next
}
