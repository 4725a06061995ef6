package sqlstore

import (
	"strconv"
	"strings"

	"github.com/accountkit/cancellation"
)

// queries holds a dialect's statements, written with ? placeholders and
// rebound to $n for PostgreSQL.
type queries struct {
	dialect                            Dialect
	insert, update, probe, get, active string
	insertEvent, history               string
	// updateAppend (PostgreSQL only) is update feeding the INSERT of the
	// events given as arrays, in one statement.
	updateAppend string
}

const columns = `id, account, state, version, data`

func newQueries(d Dialect) queries {
	q := queries{dialect: d}
	q.insert = q.bind(`INSERT INTO cancellation_requests (id, account, state, version, created_at, due_at, wake_at, failing_since, settled_at, data, account_kind, claim_by, claim_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	q.update = q.bind(`UPDATE cancellation_requests SET state = ?, version = ?, due_at = ?, wake_at = ?, failing_since = ?, settled_at = ?, data = ?, account_kind = ?, claim_by = ?, claim_until = ? WHERE id = ? AND version = ? AND account = ?`)
	q.insertEvent = q.bind(`INSERT INTO cancellation_events (request_id, seq, data) VALUES (?, ?, ?)`)
	q.updateAppend = q.bind(`WITH u AS (UPDATE cancellation_requests SET state = ?, version = ?, due_at = ?, wake_at = ?, failing_since = ?, settled_at = ?, data = ?, account_kind = ?, claim_by = ?, claim_until = ? WHERE id = ? AND version = ? AND account = ? RETURNING id)
INSERT INTO cancellation_events (request_id, seq, data) SELECT u.id, e.seq, e.data FROM u CROSS JOIN unnest(?::bigint[], ?::text[]) AS e(seq, data)`)
	q.history = q.bind(`SELECT data FROM cancellation_events WHERE request_id = ? ORDER BY seq`)
	q.probe = q.bind(`SELECT version, account FROM cancellation_requests WHERE id = ?`)
	q.get = q.bind(`SELECT ` + columns + ` FROM cancellation_requests WHERE id = ?`)
	// The state list is written out, not bound, so that the planner sees
	// that the partial unique index covers the query.
	q.active = q.bind(`SELECT ` + columns + ` FROM cancellation_requests WHERE account = ? AND state IN (` + activeStates() + `) LIMIT 1`)
	return q
}

// activeStates lists the states in which a request is the account's active
// one, as SQL string literals. The partial unique index of migration 0001
// names the same states; a test holds them equal.
func activeStates() string {
	var lits []string
	for _, s := range cancellation.States {
		if cancellation.Active(s) {
			lits = append(lits, "'"+string(s)+"'")
		}
	}
	return strings.Join(lits, ", ")
}

// bind rewrites the ? placeholders of query as $1, $2, ... for PostgreSQL.
// The statements here have no ? inside string literals.
func (q queries) bind(query string) string {
	if q.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// list builds the SELECT for a Query: the filters as WHERE clauses over the
// indexed columns, the order of cancellation.Query (DueAt, NextWake,
// FailingSince or CreatedAt,
// then ID; a zero DueAt, stored as NULL, sorts first as the zero time
// does), and LIMIT and OFFSET.
func (q queries) list(query cancellation.Query) (string, []any) {
	var where []string
	var args []any
	if len(query.States) > 0 {
		marks := make([]string, len(query.States))
		for i, s := range query.States {
			marks[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "state IN ("+strings.Join(marks, ", ")+")")
	}
	if query.Account != "" {
		where = append(where, "account = ?")
		args = append(args, string(query.Account))
	}
	if query.ExcludeAccount != "" {
		where = append(where, "account <> ?")
		args = append(args, string(query.ExcludeAccount))
	}
	if query.AccountKind != "" {
		where = append(where, "account_kind = ?")
		args = append(args, string(query.AccountKind))
	}
	if !query.UnclaimedAt.IsZero() {
		where = append(where, "(claim_until IS NULL OR claim_until <= ?)")
		args = append(args, unixNanos(query.UnclaimedAt))
	}
	if query.ClaimedBy != "" {
		where = append(where, "claim_by = ? AND claim_until > ?")
		args = append(args, query.ClaimedBy, unixNanos(query.ClaimedAt))
	}
	if !query.DueBefore.IsZero() {
		where = append(where, "due_at < ?") // NULL, no due date, never matches
		args = append(args, unixNanos(query.DueBefore))
	}
	if !query.WakeBefore.IsZero() {
		where = append(where, "wake_at <= ?") // NULL, no wake, never matches
		args = append(args, unixNanos(query.WakeBefore))
	}
	switch {
	case !query.FailingBefore.IsZero():
		where = append(where, "failing_since <= ?") // NULL, nothing failing, never matches
		args = append(args, unixNanos(query.FailingBefore))
	case query.OrderByFailing:
		where = append(where, "failing_since IS NOT NULL")
	}
	order := "created_at"
	switch {
	case query.OrderByDue:
		order = "due_at"
	case query.OrderByWake:
		order = "wake_at"
	case query.OrderByFailing:
		order = "failing_since"
	}
	if a := query.After; !a.IsZero() {
		// Keyset paging: after (order, id) in the order's index. A zero
		// time is NULL (due_at, wake_at), which sorts first.
		if a.At.IsZero() && order != "created_at" {
			where = append(where, "("+order+" IS NOT NULL OR id > ?)")
			args = append(args, a.ID)
		} else {
			cmp := ">"
			if query.Descending { // created_at only, never NULL
				cmp = "<"
			}
			where = append(where, "("+order+", id) "+cmp+" (?, ?)")
			args = append(args, unixNanos(a.At), a.ID)
		}
	}
	var b strings.Builder
	b.WriteString("SELECT " + columns + " FROM cancellation_requests")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	switch {
	case order == "created_at" && query.Descending:
		b.WriteString(" ORDER BY created_at DESC, id DESC")
	case order == "created_at":
		b.WriteString(" ORDER BY created_at, id")
	default:
		b.WriteString(" ORDER BY " + order + " NULLS FIRST, id")
	}
	switch {
	case query.Limit > 0:
		b.WriteString(" LIMIT ?")
		args = append(args, query.Limit)
	case query.Offset > 0 && q.dialect == SQLite:
		b.WriteString(" LIMIT -1") // SQLite has no OFFSET without LIMIT
	}
	if query.Offset > 0 {
		b.WriteString(" OFFSET ?")
		args = append(args, query.Offset)
	}
	return q.bind(b.String()), args
}
