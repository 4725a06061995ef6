package cancellation_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// TestRetention_NothingPersonalIsLeftAfterEveryRetentionButTheHashedIdentifiers
// runs a whole cancellation that holds every personal datum the library
// keeps (a code hash, an identity document, contacts in notification
// effects, a failed delivery whose error names the address, an export
// link, hashed identifiers), advances the clock past each retention of the
// README's table and scans everything the Store and the DocumentStore
// hold.
func TestRetention_NothingPersonalIsLeftAfterEveryRetentionButTheHashedIdentifiers(t *testing.T) {
	var x *memory.Exporter
	f := setup(t, withIdentifierKeys(idKey), withExporter(&x))
	a := f.account("acct-retention", ports.Personal, true)
	a.LoginIdentifiers = []string{"grace.hopper"}
	f.platform.AddAccount(a)
	scan := colourScan()

	r := f.start(a.ID)
	r, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), f.exportConfirmation(a.ID, cancellation.ExportRequested))
	require.NoError(t, err)
	r = f.verifyPhone(r)
	f.uploadRequired(r)
	r = f.submit(r)
	// The result SMS fails once with an error that names the number.
	f.kit.Notifier.FailNext(1, errors.New("carrier refused "+a.RecoveryPhone))
	r = f.approve(r)
	f.clock.Advance(time.Hour)
	f.maintain()
	r = f.stored(r.ID())
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.True(t, r.DataExport().Delivered())
	var link string
	for _, n := range f.kit.Notifier.Sent() {
		if n.Template == cancellation.TemplateDataExport {
			link = n.Data[cancellation.DataExportURL]
		}
	}
	require.NotEmpty(t, link)

	personal := map[string][]byte{
		"phone": []byte(a.RecoveryPhone), "email": []byte(a.Email), "login identifier": []byte("grace.hopper"),
		"export link": []byte(link), "document bytes": scan[len(scan)/2 : len(scan)/2+64],
	}
	requireNone := func(what string, raw []byte) {
		t.Helper()
		for name, p := range personal {
			require.False(t, bytes.Contains(raw, p), "%s holds the customer's %s", what, name)
		}
	}
	// Contacts go once their message is delivered; the code hash once
	// the request is final.
	requireNone("the request and its events", f.storedBytes(r.ID()))
	stored, err := f.kit.Store.Get(f.ctx, r.ID())
	require.NoError(t, err)
	b, err := stored.MarshalBinary()
	require.NoError(t, err)
	require.NotContains(t, string(b), `"otp":{"hash"`, "no code hash is left on a final request")
	require.Equal(t, 1, f.kit.Documents.Len(), "the document stays for its retention")

	f.clock.Advance(cancellation.DefaultDocumentRetention)
	f.maintain()
	require.Zero(t, f.kit.Documents.Len(), "documents are purged after their retention")
	for _, k := range f.kit.Documents.Keys() {
		requireNone("the document store", []byte(k))
	}
	requireNone("the request and its events", f.storedBytes(r.ID()))
	kept, err := f.svc.RecentlyClosed(f.ctx, a.Email)
	require.NoError(t, err)
	require.True(t, kept, "hashed identifiers stay until theirs ends")

	f.clock.Set(r.UpdatedAt().Add(cancellation.DefaultIdentifierRetention + time.Hour))
	rep := f.maintain()
	require.Equal(t, 3, rep.IdentifiersPurged)
	require.Empty(t, f.kit.Store.IdentifierHashes())
	requireNone("the request and its events", f.storedBytes(r.ID()))
}

func TestScrubContacts_FailedDeliveryRecordsNoNumberInTheHistory(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-scrub")
	r := f.confirm(f.start(a.ID))
	f.kit.OTP.FailNext(1, errors.New("number "+a.RecoveryPhone+" or mail "+a.Email+" unreachable"))
	_, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrDelivery)
	ev := lastOf(t, f.stored(r.ID()), cancellation.EventCodeFailed)
	require.Equal(t, "number [redacted] or mail [redacted] unreachable", ev.Data["delivery"])
}

func TestRetention_AFinalRequestDropsItsPendingCodeHash(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-codehash")
	r := f.confirm(f.start(a.ID))
	f.sendCode(r)
	before, err := f.kit.Store.Get(f.ctx, r.ID())
	require.NoError(t, err)
	b, err := before.MarshalBinary()
	require.NoError(t, err)
	require.Contains(t, string(b), `"otp":{"hash"`, "precondition: a code is pending")
	r, err = f.svc.Withdraw(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	after, err := f.kit.Store.Get(f.ctx, r.ID())
	require.NoError(t, err)
	b, err = after.MarshalBinary()
	require.NoError(t, err)
	require.NotContains(t, string(b), `"otp":{"hash"`)
	require.True(t, r.CodeExpiresAt().IsZero())
}
