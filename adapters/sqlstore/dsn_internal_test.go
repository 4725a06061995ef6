package sqlstore

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseDSN holds the documented DSN forms to the driver DSN they
// become, including the relative paths that tests through Open cannot
// reach without changing directory.
func TestParseDSN(t *testing.T) {
	t.Parallel()
	defaults := "_busy_timeout=10000&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	for _, c := range []struct {
		dsn, driver, path string
		dialect           Dialect
	}{
		{"postgres://app@db:5432/app?sslmode=disable", "postgres://app@db:5432/app?sslmode=disable", "", Postgres},
		{"postgresql://app@db/app", "postgresql://app@db/app", "", Postgres},
		{"PostgreSQL://app@db/app", "postgresql://app@db/app", "", Postgres}, // pgx knows the scheme in lower case only
		{"host=db dbname=app user=app", "host=db dbname=app user=app", "", Postgres},
		{"  dbname = app", "dbname = app", "", Postgres},
		{"host=db password=x.db", "host=db password=x.db", "", Postgres}, // not a SQLite path
		{"sqlite:///var/lib/app/c.db", "file:/var/lib/app/c.db?" + defaults, "/var/lib/app/c.db", SQLite},
		{"sqlite:/var/lib/app/c.db", "file:/var/lib/app/c.db?" + defaults, "/var/lib/app/c.db", SQLite},
		{"sqlite:data/c.db", "file:data/c.db?" + defaults, "data/c.db", SQLite},
		{"sqlite:data/c.db?_synchronous=NORMAL", "file:data/c.db?" + strings.Replace(defaults, "FULL", "NORMAL", 1), "data/c.db", SQLite},
		{"sqlite:///tmp/a%20b.db", "file:/tmp/a b.db?" + defaults, "/tmp/a b.db", SQLite},
		{"sqlite:///tmp/what%3F.db", "file:/tmp/what%3f.db?" + defaults, "/tmp/what?.db", SQLite},
		{"file:data/c.db", "file:data/c.db?" + defaults, "data/c.db", SQLite},
		{"file:///var/c.db?mode=rwc", "file:///var/c.db?" + defaults + "&mode=rwc", "/var/c.db", SQLite},
		{"data/c.db", "file:data/c.db?" + defaults, "data/c.db", SQLite},
		{"./c.sqlite3", "file:./c.sqlite3?" + defaults, "./c.sqlite3", SQLite},
		{"/srv/100%#1.SQLITE", "file:/srv/100%25%231.SQLITE?" + defaults, "/srv/100%#1.SQLITE", SQLite},
	} {
		d, driver, path, err := parseDSN(c.dsn)
		require.NoError(t, err, c.dsn)
		require.Equal(t, c.dialect, d, c.dsn)
		require.Equal(t, c.path, path, c.dsn)
		if d == SQLite { // compare the query as values: Encode sorts keys
			wantPath, wantQuery, _ := strings.Cut(c.driver, "?")
			gotPath, gotQuery, _ := strings.Cut(driver, "?")
			require.Equal(t, wantPath, gotPath, c.dsn)
			want, err := url.ParseQuery(wantQuery)
			require.NoError(t, err)
			got, err := url.ParseQuery(gotQuery)
			require.NoError(t, err)
			require.Equal(t, want, got, c.dsn)
			continue
		}
		require.Equal(t, c.driver, driver, c.dsn)
	}
}
