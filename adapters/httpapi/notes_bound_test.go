package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
)

// TestReviews_OverlongNoteIsValidationFailedNamingTheFieldAndChangesNothing:
// a note one character over cancellation.MaxNoteLength, on approve and on
// reject, answers 422 validation_failed with field "note" and leaves the
// request's version as it was; a note of exactly the bound is accepted.
func TestReviews_OverlongNoteIsValidationFailedNamingTheFieldAndChangesNothing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		path string
		body func(note string) any
	}{
		{"approve", func(note string) any { return httpapi.ApproveBody{Note: note} }},
		{"reject", func(note string) any {
			return httpapi.RejectBody{Reasons: []cancellation.ReasonCode{cancellation.ReasonOther}, Note: note}
		}},
	} {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			id := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)
			v := e.version(id)

			over := e.do(http.MethodPost, "/v1/reviews/"+id+"/"+c.path, tokReviewer, c.body(strings.Repeat("ü", cancellation.MaxNoteLength+1)))
			p := over.requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, "note", p.Field)
			require.Equal(t, v, e.version(id), "nothing changed")

			ok := e.do(http.MethodPost, "/v1/reviews/"+id+"/"+c.path, tokReviewer, c.body(strings.Repeat("ü", cancellation.MaxNoteLength)))
			require.Equal(t, http.StatusOK, ok.Status, "body: %s", ok.Body)
		})
	}
}

// TestOpenAPI_FreeTextMaxLengthIsTheLibrarysBound: openapi.yaml states
// the library's bounds as the maxLength of every free-text field.
func TestOpenAPI_FreeTextMaxLengthIsTheLibrarysBound(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	for _, c := range []struct {
		schema, field string
		max           int
	}{
		{"ApproveBody", "note", cancellation.MaxNoteLength},
		{"RejectBody", "note", cancellation.MaxNoteLength},
		{"ReturnBody", "note", cancellation.MaxNoteLength},
		{"StaffClosureBody", "note", cancellation.MaxNoteLength},
		{"StaffApprovalBody", "note", cancellation.MaxNoteLength},
		{"StaffApprovalBody", "justification", cancellation.MaxNoteLength},
		{"DeclineBody", "note", cancellation.MaxNoteLength},
		{"ErasureExtensionBody", "reason", cancellation.MaxErasureReason},
		{"GiveUpEffectBody", "reason", cancellation.MaxGiveUpReason},
	} {
		s := doc.Components.Schemas[c.schema]
		require.NotNil(t, s, c.schema)
		p := s.Value.Properties[c.field]
		require.NotNil(t, p, "%s.%s", c.schema, c.field)
		require.NotNil(t, p.Value.MaxLength, "%s.%s has a maxLength", c.schema, c.field)
		require.Equal(t, uint64(c.max), *p.Value.MaxLength, "%s.%s", c.schema, c.field)
	}
}
