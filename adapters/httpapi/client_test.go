package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/adapters/httpapi/client"
)

// TestGeneratedClient drives the API with the client oapi-codegen
// generates from openapi.yaml: the document describes what the handler
// really does, well enough for a typed client to read every answer.
func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	as := func(token string) *client.ClientWithResponses {
		c, err := client.NewClientWithResponses(e.srv.URL, client.WithHTTPClient(e.client),
			client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			}))
		require.NoError(t, err)
		return c
	}
	ctx := t.Context()
	c := as(tokBalance)

	notes, err := c.GetNotesWithResponse(ctx)
	require.NoError(t, err)
	require.NotNil(t, notes.JSON200)
	el, err := c.CheckEligibilityWithResponse(ctx)
	require.NoError(t, err)
	require.NotNil(t, el.JSON200)
	require.Equal(t, client.ReportOutcome("needs_consent"), el.JSON200.Outcome)

	key := client.IdempotencyKey("start-1")
	started, err := c.StartCancellationWithResponse(ctx, &client.StartCancellationParams{IdempotencyKey: &key}, client.Empty{})
	require.NoError(t, err)
	require.NotNil(t, started.JSON201, "body: %s", started.Body)
	id := started.JSON201.Id
	require.NotEmpty(t, started.HTTPResponse.Header.Get("ETag"))

	var consents []client.Consent
	for _, f := range *el.JSON200.Findings {
		if f.Outcome == "needs_consent" {
			consents = append(consents, client.Consent{Rule: f.Rule, Fingerprint: *f.Fingerprint})
		}
	}
	yes := true
	etag := started.HTTPResponse.Header.Get("ETag")
	confirmed, err := c.ConfirmCancellationWithResponse(ctx, id, &client.ConfirmCancellationParams{IfMatch: &etag}, client.Confirmation{
		NotesVersion: notes.JSON200.Version, Irreversible: true, Consents: &consents,
		Attestations: client.Attestations{BackupDoneOrWaived: &yes, NotEvading: &yes, OtherMattersHandled: &yes},
	})
	require.NoError(t, err)
	require.NotNil(t, confirmed.JSON200, "body: %s", confirmed.Body)
	require.Equal(t, client.State("confirmed"), confirmed.JSON200.State)

	got, err := c.GetCancellationWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, client.State("confirmed"), got.JSON200.State)

	refused, err := as(tokBlocked).StartCancellationWithResponse(ctx, nil, client.Empty{})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, refused.StatusCode())
	require.NotNil(t, refused.ApplicationproblemJSONDefault)
	require.Equal(t, "not_eligible", refused.ApplicationproblemJSONDefault.Code)
	require.NotEmpty(t, *refused.ApplicationproblemJSONDefault.Findings)
}
