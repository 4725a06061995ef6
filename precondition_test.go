package cancellation_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// TestIfVersion_StaleVersionChangesNothing: a use case made conditional on
// a version the request has left is refused with a VersionMismatchError
// naming both versions, and nothing is stored.
func TestIfVersion_StaleVersionChangesNothing(t *testing.T) {
	f := setup(t)
	a := f.account("acct-pre", ports.Personal, false)
	r := f.confirm(f.start(a.ID))
	before := f.storedJSON(r.ID())
	_, err := f.svc.Withdraw(cancellation.IfVersion(f.ctx, r.Version()-1), a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrVersionMismatch)
	var ve *cancellation.VersionMismatchError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, r.Version()-1, ve.Want)
	require.Equal(t, r.Version(), ve.Got)
	f.requireUnchanged(r.ID(), before)
}

// TestIfVersion_AppliesToTheUseCaseOnly: the precondition guards the use
// case's own change, not the writes that follow in the same call: the
// effects an approval claims are carried out and recorded, and an upload's
// second write (recording the document after reserving its key) succeeds.
func TestIfVersion_AppliesToTheUseCaseOnly(t *testing.T) {
	f := setup(t)
	a := f.account("acct-pre-up", ports.Personal, true)
	r := f.verifyPhone(f.confirm(f.start(a.ID)))
	doc, err := f.svc.UploadDocument(cancellation.IfVersion(f.ctx, r.Version()), a.ID, r.ID(), cancellation.DocumentPassport, bytes.NewReader(colourScan()))
	require.NoError(t, err)
	require.Equal(t, cancellation.DocumentPassport, doc.Kind)

	r = f.submit(f.stored(r.ID()))
	approved, err := f.svc.Approve(cancellation.IfVersion(f.ctx, r.Version()), staff, r.ID(), "ok")
	require.NoError(t, err)
	effects := f.stored(approved.ID()).Effects()
	done := 0
	for _, e := range effects {
		if e.Done() {
			done++
			continue
		}
		require.Empty(t, e.LeaseOwner, "effect %s was claimed and its outcome not recorded", e.Key)
	}
	require.NotZero(t, done, "the approval's effects ran and were recorded")
}
