package kant

import "strings"

// JobKey names a job across sources: "<source>/<job>", for example
// "hegel/export_users" (a Glue job) or "socrates/daily_load.load_users" (an
// Airflow task).
type JobKey string

// NewJobKey joins a source and a job name.
func NewJobKey(source, job string) JobKey { return JobKey(source + "/" + job) }

// Source returns the part before the first slash.
func (k JobKey) Source() string {
	s, _, _ := strings.Cut(string(k), "/")
	return s
}

// Name returns the part after the first slash.
func (k JobKey) Name() string {
	_, n, _ := strings.Cut(string(k), "/")
	return n
}

// Valid reports whether k has a non-empty source and name.
func (k JobKey) Valid() bool {
	s, n, ok := strings.Cut(string(k), "/")
	return ok && s != "" && n != ""
}

// IsGlob reports whether pattern contains a glob metacharacter (* or ?).
func IsGlob(pattern string) bool { return strings.ContainsAny(pattern, "*?") }

// Match reports whether key matches the glob pattern. '*' matches any run of
// characters (including '/'), '?' matches exactly one character; everything
// else matches itself. Matching is case-sensitive.
func Match(pattern string, key JobKey) bool {
	return matchGlob(pattern, string(key))
}

// MatchAny reports whether key matches any of the patterns.
func MatchAny(patterns []string, key JobKey) bool {
	for _, p := range patterns {
		if Match(p, key) {
			return true
		}
	}
	return false
}

// matchGlob is an iterative wildcard matcher with single-star backtracking,
// linear in practice and never exponential.
func matchGlob(p, s string) bool {
	px, sx := 0, 0
	star, next := -1, 0
	for sx < len(s) {
		if px < len(p) {
			switch p[px] {
			case '*':
				star, next = px, sx+1
				px++
				continue
			case '?':
				px++
				sx++
				continue
			default:
				if p[px] == s[sx] {
					px++
					sx++
					continue
				}
			}
		}
		if star >= 0 {
			px, sx = star+1, next
			next++
			continue
		}
		return false
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}
