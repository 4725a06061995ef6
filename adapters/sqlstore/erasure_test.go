package sqlstore_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports/portstest"
)

func TestIdentifierStoreSQLite(t *testing.T) {
	t.Parallel()
	dsn := sqliteDSN(t)
	portstest.TestIdentifierStore(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store { return openStore(t, dsn) })
}

func TestIdentifierStorePostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresSchema(t)
	portstest.TestIdentifierStore(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store { return openStore(t, dsn) })
}

func TestClosureQuotaStoreSQLite(t *testing.T) {
	t.Parallel()
	dsn := sqliteDSN(t)
	portstest.TestClosureQuotaStore(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store { return openStore(t, dsn) })
}

func TestClosureQuotaStorePostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresSchema(t)
	portstest.TestClosureQuotaStore(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store { return openStore(t, dsn) })
}

// TestUpgradeFromVersion3KeepsIdentifiersAndCountsClosures migrates a
// database written at schema version 3 to the current one: the Idempotency
// records of version 3 survive, and the tables of 0008 work.
func TestUpgradeFromVersion3KeepsIdentifiersAndCountsClosures(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		db := rawDB(t, d, dsn)
		ctx := t.Context()
		_, err := db.ExecContext(ctx, sqlstore.VersionTableSQL(d.name))
		require.NoError(t, err)
		ms, err := sqlstore.Migrations(d.name)
		require.NoError(t, err)
		for _, m := range ms {
			if m.Version <= 3 {
				_, err = db.ExecContext(ctx, m.SQL)
				require.NoError(t, err, m.Name)
			}
		}
		_, err = db.ExecContext(ctx, sqlstore.Bind(d.name, `INSERT INTO cancellation_idempotency_keys (scope, idem_key, fingerprint, owner, response, expires_at) VALUES (?, ?, ?, ?, NULL, ?)`),
			"scope-v3", "key-v3", "fp", "owner", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		require.NoError(t, err)

		s := openStore(t, dsn) // migrates from 3
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		is := s
		_, ok, err := is.ReserveIdempotency(ctx, cancellation.IdempotencyRecord{Scope: "scope-v3", Key: "key-v3", Owner: "o2", ExpiresAt: time.Now().Add(time.Hour)}, time.Now())
		require.NoError(t, err)
		require.False(t, ok, "the version-3 record survived the upgrade")

		ids := s
		require.NoError(t, ids.KeepIdentifiers(ctx, []cancellation.IdentifierHash{{Hash: "h-upgrade", KeyID: "k", ExpiresAt: time.Now().Add(time.Hour)}}))
		kept, err := ids.IdentifierKept(ctx, []string{"h-upgrade"}, time.Now())
		require.NoError(t, err)
		require.True(t, kept)
		ok, _, err = s.AdmitClosures(ctx, "org-upgrade", nil, time.Now().Add(-time.Hour), time.Now(), 1)
		require.NoError(t, err)
		require.True(t, ok)
	})
}

// TestIdentifiersAreNeverInTheDatabaseFile cancels an account on a SQLite
// file with identifier keys and reads the whole file: the account's email
// and phone are not in it (WAL included), while RecentlyClosed knows them.
func TestIdentifiersAreNeverInTheDatabaseFile(t *testing.T) {
	t.Parallel()
	dsn := sqliteDSN(t)
	s := openStore(t, dsn)
	e := newEnv()
	acct := e.account("plain-" + randomHex(5))
	svc := e.service(t, s, func(c *cancellation.Config) {
		c.IdentifierKeys = []cancellation.IdentifierKey{{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}}
	})
	r := e.inReview(t, svc, acct)
	r, err := svc.Approve(t.Context(), cancellation.Reviewer{ID: "r"}, r.ID(), "")
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, r.State())
	a, err := e.kit.Platform.Account(t.Context(), acct)
	require.NoError(t, err)
	kept, err := svc.RecentlyClosed(t.Context(), a.Email)
	require.NoError(t, err)
	require.True(t, kept)

	path := strings.TrimPrefix(dsn, "sqlite://")
	path, _, _ = strings.Cut(path, "?")
	var raw []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err == nil {
			raw = append(raw, b...)
		}
	}
	require.NotEmpty(t, raw)
	require.False(t, bytes.Contains(raw, []byte(a.Email)), "the email is not in the database")
	require.False(t, bytes.Contains(raw, []byte(a.RecoveryPhone)), "the phone is not in the database")
}
