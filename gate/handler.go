package gate

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// MaxWait is the longest long-poll a request may ask for.
const MaxWait = 60 * time.Second

// Handler serves GET /v1/gate.
type Handler struct {
	ix      *Index
	logger  *slog.Logger
	cache   answerCache
	closing chan struct{} // closed by Close: long-polls answer at once
	close   sync.Once
}

// Close makes long-polls in progress answer at once, with what they know,
// so that a shutting-down server is not held for their whole wait.
func (h *Handler) Close() { h.close.Do(func() { close(h.closing) }) }

// NewHandler returns the HTTP handler answering from ix.
func NewHandler(ix *Index, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{ix: ix, logger: logger.With("component", "gate"), cache: answerCache{m: map[string]*cachedAnswer{}}, closing: make(chan struct{})}
}

// cachedAnswer is an encoded answer, valid while the index is unchanged
// (gen) and until validUntil: the next moment a source of its jobs turns
// stale, and at most a second (the current occurrence of a query without a
// date moves with the clock).
type cachedAnswer struct {
	gen        uint64
	validUntil time.Time
	status     int
	body       []byte
	split      int // where checked_at's value goes
	// refreshing is set while one request reads the store for the answer
	// that replaces this one (a date older than the index).
	refreshing atomic.Bool
}

// answerCache maps raw query strings to their encoded answers.
type answerCache struct {
	mu sync.RWMutex
	m  map[string]*cachedAnswer
}

// maxCached bounds the cache; when full it starts again empty.
const maxCached = 4096

// cacheTTL bounds how long an answer is reused without a change of the index.
const cacheTTL = time.Second

func (c *answerCache) get(key string, gen uint64, now time.Time) *cachedAnswer {
	c.mu.RLock()
	e := c.m[key]
	c.mu.RUnlock()
	if e == nil || e.gen != gen || !now.Before(e.validUntil) {
		return nil
	}
	return e
}

// staleGrace is how long after it expired an answer from the store is
// still given while one request reads its replacement: the other requests
// for it do not queue behind that read.
const staleGrace = 2 * time.Second

// expired returns the entry of key, valid or not, unless it expired more
// than staleGrace ago.
func (c *answerCache) expired(key string, now time.Time) *cachedAnswer {
	c.mu.RLock()
	e := c.m[key]
	c.mu.RUnlock()
	if e == nil || !now.Before(e.validUntil.Add(staleGrace)) {
		return nil
	}
	return e
}

func (c *answerCache) put(key string, e *cachedAnswer) {
	c.mu.Lock()
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[key] = e
	c.mu.Unlock()
}

// query is a parsed gate request.
type query struct {
	keys []kant.JobKey
	date kant.Date
	wait time.Duration
	slo  *slo.Definition // the SLO asked about (slo=), whose attribution counts
}

// parse reads jobs= or slo=, date= and wait= from the request.
func (h *Handler) parse(r *http.Request) (query, error) {
	var q query
	v := r.URL.Query()
	jobs, sloName := v.Get("jobs"), v.Get("slo")
	now := h.ix.cfg.Now()
	var def *slo.Definition
	switch {
	case jobs != "" && sloName != "":
		return q, kant.Errorf(kant.EINVALID, "give jobs or slo, not both")
	case jobs != "":
		var patterns []string
		for _, p := range strings.Split(jobs, ",") {
			if p = strings.TrimSpace(p); p != "" {
				patterns = append(patterns, p)
			}
		}
		if len(patterns) == 0 {
			return q, kant.Errorf(kant.EINVALID, "jobs: empty")
		}
		keys, err := h.ix.resolve(patterns)
		if err != nil {
			return q, err
		}
		q.keys = keys
		def = h.ix.sharedSLO(keys)
	case sloName != "":
		d, keys, err := h.ix.sloJobs(sloName)
		if err != nil {
			return q, err
		}
		def, q.keys, q.slo = d, keys, d
	default:
		return q, kant.Errorf(kant.EINVALID, "jobs or slo is required, e.g. ?jobs=hegel/*&date=2026-06-01")
	}
	if s := v.Get("date"); s != "" {
		d, err := kant.ParseDate(s)
		if err != nil {
			return q, kant.Errorf(kant.EINVALID, "date: %s", kant.ErrorMessage(err))
		}
		q.date = d
	} else if def != nil {
		q.date = currentDate(def, now)
	} else {
		q.date = kant.DateOf(now.In(h.ix.cfg.Location))
	}
	if s := v.Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return q, kant.Errorf(kant.EINVALID, "wait: %q is not a duration like 30s", s)
		}
		q.wait = min(d, MaxWait)
	}
	return q, nil
}

// sharedSLO returns the SLO of the jobs when they all share one, else nil.
func (ix *Index) sharedSLO(keys []kant.JobKey) *slo.Definition {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var def *slo.Definition
	for _, k := range keys {
		j := ix.jobs[k]
		if j == nil || j.def == nil || (def != nil && j.def != def) {
			return nil
		}
		def = j.def
	}
	return def
}

// sloJobs returns the SLO named name and the jobs it judges: the known jobs
// its patterns match and the jobs it names literally.
func (ix *Index) sloJobs(name string) (*slo.Definition, []kant.JobKey, error) {
	var def *slo.Definition
	names := make([]string, 0, len(ix.cfg.SLOs))
	for i := range ix.cfg.SLOs {
		names = append(names, ix.cfg.SLOs[i].Name)
		if ix.cfg.SLOs[i].Name == name {
			def = &ix.cfg.SLOs[i]
		}
	}
	if def == nil {
		return nil, nil, ix.unknown("slo", name, names)
	}
	var keys []kant.JobKey
	for _, p := range def.Jobs {
		if !kant.IsGlob(p) {
			keys = append(keys, kant.JobKey(p))
			continue
		}
		k, err := ix.expand(p)
		if err == nil {
			keys = append(keys, k...)
		}
	}
	if len(keys) == 0 {
		// Never open on doubt: an SLO whose jobs were never seen has
		// nothing that could have finished.
		return nil, nil, kant.Errorf(kant.EINVALID, "slo %q selects no job seen so far", name)
	}
	// A job both named and matched by a glob is asked about once.
	slices.Sort(keys)
	return def, slices.Compact(keys), nil
}

// ServeHTTP answers with the gate's status code and JSON body; with wait=
// it holds the request until the answer changes or the wait ends. Every
// answer is recorded in Config.Metrics.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code := h.serve(w, r)
	if m := h.ix.cfg.Metrics; m != nil {
		m.GateRequest(r.Context(), code)
	}
}

// serve answers r and returns the status code it answered with.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	if h.ix.cfg.AwaitRebuild && h.ix.Ready() != nil {
		// Never an answer from half an index: the client asks again.
		return h.writeError(w, kant.Unavailable(nil, time.Second, "gate: the index is being rebuilt from the store; ask again"))
	}
	now := h.ix.cfg.Now()
	key := r.URL.RawQuery
	gen := h.ix.gen.Load()
	if e := h.cache.get(key, gen, now); e != nil {
		writeCached(w, e, now)
		return e.status
	}
	q, err := h.parse(r)
	if err != nil {
		return h.writeError(w, err)
	}
	if q.date.Before(h.ix.oldest(now)) && h.ix.store != nil {
		// Older than the index holds: from the store, and no long-poll
		// (old dates change only by backfill). At most MaxStoreReads such
		// queries run at once; the others wait for one, then reuse its
		// answer when they asked the same. While one request reads the
		// replacement of an answer that just expired, the others are given
		// that answer, so that none waits for the read.
		old := h.cache.expired(key, now)
		if old != nil && !old.refreshing.CompareAndSwap(false, true) {
			writeCached(w, old, now)
			return old.status
		}
		if old != nil {
			defer old.refreshing.Store(false) // replaced, or to be read again
		}
		if err := h.ix.acquireStoreRead(r.Context()); err != nil {
			return h.writeError(w, err)
		}
		if e := h.cache.get(key, gen, now); e != nil {
			h.ix.releaseStoreRead()
			writeCached(w, e, now)
			return e.status
		}
		a, err := h.ix.AnswerFromStore(r.Context(), h.ix.store, q.keys, q.date, now, q.slo)
		h.ix.releaseStoreRead()
		if err != nil {
			return h.writeError(w, err)
		}
		e := h.encode(a, q, gen, now)
		h.cache.put(key, e)
		writeCached(w, e, now)
		return e.status
	}
	changed := h.ix.Changed()
	a := h.ix.answer(q.keys, q.date, now, q.slo)
	if q.wait > 0 && a.Status() == http.StatusNotFound && h.ix.hold() {
		defer h.ix.release()
		a = h.wait(r, q, a, changed)
		writeAnswer(w, a)
		return a.Status()
	}
	e := h.encode(a, q, gen, now)
	if q.wait == 0 {
		h.cache.put(key, e)
	}
	writeCached(w, e, now)
	return e.status
}

// encode encodes a, the answer to q at generation gen, for the cache: valid
// for cacheTTL, or until a source of its jobs turns stale if sooner.
func (h *Handler) encode(a Answer, q query, gen uint64, now time.Time) *cachedAnswer {
	body, split := encodeAnswer(make([]byte, 0, 64+len(a.Jobs)*96), a)
	e := &cachedAnswer{gen: gen, validUntil: now.Add(cacheTTL), status: a.Status(), body: body, split: split}
	if next := h.ix.nextStaleness(q.keys, now); !next.IsZero() && next.Before(e.validUntil) {
		e.validUntil = next
	}
	return e
}

// wait blocks until the answer differs from first, the wait ends, or the
// client goes away, and returns the latest answer.
func (h *Handler) wait(r *http.Request, q query, first Answer, changed <-chan struct{}) Answer {
	timeout := time.NewTimer(q.wait)
	defer timeout.Stop()
	a := first
	for {
		// A source turning stale changes the answer without any event.
		var staleC <-chan time.Time
		stale := time.NewTimer(time.Hour)
		stale.Stop()
		if next := h.ix.nextStaleness(q.keys, h.ix.cfg.Now()); !next.IsZero() {
			stale.Reset(next.Sub(h.ix.cfg.Now()) + time.Millisecond)
			staleC = stale.C
		}
		select {
		case <-r.Context().Done():
			stale.Stop()
			return a
		case <-h.closing:
			stale.Stop()
			return h.ix.answer(q.keys, q.date, h.ix.cfg.Now(), q.slo)
		case <-timeout.C:
			stale.Stop()
			return h.ix.answer(q.keys, q.date, h.ix.cfg.Now(), q.slo)
		case <-changed:
		case <-staleC:
		}
		stale.Stop()
		changed = h.ix.Changed()
		a = h.ix.answer(q.keys, q.date, h.ix.cfg.Now(), q.slo)
		if !a.same(first) {
			return a
		}
	}
}

// Header values shared by every answer (net/http only reads them).
var (
	contentTypeJSON = []string{"application/json"}
	noStore         = []string{"no-store"}
)

func writeAnswer(w http.ResponseWriter, a Answer) {
	body, split := encodeAnswer(nil, a)
	writeCached(w, &cachedAnswer{status: a.Status(), body: body, split: split}, a.CheckedAt)
}

// bufs recycles response buffers.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// writeCached writes an encoded answer checked at now.
func writeCached(w http.ResponseWriter, e *cachedAnswer, now time.Time) {
	bp := bufs.Get().(*[]byte)
	b := append((*bp)[:0], e.body[:e.split]...)
	b = appendTime(b, now.UTC())
	b = append(b, e.body[e.split:]...)
	hd := w.Header()
	hd["Content-Type"] = contentTypeJSON
	hd["Cache-Control"] = noStore
	hd["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(e.status)
	w.Write(b)
	*bp = b
	bufs.Put(bp)
}

// writeError writes err as a JSON error with the status kant.HTTPStatus
// gives its code: 400 for a bad request (a sensor fails fast), 503 with
// Retry-After when the store is busy (a sensor, or `kant gate wait`,
// asks again), 500 with a generic message for anything else, logged.
func (h *Handler) writeError(w http.ResponseWriter, err error) int {
	status := kant.HTTPStatus(err)
	msg := kant.ErrorMessage(err)
	switch {
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(kant.RetryAfterSeconds(err)))
		h.logger.Warn("gate answer unavailable", "err", err)
	case status >= 500:
		h.logger.Error("gate answer failed", "err", err)
		msg = "internal error"
	}
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return status
}
