package cancellation_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

var idKey = cancellation.IdentifierKey{ID: "ids-1", Secret: []byte("identifier key for tests: 32 bytes or more")}

func withIdentifierKeys(keys ...cancellation.IdentifierKey) option {
	return func(c *cancellation.Config) { c.IdentifierKeys = keys }
}

// cancelAccount takes the account's new request through every step to
// cancelled (Immediate mode).
func (f *fixture) cancelAccount(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	r := f.approve(f.toReview(id))
	require.Equal(f.t, cancellation.StateCancelled, r.State())
	return r
}

// storedBytes is everything the Store holds of a request: its record and
// every event, as stored.
func (f *fixture) storedBytes(id string) []byte {
	f.t.Helper()
	r, err := f.kit.Store.Get(f.ctx, id)
	require.NoError(f.t, err)
	b, err := r.MarshalBinary()
	require.NoError(f.t, err)
	events, err := f.kit.Store.History(f.ctx, id)
	require.NoError(f.t, err)
	for _, e := range events {
		eb, err := e.MarshalBinary()
		require.NoError(f.t, err)
		b = append(b, eb...)
	}
	return b
}

func TestRecentlyClosed_KeepsHashedIdentifiersUntilRetentionEnds(t *testing.T) {
	f := setup(t, withIdentifierKeys(idKey))
	a := f.personal("acct-ids")
	a.LoginIdentifiers = []string{"Ada.Lovelace"}
	f.platform.AddAccount(a)
	r := f.cancelAccount(a.ID)

	for _, asked := range []string{strings.ToUpper(a.Email), " " + a.Email, a.RecoveryPhone, "00" + a.RecoveryPhone[1:4] + " " + a.RecoveryPhone[4:], "ada.lovelace"} {
		kept, err := f.svc.RecentlyClosed(f.ctx, asked)
		require.NoError(t, err)
		require.True(t, kept, "%q names the closed account after normalisation", asked)
	}
	kept, err := f.svc.RecentlyClosed(f.ctx, "someone.else@example.com")
	require.NoError(t, err)
	require.False(t, kept)
	_, err = f.svc.RecentlyClosed(f.ctx, "  ")
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)

	// Never in the clear: not in the hashes, nor in the request or its
	// events.
	hashes := f.kit.Store.IdentifierHashes()
	require.Len(t, hashes, 3)
	raw := f.storedBytes(r.ID())
	for _, h := range hashes {
		raw = append(raw, h.Hash+h.KeyID...)
	}
	for _, plain := range []string{a.Email, a.RecoveryPhone, "Ada.Lovelace", "ada.lovelace"} {
		require.NotContains(t, string(raw), plain)
	}

	f.clock.Advance(cancellation.DefaultIdentifierRetention - time.Minute)
	require.Zero(t, f.maintain().IdentifiersPurged, "kept until the period ends")
	f.clock.Advance(time.Minute)
	require.Equal(t, 3, f.maintain().IdentifiersPurged)
	kept, err = f.svc.RecentlyClosed(f.ctx, a.Email)
	require.NoError(t, err)
	require.False(t, kept, "purged at the end of the period")
}

func TestRecentlyClosed_ARotatedOutKeyStillAnswers(t *testing.T) {
	f := setup(t, withIdentifierKeys(idKey))
	a := f.personal("acct-rotate")
	f.cancelAccount(a.ID)
	cfg := f.cfg
	cfg.IdentifierKeys = []cancellation.IdentifierKey{{ID: "ids-2", Secret: bytes.Repeat([]byte{7}, 32)}, idKey}
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	kept, err := svc.RecentlyClosed(f.ctx, a.Email)
	require.NoError(t, err)
	require.True(t, kept)
}

func TestRecentlyClosed_WithoutKeysIsErrIdentifiersNotKept(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-nokeys")
	f.cancelAccount(a.ID)
	_, err := f.svc.RecentlyClosed(f.ctx, a.Email)
	require.ErrorIs(t, err, cancellation.ErrIdentifiersNotKept)
	require.Empty(t, f.kit.Store.IdentifierHashes(), "nothing is kept without keys")
}

func TestRecentlyClosed_WithdrawnAccountIsNotKept(t *testing.T) {
	f := setup(t, withIdentifierKeys(idKey))
	a := f.personal("acct-withdrawn")
	r := f.start(a.ID)
	_, err := f.svc.Withdraw(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	kept, err := f.svc.RecentlyClosed(f.ctx, a.Email)
	require.NoError(t, err)
	require.False(t, kept, "only a cancellation keeps identifiers")
}

func TestNew_RefusesBadIdentifierKeysAndAStoreWithoutIdentifierStore(t *testing.T) {
	t.Parallel()
	kit := memory.NewKit(t0)
	cfg := kit.Config()
	cfg.IdentifierKeys = []cancellation.IdentifierKey{{ID: "short", Secret: []byte("too short")}}
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "IdentifierKeys[0]")

	cfg.IdentifierKeys = []cancellation.IdentifierKey{idKey}
	cfg.Store = struct{ cancellation.Store }{kit.Store} // only the Store contract
	_, err = cancellation.New(cfg)
	require.ErrorContains(t, err, "IdentifierStore")
}

func TestNormalizeIdentifier(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		" Ada@Example.COM ":   "ada@example.com",
		"+49 151 1234-5678":   "+4915112345678",
		"0049 (151) 12345678": "+4915112345678",
		"Ada.Lovelace":        "ada.lovelace",
		"+":                   "+",
		"":                    "",
	} {
		require.Equal(t, want, cancellation.NormalizeIdentifier(in), "NormalizeIdentifier(%q)", in)
	}
}

// exportConfirmation is a full confirmation with an export choice.
func (f *fixture) exportConfirmation(id ports.AccountID, c cancellation.ExportChoice) cancellation.Confirmation {
	conf := f.fullConfirmation(id)
	conf.DataExport = c
	return conf
}

func withExporter(f **memory.Exporter) option {
	return func(c *cancellation.Config) {
		x := memory.NewExporter(c.Clock)
		*f = x
		c.Exporter = x
	}
}

// exportToReview takes a request with the export choice up to review.
func (f *fixture) exportToReview(id ports.AccountID, c cancellation.ExportChoice) *cancellation.Request {
	f.t.Helper()
	r := f.start(id)
	r, err := f.svc.Confirm(f.ctx, id, r.ID(), f.exportConfirmation(id, c))
	require.NoError(f.t, err)
	return f.submit(f.verifyPhone(r))
}

func TestDataExport_ClosingWaitsUntilTheExportLinkIsDelivered(t *testing.T) {
	var x *memory.Exporter
	f := setup(t, withExporter(&x))
	a := f.personal("acct-export")
	x.SetFailure(errors.New("export service down"))
	r := f.exportToReview(a.ID, cancellation.ExportRequested)
	require.Equal(t, cancellation.ExportRequested, r.DataExport().Choice)

	r = f.approve(r)
	require.Equal(t, cancellation.StateApproved, r.State(), "closing waits for the export")
	require.False(t, f.closed(a.ID))
	f.clock.Advance(2 * time.Hour)
	rep := f.maintain()
	require.Positive(t, rep.EffectsFailed, "the export is retried like other effects")
	require.False(t, f.closed(a.ID), "an export failure never closes the account")

	x.SetFailure(nil)
	f.clock.Advance(2 * time.Hour)
	f.maintain()
	r = f.stored(r.ID())
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.True(t, f.closed(a.ID))
	require.True(t, r.DataExport().Delivered())
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventDataExportDelivered))

	var link string
	for _, n := range f.kit.Notifier.Sent() {
		if n.Template == cancellation.TemplateDataExport {
			require.Equal(t, a.Email, n.To)
			link = n.Data[cancellation.DataExportURL]
		}
	}
	require.NotEmpty(t, link, "the link went to the customer")
	require.NotContains(t, string(f.storedBytes(r.ID())), link, "the link is not kept")
	// Delivered before closing: the export's event comes first.
	h := eventTypes(r.History())
	require.Less(t, indexOf(h, cancellation.EventDataExportDelivered), indexOf(h, cancellation.EventCancelled))

	// The receipt records that the export was requested and delivered.
	_, rc := f.receiptOf(r)
	require.NotNil(t, rc.DataExport, "the receipt records the export")
	require.Equal(t, cancellation.ExportRequested, rc.DataExport.Choice)
	require.Equal(t, r.DataExport().DeliveredAt, rc.DataExport.DeliveredAt)
}

func indexOf(h []cancellation.EventType, t cancellation.EventType) int {
	for i, e := range h {
		if e == t {
			return i
		}
	}
	return -1
}

func TestDataExport_AWaiverAfterRequestingLetsClosingProceed(t *testing.T) {
	var x *memory.Exporter
	f := setup(t, withExporter(&x))
	a := f.personal("acct-waive")
	x.SetFailure(errors.New("export service down"))
	r := f.approve(f.exportToReview(a.ID, cancellation.ExportRequested))
	require.Equal(t, cancellation.StateApproved, r.State())

	r, err := f.svc.WaiveDataExport(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, r.State(), "the waiting close is carried out")
	require.True(t, f.closed(a.ID))
	d := r.DataExport()
	require.Equal(t, cancellation.ExportWaived, d.Choice)
	require.False(t, d.Delivered())
	require.False(t, d.WaivedAt.IsZero())
	_, rc := f.receiptOf(r)
	require.NotNil(t, rc.DataExport, "the receipt records the waiver")
	require.Equal(t, cancellation.ExportWaived, rc.DataExport.Choice)
	require.Equal(t, d.WaivedAt, rc.DataExport.WaivedAt)

	_, err = f.svc.WaiveDataExport(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrInvalidTransition, "nothing waits any more")
}

func TestDataExport_WaivedAtConfirmationClosesWithoutAnExport(t *testing.T) {
	var x *memory.Exporter
	f := setup(t, withExporter(&x))
	a := f.personal("acct-waived")
	r := f.approve(f.exportToReview(a.ID, cancellation.ExportWaived))
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.Equal(t, cancellation.ExportWaived, r.DataExport().Choice)
	require.Zero(t, x.Prepared())
}

func TestDataExport_ConfirmationMustAnswerAnOfferAndCannotRequestWithoutOne(t *testing.T) {
	var x *memory.Exporter
	f := setup(t, withExporter(&x))
	a := f.personal("acct-choice")
	r := f.start(a.ID)
	_, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), f.exportConfirmation(a.ID, ""))
	require.Contains(t, requireConsentMissing(t, err).Missing, "data_export")
	_, err = f.svc.Confirm(f.ctx, a.ID, r.ID(), f.exportConfirmation(a.ID, "maybe"))
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)

	g := newFixture(t)
	b := g.personal("acct-nooffer")
	rb := g.start(b.ID)
	_, err = g.svc.Confirm(g.ctx, b.ID, rb.ID(), g.exportConfirmation(b.ID, cancellation.ExportRequested))
	require.ErrorIs(t, err, cancellation.ErrInvalidInput, "no exporter, no export")
}

// orgFixture is a fixture with an organisation of n members (m-00 ...)
// and the admin adm, under the default quota, with opts applied.
func orgFixture(t *testing.T, n int, opts ...option) (*fixture, *memory.Organizations, []ports.AccountID) {
	t.Helper()
	orgs := memory.NewOrganizations()
	f := setup(t, append([]option{func(c *cancellation.Config) { c.Organizations = orgs }}, opts...)...)
	f.personal("adm")
	orgs.Add("org-1", "adm", true)
	var members []ports.AccountID
	for i := range n - 1 {
		id := ports.AccountID("m-" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
		f.personal(id)
		orgs.Add("org-1", id, false)
		members = append(members, id)
	}
	return f, orgs, members
}

func TestCloseMembers_EachMemberGetsARequestOfTheirOwnAndIsNotified(t *testing.T) {
	f, _, members := orgFixture(t, 20) // quota: 10% of 20 = 2
	out, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", members[:2])
	require.NoError(t, err)
	require.Len(t, out, 2)
	for i, mc := range out {
		require.NoError(t, mc.Err)
		require.Equal(t, members[i], mc.Account)
		r := mc.Request
		require.Equal(t, members[i], r.Account())
		require.Equal(t, cancellation.StateStarted, r.State(), "the member completes the usual steps")
		require.Equal(t, ports.OrganizationID("org-1"), r.Organization())
		started := r.History()[0]
		require.Equal(t, cancellation.Actor{Kind: cancellation.ActorOrganizationAdmin, ID: "adm"}, started.Actor)
		require.Contains(t, sentTo(f.kit.Notifier), cancellation.TemplateOrganizationClosure+"/email/"+string(members[i])+"@example.com")
	}
	// The member goes on as any customer.
	r := f.submit(f.verifyPhone(f.confirm(out[0].Request)))
	require.Equal(t, cancellation.StateInReview, r.State())
}

func TestCloseMembers_ABatchOverQuotaIsRefusedWholeWithTheDateItFreesUp(t *testing.T) {
	f, _, members := orgFixture(t, 20)
	_, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", members[:1])
	require.NoError(t, err)
	f.clock.Advance(5 * 24 * time.Hour)
	_, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", members[1:2])
	require.NoError(t, err)

	f.clock.Advance(24 * time.Hour)
	_, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", members[2:3])
	var qe *cancellation.QuotaExceededError
	require.ErrorAs(t, err, &qe)
	require.ErrorIs(t, err, cancellation.ErrQuotaExceeded)
	require.Equal(t, 0, qe.Admissible)
	require.Equal(t, 2, qe.Limit)
	require.Equal(t, t0.Add(cancellation.DefaultMemberQuotaWindow), qe.FreesAt, "when the oldest closure ages out")
	require.Equal(t, 2, f.requestCount(members[0])+f.requestCount(members[1])+f.requestCount(members[2]), "nothing started")

	f.clock.Set(t0.Add(cancellation.DefaultMemberQuotaWindow))
	_, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", members[2:4])
	require.ErrorAs(t, err, &qe)
	require.Equal(t, 1, qe.Admissible, "one would fit now: the batch is refused whole")
	require.Equal(t, t0.Add(5*24*time.Hour+cancellation.DefaultMemberQuotaWindow), qe.FreesAt)
	require.Zero(t, f.requestCount(members[2])+f.requestCount(members[3]))

	_, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", members[2:5])
	require.ErrorAs(t, err, &qe)
	require.True(t, qe.FreesAt.IsZero(), "a batch larger than the quota never fits")

	out, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", members[2:3])
	require.NoError(t, err)
	require.NoError(t, out[0].Err)
	require.Equal(t, 1, f.maintain().ClosureAdmissionsPurged, "the aged-out closure is purged")
}

func TestCloseMembers_TwoAdminsAtOnceCannotExceedTheQuota(t *testing.T) {
	f, orgs, members := orgFixture(t, 30) // quota 3
	orgs.Add("org-1", "adm2", true)
	f.personal("adm2")
	var wg sync.WaitGroup
	var mu sync.Mutex
	started, refused := 0, 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			admin := ports.AccountID("adm")
			if i%2 == 1 {
				admin = "adm2"
			}
			out, err := f.svc.CloseMembers(f.ctx, "org-1", admin, members[i:i+1])
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, cancellation.ErrQuotaExceeded) {
				refused++
				return
			}
			if err == nil && out[0].Err == nil {
				started++
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 3, started)
	require.Equal(t, 5, refused)
}

// TestCloseMembers_NamesAMalformedBatchBeforeAskingTheDirectory: a
// member named twice, the admin among the members or a malformed id is
// named (members[i]) even by a caller who is no admin and while the
// OrganizationDirectory is down: bad input is the caller's to fix first.
func TestCloseMembers_NamesAMalformedBatchBeforeAskingTheDirectory(t *testing.T) {
	f, orgs, members := orgFixture(t, 3)
	orgs.SetFailure(errors.New("directory down"))
	for field, batch := range map[string][]ports.AccountID{
		"members[1]": {members[0], members[0]},
		"members[0]": {"adm"},
	} {
		_, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", batch)
		var ve *cancellation.ValidationError
		require.ErrorAs(t, err, &ve, field)
		require.Equal(t, field, ve.Field)
	}
	_, err := f.svc.CloseMembers(f.ctx, "org-1", members[1], []ports.AccountID{""})
	var ve *cancellation.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "members[0]", ve.Field)
}

func TestCloseMembers_RefusesNonAdminsNonMembersAndCountsOnlyStartedMembers(t *testing.T) {
	f, _, members := orgFixture(t, 20)
	_, err := f.svc.CloseMembers(f.ctx, "org-1", members[0], members[1:2])
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	f.personal("outsider")
	_, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", []ports.AccountID{"outsider"})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	_, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", []ports.AccountID{members[0], members[0]})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	_, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", []ports.AccountID{"adm"})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)

	// A member with a request in progress is reported, not counted.
	f.start(members[0])
	out, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", members[:3])
	require.NoError(t, err, "two fit the quota of two")
	require.ErrorIs(t, out[0].Err, cancellation.ErrActiveRequestExists)
	require.NoError(t, out[1].Err)
	require.NoError(t, out[2].Err)
}

func TestCloseMembers_WithoutOrganizationsIsInvalidInput(t *testing.T) {
	f := setup(t)
	f.personal("adm")
	_, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", []ports.AccountID{"x"})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
}

func TestNew_RefusesABadMemberQuotaAndOrganizationsWithoutAClosureQuotaStore(t *testing.T) {
	t.Parallel()
	kit := memory.NewKit(t0)
	cfg := kit.Config()
	cfg.Organizations = kit.Organizations
	cfg.MemberQuota.Percent = 101
	_, err := cancellation.New(cfg)
	require.ErrorContains(t, err, "MemberQuota.Percent")
	cfg.MemberQuota.Percent = 0
	cfg.Store = struct{ cancellation.Store }{kit.Store}
	_, err = cancellation.New(cfg)
	require.ErrorContains(t, err, "ClosureQuotaStore")
}

func TestEffectErrors_AreKeptWithoutTheAddressTheyName(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-lasterr")
	r := f.toReview(a.ID)
	f.kit.Notifier.FailNext(1, errors.New("mailbox "+a.RecoveryPhone+" refused"))
	r = f.approve(r)
	e := effect(t, f.stored(r.ID()), r.ID()+"/review_approved/sms")
	require.Equal(t, "mailbox [redacted] refused", e.LastError)
}

func TestDataExport_DeferredEffectsCloseOnlyAfterTheWaiverIsWorkedOff(t *testing.T) {
	var x *memory.Exporter
	f := setup(t, withExporter(&x), func(c *cancellation.Config) { c.Effects = cancellation.EffectsDeferred })
	a := f.personal("acct-deferred-export")
	x.SetFailure(errors.New("export service down"))
	r := f.start(a.ID)
	f.maintain()
	r, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), f.exportConfirmation(a.ID, cancellation.ExportRequested))
	require.NoError(t, err)
	f.maintain()
	r = f.submit(f.verifyPhone(r))
	r = f.approve(r)
	f.clock.Advance(time.Hour)
	f.maintain()
	require.False(t, f.closed(a.ID), "closing waits for the export in deferred mode too")
	require.Equal(t, cancellation.StateApproved, f.stored(r.ID()).State())

	_, err = f.svc.WaiveDataExport(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	require.False(t, f.stored(r.ID()).NextWake().After(f.clock.Now()), "the released close is due at once")
	f.maintain()
	require.True(t, f.closed(a.ID))
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
}

// TestDataExport_AGivenUpExportKeepsClosingWaitingAndFlagsTheRequest: an
// admin gives up a failing export after the approval; the account is not
// closed without the export the customer asked for, the request is flagged
// NeedsAttention so that it does not wait unseen, and the customer's
// waiver then closes it.
func TestDataExport_AGivenUpExportKeepsClosingWaitingAndFlagsTheRequest(t *testing.T) {
	var x *memory.Exporter
	f := setup(t, withExporter(&x)).withDesk()
	a := f.personal("acct-export-given-up")
	x.SetFailure(errors.New("export service down"))
	r := f.approve(f.exportToReview(a.ID, cancellation.ExportRequested))
	require.Equal(t, cancellation.StateApproved, r.State())
	_, flagged := r.NeedsAttention()
	require.False(t, flagged, "precondition: not flagged yet")

	r, err := f.svc.GiveUpEffect(f.ctx, deskAdmin, r.ID(), r.ID()+"/data_export", "exporter retired")
	require.NoError(t, err)
	at, flagged := r.NeedsAttention()
	require.True(t, flagged, "a closing waiting for a given-up export is for staff to see")
	require.Contains(t, at.Reason, "WaiveDataExport")
	f.clock.Advance(48 * time.Hour)
	f.maintain()
	require.Equal(t, cancellation.StateApproved, f.stored(r.ID()).State())
	require.False(t, f.closed(a.ID), "not closed without the export or a waiver")

	r, err = f.svc.WaiveDataExport(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.True(t, f.closed(a.ID))
}

func TestRecentlyClosedForStaff_AnswersStaffTheDirectoryKnowsAndRefusesOthers(t *testing.T) {
	f := setup(t, withIdentifierKeys(idKey))
	a := f.personal("acct-ids-staff")
	f.platform.AddAccount(a)
	f.cancelAccount(a.ID)

	kept, err := f.svc.RecentlyClosedForStaff(f.ctx, f.staffMember("rev-bo", ports.RoleReviewer, ""), a.Email)
	require.NoError(t, err)
	require.True(t, kept)

	for _, rv := range []cancellation.Reviewer{{ID: "nobody"}, {}} {
		kept, err := f.svc.RecentlyClosedForStaff(f.ctx, rv, a.Email)
		require.Error(t, err, "staff member %q", rv.ID)
		require.False(t, kept)
		if rv.ID != "" {
			require.ErrorIs(t, err, cancellation.ErrForbidden)
		}
	}
}
