package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/kantproject/kant"
)

// SilenceStore keeps silences (store.Store's silence methods).
type SilenceStore interface {
	PutSilence(ctx context.Context, s kant.Silence) error
	DeleteSilence(ctx context.Context, id string) error
	Silences(ctx context.Context, endsAfter time.Time) ([]kant.Silence, error)
}

// SilencesConfig configures the silence handlers.
type SilencesConfig struct {
	Store SilenceStore // required
	// SLOs, when not empty, are the SLO names a silence may name; others are
	// rejected (a typo must not silence nothing).
	SLOs   []string
	Now    func() time.Time // default time.Now
	NewID  func() string    // default a random "sil_…" ID
	Logger *slog.Logger     // default discards
}

// Silences serves /v1/silences: POST creates a silence (an end time and a
// reason required), DELETE /v1/silences/{id} removes one, GET lists those
// not yet ended. Pass it to the Server as Config.SilenceHandler, which
// requires the tokens.
type Silences struct {
	cfg SilencesConfig
	log *slog.Logger
	mux *http.ServeMux
}

// ServeHTTP implements http.Handler.
func (h *Silences) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// NewSilences validates cfg and returns the handlers.
func NewSilences(cfg SilencesConfig) (*Silences, error) {
	if cfg.Store == nil {
		return nil, errors.New("api silences: Store is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = randomID
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Silences{cfg: cfg, log: cfg.Logger.With("component", "api"), mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /v1/silences", h.post)
	h.mux.HandleFunc("DELETE /v1/silences/{id}", h.delete)
	h.mux.HandleFunc("GET /v1/silences", h.list)
	return h, nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "sil_" + hex.EncodeToString(b[:])
}

// silenceRequest is the body of POST /v1/silences.
type silenceRequest struct {
	Start     *time.Time `json:"start"` // default now
	End       time.Time  `json:"end"`
	Reason    string     `json:"reason"`
	SLOs      []string   `json:"slos"`
	Jobs      []string   `json:"jobs"`
	CreatedBy string     `json:"created_by"`
}

// silenceJSON is a silence as the API shows it.
type silenceJSON struct {
	ID        string    `json:"id"`
	SLOs      []string  `json:"slos"`
	Jobs      []string  `json:"jobs"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

func toSilenceJSON(s kant.Silence) silenceJSON {
	out := silenceJSON{ID: s.ID, SLOs: s.SLOs, Jobs: s.Jobs, Start: s.Start.UTC(), End: s.End.UTC(),
		Reason: s.Reason, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt.UTC()}
	if out.SLOs == nil {
		out.SLOs = []string{}
	}
	if out.Jobs == nil {
		out.Jobs = []string{}
	}
	return out
}

const maxSilenceBody = 64 << 10

// post handles POST /v1/silences.
func (h *Silences) post(w http.ResponseWriter, r *http.Request) {
	var req silenceRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSilenceBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		h.error(w, r, badBody(err))
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		h.error(w, r, kant.Errorf(kant.EINVALID, "body: one JSON object expected"))
		return
	}
	now := h.cfg.Now().UTC()
	s := kant.Silence{ID: "pending", SLOs: req.SLOs, Jobs: req.Jobs, Start: now, End: req.End.UTC(),
		Reason: req.Reason, CreatedBy: req.CreatedBy, CreatedAt: now}
	if req.Start != nil {
		s.Start = req.Start.UTC()
	}
	if err := s.Validate(); err != nil {
		h.error(w, r, err)
		return
	}
	if !s.End.After(now) {
		h.error(w, r, kant.Errorf(kant.EINVALID, "end: must be in the future"))
		return
	}
	for _, name := range s.SLOs {
		if len(h.cfg.SLOs) > 0 && !slices.Contains(h.cfg.SLOs, name) {
			h.error(w, r, kant.Errorf(kant.EINVALID, "slos: unknown SLO %q", name))
			return
		}
	}
	s.ID = h.cfg.NewID()
	if err := h.cfg.Store.PutSilence(r.Context(), s); err != nil {
		h.error(w, r, err)
		return
	}
	h.log.Info("silence created", "silence", s.ID, "end", s.End, "reason", s.Reason)
	writeJSON(w, http.StatusCreated, map[string]any{"silence": toSilenceJSON(s)})
}

// delete handles DELETE /v1/silences/{id}.
func (h *Silences) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" {
		h.error(w, r, kant.Errorf(kant.EINVALID, "id: required"))
		return
	}
	if err := h.cfg.Store.DeleteSilence(r.Context(), id); err != nil {
		h.error(w, r, err)
		return
	}
	h.log.Info("silence deleted", "silence", id)
	writeJSON(w, http.StatusOK, map[string]string{"deleted": id})
}

// list handles GET /v1/silences: the silences not yet ended, by start.
func (h *Silences) list(w http.ResponseWriter, r *http.Request) {
	l, err := h.cfg.Store.Silences(r.Context(), h.cfg.Now())
	if err != nil {
		h.error(w, r, err)
		return
	}
	out := make([]silenceJSON, 0, len(l))
	for _, s := range l {
		out = append(out, toSilenceJSON(s))
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": out})
}

func badBody(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return kant.Errorf(kant.EINVALID, "body: %v", err)
}

// error writes err as the API writes every error (writeError).
func (h *Silences) error(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, h.log, err)
}
