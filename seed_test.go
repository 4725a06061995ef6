package cancellation_test

// One test per note and per step of seed/account-cancellation.md, each
// named for it and driving the public Service API over the memory adapters.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image/color"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/mocks"
)

// requireBlocks asserts that rule alone blocks the account: the report says
// so with the items (when items is not nil) and a remedy, Start is refused
// with a NotEligibleError that carries the same finding, and nothing is
// stored.
func requireBlocks(t *testing.T, f *fixture, id ports.AccountID, rule string, note int, items []cancellation.Item) cancellation.Finding {
	t.Helper()
	rep, err := f.svc.CheckEligibility(f.ctx, id)
	require.NoError(t, err)
	require.Equal(t, cancellation.OutcomeBlocked, rep.Outcome)
	require.Equal(t, []string{rule}, findingRules(rep.Blocked()))
	fnd := requireFinding(t, rep, rule, note, items)
	require.NotNil(t, fnd.Remedy, "a blocked finding tells the customer what to do")
	require.NotEmpty(t, fnd.Remedy.Action)
	require.Empty(t, fnd.Error)

	_, err = f.svc.Start(f.ctx, id)
	got := requireNotEligible(t, err)
	gotFinding, ok := got.Finding(rule)
	require.True(t, ok)
	require.Empty(t, cmp.Diff(fnd, gotFinding), "the error carries the finding and its remedy")
	require.Contains(t, err.Error(), rule)
	require.Zero(t, f.requestCount(id), "a refused start stores nothing")
	return fnd
}

// requireConsentGate asserts that rule alone needs consent for the items:
// Start works, Confirm without the consent is refused with a
// ConsentRequiredError that lists the finding and changes nothing, and
// Confirm with it records the consent.
func requireConsentGate(t *testing.T, f *fixture, id ports.AccountID, rule string, note int, items []cancellation.Item) cancellation.Finding {
	t.Helper()
	rep, err := f.svc.CheckEligibility(f.ctx, id)
	require.NoError(t, err)
	require.Equal(t, cancellation.OutcomeNeedsConsent, rep.Outcome)
	require.Equal(t, []string{rule}, findingRules(rep.NeedsConsent()))
	fnd := requireFinding(t, rep, rule, note, items)
	require.NotEmpty(t, fnd.Fingerprint)

	r := f.start(id)
	before := f.storedJSON(r.ID())
	c := f.fullConfirmation(id)
	c.Consents = nil
	_, err = f.svc.Confirm(f.ctx, id, r.ID(), c)
	ce := requireConsentMissing(t, err)
	require.Empty(t, ce.Missing, "every attestation was given")
	require.Equal(t, []string{rule}, findingRules(ce.Findings))
	require.Empty(t, cmp.Diff(fnd, ce.Findings[0]))
	f.requireUnchanged(r.ID(), before)

	wrong := f.fullConfirmation(id)
	wrong.Consents = []cancellation.Consent{{Rule: rule, Fingerprint: "stale"}}
	_, err = f.svc.Confirm(f.ctx, id, r.ID(), wrong)
	requireConsentMissing(t, err)
	f.requireUnchanged(r.ID(), before)

	r = f.confirm(r)
	require.Equal(t, []cancellation.Consent{{Rule: rule, Fingerprint: fnd.Fingerprint}}, r.Consents())
	return fnd
}

// requireFinding returns the rule's finding after checking its note number
// and, when items is not nil, its items.
func requireFinding(t *testing.T, rep cancellation.Report, rule string, note int, items []cancellation.Item) cancellation.Finding {
	t.Helper()
	fnd, ok := rep.Finding(rule)
	require.True(t, ok)
	require.Equal(t, note, fnd.Note)
	require.NotEmpty(t, fnd.Items)
	if items != nil {
		require.Equal(t, items, fnd.Items)
	}
	return fnd
}

// requireAttestation runs a subtest asserting that a clean account's
// confirmation without the attestation is refused, naming it.
func requireAttestation(t *testing.T, name string, drop func(*cancellation.Attestations)) {
	t.Helper()
	t.Run("AttestationRequired", func(t *testing.T) {
		f := setup(t)
		id := f.personal(ports.AccountID("acct-attest-" + name)).ID
		r := f.start(id)
		c := f.fullConfirmation(id)
		drop(&c.Attestations)
		_, err := f.svc.Confirm(f.ctx, id, r.ID(), c)
		require.Equal(t, []string{name}, requireConsentMissing(t, err).Missing)
		require.Equal(t, cancellation.StateStarted, f.stored(r.ID()).State())
	})
}

func usd(cents int64) ports.Money { return ports.Money{Amount: cents, Currency: "USD"} }

func TestNote1_OpenOrdersAndUnsettledPaymentsBlock(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note1")
	f.platform.
		AddObligation(a.ID, ports.Obligation{Kind: ports.ObligationOrder, Ref: "order-7", Description: "CVM order", Amount: usd(4999)}).
		AddObligation(a.ID, ports.Obligation{Kind: ports.ObligationService, Ref: "svc-cdn", Description: "CDN service"}).
		AddObligation(a.ID, ports.Obligation{Kind: ports.ObligationPayment, Ref: "bill-2025-02", Description: "February bill", Amount: usd(12001)})

	fnd := requireBlocks(t, f, a.ID, cancellation.RuleOpenObligations, 1, []cancellation.Item{
		{Kind: "order", Ref: "order-7", Description: "CVM order", Value: usd(4999)},
		{Kind: "service", Ref: "svc-cdn", Description: "CDN service"},
		{Kind: "payment", Ref: "bill-2025-02", Description: "February bill", Value: usd(12001)},
	})
	require.Equal(t, "Billing Center > Orders", fnd.Remedy.Where)

	f.platform.RemoveObligation(a.ID, "order-7").RemoveObligation(a.ID, "svc-cdn")
	_, err := f.svc.Start(f.ctx, a.ID)
	require.ErrorIs(t, err, cancellation.ErrNotEligible, "the unsettled payment still blocks")

	f.platform.DeleteObligations(a.ID)
	r := f.start(a.ID)
	fnd, ok := r.Eligibility().Finding(cancellation.RuleOpenObligations)
	require.True(t, ok)
	require.Equal(t, cancellation.OutcomePass, fnd.Outcome)
}

func TestNote2_UnusedRightsNeedConsentToForfeit(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note2")
	f.platform.
		AddRight(a.ID, ports.Right{Kind: ports.RightCash, Ref: "cash", Description: "Cash balance", Value: usd(1234)}).
		AddRight(a.ID, ports.Right{Kind: ports.RightGiftCard, Ref: "gc-1", Description: "Gift card", Value: usd(2500)}).
		AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: "v-welcome", Description: "Welcome voucher", Value: usd(5000)}).
		AddRight(a.ID, ports.Right{Kind: ports.RightCloudResource, Ref: "cvm-1", Description: "Prepaid CVM", Value: ports.Money{Amount: 150000, Currency: "CNY"}})

	fnd := requireConsentGate(t, f, a.ID, cancellation.RuleUnusedRights, 2, []cancellation.Item{
		{Kind: "cash", Ref: "cash", Description: "Cash balance", Value: usd(1234)},
		{Kind: "gift_card", Ref: "gc-1", Description: "Gift card", Value: usd(2500)},
		{Kind: "voucher", Ref: "v-welcome", Description: "Welcome voucher", Value: usd(5000)},
		{Kind: "cloud_resource", Ref: "cvm-1", Description: "Prepaid CVM", Value: ports.Money{Amount: 150000, Currency: "CNY"}},
	})
	require.Contains(t, fnd.Summary, "forfeited")
}

func TestNote2_NewVoucherAfterConsentAsksAgain(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-voucher")
	f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightCash, Ref: "cash", Value: usd(100)})
	r := f.untilVerified(a.ID)
	old := r.Consents()
	require.Len(t, old, 1)

	f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: "v-late", Description: "Late voucher", Value: usd(700)})
	before := f.storedJSON(r.ID())
	_, err := f.svc.Submit(f.ctx, a.ID, r.ID())
	ce := requireConsentMissing(t, err)
	require.Equal(t, []string{cancellation.RuleUnusedRights}, findingRules(ce.Findings))
	require.NotEqual(t, old[0].Fingerprint, ce.Findings[0].Fingerprint)
	require.Len(t, ce.Findings[0].Items, 2, "the finding lists the new voucher with the cash")
	f.requireUnchanged(r.ID(), before)

	_, err = f.svc.Consent(f.ctx, a.ID, r.ID(), old)
	requireConsentMissing(t, err)
	f.requireUnchanged(r.ID(), before)

	fresh := []cancellation.Consent{{Rule: cancellation.RuleUnusedRights, Fingerprint: ce.Findings[0].Fingerprint}}
	r, err = f.svc.Consent(f.ctx, a.ID, r.ID(), fresh)
	require.NoError(t, err)
	require.Equal(t, fresh, r.Consents())
	require.Equal(t, cancellation.EventConsented, lastEvent(r).Type)
	f.submit(r)

	t.Run("DuringReviewRejectsWithConsentOutdated", func(t *testing.T) {
		f := setup(t)
		a := f.personal("acct-voucher-review")
		f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightCash, Ref: "cash", Value: usd(100)})
		r := f.toReview(a.ID)
		f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: "v-late", Value: usd(700)})
		r, err := f.svc.Approve(f.ctx, staff, r.ID(), "")
		requireConsentMissing(t, err)
		require.Equal(t, cancellation.StateRejected, r.State())
		d, ok := r.Decision()
		require.True(t, ok)
		require.Equal(t, []cancellation.ReasonCode{cancellation.ReasonConsentOutdated}, d.Reasons)
		require.False(t, f.closed(a.ID))
	})
}

func TestNote3_ThirdPartyBindingsNeedConsentToKeep(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note3")
	f.platform.
		AddAuthorization(a.ID, ports.Authorization{Kind: ports.AuthorizationAppBinding, Ref: "wechat-login", Party: "WeChat"}).
		AddAuthorization(a.ID, ports.Authorization{Kind: ports.AuthorizationExternalGrant, Ref: "oauth-ci", Party: "CI vendor"})

	fnd := requireConsentGate(t, f, a.ID, cancellation.RuleThirdParty, 3, []cancellation.Item{
		{Kind: "app_binding", Ref: "wechat-login", Description: "WeChat"},
		{Kind: "external_grant", Ref: "oauth-ci", Description: "CI vendor"},
	})
	require.Contains(t, fnd.Remedy.Action, "unbind")
}

func TestNote4_SubUsersBlockUntilDeleted(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note4")
	f.platform.
		AddSubUser(a.ID, ports.SubUser{Kind: ports.SubUserCollaborator, Ref: "collab-1", Name: "Alice"}).
		AddSubUser(a.ID, ports.SubUser{Kind: ports.SubUserSubUser, Ref: "sub-ops", Name: "ops"}).
		AddSubUser(a.ID, ports.SubUser{Kind: ports.SubUserMessageRecipient, Ref: "rcpt-1", Name: "on-call"})

	fnd := requireBlocks(t, f, a.ID, cancellation.RuleSubUsers, 4, []cancellation.Item{
		{Kind: "collaborator", Ref: "collab-1", Description: "Alice"},
		{Kind: "sub_user", Ref: "sub-ops", Description: "ops"},
		{Kind: "message_recipient", Ref: "rcpt-1", Description: "on-call"},
	})
	require.Equal(t, "User Management", fnd.Remedy.Where)

	f.platform.DeleteSubUsers(a.ID)
	f.start(a.ID)
}

func TestNote5_APIKeysBlockUntilDeleted(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note5")
	f.platform.AddAPIKey(a.ID, ports.APIKey{ID: "AKID1", Label: "deploy"})

	fnd := requireBlocks(t, f, a.ID, cancellation.RuleAPIKeys, 5, []cancellation.Item{{Kind: "api_key", Ref: "AKID1", Description: "deploy"}})
	require.Equal(t, "API Key Management", fnd.Remedy.Where)

	f.platform.DeleteAPIKeys(a.ID)
	f.start(a.ID)
}

func TestNote6_DataHoldingsNeedBackupOrWaiver(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note6")
	f.platform.AddDataHolding(a.ID, ports.DataHolding{Kind: ports.DataStorage, Ref: "cos://photos", Description: "Photo bucket", SizeBytes: 1 << 30})

	requireConsentGate(t, f, a.ID, cancellation.RuleDataBackup, 6, []cancellation.Item{{Kind: "storage", Ref: "cos://photos", Description: "Photo bucket"}})

	requireAttestation(t, "backup_done_or_waived", func(a *cancellation.Attestations) { a.BackupDoneOrWaived = false })
}

func TestNote7_DisputesAndSupervisionBlock(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note7")
	for _, k := range []ports.CaseKind{ports.CaseDispute, ports.CaseLitigation, ports.CaseRegulatory, ports.CaseLegalHold} {
		f.platform.AddCase(a.ID, ports.Case{Kind: k, Ref: "case-" + string(k), Summary: string(k)})
	}

	fnd := requireBlocks(t, f, a.ID, cancellation.RuleNoEvasion, 7, nil)
	require.Equal(t, []string{"dispute", "litigation", "regulatory", "legal_hold"},
		[]string{fnd.Items[0].Kind, fnd.Items[1].Kind, fnd.Items[2].Kind, fnd.Items[3].Kind})

	f.platform.DeleteCases(a.ID)
	f.start(a.ID)

	requireAttestation(t, "not_evading", func(a *cancellation.Attestations) { a.NotEvading = false })
}

func TestNote8_ComplaintsAndReportsBlock(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note8")
	f.platform.
		AddCase(a.ID, ports.Case{Kind: ports.CaseComplaint, Ref: "cmp-1", Summary: "abuse"}).
		AddCase(a.ID, ports.Case{Kind: ports.CaseReport, Ref: "rep-1", Summary: "phishing report"})

	requireBlocks(t, f, a.ID, cancellation.RuleNoComplaints, 8, []cancellation.Item{
		{Kind: "complaint", Ref: "cmp-1", Description: "abuse"},
		{Kind: "report", Ref: "rep-1", Description: "phishing report"},
	})

	f.platform.RemoveCase(a.ID, "cmp-1")
	_, err := f.svc.Start(f.ctx, a.ID)
	require.ErrorIs(t, err, cancellation.ErrNotEligible, "a report alone blocks too")
	f.platform.RemoveCase(a.ID, "rep-1")
	f.start(a.ID)
}

func TestNote9_OtherMattersBlockingOrConsent(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note9")
	f.platform.
		AddMatter(a.ID, ports.Matter{Ref: "domain-1", Description: "example.org is registered", Blocking: true, Remedy: "transfer the domain"}).
		AddMatter(a.ID, ports.Matter{Ref: "refund-1", Description: "a refund is pending"})

	fnd := requireBlocks(t, f, a.ID, cancellation.RuleOtherMatters, 9, nil)
	require.Equal(t, "transfer the domain", fnd.Remedy.Action)

	f.platform.RemoveMatter(a.ID, "domain-1")
	requireConsentGate(t, f, a.ID, cancellation.RuleOtherMatters, 9,
		[]cancellation.Item{{Kind: "matter", Ref: "refund-1", Description: "a refund is pending"}})

	requireAttestation(t, "other_matters_handled", func(a *cancellation.Attestations) { a.OtherMattersHandled = false })
}

func TestStep1_StartFromAccountCenter(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-step1")

	r := f.start(a.ID)
	require.Equal(t, a.ID, r.Account())
	require.Equal(t, int64(1), r.Version())
	require.Equal(t, []cancellation.EventType{cancellation.EventStarted}, eventTypes(r.History()))
	require.Equal(t, cancellation.ActorCustomer, r.History()[0].Actor.Kind)
	active, err := f.svc.Active(f.ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, r.ID(), active.ID())

	_, err = f.svc.Start(f.ctx, a.ID)
	require.ErrorIs(t, err, cancellation.ErrActiveRequestExists)
	require.Equal(t, 1, f.requestCount(a.ID))

	_, err = f.svc.Start(f.ctx, "acct-nobody")
	require.ErrorIs(t, err, cancellation.ErrUnknownAccount)
	require.Zero(t, f.requestCount("acct-nobody"))

	_, err = f.svc.Start(f.ctx, "")
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)

	closed := f.personal("acct-step1-closed")
	closed.Closed = true
	f.platform.AddAccount(closed)
	_, err = f.svc.Start(f.ctx, closed.ID)
	require.ErrorIs(t, err, cancellation.ErrAccountClosed)
	require.Zero(t, f.requestCount(closed.ID))

	_, err = f.svc.Get(f.ctx, "acct-other", r.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound, "a customer sees only their own requests")

	_, err = f.svc.Withdraw(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	again := f.start(a.ID)
	require.NotEqual(t, r.ID(), again.ID(), "after a withdrawal the customer may apply again")
	require.Equal(t, 2, f.requestCount(a.ID))

	t.Run("ConcurrentStartsCreateOne", func(t *testing.T) {
		f := setup(t)
		a := f.personal("acct-step1-race")
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Go(func() { _, errs[i] = f.svc.Start(f.ctx, a.ID) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			require.ErrorIs(t, err, cancellation.ErrActiveRequestExists)
		}
		require.Equal(t, 1, ok)
		require.Equal(t, 1, f.requestCount(a.ID))
	})
}

func TestStep2_ConfirmRecordsNotesVersionAcknowledgementAndConsents(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-step2")
	f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: "v1", Value: usd(500)})
	r := f.start(a.ID)
	before := f.storedJSON(r.ID())

	notes := f.svc.Notes()
	require.Len(t, notes.Items, 9, "one note per note of the seed")
	require.Equal(t, cancellation.DefaultNotes().Version, notes.Version)
	require.Contains(t, notes.Intro, "cannot be restored")

	t.Run("ErrStaleNotes", func(t *testing.T) {
		f := f.on(t)
		c := f.fullConfirmation(a.ID)
		c.NotesVersion = cancellation.NewNotes("old title", "old intro", "old note").Version
		_, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), c)
		require.ErrorIs(t, err, cancellation.ErrStaleNotes)
		f.requireUnchanged(r.ID(), before)
	})
	t.Run("IrreversibleMissing", func(t *testing.T) {
		f := f.on(t)
		c := f.fullConfirmation(a.ID)
		c.Irreversible = false
		_, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), c)
		require.Equal(t, []string{"irreversible"}, requireConsentMissing(t, err).Missing)
		f.requireUnchanged(r.ID(), before)
	})
	t.Run("EverythingMissing", func(t *testing.T) {
		f := f.on(t)
		_, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), cancellation.Confirmation{NotesVersion: notes.Version})
		require.Equal(t, []string{"irreversible", "backup_done_or_waived", "not_evading", "other_matters_handled"},
			requireConsentMissing(t, err).Missing)
		f.requireUnchanged(r.ID(), before)
	})
	if t.Failed() {
		return
	}

	c := f.fullConfirmation(a.ID)
	r, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), c)
	require.NoError(t, err)
	require.Equal(t, cancellation.StateConfirmed, r.State())
	got, ok := r.Confirmation()
	require.True(t, ok)
	require.Empty(t, cmp.Diff(c, got), "the confirmation is recorded as given")
	require.Equal(t, c.Consents, r.Consents())
	last := lastEvent(r)
	require.Equal(t, cancellation.EventConfirmed, last.Type)
	require.Equal(t, cancellation.Actor{Kind: cancellation.ActorCustomer, ID: string(a.ID)}, last.Actor)
	require.Equal(t, notes.Version, last.Data["notes_version"])
	require.Contains(t, last.Data["consents"], cancellation.RuleUnusedRights+":"+c.Consents[0].Fingerprint)
	require.Equal(t, t0, last.At)

	_, err = f.svc.Confirm(f.ctx, a.ID, r.ID(), c)
	requireTransition(t, err, cancellation.StateConfirmed, cancellation.StateConfirmed)

	t.Run("HostNotesVersion", func(t *testing.T) {
		custom := cancellation.NewNotes("Avant de résilier", "Irréversible.", "Pas de commandes en cours.")
		f := setup(t, func(c *cancellation.Config) { c.Notes = &custom })
		a := f.personal("acct-step2-fr")
		r := f.start(a.ID)
		c := f.fullConfirmation(a.ID)
		c.NotesVersion = cancellation.DefaultNotes().Version
		_, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), c)
		require.ErrorIs(t, err, cancellation.ErrStaleNotes)
		f.confirm(r)
		require.Equal(t, custom.Version, f.stored(r.ID()).History()[1].Data["notes_version"])
	})
}

// otpFixture is a fixture whose OTPSender is a gomock mock.
func otpFixture(t *testing.T, opts ...option) (*fixture, *mocks.MockOTPSender) {
	t.Helper()
	otp := mocks.NewMockOTPSender(mockController(t))
	f := setup(t, append(opts, func(c *cancellation.Config) { c.OTP = otp })...)
	return f, otp
}

// expectCode expects one code to the phone and stores it in *code.
func expectCode(otp *mocks.MockOTPSender, phone string, code *string) {
	otp.EXPECT().SendCode(gomock.Any(), gomock.Cond(func(m ports.OTPMessage) bool { return m.Phone == phone })).
		DoAndReturn(func(_ context.Context, m ports.OTPMessage) error { *code = m.Code; return nil }).Times(1)
}

// wrongCode returns a code of the same length that differs from code.
func wrongCode(code string) string {
	last := byte('0')
	if code[len(code)-1] == '0' {
		last = '1'
	}
	return code[:len(code)-1] + string(last)
}

func TestStep3_VerifyRecoveryPhone(t *testing.T) {
	t.Parallel()

	t.Run("CodeGoesOnlyToPhoneOnFile", func(t *testing.T) {
		f, otp := otpFixture(t)
		a := f.personal("acct-step3")
		r := f.confirm(f.start(a.ID))
		var code string
		expectCode(otp, a.RecoveryPhone, &code)
		sent, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.NoError(t, err)
		require.Equal(t, cancellation.CodeSent{
			MaskedPhone: cancellation.MaskPhone(a.RecoveryPhone),
			ExpiresAt:   t0.Add(5 * time.Minute),
			ResendAt:    t0.Add(time.Minute),
		}, sent)
		require.NotContains(t, sent.MaskedPhone, a.RecoveryPhone[3:], "the phone is masked")
		require.Equal(t, a.RecoveryPhone[len(a.RecoveryPhone)-4:], sent.MaskedPhone[len(sent.MaskedPhone)-4:])
		require.Len(t, code, 6)
		r, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), code)
		require.NoError(t, err)
		require.Equal(t, cancellation.StatePhoneVerified, r.State())
		require.Zero(t, r.CodeExpiresAt(), "a used code is gone")
	})

	t.Run("CannotSkip", func(t *testing.T) {
		f := setup(t)
		a := f.account("acct-step3-skip", ports.Personal, true)
		r := f.confirm(f.start(a.ID))
		before := f.storedJSON(r.ID())
		_, err := f.svc.Submit(f.ctx, a.ID, r.ID())
		requireTransition(t, err, cancellation.StateConfirmed, cancellation.StateInReview)
		_, err = f.upload(r, cancellation.DocumentPassport, colourScan())
		requireTransition(t, err, cancellation.StateConfirmed, cancellation.StateDocumentsUploaded)
		f.requireUnchanged(r.ID(), before)
		require.Zero(t, f.kit.Documents.Len())
	})

	t.Run("WrongCodeThenRightCode", func(t *testing.T) {
		f := setup(t)
		a := f.personal("acct-step3-wrong")
		r := f.confirm(f.start(a.ID))
		code := f.sendCode(r)
		_, err := f.svc.VerifyCode(f.ctx, a.ID, r.ID(), wrongCode(code))
		require.ErrorIs(t, err, cancellation.ErrCodeMismatch)
		var ce *cancellation.CodeError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, 4, ce.AttemptsLeft)
		stored := f.stored(r.ID())
		require.Equal(t, cancellation.StateConfirmed, stored.State())
		require.Equal(t, cancellation.EventCodeFailed, lastEvent(stored).Type, "a miss is recorded")

		_, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), "12")
		require.ErrorIs(t, err, cancellation.ErrInvalidInput)
		_, err = f.svc.VerifyCode(f.ctx, "acct-other", r.ID(), code)
		require.ErrorIs(t, err, cancellation.ErrNotFound)

		r, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), code)
		require.NoError(t, err)
		require.Equal(t, cancellation.StatePhoneVerified, r.State())
	})

	t.Run("ErrCodeExpired", func(t *testing.T) {
		f := setup(t)
		a := f.personal("acct-step3-ttl")
		r := f.confirm(f.start(a.ID))
		_, err := f.svc.VerifyCode(f.ctx, a.ID, r.ID(), "123456")
		require.ErrorIs(t, err, cancellation.ErrCodeExpired, "no code sent yet")
		code := f.sendCode(r)
		f.clock.Advance(5 * time.Minute)
		_, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), code)
		require.ErrorIs(t, err, cancellation.ErrCodeExpired)
		require.Equal(t, cancellation.StateConfirmed, f.stored(r.ID()).State())
	})

	t.Run("ErrCodeLocked", func(t *testing.T) {
		f, otp := otpFixture(t)
		a := f.personal("acct-step3-lock")
		r := f.confirm(f.start(a.ID))
		var code string
		expectCode(otp, a.RecoveryPhone, &code)
		_, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.NoError(t, err)
		for left := 4; left >= 1; left-- {
			_, err := f.svc.VerifyCode(f.ctx, a.ID, r.ID(), wrongCode(code))
			var ce *cancellation.CodeError
			require.ErrorAs(t, err, &ce)
			require.ErrorIs(t, err, cancellation.ErrCodeMismatch)
			require.Equal(t, left, ce.AttemptsLeft)
		}
		_, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), wrongCode(code))
		require.ErrorIs(t, err, cancellation.ErrCodeLocked, "the fifth wrong code locks")
		var ce *cancellation.CodeError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, t0.Add(30*time.Minute), ce.RetryAt)

		_, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), code)
		require.ErrorIs(t, err, cancellation.ErrCodeLocked, "even the right code is refused while locked")
		f.clock.Advance(10 * time.Minute)
		_, err = f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.ErrorIs(t, err, cancellation.ErrCodeLocked, "no code is sent while locked")
		stored := f.stored(r.ID())
		require.Equal(t, cancellation.StateConfirmed, stored.State())
		require.Equal(t, 1, countEvents(stored.History(), cancellation.EventCodeLocked))

		f.clock.Advance(20 * time.Minute)
		_, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), code)
		require.ErrorIs(t, err, cancellation.ErrCodeExpired, "the burnt code stays burnt after the lock")
		var second string
		expectCode(otp, a.RecoveryPhone, &second)
		_, err = f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.NoError(t, err)
		r, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), second)
		require.NoError(t, err)
		require.Equal(t, cancellation.StatePhoneVerified, r.State())
	})

	t.Run("ErrRateLimited", func(t *testing.T) {
		f := setup(t)
		a := f.personal("acct-step3-rate")
		r := f.confirm(f.start(a.ID))
		f.sendCode(r)
		_, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.ErrorIs(t, err, cancellation.ErrRateLimited)
		var ce *cancellation.CodeError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, t0.Add(time.Minute), ce.RetryAt)
		require.Equal(t, 1, f.kit.OTP.Attempts())

		// The daily cap is ten codes; the cooldown is a minute.
		for range 9 {
			f.clock.Advance(time.Minute)
			f.sendCode(r)
		}
		f.clock.Advance(time.Minute)
		_, err = f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.ErrorIs(t, err, cancellation.ErrRateLimited)
		require.ErrorAs(t, err, &ce)
		require.Equal(t, time.Date(2025, time.March, 4, 0, 0, 0, 0, time.UTC), ce.RetryAt)
		require.Equal(t, 10, f.kit.OTP.Attempts())

		f.clock.Set(time.Date(2025, time.March, 4, 0, 0, 1, 0, time.UTC))
		f.verifyPhone(r)
	})

	t.Run("CodeNeverStoredInClear", func(t *testing.T) {
		// Ten digits, so that the code cannot turn up in a hash by chance.
		f := setup(t, func(c *cancellation.Config) { c.Verification.CodeLength = 10 })
		a := f.personal("acct-step3-leak")
		r := f.confirm(f.start(a.ID))
		code := f.sendCode(r)
		require.Len(t, code, 10)
		_, err := f.svc.VerifyCode(f.ctx, a.ID, r.ID(), wrongCode(code))
		require.ErrorIs(t, err, cancellation.ErrCodeMismatch)
		raw, err := f.stored(r.ID()).MarshalBinary()
		require.NoError(t, err)
		require.NotContains(t, string(raw), code)
		require.NotContains(t, string(raw), wrongCode(code))
		// Nor as an unkeyed hash, which ten digits would not protect.
		for _, h := range []func([]byte) string{
			func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) },
			func(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) },
			func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) },
		} {
			require.NotContains(t, string(raw), h([]byte(code)))
		}
		require.Contains(t, string(raw), `"hash":"`, "the keyed hash is what is stored")
	})

	t.Run("ErrDelivery", func(t *testing.T) {
		f, otp := otpFixture(t)
		a := f.personal("acct-step3-delivery")
		r := f.confirm(f.start(a.ID))
		var lost string
		otp.EXPECT().SendCode(gomock.Any(), gomock.Any()).
			DoAndReturn(func(_ context.Context, m ports.OTPMessage) error {
				lost = m.Code
				return errors.New("sms gateway down")
			}).Times(1)
		_, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.ErrorIs(t, err, cancellation.ErrDelivery)
		require.NotContains(t, err.Error(), a.RecoveryPhone, "errors show the phone masked")
		require.NotContains(t, err.Error(), "sms gateway", "the sender's error text stays in the log")
		require.Zero(t, f.stored(r.ID()).CodeExpiresAt(), "the undelivered code is withdrawn")
		_, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), lost)
		require.ErrorIs(t, err, cancellation.ErrCodeExpired)

		// The sender may have failed after sending: the attempt costs what
		// a send costs (issue 7.5), so the cooldown applies.
		_, err = f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.ErrorIs(t, err, cancellation.ErrRateLimited, "a failed delivery counts against the cooldown")
		f.clock.Advance(time.Minute)
		var code string
		expectCode(otp, a.RecoveryPhone, &code)
		_, err = f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.NoError(t, err, "after the cooldown a code is sent")
		_, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), code)
		require.NoError(t, err)
	})

	t.Run("ErrNoRecoveryPhone", func(t *testing.T) {
		f, _ := otpFixture(t)
		a := f.personal("acct-step3-nophone")
		a.RecoveryPhone = ""
		f.platform.AddAccount(a)
		r := f.confirm(f.start(a.ID))
		_, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.ErrorIs(t, err, cancellation.ErrNoRecoveryPhone)
	})
}

func TestStep4_IdentityDocuments(t *testing.T) {
	t.Parallel()

	t.Run("PersonalPassportOrDriversLicence", func(t *testing.T) {
		f := setup(t)
		a := f.account("acct-step4-personal", ports.Personal, true)
		require.Equal(t, []cancellation.DocumentKind{cancellation.DocumentPassport, cancellation.DocumentDriversLicence},
			cancellation.RequiredDocuments(a))
		r := f.untilVerified(a.ID)
		before := f.storedJSON(r.ID())
		_, err := f.upload(r, cancellation.DocumentBusinessLicence, colourScan())
		require.ErrorIs(t, err, cancellation.ErrWrongDocumentKind)
		f.requireUnchanged(r.ID(), before)
		require.Zero(t, f.kit.Documents.Len())

		doc, err := f.upload(r, cancellation.DocumentDriversLicence, colourScan())
		require.NoError(t, err)
		require.Equal(t, cancellation.DocumentDriversLicence, doc.Kind)
		require.Equal(t, cancellation.FormatJPEG, doc.Facts.Format)
		require.Equal(t, [2]int{640, 480}, [2]int{doc.Facts.Width, doc.Facts.Height})
		blob, err := f.kit.Documents.GetDocument(f.ctx, doc.Key)
		require.NoError(t, err)
		require.Equal(t, colourScan(), blob, "the blob is in the DocumentStore")
		ct, _ := f.kit.Documents.ContentType(doc.Key)
		require.Equal(t, "image/jpeg", ct)
		require.Equal(t, cancellation.StateDocumentsUploaded, f.stored(r.ID()).State())

		_, got, err := f.svc.ReviewDocument(f.ctx, staff, r.ID(), cancellation.DocumentDriversLicence)
		require.NoError(t, err)
		require.Equal(t, colourScan(), got)
		f.submit(r)
	})

	t.Run("EnterpriseBusinessLicence", func(t *testing.T) {
		f := setup(t)
		a := f.account("acct-step4-enterprise", ports.Enterprise, true)
		require.Equal(t, []cancellation.DocumentKind{cancellation.DocumentBusinessLicence}, cancellation.RequiredDocuments(a))
		r := f.untilVerified(a.ID)
		for _, k := range []cancellation.DocumentKind{cancellation.DocumentPassport, cancellation.DocumentDriversLicence} {
			_, err := f.upload(r, k, colourScan())
			require.ErrorIs(t, err, cancellation.ErrWrongDocumentKind)
		}
		_, err := f.upload(r, cancellation.DocumentBusinessLicence, colourScan())
		require.NoError(t, err)
		f.submit(r)
	})

	t.Run("UnverifiedGoesStraightToReview", func(t *testing.T) {
		f := setup(t)
		a := f.personal("acct-step4-unverified")
		require.Empty(t, cancellation.RequiredDocuments(a))
		r := f.untilVerified(a.ID)
		_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
		require.ErrorIs(t, err, cancellation.ErrDocumentsNotRequired)
		require.Zero(t, f.kit.Documents.Len())
		r = f.submit(r)
		require.NotContains(t, eventTypes(r.History()), cancellation.EventDocumentsUploaded)
	})

	t.Run("VerifiedMustUpload", func(t *testing.T) {
		f := setup(t)
		a := f.account("acct-step4-must", ports.Personal, true)
		r := f.untilVerified(a.ID)
		_, err := f.svc.Submit(f.ctx, a.ID, r.ID())
		requireTransition(t, err, cancellation.StatePhoneVerified, cancellation.StateInReview)
	})

	t.Run("RefusedFiles", func(t *testing.T) {
		scan := colourScan()
		f := setup(t, func(c *cancellation.Config) { c.DocumentPolicy.Limits.MaxBytes = int64(len(scan)) })
		a := f.account("acct-step4-refused", ports.Personal, true)
		r := f.untilVerified(a.ID)
		before := f.storedJSON(r.ID())
		for _, tc := range []struct {
			name string
			body []byte
			want cancellation.DocumentProblem
		}{
			{"Empty", nil, cancellation.DocumentEmpty},
			{"TooLarge", append(append([]byte(nil), scan...), 0), cancellation.DocumentTooLarge},
			{"PDF", docfixtures.PDF(), cancellation.DocumentUnsupportedFormat},
			{"RandomBytes", []byte(strings.Repeat("\x13\x37 not an image ", 64)), cancellation.DocumentUnsupportedFormat},
			{"DecompressionBomb", docfixtures.BombPNG(50000, 50000), cancellation.DocumentTooManyPixels},
		} {
			_, err := f.upload(r, cancellation.DocumentPassport, tc.body)
			require.ErrorIs(t, err, cancellation.ErrDocumentRejected, tc.name)
			var de *cancellation.DocumentError
			require.ErrorAs(t, err, &de, tc.name)
			require.Equal(t, tc.want, de.Problem, tc.name)
			f.requireUnchanged(r.ID(), before)
			require.Zero(t, f.kit.Documents.Len(), tc.name)
		}
		_, err := f.upload(r, cancellation.DocumentPassport, scan)
		require.NoError(t, err, "a file of exactly MaxBytes is accepted")
	})

	t.Run("NotColour", func(t *testing.T) {
		f := setup(t)
		a := f.account("acct-step4-grey", ports.Personal, true)
		r := f.untilVerified(a.ID)
		before := f.storedJSON(r.ID())
		card := docfixtures.ColourIDCard(1200, 800)
		for name, scan := range map[string][]byte{
			"greyscale":       docfixtures.JPEG(docfixtures.Greyscale(card), 90),
			"sepia photocopy": docfixtures.JPEG(docfixtures.Tinted(docfixtures.Greyscale(card), color.RGBA{R: 112, G: 66, B: 20, A: 255}), 90),
		} {
			_, err := f.upload(r, cancellation.DocumentPassport, scan)
			var de *cancellation.DocumentError
			require.ErrorAs(t, err, &de, name)
			require.Equal(t, cancellation.DocumentNotColour, de.Problem, name)
			require.Contains(t, de.Error(), "not in colour", name)
		}
		f.requireUnchanged(r.ID(), before)
		require.Zero(t, f.kit.Documents.Len())
	})

	t.Run("SameFileTwiceRecognised", func(t *testing.T) {
		f := setup(t)
		a := f.account("acct-step4-dup", ports.Personal, true)
		r := f.untilVerified(a.ID)
		first, err := f.upload(r, cancellation.DocumentPassport, colourScan())
		require.NoError(t, err)
		second, err := f.upload(r, cancellation.DocumentDriversLicence, colourScan())
		require.NoError(t, err)
		require.Equal(t, first.Facts.SHA256, second.Facts.SHA256)
		require.Equal(t, cancellation.DocumentPassport, second.Duplicate)
		require.Equal(t, "passport", lastEvent(f.stored(r.ID())).Data["duplicate_of"])

		// Uploading a kind again replaces the earlier document and its blob.
		other := docfixtures.PNG(docfixtures.ColourIDCard(800, 500))
		third, err := f.upload(r, cancellation.DocumentPassport, other)
		require.NoError(t, err)
		require.Empty(t, third.Duplicate)
		docs := f.stored(r.ID()).Documents()
		require.Len(t, docs, 3, "the replaced document stays on record for the purge")
		require.Equal(t, first.Key, docs[0].Key)
		require.False(t, docs[0].ReplacedAt.IsZero())
		require.ElementsMatch(t, []string{second.Key, third.Key}, f.kit.Documents.Keys())

		// The same file uploaded again for the same kind is recognised too.
		fourth, err := f.upload(r, cancellation.DocumentPassport, other)
		require.NoError(t, err)
		require.Equal(t, cancellation.DocumentPassport, fourth.Duplicate)
	})

	t.Run("BufferedUploadsBounded", func(t *testing.T) {
		// Reading holds no inspection slot (see
		// TestUploadDocument_StalledReadersDoNotBlockOtherUploads); what
		// bounds the bodies in memory is MaxBufferedUploads.
		f := setup(t, func(c *cancellation.Config) { c.DocumentPolicy.MaxBufferedUploads = 1 })
		a := f.account("acct-step4-busy", ports.Personal, true)
		b := f.account("acct-step4-wait", ports.Personal, true)
		ra, rb := f.untilVerified(a.ID), f.untilVerified(b.ID)

		// The first upload holds the only buffer slot while its body is
		// read slowly.
		pr, pw := io.Pipe()
		first := make(chan error, 1)
		go func() {
			_, err := f.svc.UploadDocument(f.ctx, a.ID, ra.ID(), cancellation.DocumentPassport, pr)
			first <- err
		}()
		_, err := pw.Write(colourScan()[:1024])
		require.NoError(t, err) // the first upload is reading: it holds the slot

		ctx, cancel := context.WithTimeout(f.ctx, 50*time.Millisecond)
		defer cancel()
		_, err = f.svc.UploadDocument(ctx, b.ID, rb.ID(), cancellation.DocumentPassport, bytes.NewReader(colourScan()))
		require.ErrorIs(t, err, context.DeadlineExceeded, "the second upload waits for the slot")
		require.Equal(t, cancellation.StatePhoneVerified, f.stored(rb.ID()).State())

		_, err = pw.Write(colourScan()[1024:])
		require.NoError(t, err)
		require.NoError(t, pw.Close())
		require.NoError(t, <-first)
		_, err = f.upload(rb, cancellation.DocumentPassport, colourScan())
		require.NoError(t, err, "the slot is free again")
	})

	t.Run("ReplacedDocumentPurgedEvenIfItsDeleteFailed", func(t *testing.T) {
		var failDelete atomic.Bool
		f := setup(t, func(c *cancellation.Config) {
			c.DocumentPolicy.Retention = 24 * time.Hour
			c.Documents = deleteFailer{DocumentStore: c.Documents, fail: &failDelete}
		})
		a := f.account("acct-step4-replace", ports.Personal, true)
		r := f.untilVerified(a.ID)
		first, err := f.upload(r, cancellation.DocumentPassport, colourScan())
		require.NoError(t, err)
		failDelete.Store(true)
		_, err = f.upload(r, cancellation.DocumentPassport, docfixtures.PNG(docfixtures.ColourIDCard(800, 500)))
		require.NoError(t, err, "the failed delete of the replaced blob does not fail the upload")
		require.Contains(t, f.kit.Documents.Keys(), first.Key)

		failDelete.Store(false)
		_, err = f.svc.Withdraw(f.ctx, a.ID, r.ID())
		require.NoError(t, err)
		f.clock.Advance(24 * time.Hour)
		f.maintain()
		require.Zero(t, f.kit.Documents.Len(), "the purge deletes the replaced blob too")
	})

	t.Run("PurgedAfterFinalDecisionAndRetention", func(t *testing.T) {
		f := setup(t, func(c *cancellation.Config) { c.DocumentPolicy.Retention = 48 * time.Hour })
		a := f.account("acct-step4-purge", ports.Personal, true)
		r := f.toReview(a.ID)
		require.Equal(t, 1, f.kit.Documents.Len())
		f.clock.Advance(24 * time.Hour)
		f.maintain()
		require.Equal(t, 1, f.kit.Documents.Len(), "documents stay while the review runs")

		r = f.approve(r)
		require.Equal(t, cancellation.StateCancelled, r.State())
		f.clock.Advance(48*time.Hour - time.Second)
		f.maintain()
		require.Equal(t, 1, f.kit.Documents.Len(), "documents stay for the retention period")

		f.clock.Advance(time.Second)
		rep := f.maintain()
		require.Equal(t, 1, rep.EffectsDone)
		require.Zero(t, f.kit.Documents.Len())
		stored := f.stored(r.ID())
		require.Equal(t, cancellation.StateCancelled, stored.State())
		require.Equal(t, f.clock.Now(), stored.Documents()[0].PurgedAt)
		require.Equal(t, 1, countEvents(stored.History(), cancellation.EventDocumentsPurged))
		_, _, err := f.svc.ReviewDocument(f.ctx, staff, r.ID(), cancellation.DocumentPassport)
		require.ErrorIs(t, err, cancellation.ErrNotFound)
		require.Empty(t, stored.PendingEffects())
	})
}

// reviewFixture adds n unverified accounts and takes one request each into
// review, a day apart.
func reviewFixture(t *testing.T, f *fixture, n int) []*cancellation.Request {
	t.Helper()
	var rs []*cancellation.Request
	for i := range n {
		a := f.personal(ports.AccountID("acct-review-" + string(rune('a'+i))))
		rs = append(rs, f.toReview(a.ID))
		f.clock.Advance(24 * time.Hour)
	}
	return rs
}

func TestStep5_ReviewDueInThreeBusinessDays(t *testing.T) {
	t.Parallel()

	t.Run("DueDateSkipsWeekendAndHoliday", func(t *testing.T) {
		holiday := time.Date(2025, time.March, 10, 0, 0, 0, 0, time.UTC) // Monday
		f := setup(t, func(c *cancellation.Config) { c.Calendar = cancellation.NewCalendar(time.UTC, holiday) })
		thursday := time.Date(2025, time.March, 6, 10, 30, 0, 0, time.UTC)
		f.clock.Set(thursday)
		r := f.toReview(f.personal("acct-step5-due").ID)
		// Friday, (weekend), (holiday), Tuesday, Wednesday.
		require.Equal(t, time.Date(2025, time.March, 12, 10, 30, 0, 0, time.UTC), r.DueAt())
		require.Equal(t, thursday, r.SubmittedAt())
		require.Equal(t, r.DueAt().Format(time.RFC3339), lastEvent(r).Data["due_at"])

		plain := newFixture(t)
		plain.clock.Set(thursday)
		r = plain.toReview(plain.personal("acct-step5-plain").ID)
		require.Equal(t, time.Date(2025, time.March, 11, 10, 30, 0, 0, time.UTC), r.DueAt())
	})

	t.Run("QueueOverdueFirst", func(t *testing.T) {
		f := setup(t)
		rs := reviewFixture(t, f, 3)                                       // submitted Monday, Tuesday, Wednesday
		f.clock.Set(time.Date(2025, time.March, 6, 12, 0, 0, 0, time.UTC)) // Thursday noon: the first is due at 9
		q, err := f.svc.Queue(f.ctx, staff, 10, 0)
		require.NoError(t, err)
		require.Len(t, q, 3)
		var got []string
		for _, it := range q {
			got = append(got, it.Request.ID())
		}
		require.Equal(t, []string{rs[0].ID(), rs[1].ID(), rs[2].ID()}, got)
		require.Equal(t, []bool{true, false, false}, []bool{q[0].Overdue, q[1].Overdue, q[2].Overdue})

		own := f.staffMember("rev-b", ports.RoleSenior, rs[1].Account())
		q, err = f.svc.Queue(f.ctx, own, 10, 0)
		require.NoError(t, err)
		require.Len(t, q, 2, "a reviewer does not see their own account's request")
		_, err = f.svc.Queue(f.ctx, cancellation.Reviewer{}, 10, 0)
		require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	})

	t.Run("OverdueFlaggedOnce", func(t *testing.T) {
		f := setup(t)
		r := f.toReview(f.personal("acct-step5-overdue").ID)
		f.clock.Set(r.DueAt())
		require.Zero(t, f.maintain().Overdue, "due is not overdue")
		f.clock.Advance(time.Minute)
		require.Equal(t, 1, f.maintain().Overdue)
		f.clock.Advance(time.Hour)
		require.Zero(t, f.maintain().Overdue)
		stored := f.stored(r.ID())
		require.Equal(t, 1, countEvents(stored.History(), cancellation.EventReviewOverdue))
		require.True(t, stored.Overdue(f.clock.Now()))
		require.Equal(t, cancellation.StateInReview, stored.State())
	})

	t.Run("RejectWithReasonCodes", func(t *testing.T) {
		f := setup(t)
		a := f.personal("acct-step5-reject")
		r := f.toReview(a.ID)
		r, err := f.svc.Reject(f.ctx, staff, r.ID(),
			[]cancellation.ReasonCode{cancellation.ReasonDocumentsIllegible, cancellation.ReasonOther}, "photo is blurred")
		require.NoError(t, err)
		require.Equal(t, cancellation.StateRejected, r.State())
		d, ok := r.Decision()
		require.True(t, ok)
		require.Equal(t, cancellation.Decision{
			Approved: false, Actor: cancellation.Actor{Kind: cancellation.ActorReviewer, ID: staff.ID},
			Reasons: []cancellation.ReasonCode{cancellation.ReasonDocumentsIllegible, cancellation.ReasonOther},
			Note:    "photo is blurred", At: t0,
		}, d)
		require.Equal(t, "documents_illegible,other", lastOf(t, r, cancellation.EventRejected).Data["reasons"])
		require.False(t, f.closed(a.ID))
		f.start(a.ID) // the customer may apply again
	})

	t.Run("ErrInvalidInput", func(t *testing.T) {
		f := setup(t)
		r := f.toReview(f.personal("acct-step5-invalid").ID)
		before := f.storedJSON(r.ID())
		for name, tc := range map[string]struct {
			reasons []cancellation.ReasonCode
			note    string
		}{
			"UnknownReason": {[]cancellation.ReasonCode{"because"}, "x"},
			"NoReasons":     {nil, "x"},
			"OtherNoNote":   {[]cancellation.ReasonCode{cancellation.ReasonOther}, "  "},
		} {
			_, err := f.svc.Reject(f.ctx, staff, r.ID(), tc.reasons, tc.note)
			require.ErrorIs(t, err, cancellation.ErrInvalidInput, name)
			var ve *cancellation.ValidationError
			require.ErrorAs(t, err, &ve, name)
		}
		_, err := f.svc.Approve(f.ctx, cancellation.Reviewer{}, r.ID(), "")
		require.ErrorIs(t, err, cancellation.ErrInvalidInput)
		f.requireUnchanged(r.ID(), before)
	})

	t.Run("ErrSelfReview", func(t *testing.T) {
		f := setup(t)
		r := f.toReview(f.personal("acct-step5-self").ID)
		before := f.storedJSON(r.ID())
		self := f.staffMember("rev-self", ports.RoleSenior, r.Account())
		_, err := f.svc.Approve(f.ctx, self, r.ID(), "")
		require.ErrorIs(t, err, cancellation.ErrSelfReview)
		_, err = f.svc.Reject(f.ctx, self, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
		require.ErrorIs(t, err, cancellation.ErrSelfReview)
		f.requireUnchanged(r.ID(), before)
		require.False(t, f.closed(r.Account()))
	})

	t.Run("ResultBySecurePhoneOrEmail", func(t *testing.T) {
		f := setup(t)
		rs := reviewFixture(t, f, 2)
		_, err := f.svc.Reject(f.ctx, staff, rs[0].ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
		require.NoError(t, err)
		// The signed receipt goes by email beside the SMS (receipt.go).
		require.ElementsMatch(t, []string{"review_rejected/sms/" + phoneFor(rs[0].Account()), "receipt/email/" + string(rs[0].Account()) + "@example.com"}, sentTo(f.kit.Notifier))

		// The customer removed the secure phone after verifying it: the
		// result goes to the email address on file.
		a, err := f.platform.Account(f.ctx, rs[1].Account())
		require.NoError(t, err)
		a.RecoveryPhone = ""
		f.platform.AddAccount(a)
		_, err = f.svc.Reject(f.ctx, staff, rs[1].ID(), []cancellation.ReasonCode{cancellation.ReasonSuspectedEvasion}, "")
		require.NoError(t, err)
		require.Equal(t, "review_rejected/email/"+a.Email, sentTo(f.kit.Notifier)[2])
		require.Len(t, f.kit.Notifier.Sent(), 3, "the emailed result carries the receipt: no email of its own")
		n := f.kit.Notifier.Sent()[2]
		require.Len(t, n.Attachments, 1)
		require.Equal(t, rs[1].ID(), n.Data["request_id"])
		require.Equal(t, "suspected_evasion", n.Data["reasons"])
		require.Equal(t, "en", n.Locale)
	})
}

func TestStep5_ApprovalReevaluatesEligibility(t *testing.T) {
	closer := mocks.NewMockAccountCloser(mockController(t))
	closer.EXPECT().CloseAccount(gomock.Any(), gomock.Any(), gomock.Any()).Times(0)
	f := setup(t, func(c *cancellation.Config) { c.Closer = closer })
	a := f.personal("acct-step5-recheck")
	r := f.toReview(a.ID)

	f.platform.AddAPIKey(a.ID, ports.APIKey{ID: "AKID-new", Label: "created during review"})
	r, err := f.svc.Approve(f.ctx, staff, r.ID(), "ok")
	rep := requireNotEligible(t, err)
	require.Equal(t, []string{cancellation.RuleAPIKeys}, findingRules(rep.Blocked()))
	require.NotNil(t, r, "the rejected request comes back with the error")
	require.Equal(t, cancellation.StateRejected, r.State())
	d, ok := r.Decision()
	require.True(t, ok)
	require.False(t, d.Approved)
	require.Equal(t, []cancellation.ReasonCode{cancellation.ReasonNotEligible}, d.Reasons)
	require.Equal(t, cancellation.ActorSystem, d.Actor.Kind)
	require.Contains(t, d.Note, cancellation.RuleAPIKeys)
	require.NotContains(t, eventTypes(r.History()), cancellation.EventApproved)
	require.Equal(t, cancellation.StateRejected, f.stored(r.ID()).State())
	require.False(t, f.closed(a.ID), "the account stays open")
	require.ElementsMatch(t, []string{"review_rejected/sms/" + a.RecoveryPhone, "receipt/email/" + a.Email}, sentTo(f.kit.Notifier))

	_, err = f.svc.Start(f.ctx, a.ID)
	require.ErrorIs(t, err, cancellation.ErrNotEligible)
	f.platform.DeleteAPIKeys(a.ID)
	f.start(a.ID)
}

func TestStep6_CancelledDisablesLoginAndNotifiesBySMSAndEmail(t *testing.T) {
	ctrl := mockController(t)
	notifier := mocks.NewMockNotifier(ctrl)
	closer := mocks.NewMockAccountCloser(ctrl)
	f := setup(t, func(c *cancellation.Config) { c.Notifier, c.Closer = notifier, closer })
	a := f.account("acct-step6", ports.Personal, true)
	r := f.toReview(a.ID)

	closer.EXPECT().CloseAccount(gomock.Any(), a.ID, r.ID()+"/close_account").
		DoAndReturn(f.platform.CloseAccount).Times(1)
	var got []ports.Notification
	var mu sync.Mutex // a Notifier must be safe for concurrent use: effects run at once
	record := func(_ context.Context, n ports.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, n)
		return nil
	}
	notifier.EXPECT().Notify(gomock.Any(), notification{"review_approved", ports.ChannelSMS}).DoAndReturn(record).Times(1)
	notifier.EXPECT().Notify(gomock.Any(), notification{"cancelled", ports.ChannelSMS}).DoAndReturn(record).Times(1)
	notifier.EXPECT().Notify(gomock.Any(), notification{"cancelled", ports.ChannelEmail}).DoAndReturn(record).Times(1)

	r = f.approve(r)
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.True(t, r.State().Terminal())
	require.True(t, f.closed(a.ID), "login is disabled")
	for _, e := range r.PendingEffects() {
		require.Equal(t, cancellation.EffectPurgeDocuments, e.Kind, "only the documents' deletion waits")
	}
	for _, n := range got {
		want := a.RecoveryPhone
		if n.Channel == ports.ChannelEmail {
			want = a.Email
		}
		require.Equal(t, want, n.To)
		require.Equal(t, a.ID, n.Account)
	}
	h := eventTypes(r.History())
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventApproved))
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventCancelled))
	require.Equal(t, 4, countEvents(r.History(), cancellation.EventEffectDone), "three notifications and the close")
	require.Less(t, slices.Index(h, cancellation.EventApproved), slices.Index(h, cancellation.EventCancelled))

	before := f.storedJSON(r.ID())
	c, _ := r.Confirmation()
	for name, op := range map[string]func() error{
		"Confirm":    func() error { _, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), c); return err },
		"Consent":    func() error { _, err := f.svc.Consent(f.ctx, a.ID, r.ID(), nil); return err },
		"SendCode":   func() error { _, err := f.svc.SendCode(f.ctx, a.ID, r.ID()); return err },
		"VerifyCode": func() error { _, err := f.svc.VerifyCode(f.ctx, a.ID, r.ID(), "123456"); return err },
		"Upload":     func() error { _, err := f.upload(r, cancellation.DocumentPassport, colourScan()); return err },
		"Submit":     func() error { _, err := f.svc.Submit(f.ctx, a.ID, r.ID()); return err },
		"Withdraw":   func() error { _, err := f.svc.Withdraw(f.ctx, a.ID, r.ID()); return err },
		"Approve":    func() error { _, err := f.svc.Approve(f.ctx, staff, r.ID(), ""); return err },
		"Reject": func() error {
			_, err := f.svc.Reject(f.ctx, staff, r.ID(), []cancellation.ReasonCode{cancellation.ReasonOther}, "restore it")
			return err
		},
	} {
		err := op()
		require.ErrorIs(t, err, cancellation.ErrInvalidTransition, name)
		var te *cancellation.TransitionError
		require.ErrorAs(t, err, &te, name)
		require.Equal(t, cancellation.StateCancelled, te.From, name)
		f.requireUnchanged(r.ID(), before)
	}
	_, err := f.svc.Start(f.ctx, a.ID)
	require.ErrorIs(t, err, cancellation.ErrAccountClosed)
	require.Equal(t, 1, f.requestCount(a.ID))

	// Maintenance after the end sends nothing more (the mocks would fail).
	f.clock.Advance(60 * 24 * time.Hour)
	f.maintain()
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
	require.Zero(t, f.kit.Documents.Len(), "the documents are purged after the retention")
}

// deleteFailer fails DeleteDocument while fail is set.
type deleteFailer struct {
	ports.DocumentStore
	fail *atomic.Bool
}

func (d deleteFailer) DeleteDocument(ctx context.Context, key string) error {
	if d.fail.Load() {
		return errors.New("blob store down")
	}
	return d.DocumentStore.DeleteDocument(ctx, key)
}

// TestStep4_UploadInterruptedBeforeItIsRecordedIsPurged: the blob of an
// upload whose recording never happens (the process died, or the Store
// failed, after PutDocument) is deleted by the purge all the same.
func TestStep4_UploadInterruptedBeforeItIsRecordedIsPurged(t *testing.T) {
	var failDelete atomic.Bool
	var failUpdates atomic.Int32
	failUpdates.Store(1) // pass
	f := setup(t, func(c *cancellation.Config) {
		c.DocumentPolicy.Retention = 24 * time.Hour
		c.Documents = deleteFailer{DocumentStore: c.Documents, fail: &failDelete}
		c.Store = updateFailer{Store: c.Store, fail: &failUpdates}
	})
	a := f.account("acct-step4-crash", ports.Personal, true)
	r := f.untilVerified(a.ID)

	// The reservation is written, the blob stored, then the write that
	// records the document fails and so does the clean-up: as if the
	// process had died between them.
	failDelete.Store(true)
	failUpdates.Store(-1) // let one Update (the reservation) through, then fail one
	_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
	require.Error(t, err)
	require.Equal(t, 1, f.kit.Documents.Len(), "an unrecorded blob is left behind")
	require.Empty(t, f.stored(r.ID()).Documents())

	failDelete.Store(false)
	_, err = f.svc.Withdraw(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	f.clock.Advance(24 * time.Hour)
	f.maintain()
	require.Zero(t, f.kit.Documents.Len(), "the purge deletes the unrecorded blob")
}

// updateFailer passes Store.Update through while fail is positive, or
// negative (counting it up to 0); at 0 it fails one Update, then passes.
type updateFailer struct {
	cancellation.Store
	fail *atomic.Int32
}

func (u updateFailer) Update(ctx context.Context, r *cancellation.Request) error {
	switch n := u.fail.Load(); {
	case n < 0:
		u.fail.Add(1)
	case n == 0 && u.fail.CompareAndSwap(0, 1):
		return errors.New("store unavailable")
	}
	return u.Store.Update(ctx, r)
}
