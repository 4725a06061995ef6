package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver: pure Go, no cgo
)

// Dialect names the SQL database behind a Store.
type Dialect string

// The supported dialects.
const (
	// SQLite is a database file, through the pure-Go driver
	// modernc.org/sqlite (driver name "sqlite").
	SQLite Dialect = "sqlite"
	// Postgres is a PostgreSQL server, through
	// github.com/jackc/pgx/v5/stdlib (driver name "pgx").
	Postgres Dialect = "postgres"
)

func (d Dialect) valid() bool { return d == SQLite || d == Postgres }

// ErrDSN is wrapped by the errors of Open for a DSN it cannot use: an
// unknown scheme, a malformed URL, a path of no recognised form.
var ErrDSN = errors.New("sqlstore: unusable DSN")

// sqliteDefaults are the driver parameters Open sets for a SQLite file
// unless the DSN sets the same key: wait up to 10 s for another writer
// (another process, or another Store on the file) instead of failing with
// SQLITE_BUSY, write-ahead logging so readers never wait for the writer,
// foreign keys on, a synced commit (a committed state change survives a
// power cut, not only a crash), and BEGIN IMMEDIATE for transactions so a
// transaction that writes takes the write lock before it reads.
var sqliteDefaults = [][2]string{
	{"_busy_timeout", "10000"},
	{"_journal_mode", "WAL"},
	{"_foreign_keys", "1"},
	{"_synchronous", "FULL"},
	{"_txlock", "immediate"},
}

// postgresConnectTimeout bounds each connection attempt when the DSN sets
// no connect_timeout.
const postgresConnectTimeout = 10 * time.Second

// Pool sizes Open sets. A SQLite file has one writer at a time (the Store
// queues its own writes) and concurrent readers; a PostgreSQL pool is
// bounded so that replicas do not exhaust max_connections. Hosts tune them
// through Store.DB.
const (
	sqliteMaxConns   = 4
	postgresMaxConns = 10
)

// Open opens the database that dsn names, brings its schema up to date with
// Migrate, and returns a Store over it that Close closes. The DSN chooses
// the dialect:
//
//   - postgres://... or postgresql://... : PostgreSQL through pgx, in the
//     URL form that libpq and pgx document (sslmode, search_path,
//     connect_timeout and the other parameters pass through; without
//     connect_timeout each connection attempt is bounded by 10 s).
//   - host=... dbname=... user=... : PostgreSQL in libpq's keyword/value
//     form, recognised by its first keyword, one of libpq's (host,
//     hostaddr, port, dbname, user, password, sslmode, service, ...);
//     values with spaces are quoted, 'like this', with \' and \\ escapes.
//   - sqlite:///abs/path/x.db (an absolute path after "sqlite://"), or
//     sqlite:path/x.db (a path, relative to the working directory unless it
//     starts with "/"): a SQLite file.
//   - file:path/x.db or file:/abs/path/x.db: a SQLite URI filename, given to
//     SQLite as it is.
//   - a plain path ending in ".db", ".sqlite" or ".sqlite3", such as
//     /var/lib/app/cancellation.db: a SQLite file. It takes no parameters.
//
// The query of a sqlite: or file: DSN passes to the driver
// (modernc.org/sqlite): its keys _busy_timeout, _journal_mode,
// _foreign_keys, _synchronous and _txlock replace the defaults (10000 ms,
// WAL, 1, FULL, immediate); _pragma=... adds a PRAGMA; SQLite's own URI
// parameters (mode, vfs, ...) work too. The file is created when missing;
// its directory must exist. An in-memory database (":memory:",
// mode=memory) is refused: it would not be durable, and each pooled
// connection would see its own.
//
// Open pings the database with ctx. Errors name the problem: a DSN of no
// recognised form wraps ErrDSN, an unreachable server says so, a schema
// newer than this code wraps ErrSchemaTooNew.
//
// No error of Open carries a secret of the DSN, in its text or in the
// errors it wraps: neither the password of a URL's user information, nor
// the value of a secret parameter (password, sslpassword, scram_client_key,
// scram_server_key, or any whose name contains "pass", "secret" or "token"),
// whether given in the URL's query or in keyword/value form, quoted or not.
// An error names the database by the parts of the DSN that are not secret:
// for a URL its scheme, user, host and path (never its query); for the
// keyword/value form its host, hostaddr, port, dbname and user. The
// errors of pgx, which keep the whole DSN (pgconn.ParseConfigError) or the
// parsed configuration with its password (pgconn.ConnectError), are not
// wrapped: their text is kept with every secret value masked, and only
// context.Canceled, context.DeadlineExceeded and a server's
// *pgconn.PgError are wrapped. Open logs nothing.
func Open(ctx context.Context, dsn string) (*Store, error) {
	dialect, db, secrets, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	if err := ping(ctx, db, dialect); err != nil {
		_ = db.Close()
		if dialect == Postgres {
			return nil, pgConnectError(dsn, secrets, err)
		}
		return nil, fmt.Errorf("sqlstore: connecting to %s database %s: %w%s", dialect, redact(dsn), err, hint(dsn, dialect))
	}
	if err := Migrate(ctx, db, dialect); err != nil {
		_ = db.Close()
		return nil, err
	}
	if dialect == SQLite {
		// Lets SQLite gather the statistics its planner lacks (it would
		// rather scan created_at than use wake_at without them). Advisory:
		// a failure changes nothing that matters.
		_, _ = db.ExecContext(ctx, "PRAGMA optimize=0x10002")
	}
	s, err := New(db, dialect)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// openDB parses dsn and returns a configured, not yet connected *sql.DB,
// and for PostgreSQL the secrets that its errors must not show.
func openDB(dsn string) (Dialect, *sql.DB, []string, error) {
	dialect, driverDSN, _, err := parseDSN(dsn)
	if err != nil {
		return "", nil, nil, err
	}
	switch dialect {
	case Postgres:
		secrets := dsnSecrets(driverDSN)
		cfg, err := pgx.ParseConfig(driverDSN)
		if err != nil {
			return "", nil, nil, pgParseError(driverDSN, secrets, err)
		}
		secrets = withSecret(secrets, cfg.Password) // also from PGPASSWORD or a passfile
		if cfg.ConnectTimeout == 0 {
			cfg.ConnectTimeout = postgresConnectTimeout
		}
		db := stdlib.OpenDB(*cfg)
		db.SetMaxOpenConns(postgresMaxConns)
		db.SetMaxIdleConns(postgresMaxConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return dialect, db, secrets, nil
	default:
		db, err := sql.Open("sqlite", driverDSN)
		if err != nil {
			return "", nil, nil, fmt.Errorf("%w: opening SQLite DSN %s: %w", ErrDSN, redact(dsn), err)
		}
		db.SetMaxOpenConns(sqliteMaxConns)
		db.SetMaxIdleConns(sqliteMaxConns)
		return dialect, db, nil, nil
	}
}

// hint explains the commonest reason why a SQLite file does not open: its
// directory is missing.
func hint(dsn string, d Dialect) string {
	if d != SQLite {
		return ""
	}
	_, _, path, err := parseDSN(dsn)
	if err != nil || path == "" {
		return ""
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf(" (the directory %s does not exist)", dir)
	}
	return ""
}

// parseDSN recognises the forms Open documents and returns the dialect and
// the DSN for its driver, and for SQLite the file's path when it can tell
// it (for the error hint).
func parseDSN(dsn string) (Dialect, string, string, error) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		return "", "", "", fmt.Errorf("%w: the DSN is empty", ErrDSN)
	}
	scheme, _, hasScheme := strings.Cut(dsn, ":")
	scheme = strings.ToLower(scheme)
	switch {
	case isKeywordValue(dsn):
		return Postgres, dsn, "", nil
	case hasScheme && (scheme == "postgres" || scheme == "postgresql"):
		if !strings.HasPrefix(dsn[len(scheme)+1:], "//") {
			return "", "", "", fmt.Errorf("%w: a PostgreSQL DSN is a URL, postgres://user@host:port/database, or keyword/value pairs, host=... dbname=...", ErrDSN)
		}
		// pgx recognises a URL by its scheme in lower case only.
		return Postgres, scheme + dsn[len(scheme):], "", nil
	case hasScheme && scheme == "sqlite":
		return sqliteURL(dsn)
	case hasScheme && scheme == "file":
		path, query, _ := strings.Cut(dsn[len("file:"):], "?")
		if path == "" {
			return "", "", "", fmt.Errorf("%w: file: DSN names no file", ErrDSN)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", fmt.Errorf("%w: parameters of SQLite DSN %s: %w", ErrDSN, redact(dsn), err)
		}
		file := ""
		if p, ok := strings.CutPrefix(path, "//"); !ok || strings.HasPrefix(p, "/") {
			file, _ = url.PathUnescape(p)
		}
		if err := notInMemory(path, q); err != nil {
			return "", "", "", err
		}
		return SQLite, "file:" + path + "?" + withDefaults(q), file, nil
	case strings.Contains(dsn, "://") && isScheme(scheme):
		return "", "", "", fmt.Errorf("%w: unsupported scheme %q: use postgres://, postgresql://, sqlite:, file: or a path ending in .db", ErrDSN, scheme)
	case strings.Contains(dsn, "://"):
		return "", "", "", fmt.Errorf("%w: not a recognised form: a URL's scheme is letters, digits, +, - and .: use postgres://, postgresql://, sqlite:, file: or a path ending in .db", ErrDSN)
	case hasSQLiteSuffix(dsn):
		return SQLite, "file:" + escapeSQLitePath(dsn) + "?" + withDefaults(url.Values{}), dsn, nil
	}
	return "", "", "", fmt.Errorf("%w: not a recognised form: use postgres://..., postgresql://..., sqlite:///path.db, file:path.db or a path ending in .db, .sqlite or .sqlite3", ErrDSN)
}

// sqliteURL parses sqlite:///abs/path.db and sqlite:path.db.
func sqliteURL(dsn string) (Dialect, string, string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: malformed SQLite DSN: %w", ErrDSN, err)
	}
	path := u.Path
	if u.Opaque != "" {
		if path, err = url.PathUnescape(u.Opaque); err != nil {
			return "", "", "", fmt.Errorf("%w: malformed SQLite path: %w", ErrDSN, err)
		}
	}
	switch {
	case u.Host != "" || u.User != nil:
		return "", "", "", fmt.Errorf("%w: SQLite DSN names a host %q: use sqlite:///absolute/path.db (three slashes) or sqlite:relative/path.db", ErrDSN, u.Host)
	case path == "" || path == "/":
		return "", "", "", fmt.Errorf("%w: SQLite DSN names no file", ErrDSN)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: parameters of SQLite DSN: %w", ErrDSN, err)
	}
	if err := notInMemory(path, q); err != nil {
		return "", "", "", err
	}
	return SQLite, "file:" + escapeSQLitePath(path) + "?" + withDefaults(q), path, nil
}

// notInMemory refuses an in-memory SQLite database: each connection of the
// pool would see a database of its own, and nothing would be durable.
func notInMemory(path string, q url.Values) error {
	if strings.HasPrefix(path, ":memory:") || strings.EqualFold(q.Get("mode"), "memory") {
		return fmt.Errorf("%w: an in-memory SQLite database is not durable and not shared by the pool's connections: use a file, or adapters/memory in tests", ErrDSN)
	}
	return nil
}

func hasSQLiteSuffix(path string) bool {
	for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
		if strings.HasSuffix(strings.ToLower(path), ext) {
			return true
		}
	}
	return false
}

// escapeSQLitePath escapes what ends or escapes the path of a SQLite URI
// filename.
func escapeSQLitePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// withDefaults adds the default driver parameters that q does not set and
// encodes the result.
func withDefaults(q url.Values) string {
	for _, kv := range sqliteDefaults {
		if !q.Has(kv[0]) {
			q.Set(kv[0], kv[1])
		}
	}
	return q.Encode()
}

// redact returns dsn fit for an error message: without its password, or
// only its scheme when it does not parse as a URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		scheme, _, _ := strings.Cut(dsn, ":")
		return scheme + ":..."
	}
	return u.Redacted()
}

// ping connects once. A new SQLite connection switches the file to WAL,
// which SQLite refuses with SQLITE_BUSY, without waiting for busy_timeout,
// while another process holds a lock on a file still in rollback mode (two
// processes opening a new database at once). That is retried for up to
// 10 s; other errors are returned at once.
func ping(ctx context.Context, db *sql.DB, dialect Dialect) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || dialect != SQLite || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_LOCKED")
}

// libpqKeywords are the keywords of libpq's keyword/value connection
// strings (PostgreSQL 18) and pgx's additions: a DSN whose first keyword
// is one of them is in that form.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "database": true, "user": true,
	"password": true, "passfile": true, "require_auth": true, "channel_binding": true,
	"connect_timeout": true, "client_encoding": true, "options": true, "application_name": true,
	"fallback_application_name": true, "keepalives": true, "keepalives_idle": true,
	"keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true,
	"replication": true, "gssencmode": true, "sslmode": true, "requiressl": true,
	"sslnegotiation": true, "sslcompression": true, "sslcert": true, "sslkey": true,
	"sslkeylogfile": true, "sslpassword": true, "sslcertmode": true, "sslrootcert": true,
	"sslcrl": true, "sslcrldir": true, "sslsni": true, "requirepeer": true,
	"ssl_min_protocol_version": true, "ssl_max_protocol_version": true,
	"min_protocol_version": true, "max_protocol_version": true, "krbsrvname": true, "krbspn": true,
	"gsslib": true, "gssdelegation": true, "scram_client_key": true, "scram_server_key": true,
	"service": true, "servicefile": true, "target_session_attrs": true, "load_balance_hosts": true,
	"search_path": true,
}

// isKeywordValue reports whether dsn is in libpq's keyword/value form: it
// starts with one of libpq's keywords and "=".
func isKeywordValue(dsn string) bool {
	key, _, found := strings.Cut(dsn, "=")
	return found && libpqKeywords[strings.TrimRight(key, " \t\n\r\v\f")]
}

// isScheme reports whether s is a URL scheme (RFC 3986): a letter, then
// letters, digits, "+", "-" and ".". Only such a scheme is repeated in an
// error message.
func isScheme(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// dsnParam is one keyword and its value.
type dsnParam struct{ key, value string }

// parseKeywordValue splits a keyword/value DSN by the rules of libpq and
// pgx: keyword = value, spaces around "=" allowed, a value either up to
// the next space or 'quoted', with a backslash escaping the next character
// in both. ok is false if dsn is malformed; params then holds the pairs
// read before the fault.
func parseKeywordValue(dsn string) (params []dsnParam, ok bool) {
	const space = " \t\n\r\v\f"
	s := strings.TrimLeft(dsn, space)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return params, false
		}
		key := strings.TrimRight(s[:eq], space)
		if key == "" || strings.ContainsAny(key, space) {
			return params, false
		}
		s = strings.TrimLeft(s[eq+1:], space)
		var raw string
		quoted := strings.HasPrefix(s, "'")
		if quoted {
			s = s[1:]
		}
		end := 0
		for ; end < len(s); end++ {
			if quoted && s[end] == '\'' || !quoted && strings.IndexByte(space, s[end]) >= 0 {
				break
			}
			if s[end] == '\\' {
				end++
				if end == len(s) {
					break
				}
			}
		}
		if quoted && end >= len(s) {
			return append(params, dsnParam{key, unescapeValue(s)}), false // unterminated
		}
		raw, s = s[:min(end, len(s))], s[min(end, len(s)):]
		if quoted {
			s = s[1:]
		}
		params = append(params, dsnParam{key, unescapeValue(raw)})
		s = strings.TrimLeft(s, space)
	}
	return params, true
}

// unescapeValue removes the backslashes of a keyword/value value.
func unescapeValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i++; i == len(s) {
				break
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// secretParam reports whether a DSN parameter of this name holds a secret:
// libpq's and pgx's password, sslpassword, scram_client_key and
// scram_server_key, and, to be safe, any name with "pass", "secret" or
// "token" in it.
func secretParam(name string) bool {
	name = strings.ToLower(name)
	return strings.Contains(name, "pass") || strings.Contains(name, "secret") ||
		strings.Contains(name, "token") || strings.HasPrefix(name, "scram_")
}

// dsnSecrets returns the secret values of a PostgreSQL DSN, as written
// and decoded, for masking in error text. It reads malformed DSNs too,
// as far as it can: an error text that repeats a secret is what it guards
// against, and a parse error is where a driver would repeat one.
func dsnSecrets(dsn string) []string {
	var secrets []string
	add := func(raw string) {
		secrets = withSecret(secrets, raw)
		if v, err := url.QueryUnescape(raw); err == nil {
			secrets = withSecret(secrets, v)
		}
		if v, err := url.PathUnescape(raw); err == nil {
			secrets = withSecret(secrets, v)
		}
	}
	if isKeywordValue(dsn) {
		params, _ := parseKeywordValue(dsn)
		for _, p := range params {
			if secretParam(p.key) {
				add(p.value)
			}
		}
		// And, for a malformed DSN, what follows each secret keyword up to
		// the next space, and up to the end.
		for i, f := range strings.Fields(dsn) {
			if k, v, ok := strings.Cut(f, "="); ok && secretParam(k) {
				add(strings.Trim(v, "'"))
				add(strings.Trim(strings.Join(strings.Fields(dsn)[i:], " ")[len(k)+1:], "'"))
			}
		}
		return secrets
	}
	rest := dsn
	if _, after, ok := strings.Cut(rest, "://"); ok {
		rest = after
	}
	// The user information: after the first ":" up to the last "@" before
	// the query, as url.Parse reads it, and up to the first "@" as a
	// reader of a malformed URL might.
	authority, query, _ := strings.Cut(rest, "?")
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		if _, pw, ok := strings.Cut(authority[:at], ":"); ok {
			add(pw)
			if first := strings.IndexByte(pw, '@'); first >= 0 {
				add(pw[:first])
			}
			if slash := strings.IndexAny(pw, "/#"); slash >= 0 {
				add(pw[:slash])
			}
		}
	}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
	}
	query, _, _ = strings.Cut(query, "#")
	for _, kv := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if secretParam(k) {
			add(v)
		}
	}
	return secrets
}

// withSecret adds a non-empty secret to secrets, once.
func withSecret(secrets []string, s string) []string {
	if s == "" || slices.Contains(secrets, s) {
		return secrets
	}
	return append(secrets, s)
}

// mask replaces every secret in text by "xxxxx", the longest first.
func mask(text string, secrets []string) string {
	s := slices.Clone(secrets)
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	for _, secret := range s {
		text = strings.ReplaceAll(text, secret, "xxxxx")
	}
	return text
}

// describePostgres names the database of a PostgreSQL DSN by the parts
// that hold no secret: for a URL its scheme, user, host and path, for the
// keyword/value form its host, hostaddr, port, dbname and user.
func describePostgres(dsn string) string {
	if isKeywordValue(dsn) {
		params, ok := parseKeywordValue(dsn)
		if !ok {
			return "(a malformed keyword/value DSN)"
		}
		var parts []string
		for _, p := range params {
			switch p.key {
			case "host", "hostaddr", "port", "dbname", "database", "user":
				v := p.value
				if v == "" || strings.ContainsAny(v, " \t\n\r\v\f'\\") {
					v = "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
				}
				parts = append(parts, p.key+"="+v)
			}
		}
		return strings.Join(parts, " ")
	}
	scheme, _, _ := strings.Cut(dsn, ":")
	u, err := url.Parse(dsn)
	if err != nil {
		return scheme + "://..."
	}
	safe := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if u.User != nil {
		safe.User = url.User(u.User.Username())
	}
	return safe.String()
}

// pgParseMessages are the problems of pgconn.ParseConfigError whose cause
// is shown: they concern one parameter's value, once the DSN has parsed,
// so that every secret in it is known and masked. A DSN that does not
// parse is described by its problem alone.
var pgParseMessages = map[string]bool{
	"invalid connect_timeout": true, "invalid sslcertmode": true,
	"failed to configure TLS": true, "invalid require_auth": true,
}

// pgParseError is the error of Open for a PostgreSQL DSN that pgx cannot
// parse. It does not wrap err: pgconn.ParseConfigError keeps the whole DSN,
// and its text masks passwords only on a best-effort basis.
func pgParseError(dsn string, secrets []string, err error) error {
	why := "it does not parse"
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		bare := *pe
		bare.ConnString = "" // the text then holds the problem and its cause only
		text, found := strings.CutPrefix(bare.Error(), "cannot parse ``: ")
		cause := errors.Unwrap(pe)
		msg := text
		if cause != nil {
			msg, found = strings.CutSuffix(text, " ("+cause.Error()+")")
		}
		wellFormed := true
		if isKeywordValue(dsn) {
			_, wellFormed = parseKeywordValue(dsn)
		} else {
			_, uerr := url.Parse(dsn)
			wellFormed = uerr == nil
		}
		switch {
		case !found:
		case cause != nil && wellFormed && pgParseMessages[msg]:
			why = text
		default:
			why = msg
		}
	}
	return fmt.Errorf("%w: %s", ErrDSN, mask(fmt.Sprintf("parsing PostgreSQL DSN %s: %s", describePostgres(dsn), why), secrets))
}

// redactedError is an error of the PostgreSQL driver with every secret of
// the DSN masked in its text. It wraps only the causes a caller may test
// for and that hold no secret: context.Canceled,
// context.DeadlineExceeded, a server's *pgconn.PgError.
type redactedError struct {
	msg    string
	causes []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.causes }

// pgConnectError is the error of Open when a PostgreSQL server does not
// answer or refuses the connection. It does not wrap err: a
// pgconn.ConnectError holds the parsed configuration, password included.
func pgConnectError(dsn string, secrets []string, err error) error {
	var causes []error
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			causes = append(causes, c)
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		causes = append(causes, pgErr)
	}
	return &redactedError{
		msg:    mask(fmt.Sprintf("sqlstore: connecting to postgres database %s: %s", describePostgres(dsn), err.Error()), secrets),
		causes: causes,
	}
}
