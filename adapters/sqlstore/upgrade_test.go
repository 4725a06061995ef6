package sqlstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports"
)

// TestMigrate_Version3DatabaseUpgradesToClaims: requests in review of a
// personal and an enterprise account, written with the schema of version
// 3 (no claim or account kind columns), read back whole after Open
// migrates to the current version; migration 0004 fills their account
// kind, so the queue's filters find them, and they can be claimed.
func TestMigrate_Version3DatabaseUpgradesToClaims(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		ctx := t.Context()
		dsn := d.newDSN(t)
		db := rawDB(t, d, dsn)
		_, err := db.ExecContext(ctx, sqlstore.VersionTableSQL(d.name))
		require.NoError(t, err)
		ms, err := sqlstore.Migrations(d.name)
		require.NoError(t, err)
		for _, m := range ms[:3] { // schema 3
			_, err = db.ExecContext(ctx, m.SQL)
			require.NoError(t, err, m.Name)
		}

		e := newEnv()
		mem := e.service(t, memory.NewStore())
		personal := e.account("v3-personal-" + randomHex(4))
		ent := accountFor(ports.AccountID("v3-enterprise-" + randomHex(4)))
		ent.Kind = ports.Enterprise
		e.kit.Platform.AddAccount(ent)
		want := map[string]*cancellation.Request{}
		for _, acct := range []ports.AccountID{personal, ent.ID} {
			r := e.inReview(t, mem, acct)
			full, err := mem.Get(ctx, acct, r.ID())
			require.NoError(t, err)
			want[r.ID()] = full
			data, err := full.MarshalBinary()
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, sqlstore.Bind(d.name,
				"INSERT INTO cancellation_requests (id, account, state, version, created_at, due_at, wake_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
				full.ID(), string(acct), string(full.State()), full.Version(), full.CreatedAt().UnixNano(), full.DueAt().UnixNano(), full.NextWake().UnixNano(), string(data))
			require.NoError(t, err)
			for _, ev := range full.History() {
				b, err := ev.MarshalBinary()
				require.NoError(t, err)
				_, err = db.ExecContext(ctx, sqlstore.Bind(d.name, "INSERT INTO cancellation_events (request_id, seq, data) VALUES (?, ?, ?)"), full.ID(), ev.Seq, string(b))
				require.NoError(t, err)
			}
		}

		s := openStore(t, dsn) // migrates to the current schema
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		svc := e.service(t, s)
		for id, full := range want {
			got, err := svc.Get(ctx, full.Account(), id)
			require.NoError(t, err)
			require.Equal(t, full.History(), got.History(), "the history reads back whole")
			require.Equal(t, full.AccountKind(), got.AccountKind())
			require.Equal(t, full.DueAt(), got.DueAt())
		}
		ours := func(q cancellation.Query) []ports.AccountID {
			t.Helper()
			q.States, q.OrderByDue = []cancellation.State{cancellation.StateInReview}, true
			rs, err := s.List(ctx, q)
			require.NoError(t, err)
			var out []ports.AccountID
			for _, r := range rs {
				if r.Account() == personal || r.Account() == ent.ID {
					out = append(out, r.Account())
				}
			}
			return out
		}
		now := e.kit.Clock.Now()
		require.Equal(t, []ports.AccountID{ent.ID}, ours(cancellation.Query{AccountKind: ports.Enterprise}), "0004 filled the account kind")
		require.Equal(t, []ports.AccountID{personal}, ours(cancellation.Query{AccountKind: ports.Personal}))
		require.ElementsMatch(t, []ports.AccountID{personal, ent.ID}, ours(cancellation.Query{UnclaimedAt: now}))
		for id, full := range want {
			if full.Account() == personal {
				_, err := svc.Claim(ctx, cancellation.Reviewer{ID: "r"}, id)
				require.NoError(t, err)
			}
		}
		require.Equal(t, []ports.AccountID{personal}, ours(cancellation.Query{ClaimedBy: "r", ClaimedAt: now}))
		require.Equal(t, []ports.AccountID{ent.ID}, ours(cancellation.Query{UnclaimedAt: now}))
	})
}
