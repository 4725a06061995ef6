// Package sqlstore is the durable cancellation.Store: requests in a SQLite
// file (the embedded default, pure Go, no cgo) or in PostgreSQL (for a
// platform that runs several replicas of the Service on one database).
//
// # Choosing a database
//
// [Open] picks the dialect from the DSN:
//
//	store, err := sqlstore.Open(ctx, "sqlite:///var/lib/app/cancellation.db")
//	store, err := sqlstore.Open(ctx, "postgres://app@db:5432/app?sslmode=verify-full")
//	store, err := sqlstore.Open(ctx, "host=db dbname=app user=app sslmode=verify-full")
//	if err != nil { ... }
//	defer store.Close()
//	svc, err := cancellation.New(cancellation.Config{Store: store, ...})
//
// A SQLite file serves one host (several processes on one machine may share
// it); PostgreSQL serves any number of replicas. Hosts that own their
// *sql.DB use [New] instead, after [Migrate].
//
// # Schema
//
// The table cancellation_requests holds one row per request: its id
// (primary key), account, state, version, created_at, due_at, wake_at
// (the request's NextWake, NULL when zero), failing_since (its
// FailingSince, NULL when no effect is failing), settled_at (its
// SettledAt, NULL until it ended with nothing left to do), and data, the request's JSON
// as Request.MarshalBinary wrote it (its state and newest event), kept as
// text byte for byte. Times are Unix nanoseconds. Indexes serve List, each
// ending in id for keyset paging (Query.After): (state, due_at, id) for
// the review queue, (wake_at, id) for maintenance, (failing_since, id)
// over the failing rows for stuck effects, (settled_at, id) over the
// settled rows for the retention of records (PurgeEnded), (account, created_at, id) for
// an account's requests (either way: its past requests are read newest
// first) and (created_at, id). The table cancellation_events holds the
// history, one row per event keyed by (request_id, seq), each as
// Event.MarshalBinary wrote it; Create and Update append a request's new
// events atomically with its row (on PostgreSQL in the same statement),
// and History reads them back. Requests written before migration 0002
// keep their history inline in data until their next write moves it.
// A partial unique index on account, over the non-terminal states, makes
// the database refuse a second active request for an account
// (cancellation.ErrActiveRequestExists), whichever replica writes it.
//
// The schema is versioned: the migrations are embedded ([Migrations],
// [MigrationFS]) and [Migrate] applies the missing ones in a transaction,
// recording each in cancellation_schema_version. [Open] migrates. A
// database migrated by a newer version of this package is refused with
// [ErrSchemaTooNew].
//
// # Concurrency and effects
//
// Update is an UPDATE ... WHERE id = ? AND version = ? (with the INSERT of
// the new events, atomically): of two
// replicas that read the same version, one writes and the other gets
// cancellation.ErrConflict, and the Service retries it with a fresh copy.
// The Service claims each pending effect (a notification, the account's
// closing) through such an Update before carrying it out, so replicas
// running RunMaintenance at once never carry out one effect at the same
// time; a replica that dies holding a claim loses it when the lease ends,
// and the effect is retried under the same idempotency key. Effects are
// thus carried out at least once, and the host deduplicates by that key.
//
// On SQLite the Store writes one transaction at a time (there is one writer
// per file), waits for other processes through busy_timeout, and runs in
// WAL mode so that readers do not wait; commits are synced
// (synchronous=FULL) unless the DSN says otherwise.
package sqlstore
