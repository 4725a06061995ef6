package cancellation

import (
	"context"
	"slices"

	"github.com/accountkit/cancellation/ports"
)

// DefaultPastLimit and MaxPastLimit bound a page of PastRequests.
const (
	DefaultPastLimit = 20
	MaxPastLimit     = 100
)

// pastStates are the states of the requests PastRequests lists: those
// that ended.
var pastStates = []State{StateWithdrawn, StateRejected, StateExpired, StateCancelled}

// PastStates lists the states of the requests PastRequests lists:
// withdrawn, rejected, expired and cancelled. It is a copy for reading.
var PastStates = slices.Clone(pastStates)

// PastOptions selects a page of PastRequests.
type PastOptions struct {
	// Limit is the page size: DefaultPastLimit when 0, at most
	// MaxPastLimit.
	Limit int
	// After is the Next of the previous page; empty for the first page.
	After string
}

// PastPage is one page of an account's past requests.
type PastPage struct {
	// Requests are customer-safe views (RequestView): the outcome in
	// State and Decision (reason codes only), no staff identities, no
	// reviewer notes, no raw port errors.
	Requests []RequestView
	// Next continues after this page (PastOptions.After); empty on the
	// last page.
	Next string
}

// PastRequests lists the account's earlier requests, those that ended
// (PastStates), newest first, as the customer may see them. Only the
// account's own requests are listed; the Store serves the page from its
// account index with keyset paging, so every page but the last holds
// Limit requests, less any staff closure staff declined: one the customer
// was never told of is left out. A malformed account or After is refused with a
// ValidationError.
func (s *Service) PastRequests(ctx context.Context, account ports.AccountID, opt PastOptions) (_ PastPage, err error) {
	defer s.hooks.operation(&ctx, OpPastRequests)(&err)
	if err := checkAccountID(account); err != nil {
		return PastPage{}, err
	}
	limit, after, err := pageOptions(opt.Limit, DefaultPastLimit, MaxPastLimit, opt.After, "PastRequests")
	if err != nil {
		return PastPage{}, err
	}
	opt.Limit = limit
	q := Query{Account: account, States: pastStates, Descending: true, After: after, Limit: opt.Limit + 1}
	rs, err := s.queueList(ctx, q)
	if err != nil {
		return PastPage{}, err
	}
	page := PastPage{Requests: make([]RequestView, 0, len(rs))}
	if len(rs) > opt.Limit {
		rs = rs[:opt.Limit]
		page.Next = encodeCursor(q.Cursor(rs[len(rs)-1]))
	}
	for _, r := range rs {
		if r.Account() != account { // a Store that filtered wrongly leaks nothing
			continue
		}
		if r.hiddenFromCustomer() {
			continue
		}
		page.Requests = append(page.Requests, r.View())
	}
	return page, nil
}
