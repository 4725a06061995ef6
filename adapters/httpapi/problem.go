package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/accountkit/cancellation"
)

// Problem is an RFC 9457 problem details object, with the stable Code of
// this API and the extension members of some codes. Its text never
// carries a port's error, a stack or another account's data.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Code is the stable, machine-readable problem code (see the table in
	// the package documentation and openapi.yaml).
	Code string `json:"code"`

	// Field names the invalid argument (validation_failed).
	Field string `json:"field,omitempty"`
	// Findings are the blocked findings with their remedies (not_eligible),
	// the findings to consent to again (consent_required) or those whose
	// checker is unavailable (unavailable).
	Findings []cancellation.Finding `json:"findings,omitempty"`
	// Missing names the acknowledgements and attestations not given
	// (consent_required).
	Missing []string `json:"missing,omitempty"`
	// AttemptsLeft counts the tries left for the current code
	// (code_mismatch).
	AttemptsLeft *int `json:"attempts_left,omitempty"`
	// RetryAt is when to try again (code_locked, code_rate_limited).
	RetryAt *time.Time `json:"retry_at,omitempty"`
	// DocumentProblem is the inspector's code (document_rejected,
	// document_too_large), e.g. "not_colour".
	DocumentProblem cancellation.DocumentProblem `json:"document_problem,omitempty"`
	// Transition describes a refused state change (invalid_transition).
	Transition *Transition `json:"transition,omitempty"`
	// ClaimedBy and ClaimedUntil name the claim that holds the request
	// (claimed): its holder's staff id, shown to staff only.
	ClaimedBy    string     `json:"claimed_by,omitempty"`
	ClaimedUntil *time.Time `json:"claimed_until,omitempty"`
	// EffectState says why an admin's retry or give-up was refused
	// (effect_refused): done, given_up, not_failing or in_progress.
	EffectState cancellation.EffectRefusal `json:"effect_state,omitempty"`

	retryAfter time.Duration
}

// Transition is the refused move of an invalid_transition problem.
type Transition struct {
	Operation string             `json:"operation"`
	From      cancellation.State `json:"from"`
	To        cancellation.State `json:"to,omitempty"`
	Reason    string             `json:"reason,omitempty"`
}

// ProblemTypeBase prefixes each problem code to make its type URI.
const ProblemTypeBase = "https://accountkit.dev/problems/"

// problemRule maps one domain error to its problem: the one table of the
// package. detail fills the problem's text and extensions from the typed
// error; without it the detail is the fixed text.
type problemRule struct {
	err    error
	status int
	code   string
	title  string
	detail func(err error, p *Problem)
}

// problems is checked in order; the first rule whose error matches
// (errors.Is) wins. Anything else is internal_error.
var problems = []problemRule{
	{cancellation.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "A service this needs is unavailable; nothing was decided: try again later", func(err error, p *Problem) {
		p.retryAfter = cancellation.DefaultRetryAfter
		var ue *cancellation.UnavailableError
		if errors.As(err, &ue) {
			p.retryAfter = max(ue.RetryAfter, time.Second)
			if ue.Report != nil {
				p.Findings = ue.Report.Unavailable()
			}
		}
	}},
	{cancellation.ErrDocumentRejected, http.StatusUnprocessableEntity, "document_rejected", "The document was refused", documentDetail},
	{cancellation.ErrInvalidInput, http.StatusUnprocessableEntity, "validation_failed", "A value is invalid", func(err error, p *Problem) {
		var ve *cancellation.ValidationError
		if errors.As(err, &ve) {
			p.Field, p.Detail = ve.Field, ve.Problem
		}
	}},
	{cancellation.ErrNotFound, http.StatusNotFound, "not_found", "No such cancellation request", nil},
	{cancellation.ErrNoReceipt, http.StatusNotFound, "no_receipt", "The request has no receipt: it has not ended, or receipts are not signed", nil},
	// No endpoint verifies receipts; a host endpoint that does (with
	// Service.VerifyReceipt) gets one problem for all three.
	{cancellation.ErrReceiptMalformed, http.StatusUnprocessableEntity, "receipt_invalid", "The receipt is not valid", nil},
	{cancellation.ErrReceiptUnknownKey, http.StatusUnprocessableEntity, "receipt_invalid", "The receipt is not valid", nil},
	{cancellation.ErrReceiptSignature, http.StatusUnprocessableEntity, "receipt_invalid", "The receipt is not valid", nil},
	{cancellation.ErrUnknownAccount, http.StatusNotFound, "unknown_account", "The account is not known", nil},
	{cancellation.ErrAccountClosed, http.StatusConflict, "account_closed", "The account is already closed", nil},
	{cancellation.ErrActiveRequestExists, http.StatusConflict, "active_request_exists", "The account already has a request in progress", nil},
	{cancellation.ErrInvalidTransition, http.StatusConflict, "invalid_transition", "The request's state does not allow this", func(err error, p *Problem) {
		var te *cancellation.TransitionError
		if errors.As(err, &te) {
			p.Transition = &Transition{Operation: te.Op, From: te.From, To: te.To, Reason: te.Reason}
			p.Detail = te.Error()
		}
	}},
	{cancellation.ErrVersionMismatch, http.StatusPreconditionFailed, "precondition_failed", "The request changed since you read it", func(err error, p *Problem) {
		var ve *cancellation.VersionMismatchError
		if errors.As(err, &ve) {
			p.Detail = "Read it again (its ETag is " + etag(ve.Got) + ") and decide on what it says now."
		}
	}},
	// Before ErrConflict, which it wraps: an admin's retry or give-up
	// refused by the effect's state, which the detail names.
	{cancellation.ErrEffectRefused, http.StatusConflict, "effect_refused", "The effect's state does not allow this", effectRefusedDetail},
	{cancellation.ErrConflict, http.StatusConflict, "conflict", "The request changed concurrently; read it and try again", nil},
	{cancellation.ErrNotEligible, http.StatusUnprocessableEntity, "not_eligible", "The account cannot be cancelled yet", func(err error, p *Problem) {
		var ne *cancellation.NotEligibleError
		if errors.As(err, &ne) {
			p.Findings = ne.Report.Blocked()
			p.Detail = "Each finding says what to do, and where."
		}
	}},
	{cancellation.ErrConsentRequired, http.StatusUnprocessableEntity, "consent_required", "Acknowledgements or consents are missing", func(err error, p *Problem) {
		var ce *cancellation.ConsentRequiredError
		if errors.As(err, &ce) {
			p.Missing, p.Findings = ce.Missing, ce.Findings
		}
	}},
	{cancellation.ErrStaleNotes, http.StatusUnprocessableEntity, "stale_notes", "The notes changed: read the current notes", nil},
	{cancellation.ErrNoRecoveryPhone, http.StatusUnprocessableEntity, "no_recovery_phone", "The account has no recovery phone to verify", nil},
	{cancellation.ErrCodeMismatch, http.StatusUnprocessableEntity, "code_mismatch", "The code is wrong", codeDetail},
	{cancellation.ErrCodeExpired, http.StatusUnprocessableEntity, "code_expired", "No code is pending, or it expired: ask for a new one", nil},
	{cancellation.ErrCodeLocked, http.StatusTooManyRequests, "code_locked", "Too many wrong codes: verification is locked for a while", codeDetail},
	{cancellation.ErrRateLimited, http.StatusTooManyRequests, "code_rate_limited", "A code was sent too recently", codeDetail},
	{cancellation.ErrDelivery, http.StatusBadGateway, "delivery_failed", "The code could not be delivered; ask for a new one when the cooldown allows", nil},
	{cancellation.ErrDocumentsNotRequired, http.StatusUnprocessableEntity, "documents_not_required", "This account uploads no documents", nil},
	{cancellation.ErrWrongDocumentKind, http.StatusUnprocessableEntity, "wrong_document_kind", "This document kind does not fit the account", nil},
	// 409, not 422: the call is well formed, but the request's state (its
	// history at the cap) refuses it, and a retry cannot succeed: the
	// customer withdraws and starts again.
	{cancellation.ErrHistoryFull, http.StatusConflict, "history_full", "The request's history is full: no more changes can be recorded", nil},
	{cancellation.ErrSelfReview, http.StatusForbidden, "self_review", "Reviewers cannot decide their own account's request", nil},
	{cancellation.ErrNotAsked, http.StatusUnprocessableEntity, "not_asked", "The reviewer asked for other documents", nil},
	// 409: the request's rounds are used up; the reviewer decides.
	{cancellation.ErrRoundsExhausted, http.StatusConflict, "rounds_exhausted", "The request cannot be returned again: approve or reject it", nil},
	// Before ErrForbidden, which it wraps.
	{cancellation.ErrFourEyes, http.StatusForbidden, "four_eyes", "A second staff member must approve this closure", nil},
	// Before ErrForbidden, which both wrap. A claim held by another is a
	// conflict of the request's state (409); deciding without a claim is
	// the reviewer's to fix by claiming (403).
	{cancellation.ErrClaimed, http.StatusConflict, "claimed", "Another staff member holds the claim on this request", func(err error, p *Problem) {
		var ce *cancellation.ClaimError
		if errors.As(err, &ce) {
			until := ce.Until.UTC()
			p.ClaimedBy, p.ClaimedUntil = ce.Holder, &until
			p.Detail = "It is claimed until " + until.Format(time.RFC3339) + "."
		}
	}},
	{cancellation.ErrClaimRequired, http.StatusForbidden, "claim_required", "Claim the request before deciding it", nil},
	{cancellation.ErrForbidden, http.StatusForbidden, "forbidden", "This staff member may not do this", nil},
	// POST /v1/organizations/{org}/closures: the batch over the quota.
	{cancellation.ErrQuotaExceeded, http.StatusTooManyRequests, "quota_exceeded", "The organisation's closure quota is used up", func(err error, p *Problem) {
		var qe *cancellation.QuotaExceededError
		if errors.As(err, &qe) {
			p.Detail = qe.Error()
			if !qe.FreesAt.IsZero() {
				at := qe.FreesAt.UTC()
				p.RetryAt = &at
			}
		}
	}},
	// POST /v1/identifiers/recently-closed on a Service without keys.
	{cancellation.ErrIdentifiersNotKept, http.StatusNotImplemented, "identifiers_not_kept", "This platform keeps no identifiers of closed accounts", nil},
}

func documentDetail(err error, p *Problem) {
	var de *cancellation.DocumentError
	if !errors.As(err, &de) {
		return
	}
	p.DocumentProblem, p.Detail = de.Problem, de.Detail
	if de.Problem == cancellation.DocumentTooLarge {
		p.Status, p.Code, p.Title = http.StatusRequestEntityTooLarge, "document_too_large", "The document is too large"
	}
}

func codeDetail(err error, p *Problem) {
	var ce *cancellation.CodeError
	if !errors.As(err, &ce) {
		return
	}
	if errors.Is(ce.Err, cancellation.ErrCodeMismatch) {
		n := ce.AttemptsLeft
		p.AttemptsLeft = &n
		p.Detail = fmt.Sprintf("%d attempts left", n)
	}
	if !ce.RetryAt.IsZero() {
		at := ce.RetryAt.UTC()
		p.RetryAt = &at
		p.Detail = "Try again at " + at.Format(time.RFC3339)
	}
}

// problemFor maps err through the table. now is for Retry-After.
func problemFor(err error, now time.Time) (Problem, bool) {
	for _, rule := range problems {
		if !errors.Is(err, rule.err) {
			continue
		}
		p := Problem{Status: rule.status, Code: rule.code, Title: rule.title}
		if rule.detail != nil {
			rule.detail(err, &p)
		}
		if p.RetryAt != nil {
			p.retryAfter = max(p.RetryAt.Sub(now), time.Second)
		}
		return p, true
	}
	return Problem{}, false
}

// newProblem is a problem of the handler itself (not of the Service).
func newProblem(status int, code, title, detail string) Problem {
	return Problem{Status: status, Code: code, Title: title, Detail: detail}
}

var errInternal = newProblem(http.StatusInternalServerError, "internal_error", "Something went wrong on our side", "The error was logged; try again later.")

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, p Problem) {
	p.Type = ProblemTypeBase + p.Code
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(p.retryAfter.Seconds())), 10))
	}
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: every member marshals
		b = []byte(`{"type":"` + ProblemTypeBase + `internal_error","title":"Something went wrong on our side","status":500,"code":"internal_error"}`)
		p.Status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(b)
}

// effectRefusedDetail says why an admin's action on an effect was refused.
func effectRefusedDetail(err error, p *Problem) {
	var re *cancellation.EffectRefusedError
	if !errors.As(err, &re) {
		return
	}
	p.EffectState = re.Reason
	switch re.Reason {
	case cancellation.EffectIsDone:
		p.Detail = "The effect was carried out already."
	case cancellation.EffectIsGivenUp:
		p.Detail = "The effect was given up; only a given-up purge_documents is retried."
	case cancellation.EffectNotFailing:
		p.Detail = "The effect has not failed: it is carried out when due."
	case cancellation.EffectInProgress:
		p.Detail = "The effect is being carried out until " + re.Until.UTC().Format(time.RFC3339) + "; read the request again after."
	}
}
