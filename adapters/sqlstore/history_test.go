package sqlstore_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// TestHistoryTamperingDetected edits the database as someone who can write
// it but holds no history key would, and checks what the Service detects
// (see cancellation.VerifyHistory): edited, removed or unkeyed events and a
// request whose state disagrees with its last event are refused as
// ErrCorrupt; a whole request rolled back with its newest events is not,
// and is caught only against a head kept elsewhere.
func TestHistoryTamperingDetected(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openStore(t, d.newDSN(t))
		e := newEnv()
		svc := e.service(t, s)
		rv := cancellation.Reviewer{ID: "auditor"}
		fresh := func(t *testing.T) *cancellation.Request {
			return e.inReview(t, svc, e.account("tamper-"+randomHex(5)))
		}
		requireCorrupt := func(t *testing.T, id string) {
			t.Helper()
			_, err := svc.Review(t.Context(), rv, id)
			require.ErrorIs(t, err, cancellation.ErrCorrupt)
		}
		scan := func(t *testing.T, query string, args ...any) string {
			t.Helper()
			var v string
			require.NoError(t, s.DB().QueryRowContext(t.Context(), sqlstore.Bind(d.name, query), args...).Scan(&v))
			return v
		}

		t.Run("EditedEvent", func(t *testing.T) {
			r := fresh(t)
			data := scan(t, "SELECT data FROM cancellation_events WHERE request_id = ? AND seq = 2", r.ID())
			execSQL(t, s, "UPDATE cancellation_events SET data = ? WHERE request_id = ? AND seq = 2",
				strings.Replace(data, `"type":"confirmed"`, `"type":"withdrawn"`, 1), r.ID())
			requireCorrupt(t, r.ID())
		})
		t.Run("RemovedNewestEvents", func(t *testing.T) {
			r := fresh(t)
			execSQL(t, s, "DELETE FROM cancellation_events WHERE request_id = ? AND seq >= ?", r.ID(), r.HistoryLen()-1)
			requireCorrupt(t, r.ID())
		})
		t.Run("StateDisagreesWithLastEvent", func(t *testing.T) {
			r := fresh(t)
			data := scan(t, "SELECT data FROM cancellation_requests WHERE id = ?", r.ID())
			// The state and the head's state both edited: the head's keyed
			// hash no longer matches, so no change goes through either.
			edited := strings.ReplaceAll(data, `"state":"in_review"`, `"state":"approved"`)
			execSQL(t, s, "UPDATE cancellation_requests SET data = ?, state = 'approved' WHERE id = ?", edited, r.ID())
			requireCorrupt(t, r.ID())
			_, err := svc.Reject(t.Context(), rv, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
			require.ErrorIs(t, err, cancellation.ErrCorrupt)
			// The state alone edited: the head still says in_review.
			r = fresh(t)
			data = scan(t, "SELECT data FROM cancellation_requests WHERE id = ?", r.ID())
			edited = strings.Replace(data, `"state":"in_review"`, `"state":"approved"`, 1)
			execSQL(t, s, "UPDATE cancellation_requests SET data = ?, state = 'approved' WHERE id = ?", edited, r.ID())
			_, err = s.Get(t.Context(), r.ID())
			require.ErrorIs(t, err, cancellation.ErrCorrupt)
		})
		t.Run("UnkeyedHead", func(t *testing.T) {
			r := fresh(t)
			data := scan(t, "SELECT data FROM cancellation_requests WHERE id = ?", r.ID())
			execSQL(t, s, "UPDATE cancellation_requests SET data = ? WHERE id = ?", strings.Replace(data, `"key_id":"memory-kit-1",`, ``, 1), r.ID())
			_, err := svc.Withdraw(t.Context(), r.Account(), r.ID())
			require.ErrorIs(t, err, cancellation.ErrCorrupt)
		})
		t.Run("RollbackDetectedOnlyAgainstAnAnchor", func(t *testing.T) {
			r := fresh(t)
			old := scan(t, "SELECT data FROM cancellation_requests WHERE id = ?", r.ID())
			oldLen := r.HistoryLen()
			anchor, err := svc.Reject(t.Context(), rv, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
			require.NoError(t, err)
			head := anchor.HistoryHead() // what a receipt would carry
			// The request and its events as they were before the decision.
			execSQL(t, s, "UPDATE cancellation_requests SET data = ?, state = 'in_review', version = ? WHERE id = ?", old, r.Version(), r.ID())
			execSQL(t, s, "DELETE FROM cancellation_events WHERE request_id = ? AND seq > ?", r.ID(), oldLen)
			got, err := svc.Review(t.Context(), rv, r.ID())
			require.NoError(t, err, "a consistent older copy verifies")
			require.NotEqual(t, head.Hash, got.HistoryHead().Hash, "the anchor tells it was cut short")
		})
	})
}

// TestHistoryOfOldRecordsMovesOnNextWrite stores a request as records were
// written before events were kept apart (schema 1: the whole history
// inline, plain SHA-256 hashes), then upgrades the schema: the request
// reads and verifies, its next change moves its events into rows, and
// nothing is lost.
func TestHistoryOfOldRecordsMovesOnNextWrite(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		db := rawDB(t, d, dsn)
		_, err := db.ExecContext(t.Context(), sqlstore.VersionTableSQL(d.name))
		require.NoError(t, err)
		ms, err := sqlstore.Migrations(d.name)
		require.NoError(t, err)
		_, err = db.ExecContext(t.Context(), ms[0].SQL) // schema 1 only
		require.NoError(t, err)

		// A request in review, made by a Service without keys (as before),
		// written in the old format with the columns of schema 1.
		e := newEnv()
		acct := e.account("legacy-" + randomHex(5))
		mem := e.service(t, memory.NewStore(), unkeyed)
		r := e.inReview(t, mem, acct)
		full, err := mem.Review(t.Context(), cancellation.Reviewer{ID: "r"}, r.ID())
		require.NoError(t, err)
		data, err := inlineJSON(full)
		require.NoError(t, err)
		old := new(cancellation.Request)
		require.NoError(t, old.UnmarshalBinary(data))
		require.NotContains(t, string(data), `"head"`)
		_, err = db.ExecContext(t.Context(), sqlstore.Bind(d.name,
			"INSERT INTO cancellation_requests (id, account, state, version, created_at, due_at, wake_at, data) VALUES (?, ?, ?, 1, ?, ?, ?, ?)"),
			old.ID(), string(acct), string(old.State()), old.CreatedAt().UnixNano(), old.DueAt().UnixNano(), old.NextWake().UnixNano(), string(data))
		require.NoError(t, err)

		s := openStore(t, dsn) // migrates to the current schema
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		// A Service with keys reads the old unkeyed chain only when told.
		strict := e.service(t, s)
		_, err = strict.Get(t.Context(), acct, old.ID())
		require.ErrorIs(t, err, cancellation.ErrCorrupt)
		svc := e.service(t, s, acceptUnkeyed)
		got, err := svc.Get(t.Context(), acct, old.ID())
		require.NoError(t, err)
		require.Equal(t, old.History(), got.History(), "the old history reads back whole")

		rejected, err := svc.Reject(t.Context(), cancellation.Reviewer{ID: "r"}, old.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
		require.NoError(t, err)
		events, err := s.History(t.Context(), old.ID())
		require.NoError(t, err)
		require.Len(t, events, rejected.HistoryLen(), "the change moved every event into rows")
		require.Equal(t, old.History(), events[:len(full.History())])
		require.NoError(t, cancellation.VerifyHistory(events, e.kit.HistoryKey))
		require.NotEmpty(t, events[len(events)-1].KeyID, "new events are keyed")
		require.Empty(t, events[0].KeyID, "old events are never re-signed")
		raw := ""
		require.NoError(t, s.DB().QueryRowContext(t.Context(), sqlstore.Bind(d.name, "SELECT data FROM cancellation_requests WHERE id = ?"), old.ID()).Scan(&raw))
		require.NotContains(t, raw, `"history"`, "the request's data keeps only its newest event")
	})
}

// rawDB opens the database of dsn without migrating it.
func rawDB(t *testing.T, d dialect, dsn string) *sql.DB {
	t.Helper()
	if d.name == sqlstore.Postgres {
		return adminDB(t, dsn)
	}
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite://"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}
