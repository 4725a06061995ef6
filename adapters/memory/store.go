package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// Store is an in-memory cancellation.Store. It keeps each request as a
// read of what a durable store wrote would return it (Request.AsStored:
// its state and newest event), and its history as the events appended by
// each write, so that reads copy instead of decoding and writes copy
// instead of encoding: being in memory, it has no bytes to keep, and
// encoding the whole request on every write cost about a third of a whole
// flow. (That the encoding round-trips what it keeps is the root
// package's test, and this package's TestStoreKeepsWhatItsEncodingRoundTrips.)
// Like a database, it indexes requests by account, by state and due date,
// by wake time, by the time effects began failing, by the time the
// request settled (RecordPurger) and by creation time,
// and filters on those columns (and on the account kind and the claim,
// kept beside them) before it copies anything: a query costs
// what it returns, not what is stored. Not for production: nothing
// survives the process.
type Store struct {
	mu      sync.RWMutex
	rows    map[string]*row
	account map[ports.AccountID]map[string]struct{}
	// due orders each state's requests by DueAt, then ID.
	due     map[cancellation.State]*btree.BTreeG[key]
	wake    *btree.BTreeG[key] // requests with a NextWake
	failing *btree.BTreeG[key] // requests with a FailingSince
	settled *btree.BTreeG[key] // requests with a SettledAt (RecordPurger)
	created *btree.BTreeG[key]
	idem    idempotency
	ids     identifiers
	quota   closureQuota
}

type row struct {
	// req is the request as a read returns it (Request.AsStored of what
	// was written). Reads answer with a clone of it, made under Store.mu:
	// each write rewrites the row in place and writes the new version
	// over req (Request.AsStoredInto), under the lock.
	req *cancellation.Request
	// events is the request's history, one batch per write (NewEvents:
	// the slices are the Store's own, the events' Data maps shared with
	// the writer's request and never changed), shared by its versions
	// and appended to under Store.mu: written batches never change, so a
	// copy of the slice taken under the lock stays valid, and a write
	// stores its batch as it is, without copying it again or growing one
	// array of the whole history. added holds a write's batch until it is
	// stored.
	events  *[][]cancellation.Event
	added   []cancellation.Event
	account ports.AccountID
	kind    ports.AccountKind
	state   cancellation.State
	version int64
	claim   cancellation.Claim
	due     key
	wake    key
	failing key
	settled key
	created key
}

// key is a position in an index: a time, then the request id.
type key struct {
	at time.Time
	id string
}

func (k key) cursor() cancellation.Cursor { return cancellation.Cursor{At: k.at, ID: k.id} }

func lessKey(a, b key) bool { return a.cursor().Compare(b.cursor()) < 0 }

var _ cancellation.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{
		rows:    map[string]*row{},
		account: map[ports.AccountID]map[string]struct{}{},
		due:     map[cancellation.State]*btree.BTreeG[key]{},
		wake:    btree.NewG(16, lessKey),
		failing: btree.NewG(16, lessKey),
		settled: btree.NewG(16, lessKey),
		created: btree.NewG(16, lessKey),
	}
}

// encode turns r into a row: its new events (see Request.NewEvents) and
// the indexed columns. The request as stored is written into the row
// under the lock (see Update and Create).
func encode(r *cancellation.Request) row {
	claim, _ := r.Claim()
	return row{added: r.NewEvents(), account: r.Account(), kind: r.AccountKind(), state: r.State(), version: r.Version(), claim: claim,
		due: key{r.DueAt(), r.ID()}, wake: key{r.NextWake(), r.ID()}, failing: key{r.FailingSince(), r.ID()},
		settled: key{r.SettledAt(), r.ID()}, created: key{r.CreatedAt(), r.ID()}}
}

// decode returns a copy of req, a row's request, made under Store.mu: an
// Update writes the new version over the request it replaces.
func decode(req *cancellation.Request) *cancellation.Request { return req.Clone() }

// index adds rw to the indexes; s.mu is held for writing.
func (s *Store) index(id string, rw *row) {
	due := s.due[rw.state]
	if due == nil {
		due = btree.NewG(16, lessKey)
		s.due[rw.state] = due
	}
	ids := s.account[rw.account]
	if ids == nil {
		ids = map[string]struct{}{}
		s.account[rw.account] = ids
	}
	ids[id] = struct{}{}
	due.ReplaceOrInsert(rw.due)
	s.created.ReplaceOrInsert(rw.created)
	if !rw.wake.at.IsZero() {
		s.wake.ReplaceOrInsert(rw.wake)
	}
	if !rw.failing.at.IsZero() {
		s.failing.ReplaceOrInsert(rw.failing)
	}
	if !rw.settled.at.IsZero() {
		s.settled.ReplaceOrInsert(rw.settled)
	}
}

// unindex removes a deleted request's entries from every index; s.mu is
// held for writing.
func (s *Store) unindex(id string, rw *row) {
	if ids := s.account[rw.account]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.account, rw.account)
		}
	}
	if due := s.due[rw.state]; due != nil {
		due.Delete(rw.due)
	}
	s.wake.Delete(rw.wake)
	s.failing.Delete(rw.failing)
	s.settled.Delete(rw.settled)
	s.created.Delete(rw.created)
}

// reindex moves a request's entries from old to rw, touching only the
// indexes whose key changed (its creation time never does); s.mu is held
// for writing.
func (s *Store) reindex(old, rw *row) {
	if old.state != rw.state || old.due != rw.due {
		if due := s.due[old.state]; due != nil {
			due.Delete(old.due)
		}
		due := s.due[rw.state]
		if due == nil {
			due = btree.NewG(16, lessKey)
			s.due[rw.state] = due
		}
		due.ReplaceOrInsert(rw.due)
	}
	if old.wake != rw.wake {
		s.wake.Delete(old.wake)
		if !rw.wake.at.IsZero() {
			s.wake.ReplaceOrInsert(rw.wake)
		}
	}
	if old.failing != rw.failing {
		s.failing.Delete(old.failing)
		if !rw.failing.at.IsZero() {
			s.failing.ReplaceOrInsert(rw.failing)
		}
	}
	if old.settled != rw.settled {
		s.settled.Delete(old.settled)
		if !rw.settled.at.IsZero() {
			s.settled.ReplaceOrInsert(rw.settled)
		}
	}
	if old.created != rw.created {
		s.created.Delete(old.created)
		s.created.ReplaceOrInsert(rw.created)
	}
}

// activeOf returns the id of the account's active request other than
// except, or "".
func (s *Store) activeOf(account ports.AccountID, except string) string {
	for id := range s.account[account] {
		if id != except && cancellation.Active(s.rows[id].state) {
			return id
		}
	}
	return ""
}

// Create stores a new request; see cancellation.Store.
func (s *Store) Create(ctx context.Context, r *cancellation.Request) error {
	if err := checkNew(r); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.Version() != 1 {
		return fmt.Errorf("memory: creating request %s: version is %d, want 1: %w", r.ID(), r.Version(), cancellation.ErrConflict)
	}
	rw := new(row)
	*rw = encode(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rows[r.ID()]; ok {
		return fmt.Errorf("memory: request %s exists: %w", r.ID(), cancellation.ErrConflict)
	}
	if cancellation.Active(r.State()) && s.activeOf(r.Account(), "") != "" {
		return fmt.Errorf("%w: %s", cancellation.ErrActiveRequestExists, r.Account())
	}
	events := [][]cancellation.Event{rw.added}
	rw.events, rw.added = &events, nil
	rw.req = r.AsStored()
	s.rows[r.ID()] = rw
	s.index(r.ID(), rw)
	return nil
}

// Get returns a request; see cancellation.Store.
func (s *Store) Get(ctx context.Context, id string) (*cancellation.Request, error) {
	if err := malformed(id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	rw, ok := s.rows[id]
	var r *cancellation.Request
	if ok {
		r = decode(rw.req)
	}
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", cancellation.ErrNotFound, id)
	}
	return r, nil
}

// ActiveFor returns the account's active request; see cancellation.Store.
func (s *Store) ActiveFor(ctx context.Context, account ports.AccountID) (*cancellation.Request, error) {
	if err := malformed(string(account)); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var found *cancellation.Request
	if id := s.activeOf(account, ""); id != "" {
		found = decode(s.rows[id].req)
	}
	s.mu.RUnlock()
	if found == nil {
		return nil, fmt.Errorf("%w: no active request for account %s", cancellation.ErrNotFound, account)
	}
	return found, nil
}

// Update replaces a request with optimistic concurrency and appends its
// new events; see cancellation.Store.
func (s *Store) Update(ctx context.Context, r *cancellation.Request) error {
	if err := malformed(r.ID(), string(r.Account())); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rw := encode(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.rows[r.ID()]
	if !ok {
		return fmt.Errorf("%w: %s", cancellation.ErrNotFound, r.ID())
	}
	if old.version != r.Version()-1 {
		return fmt.Errorf("%w: request %s is at version %d, update expects %d", cancellation.ErrConflict, r.ID(), old.version, r.Version()-1)
	}
	if old.account != r.Account() {
		return fmt.Errorf("memory: request %s cannot change account: %w", r.ID(), cancellation.ErrConflict)
	}
	if cancellation.Active(r.State()) && !cancellation.Active(old.state) && s.activeOf(r.Account(), r.ID()) != "" {
		return fmt.Errorf("%w: %s", cancellation.ErrActiveRequestExists, r.Account())
	}
	if len(rw.added) > 0 { // a write without events adds no empty batch
		*old.events = append(*old.events, rw.added)
	}
	rw.events, rw.added = old.events, nil
	// The new version over the old, in place: readers copied what they
	// read under the lock, and nothing else holds it.
	rw.req = old.req
	r.AsStoredInto(rw.req)
	s.reindex(old, &rw)
	*old = rw
	return nil
}

// History returns a request's stored events; see cancellation.Store.
func (s *Store) History(ctx context.Context, id string) ([]cancellation.Event, error) {
	if err := malformed(id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	rw, ok := s.rows[id]
	var batches [][]cancellation.Event
	if ok {
		batches = *rw.events
	}
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", cancellation.ErrNotFound, id)
	}
	n := 0
	for _, b := range batches {
		n += len(b)
	}
	out := make([]cancellation.Event, 0, n)
	for _, b := range batches {
		out = append(out, b...)
	}
	for i := range out {
		out[i].Data = maps.Clone(out[i].Data)
	}
	return out, nil
}

// List returns the requests matching q; see cancellation.Store. It walks
// the index of q's order from q.After, checks the indexed columns, and
// copies only the rows it returns.
func (s *Store) List(ctx context.Context, q cancellation.Query) ([]*cancellation.Request, error) {
	if err := cancellation.CheckQuery(q); err != nil {
		return nil, err
	}
	if q.Account != "" && malformed(string(q.Account)) != nil {
		return nil, nil // no request has a malformed account
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.match(q), nil
}

// match returns copies of the requests of q's page, in q's order, made
// under the read lock.
func (s *Store) match(q cancellation.Query) []*cancellation.Request {
	s.mu.RLock()
	defer s.mu.RUnlock()
	orderKey := func(rw *row) key {
		switch {
		case q.OrderByDue:
			return rw.due
		case q.OrderByWake:
			return rw.wake
		case q.OrderByFailing:
			return rw.failing
		}
		return rw.created
	}
	// compare orders cursors as q lists them (Descending: newest first).
	compare := func(c, d cancellation.Cursor) int {
		if q.Descending {
			return d.Compare(c)
		}
		return c.Compare(d)
	}
	ok := func(id string, rw *row) bool {
		switch {
		case len(q.States) > 0 && !slices.Contains(q.States, rw.state),
			q.Account != "" && rw.account != q.Account,
			q.ExcludeAccount != "" && rw.account == q.ExcludeAccount,
			q.AccountKind != "" && rw.kind != q.AccountKind,
			!q.UnclaimedAt.IsZero() && rw.claim.HeldAt(q.UnclaimedAt),
			q.ClaimedBy != "" && (rw.claim.By != q.ClaimedBy || !rw.claim.HeldAt(q.ClaimedAt)),
			!q.DueBefore.IsZero() && (rw.due.at.IsZero() || !rw.due.at.Before(q.DueBefore)),
			!q.WakeBefore.IsZero() && (rw.wake.at.IsZero() || rw.wake.at.After(q.WakeBefore)),
			(q.OrderByFailing || !q.FailingBefore.IsZero()) && rw.failing.at.IsZero(),
			!q.FailingBefore.IsZero() && rw.failing.at.After(q.FailingBefore):
			return false
		}
		return q.After.IsZero() || compare(orderKey(rw).cursor(), q.After) > 0
	}
	want := q.Offset + q.Limit
	if q.Limit <= 0 {
		want = -1
	}
	var out []*row
	// walk collects the matching rows of one index in its order, from
	// q.After, until it has want of them.
	walk := func(idx *btree.BTreeG[key], stop func(key) bool) {
		n := 0
		visit := func(k key) bool {
			if stop != nil && stop(k) {
				return false
			}
			rw := s.rows[k.id]
			if ok(k.id, rw) {
				out = append(out, rw)
				n++
			}
			return want < 0 || n < want
		}
		switch {
		case q.Descending && q.After.IsZero():
			idx.Descend(visit)
		case q.Descending:
			idx.DescendLessOrEqual(key{q.After.At, q.After.ID}, visit)
		case q.After.IsZero():
			idx.Ascend(visit)
		default:
			idx.AscendGreaterOrEqual(key{q.After.At, q.After.ID}, visit)
		}
	}
	// bounded collects the matching rows of an index of times (wake,
	// failing) up to bound (zero: to its end): by keyset in the index's
	// order when ordered, else all of them, sorted below.
	bounded := func(idx *btree.BTreeG[key], bound time.Time, ordered bool) {
		var stop func(key) bool
		if !bound.IsZero() {
			stop = func(k key) bool { return k.at.After(bound) }
		}
		if ordered {
			walk(idx, stop)
			return
		}
		for _, k := range keysTo(idx, stop) {
			if rw := s.rows[k.id]; ok(k.id, rw) {
				out = append(out, rw)
			}
		}
	}
	switch {
	case q.Account != "":
		// One account's requests: few, so filter and sort them.
		for id := range s.account[q.Account] {
			if rw := s.rows[id]; ok(id, rw) {
				out = append(out, rw)
			}
		}
	case q.OrderByDue:
		states := q.States
		if len(states) == 0 {
			states = cancellation.States
		}
		var stop func(key) bool
		if !q.DueBefore.IsZero() { // past the overdue ones, none matches
			stop = func(k key) bool { return !k.at.Before(q.DueBefore) }
		}
		for _, st := range states {
			if idx := s.due[st]; idx != nil {
				walk(idx, stop)
			}
		}
	case q.OrderByFailing || !q.FailingBefore.IsZero():
		bounded(s.failing, q.FailingBefore, q.OrderByFailing) // only failing requests are in it
	case q.OrderByWake || !q.WakeBefore.IsZero():
		bounded(s.wake, q.WakeBefore, q.OrderByWake)
	default:
		walk(s.created, nil)
	}
	slices.SortFunc(out, func(a, b *row) int { return compare(orderKey(a).cursor(), orderKey(b).cursor()) })
	if q.Offset > 0 {
		out = out[min(q.Offset, len(out)):]
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	reqs := make([]*cancellation.Request, len(out))
	for i, rw := range out {
		reqs[i] = decode(rw.req)
	}
	return reqs
}

// keysTo returns the keys of idx up to stop.
func keysTo(idx *btree.BTreeG[key], stop func(key) bool) []key {
	var ks []key
	idx.Ascend(func(k key) bool {
		if stop != nil && stop(k) {
			return false
		}
		ks = append(ks, k)
		return true
	})
	return ks
}
