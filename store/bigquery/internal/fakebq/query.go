package fakebq

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// The translation table: GoogleSQL constructs kant uses, rewritten into the
// SQLite that does the same. Applied in order, to the statement text outside
// string literals.
//
//	`project.dataset.table`                  "dataset.table"        (the project must be the server's)
//	x IN UNNEST(@p)                           x IN (SELECT value FROM json_each(@p))   (arrays are bound as JSON)
//	UNNEST(JSON_QUERY_ARRAY(@p)) AS x         json_each(@p) AS x
//	JSON_VALUE(x, '$.f')                      json_extract(x.value, '$.f')             (x from the row above)
//	TIMESTAMP_MICROS(e)                       (e)                    (TIMESTAMPs are stored as Unix microseconds)
//	PARSE_DATE('%Y-%m-%d', e)                 (e)                    (DATEs are stored as YYYY-MM-DD text)
//	CAST(e AS INT64|FLOAT64|BOOL|STRING)      CAST(e AS INTEGER|REAL|INTEGER|TEXT)
//	DATE(ts)                                  date((ts) / 1000000, 'unixepoch')        (a TIMESTAMP's UTC date)
//	TIMESTAMP_DIFF(a, b, MILLISECOND)         CAST(((a) - (b)) / 1000 AS REAL)          (also MICROSECOND, SECOND)
//	UNIX_DATE(d)                              CAST(julianday(d) - 2440587.5 AS INTEGER)
//	@@row_count                               the rows the previous DML statement changed
//	MERGE … USING … ON … WHEN …               the statements that do the same (see merge.go)
//	BEGIN TRANSACTION; … COMMIT TRANSACTION;  one SQLite transaction
var (
	reTable     = regexp.MustCompile("`([A-Za-z0-9_-]+)\\.([A-Za-z0-9_]+)\\.([A-Za-z0-9_]+)`")
	reInUnnest  = regexp.MustCompile(`(?i)\bIN\s+UNNEST\((@\w+)\)`)
	reJSONArray = regexp.MustCompile(`(?i)\bUNNEST\(JSON_QUERY_ARRAY\((@\w+)\)\)\s+AS\s+(\w+)`)
	reJSONValue = regexp.MustCompile(`(?i)\bJSON_VALUE\((\w+),`)
	reTSMicros  = regexp.MustCompile(`(?i)\bTIMESTAMP_MICROS\(`)
	reParseDate = regexp.MustCompile(`(?i)\bPARSE_DATE\(\x00(\d+)\x00,\s*`) // the format, a literal, is stripped
	reCast      = regexp.MustCompile(`(?i)\bAS\s+(INT64|FLOAT64|BOOL|STRING)\)`)
	reParam     = regexp.MustCompile(`@@?\w+`)
	// Constructs SQLite accepts and BigQuery does not, or that SQLite
	// cannot run: kant must not send them.
	reRefused = regexp.MustCompile(`(?i)\?|"|\bINSERT\s+OR\b|\bON\s+CONFLICT\b|\bQUALIFY\b|\bjson_each\b|\bjson_extract\b|\bREPLACE\s+INTO\b`)
)

var castTo = map[string]string{"INT64": "INTEGER", "FLOAT64": "REAL", "BOOL": "INTEGER", "STRING": "TEXT"}

// translate rewrites one GoogleSQL statement (or view query) into SQLite.
// params, when not nil, are the declared query parameters. s.mu is held.
func (s *Server) translate(q string, params map[string]any) (string, *apiError) {
	invalid := func(format string, args ...any) *apiError {
		return errorf(http.StatusBadRequest, "invalidQuery", format, args...)
	}
	code, lits := stripStrings(q)
	if m := reRefused.FindString(code); m != "" {
		return "", invalid("fakebq: %q is not GoogleSQL kant may send (BigQuery would refuse or misread it): %s", m, q)
	}
	var tErr *apiError
	code = reTable.ReplaceAllStringFunc(code, func(m string) string {
		p := reTable.FindStringSubmatch(m)
		if p[1] != s.Project {
			tErr = errorf(http.StatusNotFound, "notFound", "Not found: Project %s", p[1])
		} else if d := s.datasets[p[2]]; d == nil {
			tErr = errorf(http.StatusNotFound, "notFound", "Not found: Dataset %s:%s", p[1], p[2])
		} else if d.tables[p[3]] == nil {
			tErr = errorf(http.StatusNotFound, "notFound", "Not found: Table %s:%s.%s", p[1], p[2], p[3])
		}
		return quoteTable(p[2], p[3])
	})
	if tErr != nil {
		return "", tErr
	}
	if params != nil {
		for _, m := range reParam.FindAllString(code, -1) {
			if strings.HasPrefix(m, "@@") {
				if !strings.EqualFold(m, "@@row_count") {
					return "", invalid("fakebq: system variable %s is not emulated", m)
				}
				continue
			}
			if _, ok := params[m[1:]]; !ok {
				return "", invalid("Query parameter '%s' not found", m[1:])
			}
		}
	}
	code = reInUnnest.ReplaceAllString(code, "IN (SELECT value FROM json_each($1))")
	for _, m := range reJSONArray.FindAllStringSubmatch(code, -1) {
		alias := m[2]
		code = strings.Replace(code, m[0], "json_each("+m[1]+") AS "+alias, 1)
		code = regexp.MustCompile(`(?i)\bJSON_VALUE\(`+regexp.QuoteMeta(alias)+`,`).ReplaceAllString(code, "json_extract("+alias+".value,")
	}
	if m := reJSONValue.FindString(code); m != "" {
		return "", invalid("fakebq: JSON_VALUE is emulated only on an UNNEST(JSON_QUERY_ARRAY(@p)) row: %s", m)
	}
	var fErr *apiError
	code = rewriteCalls(code, "DATE", func(args []string) string {
		if len(args) != 1 {
			fErr = invalid("fakebq: DATE is emulated with one TIMESTAMP argument")
		}
		return "date((" + args[0] + ") / 1000000, 'unixepoch')"
	})
	code = rewriteCalls(code, "TIMESTAMP_DIFF", func(args []string) string {
		div := map[string]string{"MICROSECOND": "1", "MILLISECOND": "1000", "SECOND": "1000000"}
		if len(args) != 3 || div[strings.ToUpper(strings.TrimSpace(args[2]))] == "" {
			fErr = invalid("fakebq: TIMESTAMP_DIFF is emulated for MICROSECOND, MILLISECOND and SECOND")
			return ""
		}
		return "CAST(((" + args[0] + ") - (" + args[1] + ")) / " + div[strings.ToUpper(strings.TrimSpace(args[2]))] + " AS REAL)"
	})
	code = rewriteCalls(code, "UNIX_DATE", func(args []string) string {
		return "CAST(julianday(" + strings.Join(args, ",") + ") - 2440587.5 AS INTEGER)"
	})
	if fErr != nil {
		return "", fErr
	}
	code = reTSMicros.ReplaceAllString(code, "(")
	var dErr *apiError
	code = reParseDate.ReplaceAllStringFunc(code, func(m string) string {
		n, _ := strconv.Atoi(reParseDate.FindStringSubmatch(m)[1])
		if lits[n] != "'%Y-%m-%d'" {
			dErr = invalid("fakebq: PARSE_DATE is emulated only with '%%Y-%%m-%%d', not %s", lits[n])
		}
		return "("
	})
	if dErr != nil {
		return "", dErr
	}
	code = reCast.ReplaceAllStringFunc(code, func(m string) string {
		t := reCast.FindStringSubmatch(m)[1]
		return "AS " + castTo[strings.ToUpper(t)] + ")"
	})
	return restoreStrings(code, lits), nil
}

// rewriteCalls replaces every call name(args…) in code (a whole word,
// matched without regard to case) by what fn makes of its arguments, split
// at top-level commas. Calls nested in the arguments are rewritten first.
func rewriteCalls(code, name string, fn func(args []string) string) string {
	re := regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_.])` + name + `\s*\(`)
	from := 0
	for {
		m := re.FindStringSubmatchIndex(code[from:])
		if m == nil {
			return code
		}
		for i := range m {
			m[i] += from
		}
		start := m[3] // after the character before the name
		open := m[1] - 1
		depth, end := 0, -1
		var args []string
		last := open + 1
		for i := open; i < len(code); i++ {
			switch code[i] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					args = append(args, strings.TrimSpace(code[last:i]))
					end = i
				}
			case ',':
				if depth == 1 {
					args = append(args, strings.TrimSpace(code[last:i]))
					last = i + 1
				}
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 {
			return code // unbalanced: SQLite will say so
		}
		for i, a := range args {
			args[i] = rewriteCalls(a, name, fn)
		}
		repl := fn(args)
		code = code[:start] + repl + code[end+1:]
		from = start + len(repl) // the replacement is not rewritten again
	}
}

// stripStrings replaces the string literals of q by placeholders \x00N\x00,
// so that rewrites do not touch them, and returns them.
func stripStrings(q string) (string, []string) {
	var b strings.Builder
	var lits []string
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c != '\'' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(q) && q[j] != '\'' {
			if q[j] == '\\' {
				j++
			}
			j++
		}
		lits = append(lits, q[i:min(j+1, len(q))])
		fmt.Fprintf(&b, "\x00%d\x00", len(lits)-1)
		i = j
	}
	return b.String(), lits
}

func restoreStrings(code string, lits []string) string {
	for i, l := range lits {
		code = strings.Replace(code, fmt.Sprintf("\x00%d\x00", i), l, 1)
	}
	return code
}

// splitStatements splits a script at semicolons outside string literals.
func splitStatements(q string) []string {
	code, lits := stripStrings(q)
	var out []string
	for _, st := range strings.Split(code, ";") {
		st = strings.TrimSpace(restoreStrings(st, lits))
		if st != "" {
			out = append(out, st)
		}
	}
	return out
}

// paramValue checks a query parameter's value against its type, as
// BigQuery does, and returns what SQLite binds: arrays as JSON text.
func paramValue(t *bq.QueryParameterType, v *bq.QueryParameterValue) (any, error) {
	if t == nil {
		return nil, fmt.Errorf("no type")
	}
	if t.Type == "ARRAY" {
		if t.ArrayType == nil || t.ArrayType.Type == "ARRAY" {
			return nil, fmt.Errorf("bad array type")
		}
		elems := []any{}
		if v != nil {
			for _, e := range v.ArrayValues {
				x, err := paramValue(t.ArrayType, e)
				if err != nil {
					return nil, err
				}
				elems = append(elems, x)
			}
		}
		b, _ := json.Marshal(elems)
		return string(b), nil
	}
	if v == nil {
		return nil, nil // NULL
	}
	return scalar(t.Type, v.Value)
}

// scalar parses a scalar parameter value given as text.
func scalar(typ, s string) (any, error) {
	switch typ {
	case "STRING":
		return s, nil
	case "INT64":
		return strconv.ParseInt(s, 10, 64)
	case "FLOAT64":
		return strconv.ParseFloat(s, 64)
	case "BOOL":
		b, err := strconv.ParseBool(s)
		if b {
			return int64(1), err
		}
		return int64(0), err
	case "DATE":
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("invalid date %q", s)
		}
		return s, nil
	case "TIMESTAMP":
		t, err := parseTimestamp(s)
		if err != nil {
			return nil, err
		}
		return t.UnixMicro(), nil
	}
	return nil, fmt.Errorf("type %s is not emulated", typ)
}

func parseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999 MST", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999",
		time.RFC3339Nano, "2006-01-02T15:04:05.999999999",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q", s)
}

// cellValue checks one insertAll value against its field and returns what
// SQLite stores.
func cellValue(f *bq.TableFieldSchema, v any) (any, error) {
	if v == nil {
		if f.Mode == "REQUIRED" {
			return nil, fmt.Errorf("Missing required field: %s.", f.Name)
		}
		return nil, nil
	}
	bad := func() error { return fmt.Errorf("Cannot convert value to %s: %v (field %s)", f.Type, v, f.Name) }
	switch canonicalType[f.Type] {
	case "STRING":
		s, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		return s, nil
	case "INTEGER":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			return nil, bad()
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case "FLOAT":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			return nil, bad()
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case "BOOLEAN":
		switch x := v.(type) {
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return nil, bad()
			}
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
		return nil, bad()
	case "DATE":
		s, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, bad()
		}
		return s, nil
	case "TIMESTAMP":
		switch x := v.(type) {
		case string:
			t, err := parseTimestamp(x)
			if err != nil {
				return nil, bad()
			}
			return t.UnixMicro(), nil
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return nil, bad()
			}
			return int64(math.Round(f * 1e6)), nil
		}
		return nil, bad()
	}
	return nil, bad()
}

var reDMLTarget = regexp.MustCompile(`(?is)^\s*(?:DELETE\s+(?:FROM\s+)?|UPDATE\s+|MERGE\s+(?:INTO\s+)?)` + "`([A-Za-z0-9_-]+)\\.([A-Za-z0-9_]+)\\.([A-Za-z0-9_]+)`")

// query runs jobs.query: one statement or a script.
func (s *Server) query(r *http.Request) (any, *apiError) {
	var in bq.QueryRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.UseLegacySql == nil || *in.UseLegacySql {
		return nil, errorf(http.StatusBadRequest, "invalid", "fakebq: legacy SQL is not emulated")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every dataset a query names must be in the query's location.
	for _, m := range reTable.FindAllStringSubmatch(in.Query, -1) {
		if d := s.datasets[m[2]]; d != nil && in.Location != "" && !strings.EqualFold(d.location, in.Location) {
			return nil, errorf(http.StatusNotFound, "notFound", "Not found: Dataset %s:%s was not found in location %s", m[1], m[2], in.Location)
		}
	}
	params := map[string]any{}
	for _, p := range in.QueryParameters {
		if p.Name == "" {
			return nil, errorf(http.StatusBadRequest, "invalid", "fakebq: positional parameters are not emulated")
		}
		v, err := paramValue(p.ParameterType, p.ParameterValue)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalidQuery", "Query parameter '%s': %v", p.Name, err)
		}
		params[p.Name] = v
	}
	var (
		tx       *sql.Tx
		rowCount int64
		res      = &result{int64s: in.FormatOptions != nil && in.FormatOptions.UseInt64Timestamp}
		affected int64
		isDML    bool
		stat     = QueryStat{SQL: in.Query}
	)
	rollback := func() {
		if tx != nil {
			tx.Rollback()
		}
	}
	for _, st := range splitStatements(in.Query) {
		upper := strings.ToUpper(strings.Join(strings.Fields(st), " "))
		switch upper {
		case "BEGIN TRANSACTION", "BEGIN":
			if tx != nil {
				rollback()
				return nil, errorf(http.StatusBadRequest, "invalidQuery", "Nested transactions are not supported")
			}
			var err error
			if tx, err = s.db.Begin(); err != nil {
				return nil, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
			}
			continue
		case "COMMIT TRANSACTION", "COMMIT":
			if tx == nil {
				return nil, errorf(http.StatusBadRequest, "invalidQuery", "COMMIT TRANSACTION without BEGIN TRANSACTION")
			}
			if err := tx.Commit(); err != nil {
				return nil, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
			}
			tx = nil
			continue
		}
		var q0 querier = s.db
		if tx != nil {
			q0 = tx
		}
		ss, cerr := s.statementCost(st, params, q0)
		if cerr != nil {
			rollback()
			return nil, errorf(http.StatusInternalServerError, "internalError", "%v", cerr)
		}
		stat.Statements++
		stat.RowsScanned += ss.RowsScanned
		stat.BytesScanned += ss.BytesScanned
		stat.BytesBilled += int64(ss.Billed(Same))
		stat.PerStatement = append(stat.PerStatement, ss)
		if m := reDMLTarget.FindStringSubmatch(st); m != nil {
			if d := s.datasets[m[2]]; d != nil && d.tables[m[3]] != nil && d.tables[m[3]].streamed {
				rollback()
				return nil, errorf(http.StatusBadRequest, "invalidQuery",
					"UPDATE or DELETE statement over table %s.%s.%s would affect rows in the streaming buffer, which is not supported", m[1], m[2], m[3])
			}
		}
		if strings.HasPrefix(upper, "MERGE ") {
			var ex execer = s.db
			if tx != nil {
				ex = tx
			}
			n, merr := s.merge(ex, strings.ReplaceAll(st, "@@row_count", strconv.FormatInt(rowCount, 10)), params)
			if merr != nil {
				rollback()
				return nil, merr
			}
			rowCount = n
			affected, isDML = n, true
			continue
		}
		q, qerr := s.translate(st, params)
		if qerr != nil {
			rollback()
			return nil, qerr
		}
		q = strings.ReplaceAll(q, "@@row_count", strconv.FormatInt(rowCount, 10))
		q = strings.ReplaceAll(q, "@@ROW_COUNT", strconv.FormatInt(rowCount, 10))
		args := bindArgs(q, params)
		if strings.HasPrefix(upper, "SELECT") || strings.HasPrefix(upper, "WITH") {
			var rows *sql.Rows
			var err error
			if tx != nil {
				rows, err = tx.Query(q, args...)
			} else {
				rows, err = s.db.Query(q, args...)
			}
			if err != nil {
				rollback()
				return nil, errorf(http.StatusBadRequest, "invalidQuery", "%v (in %s)", err, st)
			}
			schema, cells, err := s.readRows(rows, res.int64s)
			rows.Close()
			if err != nil {
				rollback()
				return nil, errorf(http.StatusBadRequest, "invalidQuery", "%v", err)
			}
			res.schema, res.rows, isDML = schema, cells, false
			continue
		}
		var out sql.Result
		var err error
		if tx != nil {
			out, err = tx.Exec(q, args...)
		} else {
			out, err = s.db.Exec(q, args...)
		}
		if err != nil {
			rollback()
			return nil, errorf(http.StatusBadRequest, "invalidQuery", "%v (in %s)", err, st)
		}
		rowCount, _ = out.RowsAffected()
		affected, isDML = rowCount, true
	}
	if tx != nil {
		tx.Rollback()
		return nil, errorf(http.StatusBadRequest, "invalidQuery", "Transaction was never committed")
	}
	s.stats = append(s.stats, stat)
	s.jobSeq++
	jobID := fmt.Sprintf("job_fake_%d", s.jobSeq)
	s.results[jobID] = res
	rows, next := page(res.rows, 0, s.pageSize)
	out := &bq.QueryResponse{
		Kind:         "bigquery#queryResponse",
		JobReference: &bq.JobReference{ProjectId: s.Project, JobId: jobID, Location: in.Location},
		JobComplete:  true,
		Schema:       res.schema,
		Rows:         rows,
		PageToken:    next,
		TotalRows:    uint64(len(res.rows)),
	}
	if isDML {
		out.NumDmlAffectedRows = affected
	}
	return out, nil
}

// bindArgs returns the named arguments a translated statement uses.
func bindArgs(q string, params map[string]any) []any {
	var args []any
	for _, m := range reParam.FindAllString(q, -1) {
		if !strings.HasPrefix(m, "@@") {
			args = append(args, sql.Named(m[1:], params[m[1:]]))
		}
	}
	return dedupNamed(args)
}

func dedupNamed(args []any) []any {
	seen := map[string]bool{}
	var out []any
	for _, a := range args {
		n := a.(sql.NamedArg)
		if !seen[n.Name] {
			seen[n.Name] = true
			out = append(out, a)
		}
	}
	return out
}

// resultSchema returns the BigQuery schema of a result's columns: the type
// of the column it reads when it reads one (SQLite's declared type), else
// the type of a table column of the same name, else TIMESTAMP for a name
// ending in _at (kant names every time so; SQLite cannot tell an aggregate's
// type), else the kind of value in the first row. s.mu is held.
func (s *Server) resultSchema(cts []*sql.ColumnType, first []any) *bq.TableSchema {
	schema := &bq.TableSchema{}
	for i, ct := range cts {
		typ := bqType(ct.DatabaseTypeName())
		if typ == "" {
			typ = s.columnTypeByName(ct.Name())
		}
		if typ == "" && strings.HasSuffix(ct.Name(), "_at") {
			typ = "TIMESTAMP" // kant's naming: a computed *_at column is a time
		}
		if typ == "" && first != nil {
			switch first[i].(type) {
			case int64:
				typ = "INTEGER"
			case float64:
				typ = "FLOAT"
			}
		}
		if typ == "" {
			typ = "STRING"
		}
		schema.Fields = append(schema.Fields, &bq.TableFieldSchema{Name: ct.Name(), Type: typ, Mode: "NULLABLE"})
	}
	return schema
}

func (s *Server) columnTypeByName(name string) string {
	for _, d := range s.datasets {
		for _, t := range d.tables {
			if t.meta.Type != "TABLE" {
				continue
			}
			if f := fieldOf(t.meta.Schema, name); f != nil {
				return canonicalType[f.Type]
			}
		}
	}
	return ""
}

// readRows reads a result and encodes its cells as BigQuery answers them.
func (s *Server) readRows(rows *sql.Rows, int64s bool) (*bq.TableSchema, []*bq.TableRow, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, nil, err
	}
	cols := cts
	var raw [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		raw = append(raw, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var first []any
	if len(raw) > 0 {
		first = raw[0]
	}
	schema := s.resultSchema(cts, first)
	out := make([]*bq.TableRow, 0, len(raw))
	for _, vals := range raw {
		row := &bq.TableRow{}
		for i, v := range vals {
			row.F = append(row.F, &bq.TableCell{V: encodeCell(schema.Fields[i].Type, v, int64s)})
		}
		out = append(out, row)
	}
	return schema, out, nil
}

// encodeCell encodes a value as a query answer does: every scalar as text.
func encodeCell(typ string, v any, int64s bool) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		v = string(x)
	}
	switch typ {
	case "BOOLEAN":
		switch x := v.(type) {
		case int64:
			return strconv.FormatBool(x != 0)
		case string:
			return x
		}
	case "TIMESTAMP":
		if n, ok := v.(int64); ok {
			if int64s {
				return strconv.FormatInt(n, 10)
			}
			return strconv.FormatFloat(float64(n)/1e6, 'E', -1, 64)
		}
	case "FLOAT":
		switch x := v.(type) {
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64)
		case int64:
			return strconv.FormatInt(x, 10)
		}
	}
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if typ == "INTEGER" {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
