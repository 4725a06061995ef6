package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// requireNoSecret renders err and every error it wraps, with every verb
// that a log line uses, and fails if a secret shows in any form (as
// given, percent-encoded, query-encoded), or if a pgx error that keeps the
// DSN or the parsed password is reachable with errors.As.
func requireNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	var seen []string
	var walk func(e error)
	walk = func(e error) {
		if e == nil {
			return
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			seen = append(seen, fmt.Sprintf(verb, e))
		}
		if v := reflect.ValueOf(e); v.Kind() == reflect.Pointer && !v.IsNil() {
			seen = append(seen, fmt.Sprintf("%#v", v.Elem().Interface()))
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		}
	}
	walk(err)
	text := strings.Join(seen, "\n")
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			require.NotContains(t, text, form, "a secret of the DSN shows")
		}
	}
	var parseErr *pgconn.ParseConfigError
	require.False(t, errors.As(err, &parseErr), "wraps pgx's ParseConfigError, which keeps the DSN")
	var connectErr *pgconn.ConnectError
	require.False(t, errors.As(err, &connectErr), "wraps pgx's ConnectError, which keeps the password")
}

// requireOpenFails opens dsn, expects an error that wraps ErrDSN or not as
// dsnError says and whose text holds every want, and returns it.
func requireOpenFails(t *testing.T, dsn string, dsnError bool, want ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, dsn)
	require.Error(t, err)
	require.Nil(t, s)
	require.Equal(t, dsnError, errors.Is(err, sqlstore.ErrDSN), "%v", err)
	for _, w := range want {
		require.Contains(t, err.Error(), w)
	}
	return err
}

// TestOpen_NoDSNSecretInErrors is the regression test of issue 7 item 1:
// Open's errors carry no secret of a DSN, in any form it accepts (URL user
// information, password and sslpassword query parameters, keyword/value
// pairs, quoted with spaces and escaped quotes) and for every way it can
// fail (a DSN that does not parse, a bad parameter, an unreachable
// server), and still name the database by its harmless parts.
func TestOpen_NoDSNSecretInErrors(t *testing.T) {
	t.Parallel()
	const srv = "127.0.0.1:1" // nothing listens: connecting fails at once
	special := "p@ss w/rd#1%:?&'\\"
	for _, c := range []struct {
		name     string
		dsn      string
		secrets  []string
		dsnError bool     // errors.Is(err, sqlstore.ErrDSN)
		want     []string // in the message
	}{
		{"URLUserinfo", "postgres://app:Pw1-userinfo@" + srv + "/app?sslmode=disable&connect_timeout=2",
			[]string{"Pw1-userinfo"}, false, []string{"postgres://app@127.0.0.1:1/app", "connect"}},
		{"URLUserinfoEncoded", "postgres://" + url.UserPassword("app", "Pw2-"+special).String() + "@" + srv + "/app?sslmode=disable",
			[]string{"Pw2-" + special, "Pw2-"}, false, []string{"127.0.0.1:1"}},
		{"QueryPassword", "postgres://app@" + srv + "/app?sslmode=disable&password=Pw3-query",
			[]string{"Pw3-query"}, false, []string{"postgres://app@127.0.0.1:1/app"}},
		{"QuerySSLPassword", "postgres://app@" + srv + "/app?sslmode=disable&sslpassword=Pw4-sslpass",
			[]string{"Pw4-sslpass"}, false, []string{"127.0.0.1:1"}},
		{"QueryPasswordEncoded", "postgres://app@" + srv + "/app?sslmode=disable&password=" + url.QueryEscape("Pw5 "+special),
			[]string{"Pw5 " + special, "Pw5"}, false, []string{"127.0.0.1:1"}},
		{"QueryScramKeys", "postgres://app@" + srv + "/app?sslmode=disable&scram_client_key=Pw6-client&scram_server_key=Pw6-server",
			[]string{"Pw6-client", "Pw6-server"}, false, []string{"127.0.0.1:1"}},
		{"UpperCaseScheme", "POSTGRESQL://app:Pw7-a@" + srv + "/app?sslmode=disable&password=Pw7-b",
			[]string{"Pw7-a", "Pw7-b"}, false, []string{"postgresql://app@127.0.0.1:1/app"}},
		{"BadParameterValue", "postgres://app:Pw8-a@" + srv + "/app?password=Pw8-b&sslpassword=Pw8-c&connect_timeout=soon",
			[]string{"Pw8-a", "Pw8-b", "Pw8-c"}, true, []string{"invalid connect_timeout", "postgres://app@127.0.0.1:1/app"}},
		{"TLSFiles", "postgres://app@" + srv + "/app?sslmode=require&sslcert=/nonexistent/c.pem&sslkey=/nonexistent/k.pem&sslpassword=Pw9",
			[]string{"Pw9"}, true, []string{"failed to configure TLS"}},
		{"URLBadPort", "postgres://app:Pw10@127.0.0.1:port/app?password=Pw10-b",
			[]string{"Pw10", "Pw10-b"}, true, []string{"parsing PostgreSQL DSN postgres://...", "invalid port"}},
		{"URLPasswordWithSlash", "postgres://app:Pw11/slash@" + srv + "/app",
			[]string{"Pw11/slash", "Pw11", "slash"}, true, []string{"parsing PostgreSQL DSN postgres://..."}},
		{"URLPasswordWithHash", "postgres://app:Pw12#hash@" + srv + "/app", // pgx reads it, net/url does not
			[]string{"Pw12#hash", "Pw12", "hash@"}, false, []string{"connecting to postgres database postgres://..."}},
		{"URLNulByte", "postgres://app:Pw13@" + srv + "/app?password=Pw13-b\x00",
			[]string{"Pw13", "Pw13-b"}, true, []string{"parsing PostgreSQL DSN"}},
		{"KeywordValue", "host=127.0.0.1 port=1 user=app password=Pw14 dbname=app sslmode=disable connect_timeout=2",
			[]string{"Pw14"}, false, []string{"host=127.0.0.1 port=1 user=app dbname=app", "connect"}},
		{"KeywordValueQuoted", `host=127.0.0.1 port=1 user=app password='Pw15 it\'s \\ here' dbname='my app' sslmode=disable`,
			[]string{`Pw15 it's \ here`, `Pw15 it\'s \\ here`, "it's", `\ here`}, false, []string{"dbname='my app'"}},
		{"KeywordValueSpacedAndSSL", `host = 127.0.0.1 port=1 password = Pw16 sslpassword='Pw16 b' sslmode=disable`,
			[]string{"Pw16", "Pw16 b"}, false, []string{"host=127.0.0.1 port=1"}},
		{"KeywordValueBadParameter", "host=127.0.0.1 port=1 password=Pw17 sslpassword=Pw17-b connect_timeout=soon",
			[]string{"Pw17", "Pw17-b"}, true, []string{"invalid connect_timeout"}},
		{"KeywordValueUnquotedSpace", "host=127.0.0.1 password=Pw18 Tail18 dbname=app",
			[]string{"Pw18", "Tail18"}, true, []string{"failed to parse as keyword/value"}},
		{"KeywordValueUnterminatedQuote", "host=127.0.0.1 password='Pw19 dbname=app",
			[]string{"Pw19"}, true, []string{"failed to parse as keyword/value"}},
		{"KeywordValueEndingInDotDB", "host=127.0.0.1 port=1 password=Pw20.db sslmode=disable",
			[]string{"Pw20.db", "Pw20"}, false, []string{"connecting to postgres database"}},
		{"PostgresWithoutSlashes", "postgres:app:Pw21@127.0.0.1/app",
			[]string{"Pw21"}, true, []string{"postgres://user@host:port/database"}},
		{"UnsupportedScheme", "mysql://app:Pw22@db/app?password=Pw22-b",
			[]string{"Pw22", "Pw22-b"}, true, []string{`unsupported scheme "mysql"`}},
		{"NotAScheme", "pass word=Pw23://db/app",
			[]string{"Pw23"}, true, []string{"not a recognised form"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := requireOpenFails(t, c.dsn, c.dsnError, c.want...)
			requireNoSecret(t, err, c.secrets...)
		})
	}
}

// TestOpen_ServerErrorKeepsPgErrorNotPassword refuses a connection on the
// real server (a database that does not exist): the server's error stays
// reachable with errors.As, the password does not.
func TestOpen_ServerErrorKeepsPgErrorNotPassword(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(postgresDSN(t))
	require.NoError(t, err)
	u.Path = "/no_such_database_" + randomHex(4)
	q := u.Query()
	q.Set("password", "Pw-server")
	q.Set("sslpassword", "Pw-server-ssl")
	u.RawQuery = q.Encode()
	u.User = url.UserPassword(u.User.Username(), "Pw-userinfo")
	_, err = sqlstore.Open(t.Context(), u.String())
	require.Error(t, err)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "3D000", pgErr.Code, "invalid_catalog_name")
	require.Contains(t, err.Error(), u.Path)
	requireNoSecret(t, err, "Pw-server", "Pw-server-ssl", "Pw-userinfo")
}
