package cancellation_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// A cursor is opaque but not trusted: one whose id CheckID refuses (which
// PostgreSQL would answer with a driver error) is refused as bad input
// before the Store is asked.
func TestReviewQueue_RefusesACursorWithAMalformedID(t *testing.T) {
	f := setup(t)
	rv := cancellation.Reviewer{ID: "reviewer"}
	for name, id := range map[string]string{
		"invalid UTF-8": "can_\xff\xfe", "NUL": "can_\x00x", "control": "can_\x1b[31m", "long": "can_" + strings.Repeat("x", 300),
	} {
		after := base64.RawURLEncoding.EncodeToString([]byte("1:" + id))
		_, err := f.svc.ReviewQueue(f.ctx, rv, cancellation.QueueOptions{After: after})
		var ve *cancellation.ValidationError
		require.True(t, errors.As(err, &ve), "%s: got %v, want a ValidationError", name, err)
		require.Equal(t, "after", ve.Field, name)
	}
}
