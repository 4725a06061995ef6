package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports"
)

// postgresEnv names the variable that holds the PostgreSQL DSN of the
// tests; exampleDSN is what the skip message suggests.
const (
	postgresEnv = "CANCELLATION_POSTGRES_DSN"
	exampleDSN  = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// postgresReachable connects once per test binary (without migrating
// anything: each test works in a schema of its own).
var postgresReachable = sync.OnceValue(func() error {
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		return fmt.Errorf("%s is not set", postgresEnv)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("%s is not a PostgreSQL DSN: %w", postgresEnv, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("PostgreSQL at %s is unreachable: %w", postgresEnv, err)
	}
	return nil
})

// postgresDSN returns the DSN of the PostgreSQL test database. Without one
// the test is skipped, saying how to run it, or fails under CI=true.
func postgresDSN(t testing.TB) string {
	t.Helper()
	if err := postgresReachable(); err != nil {
		msg := fmt.Sprintf("%v. To run the PostgreSQL tests, start a server and run: %s='%s' go test ./adapters/sqlstore/", err, postgresEnv, exampleDSN)
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true, so the PostgreSQL tests must run: " + msg)
		}
		t.Skip(msg)
	}
	return os.Getenv(postgresEnv)
}

// postgresSchema creates a PostgreSQL schema of its own for the test,
// dropped when the test ends, and returns a DSN whose search_path is that
// schema: tables, counts and lists of the test are its own.
func postgresSchema(t testing.TB) string {
	t.Helper()
	base := postgresDSN(t)
	name := "sqlstore_test_" + randomHex(6)
	admin := adminDB(t, base)
	_, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		require.NoError(t, err)
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// adminDB opens a plain connection pool to dsn (the "pgx" driver that
// sqlstore registers), closed when the test ends.
func adminDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// sqliteDSN returns the DSN of a new SQLite file in the test's directory.
func sqliteDSN(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "cancellation.db")
}

// openStore opens dsn, closed when the test ends.
func openStore(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// dialect is a database to run a test on: newDSN returns the DSN of a
// database of the test's own (a SQLite file, a PostgreSQL schema).
type dialect struct {
	name   sqlstore.Dialect
	newDSN func(testing.TB) string
}

var dialects = []dialect{
	{sqlstore.SQLite, sqliteDSN},
	{sqlstore.Postgres, postgresSchema},
}

// eachDialect runs f as parallel subtests "sqlite" and "postgres".
func eachDialect(t *testing.T, f func(t *testing.T, d dialect)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(string(d.name), func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// t0 is when the fake clocks of the tests start.
var t0 = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// otpKey is shared by the Services of a test, so that any replica checks
// a code that another sent.
var otpKey = []byte("sqlstore tests shared otp key")

// env is a host: in-memory ports and a fake clock, shared by the Services
// (replicas) built on it, each over its own Store.
type env struct {
	kit *memory.Kit
}

func newEnv() *env {
	kit := memory.NewKit(t0)
	// The staff of these tests: seniors, who decide without claiming.
	for _, id := range []string{"r", "reviewer", "x", "auditor", "rev-1"} {
		kit.Staff.Put(ports.StaffMember{ID: id, Roles: []ports.Role{ports.RoleSenior}})
	}
	for g := range 16 {
		kit.Staff.Put(ports.StaffMember{ID: fmt.Sprintf("reviewer-%d", g), Roles: []ports.Role{ports.RoleSenior}})
	}
	return &env{kit: kit}
}

// service returns a Service over store with the env's ports.
func (e *env) service(t testing.TB, store cancellation.Store, opts ...func(*cancellation.Config)) *cancellation.Service {
	t.Helper()
	cfg := e.kit.Config()
	cfg.Store = store
	cfg.Verification.Key = otpKey
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	return svc
}

// account adds an eligible personal account with a phone and an email.
func (e *env) account(id string) ports.AccountID {
	acct := ports.AccountID(id)
	e.kit.Platform.AddAccount(accountFor(acct))
	return acct
}

// accountFor returns the account with the id, the same on every call (a
// process that restarts adds it again), with a phone number of its own.
func accountFor(id ports.AccountID) ports.Account {
	h := fnv.New32a()
	h.Write([]byte(id))
	phone := fmt.Sprintf("+1555%010d", h.Sum32())
	return ports.Account{ID: id, Kind: ports.Personal, RecoveryPhone: phone, Email: string(id) + "@example.com", Locale: "en"}
}

// inReview takes a new request of acct through confirmation and phone
// verification into review.
func (e *env) inReview(t testing.TB, svc *cancellation.Service, acct ports.AccountID) *cancellation.Request {
	t.Helper()
	r, err := e.toReview(context.Background(), svc, acct)
	require.NoError(t, err)
	return r
}

// toReview is inReview for goroutines other than the test's.
func (e *env) toReview(ctx context.Context, svc *cancellation.Service, acct ports.AccountID) (*cancellation.Request, error) {
	r, err := svc.Start(ctx, acct)
	if err != nil {
		return nil, err
	}
	rep, err := svc.CheckEligibility(ctx, acct)
	if err != nil {
		return nil, err
	}
	if _, err := svc.Confirm(ctx, acct, r.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	}); err != nil {
		return nil, err
	}
	if _, err := svc.SendCode(ctx, acct, r.ID()); err != nil {
		return nil, err
	}
	code, ok := e.kit.OTP.LastCode(accountFor(acct).RecoveryPhone)
	if !ok {
		return nil, fmt.Errorf("no code was sent for %s", acct)
	}
	if _, err := svc.VerifyCode(ctx, acct, r.ID(), code); err != nil {
		return nil, err
	}
	return svc.Submit(ctx, acct, r.ID())
}

// patched returns a copy of r with the JSON fields of set replaced, as a
// Store would read it back: for requests in a given state or at a given
// version, which the Service alone cannot make.
func patched(t testing.TB, r *cancellation.Request, set map[string]any) *cancellation.Request {
	t.Helper()
	out, err := patch(r, set)
	require.NoError(t, err)
	return out
}

// patch is patched for goroutines other than the test's.
func patch(r *cancellation.Request, set map[string]any) (*cancellation.Request, error) {
	b, err := r.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range set {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("request JSON has no field %q", k)
		}
		if m[k], err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	// The newest event, kept with the request, follows a patched state
	// and never comes after a patched version. (The tests' Services have
	// no history keys, so its plain hash does not cover these fields.)
	var head map[string]json.RawMessage
	if err := json.Unmarshal(m["head"], &head); err != nil {
		return nil, err
	}
	if st, ok := set["state"]; ok {
		head["state"], _ = json.Marshal(st)
	}
	if v, ok := set["version"]; ok {
		var hv int64
		_ = json.Unmarshal(head["version"], &hv)
		var nv int64
		_ = json.Unmarshal(m["version"], &nv)
		head["version"], _ = json.Marshal(min(hv, nv))
		_ = v
	}
	if m["head"], err = json.Marshal(head); err != nil {
		return nil, err
	}
	if b, err = json.Marshal(m); err != nil {
		return nil, err
	}
	out := new(cancellation.Request)
	return out, out.UnmarshalBinary(b)
}

// inline returns a copy of r, which must hold its whole history (from
// Service.Review), renumbered as version 1 and written as records were
// before events were kept apart: the history inline in the request's
// data. Create then stores every event: the way to carry a request from
// one Store into another.
func inline(r *cancellation.Request) (*cancellation.Request, error) {
	b, err := inlineJSON(r)
	if err != nil {
		return nil, err
	}
	out := new(cancellation.Request)
	return out, out.UnmarshalBinary(b)
}

// inlineJSON is the record of inline, as schema 1 stored it.
func inlineJSON(r *cancellation.Request) ([]byte, error) {
	b, err := r.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	events := r.History()
	if events[0].Seq != 1 {
		return nil, fmt.Errorf("request %s holds events from %d on, not its whole history", r.ID(), events[0].Seq)
	}
	for i := range events {
		events[i].Version = 1 // the request must come from a Service without keys: plain hashes do not cover it
	}
	delete(m, "head")
	m["version"], _ = json.Marshal(1)
	if m["history"], err = json.Marshal(events); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// unkeyed configures a Service without history keys: plain SHA-256.
func unkeyed(c *cancellation.Config) { c.HistoryKeys = nil }

// acceptUnkeyed configures a Service that reads unkeyed histories.
func acceptUnkeyed(c *cancellation.Config) { c.AcceptUnkeyedHistory = true }

// started returns a new request for acct, version 1 and state started,
// made by a Service over a memory store: not stored anywhere else yet.
func started(t testing.TB, acct ports.AccountID) *cancellation.Request {
	t.Helper()
	e := newEnv()
	e.account(string(acct))
	// Without history keys, so that the Store's own check of the plain
	// hash of the newest event has something to find.
	r, err := e.service(t, memory.NewStore(), unkeyed).Start(context.Background(), acct)
	require.NoError(t, err)
	return r
}

// uniqueAccount returns an account id no other test run uses.
func uniqueAccount(prefix string) ports.AccountID {
	return ports.AccountID(prefix + "-" + randomHex(5))
}

func requestIDs(rs []*cancellation.Request) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID()
	}
	return ids
}
