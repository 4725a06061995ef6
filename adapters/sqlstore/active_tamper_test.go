package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// Active verifies the head it returns as Get does: a row whose state and
// head were both edited (so its keyed hash fails) is reported as corrupt.
func TestActive_RefusesATamperedHead(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openStore(t, d.newDSN(t))
		e := newEnv()
		svc := e.service(t, s)
		r := e.inReview(t, svc, e.account("active-tamper-"+randomHex(5)))
		var data string
		require.NoError(t, s.DB().QueryRowContext(t.Context(), sqlstore.Bind(d.name, "SELECT data FROM cancellation_requests WHERE id = ?"), r.ID()).Scan(&data))
		edited := strings.ReplaceAll(data, `"state":"in_review"`, `"state":"approved"`)
		execSQL(t, s, "UPDATE cancellation_requests SET data = ?, state = 'approved' WHERE id = ?", edited, r.ID())
		_, err := svc.Active(t.Context(), r.Account())
		require.ErrorIs(t, err, cancellation.ErrCorrupt)
	})
}
