package memory

import (
	"slices"

	"github.com/accountkit/cancellation/ports"
)

// ledger keeps the items of one kind per account, in insertion order, each
// with the ref that tells it from the others of its account. Its zero value
// is empty and ready to use. It is guarded by Platform.mu.
type ledger[T any] map[ports.AccountID][]refItem[T]

type refItem[T any] struct {
	ref  string
	item T
}

// add appends v to the items of id, or replaces the item with the same ref.
func (l *ledger[T]) add(id ports.AccountID, ref string, v T) {
	if *l == nil {
		*l = make(ledger[T])
	}
	entries := (*l)[id]
	if i := slices.IndexFunc(entries, func(e refItem[T]) bool { return e.ref == ref }); i >= 0 {
		entries[i].item = v
		return
	}
	(*l)[id] = append(entries, refItem[T]{ref, v})
}

// remove deletes the item of id whose ref is ref, if any.
func (l ledger[T]) remove(id ports.AccountID, ref string) {
	entries := slices.DeleteFunc(l[id], func(e refItem[T]) bool { return e.ref == ref })
	if len(entries) == 0 {
		delete(l, id)
		return
	}
	l[id] = entries
}

// clear deletes every item of id.
func (l ledger[T]) clear(id ports.AccountID) { delete(l, id) }

// items returns a new slice of the items of id, nil when there are none.
func (l ledger[T]) items(id ports.AccountID) []T {
	var out []T
	for _, e := range l[id] {
		out = append(out, e.item)
	}
	return out
}
