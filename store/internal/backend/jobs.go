package backend

import (
	"strings"
	"unicode/utf8"
)

// JobSelection is how a backend narrows a query to the jobs that some glob
// patterns (kant.Match) may select: keys equal to one of Literals or within
// one of Ranges, which an index or clustering on the job key serves. When
// Exact is false the condition also admits other jobs, and kant.Match must
// decide the rest.
type JobSelection struct {
	// All says no condition can narrow the query: there are no patterns, or
	// one starts with a wildcard.
	All      bool
	Exact    bool
	Literals []string
	Ranges   []JobRange
}

// JobRange is the job keys from From up to, not including, To; an empty To
// has no upper bound.
type JobRange struct {
	From, To string
}

// SelectJobs reduces glob patterns to literal keys and key ranges: a glob
// becomes the range of its literal prefix.
func SelectJobs(patterns []string) JobSelection {
	if len(patterns) == 0 {
		return JobSelection{All: true, Exact: true}
	}
	sel := JobSelection{Exact: true}
	for _, p := range patterns {
		i := strings.IndexAny(p, "*?")
		if i < 0 {
			sel.Literals = append(sel.Literals, p)
			continue
		}
		if p[i:] != "*" {
			sel.Exact = false
		}
		prefix := p[:i]
		if prefix == "" {
			// This pattern may match any job, so no condition can narrow
			// the union; it is exact only if it is "*".
			return JobSelection{All: true, Exact: p == "*"}
		}
		end, ok := prefixEnd(prefix)
		if !ok {
			sel.Exact = false
		}
		sel.Ranges = append(sel.Ranges, JobRange{From: prefix, To: end})
	}
	return sel
}

// prefixEnd returns the least string greater than every string with the
// given prefix, in byte order (which is code point order for UTF-8), or
// false when there is none that is valid UTF-8: a job key always is, and
// BigQuery takes only valid UTF-8 strings.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			end := string(b[:i+1])
			return end, utf8.ValidString(end)
		}
	}
	return "", false
}
