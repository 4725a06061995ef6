package cancellation_test

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/mocks"
)

// TestRetention_NothingPersonalIsLeftAfterEveryRetention runs a whole
// cancellation that holds every personal datum the library keeps (a code
// hash, an identity document, contacts in notification effects, a failed
// delivery whose error names the address, an export link, hashed
// identifiers, the request record with its receipt), advances the clock
// past each retention of the README's table and scans everything the
// Store and the DocumentStore hold: until Config.RecordRetention ends the
// record, its history and the receipt stay; after it nothing is left at
// all, and the customer's copy of the receipt still verifies offline.
func TestRetention_NothingPersonalIsLeftAfterEveryRetention(t *testing.T) {
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

	// The record and the receipt stay until the record's retention ends,
	// counted from the end of the request.
	token, err := f.svc.Receipt(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	r = f.stored(r.ID())
	require.Equal(t, r.EndedAt(), r.SettledAt(), "precondition: documents purged, no effect pending")
	f.clock.Set(r.EndedAt().Add(cancellation.DefaultRecordRetention - time.Nanosecond))
	require.Zero(t, f.maintain().RecordsPurged)
	stored, err = f.kit.Store.Get(f.ctx, r.ID())
	require.NoError(t, err)
	_, ok := stored.Receipt()
	require.True(t, ok, "the platform's copy of the receipt stays with the record")

	f.clock.Set(r.EndedAt().Add(cancellation.DefaultRecordRetention))
	require.Equal(t, 1, f.maintain().RecordsPurged)
	_, err = f.kit.Store.Get(f.ctx, r.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	_, err = f.kit.Store.History(f.ctx, r.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	all, err := f.kit.Store.List(f.ctx, cancellation.Query{})
	require.NoError(t, err)
	require.Empty(t, all, "no request is left in the Store")
	require.Empty(t, f.kit.Store.IdentifierHashes())
	require.Zero(t, f.kit.Documents.Len())
	_, err = f.svc.Get(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	rc, err := cancellation.VerifyReceipt(token, f.kit.ReceiptKey.Public())
	require.NoError(t, err, "the customer's receipt verifies without the record")
	require.Equal(t, r.ID(), rc.RequestID)
}

// TestRecordRetention_AnActiveRequestAndAnEndedOneWithPendingEffectsAreNeverPurged
// leaves, past any retention, a request in review, a withdrawn one whose
// notification keeps failing (EffectsDeferred, so the notification is an
// effect of maintenance): maintenance purges neither, and the withdrawn
// one once its notification is sent and its retention is over.
func TestRecordRetention_AnActiveRequestAndAnEndedOneWithPendingEffectsAreNeverPurged(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) {
		c.Effects = cancellation.EffectsDeferred
		c.RecordRetention = time.Hour
	})
	active := f.toReview(f.personal("acct-active").ID)
	withdrawn := f.toReview(f.personal("acct-withdrawn").ID)
	withdrawn, err := f.svc.Withdraw(f.ctx, withdrawn.Account(), withdrawn.ID())
	require.NoError(t, err)
	require.NotEmpty(t, withdrawn.PendingEffects(), "precondition: its notification is pending")
	require.True(t, withdrawn.SettledAt().IsZero())

	f.clock.Advance(100 * 365 * 24 * time.Hour)
	f.kit.Notifier.FailNext(1_000_000, errors.New("notifier down"))
	rep := f.maintain()
	require.Zero(t, rep.RecordsPurged)
	require.Equal(t, cancellation.StateInReview, f.stored(active.ID()).State())
	require.Equal(t, cancellation.StateWithdrawn, f.stored(withdrawn.ID()).State())

	f.kit.Notifier.FailNext(0, nil)
	f.clock.Advance(2 * time.Hour) // past the notification's backoff
	f.maintain()                   // sends it: the request settles
	require.False(t, f.stored(withdrawn.ID()).SettledAt().IsZero())
	f.clock.Advance(time.Hour)
	require.Equal(t, 1, f.maintain().RecordsPurged)
	_, err = f.kit.Store.Get(f.ctx, withdrawn.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	require.Equal(t, cancellation.StateInReview, f.stored(active.ID()).State())
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

// TestNew_RecordRetentionNeedsARecordPurger: a negative RecordRetention and
// one set explicitly over a Store without RecordPurger are refused, naming
// the field; with the default over such a Store, New logs a warning that
// records are kept for ever and maintenance deletes none.
func TestNew_RecordRetentionNeedsARecordPurger(t *testing.T) {
	t.Parallel()
	kit := memory.NewKit(t0)
	kit.Platform.SeedDemo()
	cfg := kit.Config()
	cfg.RecordRetention = -time.Hour
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "RecordRetention")

	cfg.RecordRetention = 5 * 365 * 24 * time.Hour
	_, err = cancellation.New(cfg)
	require.NoError(t, err, "a longer retention over a RecordPurger")

	cfg.Store = struct{ cancellation.Store }{kit.Store} // only the Store contract
	_, err = cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "RecordPurger")

	var logs bytes.Buffer
	cfg.RecordRetention = 0
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	require.Contains(t, logs.String(), "does not implement RecordPurger")
	r, err := svc.Start(t.Context(), memory.AccountEligible)
	require.NoError(t, err)
	_, err = svc.Withdraw(t.Context(), r.Account(), r.ID())
	require.NoError(t, err)
	kit.Clock.Advance(cancellation.DefaultRecordRetention + time.Hour)
	rep, err := svc.RunMaintenance(t.Context())
	require.NoError(t, err)
	require.Zero(t, rep.RecordsPurged)
	_, err = kit.Store.Get(t.Context(), r.ID())
	require.NoError(t, err, "the record is kept")
}

// TestRetention_StaffClosureEvidenceIsPurgedWithTheDocuments: the evidence
// staff upload to a closure (DocumentEvidence) stays for
// DocumentPolicy.Retention after the closure ends, is purged by the
// purge_documents effect, and the record goes at the end of
// RecordRetention.
func TestRetention_StaffClosureEvidenceIsPurgedWithTheDocuments(t *testing.T) {
	f := setup(t).withStaff()
	r := f.staffClosure("acct-staff-evidence")
	r, err := f.svc.ApproveStaffClosure(f.ctx, as(senior2), r.ID(), cancellation.StaffApproval{Note: "order verified"})
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.Equal(t, 1, f.kit.Documents.Len(), "the evidence stays for the documents' retention")
	require.True(t, r.SettledAt().IsZero(), "its purge is pending")

	f.clock.Advance(cancellation.DefaultDocumentRetention)
	f.maintain()
	require.Zero(t, f.kit.Documents.Len(), "the evidence is purged")
	require.Equal(t, r.EndedAt(), f.stored(r.ID()).SettledAt())

	f.clock.Set(r.EndedAt().Add(cancellation.DefaultRecordRetention))
	require.Equal(t, 1, f.maintain().RecordsPurged)
	_, err = f.kit.Store.Get(f.ctx, r.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound)
}

// purgingStore is the memory Store with a mocked RecordPurger.
type purgingStore struct {
	cancellation.Store
	*mocks.MockRecordPurger
}

// TestRunMaintenance_PurgesRecordsInBatchesUntilAShortOneAndReportsAFailure:
// maintenance asks the RecordPurger for batches of its batch size, bounded
// by now minus RecordRetention, until a batch comes back short, counts what
// was deleted, and a failing purge is an error of the pass that stops no
// other work.
func TestRunMaintenance_PurgesRecordsInBatchesUntilAShortOneAndReportsAFailure(t *testing.T) {
	rp := mocks.NewMockRecordPurger(gomock.NewController(t))
	f := setup(t, func(c *cancellation.Config) {
		c.Store = purgingStore{c.Store, rp}
		c.RecordRetention = 24 * time.Hour
	})
	cancellation.SetMaintenanceBatch(f.svc, 2)
	bound := t0.Add(-24 * time.Hour)
	gomock.InOrder(
		rp.EXPECT().PurgeEnded(gomock.Any(), bound, 2).Return(2, nil),
		rp.EXPECT().PurgeEnded(gomock.Any(), bound, 2).Return(2, nil),
		rp.EXPECT().PurgeEnded(gomock.Any(), bound, 2).Return(1, nil),
	)
	require.Equal(t, 5, f.maintain().RecordsPurged)

	a := f.personal("acct-purge-fails")
	r := f.start(a.ID)
	f.clock.Advance(8 * 24 * time.Hour) // past ExpireAfter
	rp.EXPECT().PurgeEnded(gomock.Any(), f.clock.Now().Add(-24*time.Hour), 2).Return(1, errors.New("disk full"))
	rep, err := f.svc.RunMaintenance(f.ctx)
	require.ErrorContains(t, err, "purging the records of ended requests: disk full")
	require.Equal(t, 1, rep.RecordsPurged)
	require.Equal(t, 1, rep.Expired, "the rest of the pass still ran")
	require.Equal(t, cancellation.StateExpired, f.stored(r.ID()).State())
}
