package cancellation

//go:generate go tool mockgen -typed -destination=ports/mocks/store.go -package=mocks . Store,RecordPurger

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Store persists Requests with optimistic concurrency.
//
// Implementations must be safe for concurrent use and must pass the
// conformance suite portstest.TestStore. A durable Store persists a
// Request with MarshalBinary and restores it with UnmarshalBinary (one
// that only keeps it in memory may keep Request.AsStored and NewEvents
// instead, which is what decoding would give), and indexes the
// values of its accessors that Query filters on (ID, Account, AccountKind,
// State, DueAt, NextWake, CreatedAt, FailingSince, and the By and Until of
// Claim; and SettledAt for a Store that implements RecordPurger). A request's history is kept apart: MarshalBinary
// holds only its newest event, and Create and Update append the request's
// NewEvents (each encoded with Event.MarshalBinary) in the same atomic
// write as the request, so that a change costs the same whatever the
// length of the history. History reads the events back.
//
// Every request a read returns (Get, ActiveFor, List) is the caller's
// own: the Service changes what it reads in place before writing it back,
// so a Store that keeps requests in memory returns a copy of what it keeps
// (Request.Clone), never the request itself, and keeps a copy of what it
// is given (Request.AsStored), never the caller's. The events History
// returns are the caller's own too. A Store changes nothing it is given:
// not the request, and not the Data maps of the events NewEvents returns,
// which the request shares.
//
// The errors a method documents (ErrNotFound, ErrConflict, ErrCorrupt,
// ErrActiveRequestExists) reach the Service's callers as they are; any
// other error (a database that is down, a driver's error) is taken as the
// Store being unavailable: callers get an UnavailableError naming the port
// "Store" (errors.Is(err, ErrUnavailable), and errors.Is still finds the
// Store's error), and nothing was decided.
type Store interface {
	// Create stores a new request, whose Version is 1, with its events
	// (NewEvents). It returns an error wrapping ErrActiveRequestExists when
	// the account already has a request in a non-terminal state: at most
	// one per account, enforced atomically.
	Create(ctx context.Context, r *Request) error
	// Get returns the request with the id, or an error wrapping ErrNotFound.
	// The request holds its newest event only (see Request.History).
	Get(ctx context.Context, id string) (*Request, error)
	// ActiveFor returns the account's request in a non-terminal state, or
	// an error wrapping ErrNotFound when there is none.
	ActiveFor(ctx context.Context, account ports.AccountID) (*Request, error)
	// Update replaces the stored request with r and appends r.NewEvents()
	// to its history, atomically, if the stored version is r.Version()-1;
	// otherwise it returns an error wrapping ErrConflict (or ErrNotFound
	// for an unknown id) and changes nothing.
	Update(ctx context.Context, r *Request) error
	// History returns the events stored for the request with the id, in
	// sequence order, decoded with Event.UnmarshalBinary (a damaged event
	// is an error wrapping ErrCorrupt), or an error wrapping ErrNotFound
	// for an unknown id. A request stored before events were kept apart
	// may have none until its next Update; it holds them itself. Events
	// are only ever appended, so History read after Get may hold events
	// of later versions as well: the caller keeps those up to its head.
	History(ctx context.Context, id string) ([]Event, error)
	// List returns the requests that match q, in q's order. A stored
	// request that fails validation does not hide the others: List returns
	// the ones it could read together with an error wrapping ErrCorrupt
	// that names each bad one. Any other error comes with no requests.
	List(ctx context.Context, q Query) ([]*Request, error)
}

// Query selects requests for List. Zero fields do not filter.
type Query struct {
	// States keeps requests in any of these states.
	States []State
	// Account keeps the requests of one account.
	Account ports.AccountID
	// WakeBefore keeps requests whose NextWake is not zero and not after it.
	WakeBefore time.Time
	// FailingBefore keeps requests whose FailingSince is not zero and not
	// after it: those with an effect that has kept failing since then
	// (Service.StuckEffects).
	FailingBefore time.Time
	// ExcludeAccount leaves out the requests of one account (a
	// reviewer's own).
	ExcludeAccount ports.AccountID
	// AccountKind keeps the requests of accounts of this kind
	// (Request.AccountKind).
	AccountKind ports.AccountKind
	// UnclaimedAt keeps the requests that no claim holds at that time:
	// without a claim, or with one whose Until is not after it
	// (Request.Claim, Claim.HeldAt).
	UnclaimedAt time.Time
	// ClaimedBy keeps the requests whose claim names this staff member
	// and holds at ClaimedAt (its Until is after ClaimedAt).
	ClaimedBy string
	ClaimedAt time.Time
	// DueBefore keeps the requests whose DueAt is not zero and before it
	// (overdue at that time).
	DueBefore time.Time
	// OrderByDue orders by DueAt, then ID (the review queue: overdue
	// first); OrderByWake by NextWake, then ID (maintenance);
	// OrderByFailing by FailingSince, then ID, keeping only requests whose
	// FailingSince is not zero (stuck effects, longest failing first);
	// otherwise the order is by CreatedAt, then ID. At
	// most one may be set.
	OrderByDue     bool
	OrderByWake    bool
	OrderByFailing bool
	// Descending reverses the CreatedAt order: newest first (an account's
	// past requests), with After continuing towards older ones. It applies
	// to the CreatedAt order only: a Store refuses it beside another order
	// with an error (CheckQuery).
	Descending bool
	// After starts the list after this position of the order (keyset
	// paging): pass the Cursor of the last request of the previous page.
	// A Store serves it from its index, so a page deep in a long list
	// costs what the first does. The zero Cursor starts at the beginning.
	After Cursor
	// Limit caps the result (0: no cap); Offset skips that many first
	// (which costs as much as reading them: prefer After).
	Limit  int
	Offset int
}

// Cursor is a position in one of Query's orders: the sort key of a
// request (its DueAt, NextWake, FailingSince or CreatedAt) and its ID.
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c is the zero Cursor, the start of a list.
func (c Cursor) IsZero() bool { return c.ID == "" && c.At.IsZero() }

// Cursor returns r's position in q's order, for the After of the next
// page.
func (q Query) Cursor(r *Request) Cursor {
	switch {
	case q.OrderByDue:
		return Cursor{At: r.DueAt(), ID: r.ID()}
	case q.OrderByWake:
		return Cursor{At: r.NextWake(), ID: r.ID()}
	case q.OrderByFailing:
		return Cursor{At: r.FailingSince(), ID: r.ID()}
	}
	return Cursor{At: r.CreatedAt(), ID: r.ID()}
}

// compare orders cursors as q lists them: Compare, reversed when q is
// Descending.
func (q Query) compare(c, d Cursor) int {
	if q.Descending {
		return d.Compare(c)
	}
	return c.Compare(d)
}

// CheckQuery returns an error naming what is wrong with q, for a Store's
// List to refuse: more than one order, or Descending beside an order other
// than CreatedAt.
func CheckQuery(q Query) error {
	orders := 0
	for _, o := range []bool{q.OrderByDue, q.OrderByWake, q.OrderByFailing} {
		if o {
			orders++
		}
	}
	switch {
	case orders > 1:
		return invalid("query", "at most one of OrderByDue, OrderByWake and OrderByFailing may be set")
	case q.Descending && orders > 0:
		return invalid("query", "Descending applies to the CreatedAt order only")
	}
	return nil
}

// Compare orders cursors: by At, then by ID (byte order). It returns -1,
// 0 or +1.
func (c Cursor) Compare(d Cursor) int {
	if n := c.At.Compare(d.At); n != 0 {
		return n
	}
	return strings.Compare(c.ID, d.ID)
}

// Matches reports whether r passes q's filters. Store implementations may
// use it to check their own filtering.
func (q Query) Matches(r *Request) bool {
	if len(q.States) > 0 && !slices.Contains(q.States, r.State()) {
		return false
	}
	if q.Account != "" && r.Account() != q.Account {
		return false
	}
	if q.ExcludeAccount != "" && r.Account() == q.ExcludeAccount {
		return false
	}
	if q.AccountKind != "" && r.AccountKind() != q.AccountKind {
		return false
	}
	c, _ := r.Claim()
	if !q.UnclaimedAt.IsZero() && c.HeldAt(q.UnclaimedAt) {
		return false
	}
	if q.ClaimedBy != "" && (c.By != q.ClaimedBy || !c.HeldAt(q.ClaimedAt)) {
		return false
	}
	if !q.DueBefore.IsZero() && (r.DueAt().IsZero() || !r.DueAt().Before(q.DueBefore)) {
		return false
	}
	if !q.After.IsZero() && q.compare(q.Cursor(r), q.After) <= 0 {
		return false
	}
	if !q.WakeBefore.IsZero() {
		w := r.NextWake()
		if w.IsZero() || w.After(q.WakeBefore) {
			return false
		}
	}
	if f := r.FailingSince(); q.OrderByFailing && f.IsZero() ||
		!q.FailingBefore.IsZero() && (f.IsZero() || f.After(q.FailingBefore)) {
		return false
	}
	return true
}

// Active reports whether a request in state s counts as the account's
// active request: every state but the terminal ones.
func Active(s State) bool { return s.Valid() && !s.Terminal() }

// storeSentinels are the errors a Store answers with that say something
// about the request (or the row), not about the Store's health: they reach
// callers as the Store returned them.
var storeSentinels = []error{ErrNotFound, ErrConflict, ErrCorrupt, ErrActiveRequestExists, ErrInvalidInput, ErrUnavailable}

// guardedStore is the Service's view of the host's Store: any other error
// of the Store (a database that is down, a driver error, a timeout the
// caller did not set) becomes an UnavailableError naming the port "Store",
// so that callers see ErrUnavailable, a retryable outage that decided
// nothing, and never the driver's text.
// The Store's own error goes to the log.
type guardedStore struct {
	Store
	log *slog.Logger
}

func (g guardedStore) wrap(ctx context.Context, op string, err error) error {
	if err == nil || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return err // the caller's own context ended
	}
	for _, s := range storeSentinels {
		if errors.Is(err, s) {
			return err
		}
	}
	g.log.WarnContext(ctx, "cancellation: store unavailable", "op", op, "error", err)
	return portUnavailable(op, "Store", err)
}

func (g guardedStore) Create(ctx context.Context, r *Request) error {
	return g.wrap(ctx, "store the request", g.Store.Create(ctx, r))
}

func (g guardedStore) Get(ctx context.Context, id string) (*Request, error) {
	r, err := g.Store.Get(ctx, id)
	return r, g.wrap(ctx, "read the request", err)
}

func (g guardedStore) ActiveFor(ctx context.Context, account ports.AccountID) (*Request, error) {
	r, err := g.Store.ActiveFor(ctx, account)
	return r, g.wrap(ctx, "read the active request", err)
}

func (g guardedStore) Update(ctx context.Context, r *Request) error {
	return g.wrap(ctx, "store the request", g.Store.Update(ctx, r))
}

func (g guardedStore) History(ctx context.Context, id string) ([]Event, error) {
	events, err := g.Store.History(ctx, id)
	return events, g.wrap(ctx, "read the history", err)
}

func (g guardedStore) List(ctx context.Context, q Query) ([]*Request, error) {
	rs, err := g.Store.List(ctx, q)
	return rs, g.wrap(ctx, "list requests", err)
}
