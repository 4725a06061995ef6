package sqlstore_test

import (
	"testing"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports/portstest"
)

// TestStoreSQLite runs the conformance suite on a fresh SQLite file per
// store.
func TestStoreSQLite(t *testing.T) {
	t.Parallel()
	portstest.TestStore(t, portstest.StoreFeatures{}, func(t *testing.T) cancellation.Store {
		return openStore(t, sqliteDSN(t))
	})
}

// TestStoreSQLiteShared runs the suite with every store (each its own
// *sql.DB pool, migrating on open) over one SQLite file, as processes of a
// host sharing the file would.
func TestStoreSQLiteShared(t *testing.T) {
	t.Parallel()
	dsn := sqliteDSN(t)
	portstest.TestStore(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store {
		return openStore(t, dsn)
	})
}

// TestStorePostgres runs the suite with every store (each its own pool)
// over one PostgreSQL schema, as replicas would share a database.
func TestStorePostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresSchema(t)
	portstest.TestStore(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store {
		return openStore(t, dsn)
	})
}
