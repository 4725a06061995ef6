package webui

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// TestProblemOf_AnOutageIs503WithItsOwnMessage: an UnavailableError (a
// port down: nothing was decided) is 503 with a message of its own in
// every catalogue, not an internal error.
func TestProblemOf_AnOutageIs503WithItsOwnMessage(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("approving: %w", &cancellation.UnavailableError{Op: "approve", Unavailable: []string{"AccountDirectory"}})
	status, key := problemOf(err)
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, "service_unavailable", key)
	status, _ = problemOf(errors.Join(cancellation.ErrUnavailable))
	require.Equal(t, http.StatusServiceUnavailable, status)
	c, err := loadCatalogues()
	require.NoError(t, err)
	for lang, msgs := range c.raw {
		require.NotEmpty(t, msgs["problem."+key], lang)
	}
}

// TestProblemOf_RefusalsOfTheBackOfficeHaveTheirOwnMessages: an admin's
// refused retry or give-up says why (effect done, given up, not failing,
// being carried out), a full history and any other conflict are 409 with
// a message in every catalogue, never an internal error.
func TestProblemOf_RefusalsOfTheBackOfficeHaveTheirOwnMessages(t *testing.T) {
	t.Parallel()
	c, err := loadCatalogues()
	require.NoError(t, err)
	cases := map[error]string{
		&cancellation.HistoryFullError{ID: "x", Limit: cancellation.StaffActivityLimit}: "history_full",
		fmt.Errorf("%w: request x", cancellation.ErrConflict):                           "conflict",
	}
	for _, r := range []cancellation.EffectRefusal{cancellation.EffectIsDone, cancellation.EffectIsGivenUp, cancellation.EffectNotFailing, cancellation.EffectInProgress} {
		cases[&cancellation.EffectRefusedError{RequestID: "x", Key: "x/close_account", Reason: r}] = "effect_refused." + string(r)
	}
	for err, want := range cases {
		status, key := problemOf(fmt.Errorf("doing: %w", err))
		require.Equal(t, http.StatusConflict, status, want)
		require.Equal(t, want, key)
		for lang, msgs := range c.raw {
			require.NotEmpty(t, msgs["problem."+key], "%s %s", lang, key)
		}
	}
}
