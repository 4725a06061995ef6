package portstest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// testMalformedIDs: a Store answers lookups by ids that
// cancellation.CheckID refuses (invalid UTF-8, NUL, control characters, a
// megabyte of text) as it answers unknown ids, with ErrNotFound or no
// rows, never with a driver error or an error that repeats the id, and
// keeps answering for the others. History answers the same way.
func testMalformedIDs(t *testing.T, newStore func(t *testing.T) cancellation.Store) {
	t.Parallel()
	e := newStoreEnv(t, newStore)
	r := e.start(t, e.account(t))
	for name, id := range malformedIDs() {
		_, err := e.store.Get(t.Context(), id)
		requireNotFoundNoEcho(t, err, id, "Get %s", name)
		_, err = e.store.ActiveFor(t.Context(), ports.AccountID(id))
		requireNotFoundNoEcho(t, err, id, "ActiveFor %s", name)
		_, err = e.store.History(t.Context(), id)
		requireNotFoundNoEcho(t, err, id, "History %s", name)
		rs, err := e.store.List(t.Context(), cancellation.Query{Account: ports.AccountID(id)})
		require.NoError(t, err, "List %s", name)
		require.Empty(t, rs, "List %s", name)
	}
	got, err := e.store.Get(t.Context(), r.ID())
	require.NoError(t, err, "the store still answers")
	requireSameRequest(t, r, got)
}

// malformedIDs are ids that cancellation.CheckID refuses and that some
// databases refuse too: invalid UTF-8, a NUL byte, a megabyte of text.
func malformedIDs() map[string]string {
	return map[string]string{
		"invalid UTF-8": "can_\xff\xfe\xc3",
		"NUL":           "can_\x00abc",
		"megabyte":      "can_" + strings.Repeat("x", 1<<20),
		"control":       "can_\x1b[31m",
	}
}

// requireNotFoundNoEcho requires an error wrapping ErrNotFound that does not
// repeat the malformed id.
func requireNotFoundNoEcho(t *testing.T, err error, id string, msg string, args ...any) {
	t.Helper()
	require.ErrorIs(t, err, cancellation.ErrNotFound, append([]any{msg}, args...)...)
	require.NotContains(t, err.Error(), id, append([]any{msg}, args...)...)
}
