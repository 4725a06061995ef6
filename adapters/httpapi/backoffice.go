package httpapi

import (
	"net/http"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// PastPage is one page of the customer's past requests, newest first:
// their customer views. NextCursor, given as the cursor parameter, reads
// the next page; it is absent on the last page.
type PastPage struct {
	Items      []cancellation.RequestView `json:"items"`
	NextCursor string                     `json:"next_cursor,omitempty"`
}

// past answers GET /v1/cancellations/past: the authenticated customer's
// own ended requests; no parameter names another account.
func (h *Handler) past(r *http.Request, p Principal) (reply, error) {
	limit, err := intParam(r, "limit", cancellation.DefaultPastLimit, 1, cancellation.MaxPastLimit)
	if err != nil {
		return reply{}, err
	}
	res, err := h.svc.PastRequests(r.Context(), p.Account, cancellation.PastOptions{Limit: limit, After: r.URL.Query().Get("cursor")})
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, PastPage{Items: res.Requests, NextCursor: res.Next}, 0)
}

// StuckEffectsPage is one page of stuck effects, the longest failing
// first. NextCursor reads the next page; it is absent on the last page.
type StuckEffectsPage struct {
	Items      []StuckEffectView `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// StuckEffectView is a stuck effect as staff see it; LastError is the
// port's raw error.
type StuckEffectView struct {
	RequestID     string                  `json:"request_id"`
	Account       ports.AccountID         `json:"account"`
	RequestState  cancellation.State      `json:"request_state"`
	Key           string                  `json:"key"`
	Kind          cancellation.EffectKind `json:"kind"`
	Attempts      int                     `json:"attempts"`
	LastError     string                  `json:"last_error"`
	NextAttemptAt time.Time               `json:"next_attempt_at,omitzero"`
	FailingSince  time.Time               `json:"failing_since"`
}

// stuckEffects answers GET /v1/effects/stuck (staff with the reviewer
// role or above).
func (h *Handler) stuckEffects(r *http.Request, p Principal) (reply, error) {
	limit, err := intParam(r, "limit", cancellation.DefaultStuckLimit, 1, cancellation.MaxStuckLimit)
	if err != nil {
		return reply{}, err
	}
	res, err := h.svc.StuckEffects(r.Context(), *p.Reviewer, cancellation.StuckOptions{Limit: limit, After: r.URL.Query().Get("cursor")})
	if err != nil {
		return reply{}, err
	}
	page := StuckEffectsPage{Items: make([]StuckEffectView, 0, len(res.Effects)), NextCursor: res.Next}
	for _, e := range res.Effects {
		page.Items = append(page.Items, StuckEffectView(e))
	}
	return jsonReply(http.StatusOK, page, 0)
}

// RetryEffectBody is the body of POST /v1/reviews/{id}/effects/retry.
type RetryEffectBody struct {
	// Key is the effect's key, as StuckEffectView gives it.
	Key string `json:"key"`
}

// retryEffect answers POST /v1/reviews/{id}/effects/retry (admins).
func (h *Handler) retryEffect(r *http.Request, p Principal) (reply, error) {
	var b RetryEffectBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.RetryEffect(r.Context(), *p.Reviewer, r.PathValue("id"), b.Key)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

// GiveUpEffectBody is the body of POST /v1/reviews/{id}/effects/give-up.
type GiveUpEffectBody struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// giveUpEffect answers POST /v1/reviews/{id}/effects/give-up (admins).
func (h *Handler) giveUpEffect(r *http.Request, p Principal) (reply, error) {
	var b GiveUpEffectBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.GiveUpEffect(r.Context(), *p.Reviewer, r.PathValue("id"), b.Key, b.Reason)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}
