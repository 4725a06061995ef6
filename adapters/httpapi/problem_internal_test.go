package httpapi

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// TestProblemTable_EverySentinelHasItsProblem holds the one table to the
// library's errors: every exported Err* sentinel of the root package (read
// from its source, so that a new sentinel without a case fails here), wrapped
// as the Service wraps it, maps to its status and stable code; a corrupt
// record is an internal error.
func TestProblemTable_EverySentinelHasItsProblem(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	type want struct {
		err    error
		status int
		code   string
	}
	cases := map[string]want{
		"ErrInvalidInput":         {cancellation.ErrInvalidInput, 422, "validation_failed"},
		"ErrNotFound":             {cancellation.ErrNotFound, 404, "not_found"},
		"ErrUnknownAccount":       {cancellation.ErrUnknownAccount, 404, "unknown_account"},
		"ErrAccountClosed":        {cancellation.ErrAccountClosed, 409, "account_closed"},
		"ErrActiveRequestExists":  {cancellation.ErrActiveRequestExists, 409, "active_request_exists"},
		"ErrInvalidTransition":    {cancellation.ErrInvalidTransition, 409, "invalid_transition"},
		"ErrConflict":             {cancellation.ErrConflict, 409, "conflict"},
		"ErrVersionMismatch":      {&cancellation.VersionMismatchError{ID: "x", Want: 3, Got: 4}, 412, "precondition_failed"},
		"ErrNotEligible":          {cancellation.ErrNotEligible, 422, "not_eligible"},
		"ErrConsentRequired":      {cancellation.ErrConsentRequired, 422, "consent_required"},
		"ErrStaleNotes":           {cancellation.ErrStaleNotes, 422, "stale_notes"},
		"ErrNoRecoveryPhone":      {cancellation.ErrNoRecoveryPhone, 422, "no_recovery_phone"},
		"ErrCodeMismatch":         {cancellation.ErrCodeMismatch, 422, "code_mismatch"},
		"ErrCodeExpired":          {cancellation.ErrCodeExpired, 422, "code_expired"},
		"ErrCodeLocked":           {&cancellation.CodeError{Err: cancellation.ErrCodeLocked, RetryAt: now.Add(90 * time.Second)}, 429, "code_locked"},
		"ErrRateLimited":          {&cancellation.CodeError{Err: cancellation.ErrRateLimited, RetryAt: now.Add(30 * time.Second)}, 429, "code_rate_limited"},
		"ErrDelivery":             {cancellation.ErrDelivery, 502, "delivery_failed"},
		"ErrUnavailable":          {&cancellation.UnavailableError{Op: "approve", Unavailable: []string{"AccountDirectory"}, RetryAfter: 45 * time.Second}, 503, "unavailable"},
		"ErrDocumentsNotRequired": {cancellation.ErrDocumentsNotRequired, 422, "documents_not_required"},
		"ErrWrongDocumentKind":    {cancellation.ErrWrongDocumentKind, 422, "wrong_document_kind"},
		"ErrHistoryFull":          {&cancellation.HistoryFullError{ID: "x", Limit: cancellation.CustomerHistoryLimit}, 409, "history_full"},
		"ErrSelfReview":           {cancellation.ErrSelfReview, 403, "self_review"},
		"ErrForbidden":            {cancellation.ErrForbidden, 403, "forbidden"},
		"ErrNoReceipt":            {cancellation.ErrNoReceipt, 404, "no_receipt"},
		"ErrReceiptMalformed":     {&cancellation.ReceiptError{Err: cancellation.ErrReceiptMalformed}, 422, "receipt_invalid"},
		"ErrReceiptUnknownKey":    {&cancellation.ReceiptError{Err: cancellation.ErrReceiptUnknownKey}, 422, "receipt_invalid"},
		"ErrReceiptSignature":     {&cancellation.ReceiptError{Err: cancellation.ErrReceiptSignature}, 422, "receipt_invalid"},
		"ErrQuotaExceeded":        {&cancellation.QuotaExceededError{Organization: "o", Requested: 2, Limit: 2, Used: 2, FreesAt: now.Add(time.Hour)}, 429, "quota_exceeded"},
		"ErrIdentifiersNotKept":   {cancellation.ErrIdentifiersNotKept, 501, "identifiers_not_kept"},
		"ErrNotAsked":             {cancellation.ErrNotAsked, 422, "not_asked"},
		"ErrRoundsExhausted":      {cancellation.ErrRoundsExhausted, 409, "rounds_exhausted"},
		"ErrEffectRefused":        {&cancellation.EffectRefusedError{RequestID: "x", Key: "x/close_account", Reason: cancellation.EffectIsGivenUp}, 409, "effect_refused"},
		"ErrFourEyes":             {fmt.Errorf("%w (%w)", cancellation.ErrFourEyes, cancellation.ErrForbidden), 403, "four_eyes"},
		"ErrClaimed":              {&cancellation.ClaimError{ID: "x", Holder: "rev-1", Until: now}, 409, "claimed"},
		"ErrClaimRequired":        {&cancellation.ClaimError{ID: "x"}, 403, "claim_required"},
		"ErrDocumentRejected":     {&cancellation.DocumentError{Problem: cancellation.DocumentNotColour, Detail: "scan it in colour"}, 422, "document_rejected"},
		// A corrupt record is not the caller's problem: internal_error.
		"ErrCorrupt": {cancellation.ErrCorrupt, 500, "internal_error"},
	}
	for _, name := range rootSentinels(t) {
		c, ok := cases[name]
		require.True(t, ok, "cancellation.%s has no case here: add its rule to the problem table, then its case", name)
		p, mapped := problemFor(fmt.Errorf("cancellation: doing something: %w", c.err), now)
		if c.status == http.StatusInternalServerError {
			require.False(t, mapped, "%s is internal_error", name)
			continue
		}
		require.True(t, mapped, "%s has a problem", name)
		require.Equal(t, c.status, p.Status, "%s", name)
		require.Equal(t, c.code, p.Code, "%s", name)
	}
	p, _ := problemFor(&cancellation.DocumentError{Problem: cancellation.DocumentTooLarge, Detail: "too big"}, now)
	require.Equal(t, http.StatusRequestEntityTooLarge, p.Status)
	require.Equal(t, "document_too_large", p.Code)
	p, _ = problemFor(&cancellation.CodeError{Err: cancellation.ErrCodeLocked, RetryAt: now.Add(90 * time.Second)}, now)
	require.Equal(t, 90*time.Second, p.retryAfter, "Retry-After comes from RetryAt")
	p, _ = problemFor(fmt.Errorf("approving: %w", &cancellation.UnavailableError{Op: "approve", RetryAfter: 45 * time.Second}), now)
	require.Equal(t, 45*time.Second, p.retryAfter, "an outage answers 503 with Retry-After")
	require.Equal(t, http.StatusInternalServerError, errInternal.Status)
	// A refused retry says why, not "changed concurrently".
	p, _ = problemFor(fmt.Errorf("retrying: %w", &cancellation.EffectRefusedError{RequestID: "x", Key: "x/notify", Reason: cancellation.EffectNotFailing}), now)
	require.Equal(t, "effect_refused", p.Code)
	require.Equal(t, cancellation.EffectNotFailing, p.EffectState)
	require.Contains(t, p.Detail, "has not failed")
	p, _ = problemFor(&cancellation.EffectRefusedError{RequestID: "x", Key: "x/close_account", Reason: cancellation.EffectInProgress, Until: now}, now)
	require.Contains(t, p.Detail, "being carried out until 2026-03-02T09:00:00Z")
}

// rootSentinels lists the exported package-level Err* variables declared in
// the root package's non-test files.
func rootSentinels(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../*.go")
	require.NoError(t, err)
	var names []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		if f.Name.Name != "cancellation" {
			continue
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(id.Name, "Err") && id.IsExported() {
						names = append(names, id.Name)
					}
				}
			}
		}
	}
	require.GreaterOrEqual(t, len(names), 20, "the root package's sentinels were found")
	return names
}
