package sqlstore

import (
	"fmt"
	"slices"

	"github.com/accountkit/cancellation"
)

// Bind writes the ? placeholders of query as dialect d wants them, for the
// tests' own SQL.
func Bind(d Dialect, query string) string { return queries{dialect: d}.bind(query) }

// FloorSQL is the SQL a Store sends for a Get and for an Update with one
// new event, and the arguments of that Update for r rewritten to the row
// id (whose account is id too), so that a benchmark can send the same
// statements itself with database/sql.
type FloorSQL struct {
	Get, Update, InsertEvent, UpdateAppend string
	// Data is r's stored document; Event is the data of r's one new
	// event.
	Data, Event string
	// args are Update's, as the Store builds them.
	args []any
}

// UpdateArgs returns the arguments of the Update that takes the row from
// version to version+1.
func (f FloorSQL) UpdateArgs(version int64) []any {
	args := slices.Clone(f.args)
	args[1], args[len(args)-2] = version+1, version
	return args
}

// Floor returns the FloorSQL of s for r, which must have one new event.
func Floor(s *Store, r *cancellation.Request, id string) (FloorSQL, error) {
	rw, err := encode(r)
	if err != nil {
		return FloorSQL{}, err
	}
	if len(rw.events) != 1 {
		return FloorSQL{}, fmt.Errorf("request %s has %d new events, want 1", r.ID(), len(rw.events))
	}
	rw.id, rw.account = id, id
	return FloorSQL{
		Get: s.q.get, Update: s.q.update, InsertEvent: s.q.insertEvents(1), UpdateAppend: s.q.updateAppend,
		Data: rw.data, Event: rw.events[0].data, args: rw.updateArgs(),
	}, nil
}

// ListSQL is the SELECT a Store of dialect d sends for q, with its
// arguments.
func ListSQL(d Dialect, q cancellation.Query) (string, []any) { return newQueries(d).list(q) }

// Cached reports whether s's cache holds the request with the id.
func Cached(s *Store, id string) bool {
	s.recent.mu.Lock()
	defer s.recent.mu.Unlock()
	_, ok := s.recent.m[id]
	return ok
}

// CachedRequest reports whether s's cache holds a decoded copy of the
// request with the id, not only the bytes of its first read.
func CachedRequest(s *Store, id string) bool {
	s.recent.mu.Lock()
	defer s.recent.mu.Unlock()
	return s.recent.m[id].r != nil
}
