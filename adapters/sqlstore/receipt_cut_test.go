package sqlstore_test

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// TestReceipt_DetectsHistoryCutShortAndRowRolledBack plays someone with
// write access to the database who, after a request was cancelled (seed
// step 6) and its receipt issued, deletes the newest event rows and puts
// the request row back as it was in review: the Service reads a consistent
// request, so only the receipt the customer holds shows the cut.
func TestReceipt_DetectsHistoryCutShortAndRowRolledBack(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openStore(t, d.newDSN(t))
		e := newEnv()
		svc := e.service(t, s)
		r := e.inReview(t, svc, e.account("receipt-cut-"+randomHex(5)))
		q := func(query string) string { return sqlstore.Bind(d.name, query) }
		var state, data string
		var version int64
		var due, wake sql.NullInt64
		require.NoError(t, s.DB().QueryRowContext(t.Context(), q("SELECT state, version, due_at, wake_at, data FROM cancellation_requests WHERE id = ?"), r.ID()).
			Scan(&state, &version, &due, &wake, &data))
		kept := r.HistoryLen()

		done, err := svc.Approve(t.Context(), cancellation.Reviewer{ID: "rev-1"}, r.ID(), "")
		require.NoError(t, err)
		require.Equal(t, cancellation.StateCancelled, done.State())
		token, ok := done.Receipt()
		require.True(t, ok)
		_, err = svc.AuditReceipt(t.Context(), token)
		require.NoError(t, err, "the intact history matches its receipt")

		execSQL(t, s, "DELETE FROM cancellation_events WHERE request_id = ? AND seq > ?", r.ID(), kept)
		execSQL(t, s, "UPDATE cancellation_requests SET state = ?, version = ?, due_at = ?, wake_at = ?, data = ? WHERE id = ?", state, version, due, wake, data, r.ID())

		got, err := svc.Get(t.Context(), r.Account(), r.ID())
		require.NoError(t, err, "the rolled-back request reads as consistent: the chain alone cannot tell")
		require.Equal(t, cancellation.StateInReview, got.State())
		_, err = svc.AuditReceipt(t.Context(), token)
		require.ErrorIs(t, err, cancellation.ErrCorrupt)
		require.Contains(t, err.Error(), "cut short")
	})
}
