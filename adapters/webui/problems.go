package webui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// errBadForm is a form the console did not send (missing or malformed
// fields).
var errBadForm = errors.New("webui: malformed form")

func badForm(err error) error { return errors.Join(errBadForm, err) }

// problemOf maps an error of the Service to a status and the key of its
// message (problem.<code> in the catalogues).
func problemOf(err error) (int, string) {
	var de *cancellation.DocumentError
	var re *cancellation.EffectRefusedError
	switch {
	case errors.As(err, &de):
		if de.Problem == cancellation.DocumentTooLarge {
			return http.StatusRequestEntityTooLarge, "document." + string(de.Problem)
		}
		return http.StatusUnprocessableEntity, "document." + string(de.Problem)
	case errors.Is(err, errBadForm):
		return http.StatusBadRequest, "bad_form"
	case errors.Is(err, cancellation.ErrStaleNotes):
		return http.StatusConflict, "stale_notes"
	case errors.Is(err, cancellation.ErrConsentRequired):
		return http.StatusUnprocessableEntity, "consent_required"
	case errors.Is(err, cancellation.ErrNotEligible):
		return http.StatusUnprocessableEntity, "not_eligible"
	case errors.Is(err, cancellation.ErrCodeMismatch):
		return http.StatusUnprocessableEntity, "code_mismatch"
	case errors.Is(err, cancellation.ErrCodeExpired):
		return http.StatusUnprocessableEntity, "code_expired"
	case errors.Is(err, cancellation.ErrCodeLocked):
		return http.StatusTooManyRequests, "code_locked"
	case errors.Is(err, cancellation.ErrRateLimited):
		return http.StatusTooManyRequests, "rate_limited"
	case errors.Is(err, cancellation.ErrUnavailable):
		return http.StatusServiceUnavailable, "service_unavailable"
	case errors.Is(err, cancellation.ErrDelivery):
		return http.StatusBadGateway, "delivery"
	case errors.Is(err, cancellation.ErrNoRecoveryPhone):
		return http.StatusUnprocessableEntity, "no_recovery_phone"
	case errors.Is(err, cancellation.ErrWrongDocumentKind):
		return http.StatusUnprocessableEntity, "wrong_document_kind"
	case errors.Is(err, cancellation.ErrDocumentsNotRequired):
		return http.StatusUnprocessableEntity, "documents_not_required"
	case errors.Is(err, cancellation.ErrNotAsked):
		return http.StatusUnprocessableEntity, "not_asked"
	case errors.As(err, &re):
		return http.StatusConflict, "effect_refused." + string(re.Reason)
	case errors.Is(err, cancellation.ErrHistoryFull):
		return http.StatusConflict, "history_full"
	case errors.Is(err, cancellation.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, cancellation.ErrRoundsExhausted):
		return http.StatusConflict, "rounds_exhausted"
	case errors.Is(err, cancellation.ErrFourEyes):
		return http.StatusForbidden, "four_eyes"
	case errors.Is(err, cancellation.ErrSelfReview):
		return http.StatusForbidden, "self_review"
	case errors.Is(err, cancellation.ErrClaimed):
		return http.StatusConflict, "claimed"
	case errors.Is(err, cancellation.ErrClaimRequired):
		return http.StatusForbidden, "claim_required"
	case errors.Is(err, cancellation.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, cancellation.ErrActiveRequestExists):
		return http.StatusConflict, "active_exists"
	case errors.Is(err, cancellation.ErrAccountClosed):
		return http.StatusConflict, "account_closed"
	case errors.Is(err, cancellation.ErrInvalidTransition):
		return http.StatusConflict, "invalid_transition"
	case errors.Is(err, cancellation.ErrNotFound), errors.Is(err, ports.ErrNotFound), errors.Is(err, cancellation.ErrUnknownAccount):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, cancellation.ErrNoReceipt):
		return http.StatusNotFound, "no_receipt"
	case errors.Is(err, cancellation.ErrInvalidInput):
		return http.StatusBadRequest, "invalid_input"
	}
	return http.StatusInternalServerError, "internal"
}

// problemArgs are the arguments of the problem's message: attempts left,
// retry time, the measured facts of a refused scan, the fields missing.
func problemArgs(l *localizer, err error) []any {
	var ce *cancellation.CodeError
	var ve *cancellation.ValidationError
	var cre *cancellation.ConsentRequiredError
	switch {
	case errors.As(err, &ce) && errors.Is(err, cancellation.ErrCodeMismatch):
		return []any{ce.AttemptsLeft}
	case errors.As(err, &ce):
		return []any{l.Time(ce.RetryAt)}
	case errors.As(err, &cre):
		var parts []string
		for _, m := range cre.Missing {
			parts = append(parts, l.Maybe("notes.ack."+m, m))
		}
		for _, f := range cre.Findings {
			parts = append(parts, l.Summary(f))
		}
		return []any{strings.Join(parts, l.T("list.separator"))}
	case errors.As(err, &ve):
		return []any{ve.Field}
	}
	return nil
}
