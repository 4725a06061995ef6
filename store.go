package cancellation

//go:generate go tool mockgen -typed -destination=ports/mocks/store.go -package=mocks . Store

import (
	"context"
	"slices"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Store persists Requests with optimistic concurrency.
//
// Implementations must be safe for concurrent use and must pass the
// conformance suite portstest.TestStore. They persist a Request with
// MarshalBinary and restore it with UnmarshalBinary, and index the values
// of its accessors that Query filters on (ID, Account, State, DueAt,
// NextWake, CreatedAt).
type Store interface {
	// Create stores a new request, whose Version is 1. It returns an error
	// wrapping ErrActiveRequestExists when the account already has a
	// request in a non-terminal state: at most one per account, enforced
	// atomically.
	Create(ctx context.Context, r *Request) error
	// Get returns the request with the id, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (*Request, error)
	// ActiveFor returns the account's request in a non-terminal state, or
	// an error wrapping ErrNotFound when there is none.
	ActiveFor(ctx context.Context, account ports.AccountID) (*Request, error)
	// Update replaces the stored request with r if the stored version is
	// r.Version()-1, and otherwise returns an error wrapping ErrConflict
	// (or ErrNotFound for an unknown id) and changes nothing.
	Update(ctx context.Context, r *Request) error
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
	// OrderByDue orders by DueAt, then ID (the review queue: overdue
	// first); otherwise the order is by CreatedAt, then ID.
	OrderByDue bool
	// Limit caps the result (0: no cap); Offset skips that many first.
	Limit  int
	Offset int
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
	if !q.WakeBefore.IsZero() {
		w := r.NextWake()
		if w.IsZero() || w.After(q.WakeBefore) {
			return false
		}
	}
	return true
}

// Active reports whether a request in state s counts as the account's
// active request: every state but the terminal ones.
func Active(s State) bool { return s.Valid() && !s.Terminal() }
