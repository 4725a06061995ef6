package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// Store is an in-memory cancellation.Store. It keeps each request as the
// JSON a durable store would write, so what comes back has been through the
// same encoding and validation. Not for production: nothing survives the
// process.
type Store struct {
	mu   sync.Mutex
	rows map[string]row
	idem idempotency
}

type row struct {
	data    []byte
	account ports.AccountID
	state   cancellation.State
	version int64
}

var _ cancellation.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{rows: map[string]row{}} }

func encode(r *cancellation.Request) (row, error) {
	b, err := r.MarshalBinary()
	if err != nil {
		return row{}, fmt.Errorf("memory: encoding request %s: %w", r.ID(), err)
	}
	return row{data: b, account: r.Account(), state: r.State(), version: r.Version()}, nil
}

func decode(rw row) (*cancellation.Request, error) {
	r := new(cancellation.Request)
	if err := r.UnmarshalBinary(rw.data); err != nil {
		return nil, err
	}
	return r, nil
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
	rw, err := encode(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rows[r.ID()]; ok {
		return fmt.Errorf("memory: request %s exists: %w", r.ID(), cancellation.ErrConflict)
	}
	if cancellation.Active(r.State()) {
		for _, o := range s.rows {
			if o.account == r.Account() && cancellation.Active(o.state) {
				return fmt.Errorf("%w: %s", cancellation.ErrActiveRequestExists, r.Account())
			}
		}
	}
	s.rows[r.ID()] = rw
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
	s.mu.Lock()
	rw, ok := s.rows[id]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", cancellation.ErrNotFound, id)
	}
	return decode(rw)
}

// ActiveFor returns the account's active request; see cancellation.Store.
func (s *Store) ActiveFor(ctx context.Context, account ports.AccountID) (*cancellation.Request, error) {
	if err := malformed(string(account)); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var found *row
	for _, rw := range s.rows {
		if rw.account == account && cancellation.Active(rw.state) {
			found = &rw
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		return nil, fmt.Errorf("%w: no active request for account %s", cancellation.ErrNotFound, account)
	}
	return decode(*found)
}

// Update replaces a request with optimistic concurrency; see
// cancellation.Store.
func (s *Store) Update(ctx context.Context, r *cancellation.Request) error {
	if err := malformed(r.ID(), string(r.Account())); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rw, err := encode(r)
	if err != nil {
		return err
	}
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
	if cancellation.Active(r.State()) && !cancellation.Active(old.state) {
		for id, o := range s.rows {
			if id != r.ID() && o.account == r.Account() && cancellation.Active(o.state) {
				return fmt.Errorf("%w: %s", cancellation.ErrActiveRequestExists, r.Account())
			}
		}
	}
	s.rows[r.ID()] = rw
	return nil
}

// List returns the requests matching q; see cancellation.Store.
func (s *Store) List(ctx context.Context, q cancellation.Query) ([]*cancellation.Request, error) {
	if q.Account != "" && malformed(string(q.Account)) != nil {
		return nil, nil // no request has a malformed account
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	rows := make([]row, 0, len(s.rows))
	for _, rw := range s.rows {
		rows = append(rows, rw)
	}
	s.mu.Unlock()
	var out []*cancellation.Request
	var bad []error
	for _, rw := range rows {
		if len(q.States) > 0 && !slices.Contains(q.States, rw.state) {
			continue
		}
		if q.Account != "" && rw.account != q.Account {
			continue
		}
		r, err := decode(rw)
		if err != nil {
			bad = append(bad, err) // reported below; the others still count
			continue
		}
		if q.Matches(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *cancellation.Request) int {
		if q.OrderByDue {
			if c := a.DueAt().Compare(b.DueAt()); c != 0 {
				return c
			}
		} else if c := a.CreatedAt().Compare(b.CreatedAt()); c != 0 {
			return c
		}
		return cmp.Compare(a.ID(), b.ID())
	})
	if q.Offset > 0 {
		out = out[min(q.Offset, len(out)):]
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, errors.Join(bad...)
}
