package sqlstore_test

import (
	"testing"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports/portstest"
)

// TestIdempotencyStoreSQLite runs the Idempotency-Key suite with every
// store over one SQLite file, as processes sharing it would.
func TestIdempotencyStoreSQLite(t *testing.T) {
	t.Parallel()
	dsn := sqliteDSN(t)
	portstest.TestIdempotencyStore(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store {
		return openStore(t, dsn)
	})
}

// TestIdempotencyStorePostgres runs the Idempotency-Key suite over one
// PostgreSQL schema shared by every store, as replicas would share it.
func TestIdempotencyStorePostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresSchema(t)
	portstest.TestIdempotencyStore(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store {
		return openStore(t, dsn)
	})
}

// schemaVersions lists every schema version the embedded migrations
// hold, 1 to SchemaVersion (a number may be unused): what a migrated
// database records.
func schemaVersions() []int {
	ms, err := sqlstore.Migrations(sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	vs := make([]int, len(ms))
	for i, m := range ms {
		vs[i] = m.Version
	}
	return vs
}
