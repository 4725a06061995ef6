package httpapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// TestProblemTable_EverySentinelHasItsProblem holds the one table to the
// library's errors: each sentinel, wrapped as the Service wraps it, maps to
// its status and stable code; a corrupt record is an internal error.
func TestProblemTable_EverySentinelHasItsProblem(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{cancellation.ErrInvalidInput, 422, "validation_failed"},
		{cancellation.ErrNotFound, 404, "not_found"},
		{cancellation.ErrUnknownAccount, 404, "unknown_account"},
		{cancellation.ErrAccountClosed, 409, "account_closed"},
		{cancellation.ErrActiveRequestExists, 409, "active_request_exists"},
		{cancellation.ErrInvalidTransition, 409, "invalid_transition"},
		{cancellation.ErrConflict, 409, "conflict"},
		{cancellation.ErrNotEligible, 422, "not_eligible"},
		{cancellation.ErrConsentRequired, 422, "consent_required"},
		{cancellation.ErrStaleNotes, 422, "stale_notes"},
		{cancellation.ErrNoRecoveryPhone, 422, "no_recovery_phone"},
		{cancellation.ErrCodeMismatch, 422, "code_mismatch"},
		{cancellation.ErrCodeExpired, 422, "code_expired"},
		{&cancellation.CodeError{Err: cancellation.ErrCodeLocked, RetryAt: now.Add(90 * time.Second)}, 429, "code_locked"},
		{&cancellation.CodeError{Err: cancellation.ErrRateLimited, RetryAt: now.Add(30 * time.Second)}, 429, "code_rate_limited"},
		{cancellation.ErrDelivery, 502, "delivery_failed"},
		{cancellation.ErrDocumentsNotRequired, 422, "documents_not_required"},
		{cancellation.ErrWrongDocumentKind, 422, "wrong_document_kind"},
		{cancellation.ErrSelfReview, 403, "self_review"},
		{&cancellation.DocumentError{Problem: cancellation.DocumentNotColour, Detail: "scan it in colour"}, 422, "document_rejected"},
		{&cancellation.DocumentError{Problem: cancellation.DocumentTooLarge, Detail: "too big"}, 413, "document_too_large"},
	}
	for _, c := range cases {
		p, ok := problemFor(fmt.Errorf("cancellation: doing something: %w", c.err), now)
		require.True(t, ok, "%v has a problem", c.err)
		require.Equal(t, c.status, p.Status, "%v", c.err)
		require.Equal(t, c.code, p.Code, "%v", c.err)
	}
	p, _ := problemFor(&cancellation.CodeError{Err: cancellation.ErrCodeLocked, RetryAt: now.Add(90 * time.Second)}, now)
	require.Equal(t, 90*time.Second, p.retryAfter, "Retry-After comes from RetryAt")
	_, ok := problemFor(fmt.Errorf("request x: %w", cancellation.ErrCorrupt), now)
	require.False(t, ok, "a corrupt record is not the caller's problem: internal_error")
	require.Equal(t, http.StatusInternalServerError, errInternal.Status)
}
