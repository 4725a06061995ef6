package webui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/doctest"
)

var textareaTag = regexp.MustCompile(`<textarea [^>]*>`)

// requireNotesBounded checks that body has the textareas named ids and
// that every textarea of body has cancellation.MaxNoteLength as its
// maxlength.
func requireNotesBounded(t *testing.T, body string, ids ...string) {
	t.Helper()
	want := fmt.Sprintf(`maxlength="%d"`, cancellation.MaxNoteLength)
	tags := textareaTag.FindAllString(body, -1)
	for _, id := range ids {
		require.Contains(t, body, `<textarea id="`+id+`"`)
	}
	for _, tag := range tags {
		require.Contains(t, tag, want)
	}
}

// TestDeskNoteFieldsCarryTheLibrarysBound: every note and justification
// field of the desk (deciding a customer's request, starting, approving
// and declining a staff closure) has MaxNoteLength as its maxlength, and
// a note over it that reaches the server anyway is refused with 400,
// deciding nothing.
func TestDeskNoteFieldsCarryTheLibrarysBound(t *testing.T) {
	c := newConsole(t)
	rv := c.as(tokReviewer)
	id := c.as(customerToken(memory.AccountVerified)).toReview("+15550100002", doctest.ColourScan())
	requireNotesBounded(t, rv.get("/review/requests/"+id).body, "approve-note", "reject-note", "return-note")

	queue := rv.get("/review/")
	requireNotesBounded(t, queue.body, "staff-note")
	p := rv.post("/review/staff-closures", url.Values{"account": {string(memory.AccountEligible)}, "reason": {"legal_order"}, "note": {"order 17"}})
	sid := requestID(t, strings.TrimPrefix(p.url, "/review"))
	rv.upload("/review/requests/"+sid+"/evidence", "evidence", doctest.ColourScan())
	requireNotesBounded(t, rv.get("/review/requests/"+sid).body, "staff-approve-note", "staff-justification", "staff-decline-note")

	over := rv.post("/review/requests/"+id+"/approve", url.Values{"note": {strings.Repeat("n", cancellation.MaxNoteLength+1)}})
	require.Equal(t, http.StatusBadRequest, over.status, "body: %s", over.body)
	r, err := c.kit.Store.Get(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, cancellation.StateInReview, r.State())

	// A note at the bound whose line breaks the browser sent as CRLF (it
	// counted each as one character) is taken, with LF line breaks.
	line := strings.Repeat("n", 99) + "\r\n"
	atBound := strings.Repeat(line, cancellation.MaxNoteLength/100)
	require.Equal(t, cancellation.MaxNoteLength, utf8.RuneCountInString(strings.ReplaceAll(atBound, "\r\n", "\n")))
	ok := rv.post("/review/requests/"+id+"/approve", url.Values{"note": {atBound}})
	require.Less(t, ok.status, 400, "body: %s", ok.body)
	r, err = c.kit.Store.Get(t.Context(), id)
	require.NoError(t, err)
	require.NotEqual(t, cancellation.StateInReview, r.State(), "approved")
}
