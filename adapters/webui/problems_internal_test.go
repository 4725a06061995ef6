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
