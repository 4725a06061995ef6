package cancellation_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// receiptKey is the public key of the kit's receipt signing key.
func (f *fixture) receiptKey() cancellation.ReceiptKey { return f.kit.ReceiptKey.Public() }

// receiptOf returns r's receipt, verified with the kit's public key.
func (f *fixture) receiptOf(r *cancellation.Request) (string, cancellation.Receipt) {
	f.t.Helper()
	token, ok := r.Receipt()
	require.True(f.t, ok, "request %s (%s) has no receipt", r.ID(), r.State())
	rc, err := cancellation.VerifyReceipt(token, f.receiptKey())
	require.NoError(f.t, err)
	return token, rc
}

// receiptMail returns the email sent for request id with the receipt
// attached.
func (f *fixture) receiptMail(id string) (ports.Notification, bool) {
	for _, n := range f.kit.Notifier.Sent() {
		if len(n.Attachments) > 0 && n.Data[cancellation.DataRequestID] == id {
			return n, true
		}
	}
	return ports.Notification{}, false
}

// withdrawn starts a request for a new personal account id and withdraws
// it at once.
func (f *fixture) withdrawn(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	f.personal(id)
	r, err := f.svc.Withdraw(f.ctx, id, f.start(id).ID())
	require.NoError(f.t, err)
	return r
}

// cancelImmediately takes a new request of account id through the six
// steps to StateCancelled (immediate closing).
func (f *fixture) cancelImmediately(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	r := f.approve(f.toReview(id))
	require.Equal(f.t, cancellation.StateCancelled, r.State())
	return r
}

func TestReceipt_IssuedAtCancellation_StatesSixStepsNotesConsentsDecisionLoginDisabledAndChainHead(t *testing.T) {
	f := setup(t)
	f.account("acct-r1", ports.Personal, true)
	// A voucher is forfeited: a needs_consent finding, consented at step 2.
	f.platform.AddRight("acct-r1", ports.Right{Kind: ports.RightVoucher, Ref: "v-1", Description: "Voucher", Value: usd(500)})
	r := f.cancelImmediately("acct-r1")
	token, rc := f.receiptOf(r)

	require.Equal(t, r.ID(), rc.RequestID)
	require.Equal(t, ports.AccountID("acct-r1"), rc.Account)
	require.Equal(t, cancellation.StateCancelled, rc.Outcome)
	require.Equal(t, f.kit.ReceiptKey.ID, rc.KeyID)
	steps := rc.Steps
	for name, at := range map[string]time.Time{"started": steps.Started, "confirmed": steps.Confirmed, "phone_verified": steps.PhoneVerified,
		"documents_uploaded": steps.DocumentsUploaded, "submitted": steps.Submitted, "decided": steps.Decided, "ended": steps.Ended} {
		require.False(t, at.IsZero(), "step %s has no time", name)
	}
	require.Equal(t, r.CreatedAt(), steps.Started)
	require.Equal(t, r.SubmittedAt(), steps.Submitted)
	require.Equal(t, f.svc.Notes().Version, rc.NotesVersion)
	require.NotEmpty(t, rc.Consents)
	require.Equal(t, r.Consents(), rc.Consents)
	require.NotNil(t, rc.Decision)
	require.True(t, rc.Decision.Approved)
	require.Equal(t, cancellation.ActorReviewer, rc.Decision.By)
	require.False(t, rc.LoginDisabledAt.IsZero())
	require.Equal(t, r.ErasureDueAt(), rc.ErasureDueAt)

	// The head it names is the cancelled event of the stored history.
	h := f.history(r.ID())
	require.GreaterOrEqual(t, len(h), rc.HistoryHead.Seq)
	head := h[rc.HistoryHead.Seq-1]
	require.Equal(t, cancellation.EventCancelled, head.Type)
	require.Equal(t, head.Hash, rc.HistoryHead.Hash)
	require.Equal(t, f.kit.HistoryKey.ID, rc.HistoryHead.KeyID)
	require.NoError(t, rc.CheckHistory(h, f.kit.HistoryKey))

	// The customer gets it by email, attached, and can download it.
	mail, ok := f.receiptMail(r.ID())
	require.True(t, ok, "no receipt email")
	require.Equal(t, ports.ChannelEmail, mail.Channel)
	require.Equal(t, cancellation.TemplateCancelled, mail.Template, "the success email carries the receipt")
	require.Len(t, mail.Attachments, 1)
	require.Equal(t, cancellation.ReceiptMediaType, mail.Attachments[0].ContentType)
	require.Equal(t, token, string(mail.Attachments[0].Content))
	got, err := f.svc.Receipt(f.ctx, "acct-r1", r.ID())
	require.NoError(t, err)
	require.Equal(t, token, got)
	require.True(t, r.View().HasReceipt)
}

func TestReceipt_IssuedAtRejectionAndAtWithdrawal(t *testing.T) {
	f := setup(t)
	f.personal("acct-rej")
	f.personal("acct-wd")
	rejected, err := f.svc.Reject(f.ctx, staff, f.toReview("acct-rej").ID(), []cancellation.ReasonCode{cancellation.ReasonOther}, "internal note")
	require.NoError(t, err)
	_, rc := f.receiptOf(rejected)
	require.Equal(t, cancellation.StateRejected, rc.Outcome)
	require.False(t, rc.Decision.Approved)
	require.Equal(t, []cancellation.ReasonCode{cancellation.ReasonOther}, rc.Decision.Reasons)
	require.True(t, rc.LoginDisabledAt.IsZero(), "a rejected account's login was not disabled")
	mail, ok := f.receiptMail(rejected.ID())
	require.True(t, ok)
	require.Equal(t, cancellation.TemplateReceipt, mail.Template, "the result went by SMS: the receipt comes in an email of its own")
	require.Equal(t, string(cancellation.StateRejected), mail.Data[cancellation.DataOutcome])

	withdrawn, err := f.svc.Withdraw(f.ctx, "acct-wd", f.confirm(f.start("acct-wd")).ID())
	require.NoError(t, err)
	_, rc = f.receiptOf(withdrawn)
	require.Equal(t, cancellation.StateWithdrawn, rc.Outcome)
	require.Nil(t, rc.Decision)
	require.True(t, rc.Steps.Submitted.IsZero())
	require.False(t, rc.Steps.Confirmed.IsZero())
}

func TestReceipt_OpenRequestHasNoneAndOtherAccountsGetNotFound(t *testing.T) {
	f := setup(t)
	f.personal("acct-open")
	f.personal("acct-other")
	open := f.start("acct-open")
	_, err := f.svc.Receipt(f.ctx, "acct-open", open.ID())
	require.ErrorIs(t, err, cancellation.ErrNoReceipt)

	done, err := f.svc.Withdraw(f.ctx, "acct-open", open.ID())
	require.NoError(t, err)
	_, err = f.svc.Receipt(f.ctx, "acct-other", done.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound)
}

func TestReceipt_WithoutReceiptKey_NoneIssuedAndNewLogsAWarning(t *testing.T) {
	var logs bytes.Buffer
	f := setup(t, func(c *cancellation.Config) {
		c.ReceiptKey = nil
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	require.Contains(t, logs.String(), "ReceiptKey is not set")
	f.personal("acct-nokey")
	r, err := f.svc.Withdraw(f.ctx, "acct-nokey", f.start("acct-nokey").ID())
	require.NoError(t, err)
	_, ok := r.Receipt()
	require.False(t, ok)
	_, err = f.svc.Receipt(f.ctx, "acct-nokey", r.ID())
	require.ErrorIs(t, err, cancellation.ErrNoReceipt)
	_, sent := f.receiptMail(r.ID())
	require.False(t, sent)
}

func TestNew_RefusesMalformedReceiptKeys(t *testing.T) {
	t.Parallel()
	good := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	for name, c := range map[string]func(*cancellation.Config){
		"short private key": func(c *cancellation.Config) { c.ReceiptKey = &cancellation.ReceiptSigningKey{ID: "k1", Key: good[:10]} },
		"empty key id":      func(c *cancellation.Config) { c.ReceiptKey = &cancellation.ReceiptSigningKey{ID: "", Key: good} },
		"short public key":  func(c *cancellation.Config) { c.ReceiptKeys = []cancellation.ReceiptKey{{ID: "old", Key: []byte("x")}} },
		"one id, two keys": func(c *cancellation.Config) {
			c.ReceiptKey = &cancellation.ReceiptSigningKey{ID: "k1", Key: good}
			c.ReceiptKeys = []cancellation.ReceiptKey{{ID: "k1", Key: other.Public().(ed25519.PublicKey)}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := newFixture(t).cfg
			c(&cfg)
			_, err := cancellation.New(cfg)
			var ve *cancellation.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, err.Error(), "ReceiptKey")
		})
	}
}

func TestVerifyReceipt_RefusesAlteredUnknownKeyAndMalformedWithTypedErrors(t *testing.T) {
	f := setup(t)
	r := f.withdrawn("acct-v")
	token, _ := f.receiptOf(r)
	parts := strings.Split(token, ".")

	// An altered payload (another outcome) does not verify.
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	forged := strings.Replace(string(payload), `"withdrawn"`, `"cancelled"`, 1)
	require.NotEqual(t, string(payload), forged)
	_, err = cancellation.VerifyReceipt(parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(forged))+"."+parts[2], f.receiptKey())
	var re *cancellation.ReceiptError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, cancellation.ErrReceiptSignature)
	require.Equal(t, f.kit.ReceiptKey.ID, re.KeyID)

	// Another key under the same id does not verify it either.
	impostor := cancellation.ReceiptKey{ID: f.kit.ReceiptKey.ID, Key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)).Public().(ed25519.PublicKey)}
	_, err = cancellation.VerifyReceipt(token, impostor)
	require.ErrorIs(t, err, cancellation.ErrReceiptSignature)

	// No key of its id.
	_, err = cancellation.VerifyReceipt(token, cancellation.ReceiptKey{ID: "other", Key: impostor.Key})
	require.ErrorIs(t, err, cancellation.ErrReceiptUnknownKey)
	_, err = cancellation.VerifyReceipt(token)
	require.ErrorIs(t, err, cancellation.ErrReceiptUnknownKey)

	for _, bad := range []string{"", "a.b", "a.b.c", strings.Repeat("a", 65<<10), parts[0] + "." + parts[1] + "." + parts[2] + "=", "e30." + parts[1] + "." + parts[2]} {
		_, err = cancellation.VerifyReceipt(bad, f.receiptKey())
		require.ErrorIs(t, err, cancellation.ErrReceiptMalformed, "token %q", bad)
	}
}

func TestVerifyReceipt_AcceptsReceiptsOfARotatedOutKeyListedInReceiptKeys(t *testing.T) {
	f := setup(t)
	r := f.withdrawn("acct-rot")
	token, _ := f.receiptOf(r)

	newKey := cancellation.ReceiptSigningKey{ID: "receipt-2", Key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))}
	rotated := func(keep bool) *cancellation.Service {
		cfg := f.cfg
		cfg.ReceiptKey = &newKey
		cfg.ReceiptKeys = nil
		if keep {
			cfg.ReceiptKeys = []cancellation.ReceiptKey{f.receiptKey()}
		}
		svc, err := cancellation.New(cfg)
		require.NoError(t, err)
		return svc
	}
	rc, err := rotated(true).VerifyReceipt(token)
	require.NoError(t, err)
	require.Equal(t, r.ID(), rc.RequestID)
	_, err = rotated(false).VerifyReceipt(token)
	require.ErrorIs(t, err, cancellation.ErrReceiptUnknownKey)
}

func TestReceiptCheckHistory_DetectsAHistoryCutShortOrRewrittenAfterTheReceipt(t *testing.T) {
	f := setup(t)
	f.personal("acct-cut")
	r := f.cancelImmediately("acct-cut")
	_, rc := f.receiptOf(r)
	h := f.history(r.ID())
	require.NoError(t, rc.CheckHistory(h, f.kit.HistoryKey))

	// Cut just before the event the receipt names: the chain alone is
	// intact, the receipt is not satisfied.
	cut := h[:rc.HistoryHead.Seq-1]
	require.NoError(t, cancellation.VerifyHistory(cut, f.kit.HistoryKey))
	err := rc.CheckHistory(cut, f.kit.HistoryKey)
	require.ErrorIs(t, err, cancellation.ErrCorrupt)
	require.Contains(t, err.Error(), "cut short")

	// An intact chain of as many events that is not this one (another
	// request's, as a rewrite under the key would give) is refused.
	f.personal("acct-cut2")
	other := f.history(f.cancelImmediately("acct-cut2").ID())
	require.GreaterOrEqual(t, len(other), rc.HistoryHead.Seq)
	require.NoError(t, cancellation.VerifyHistory(other, f.kit.HistoryKey))
	err = rc.CheckHistory(other, f.kit.HistoryKey)
	require.ErrorIs(t, err, cancellation.ErrCorrupt)
	require.Contains(t, err.Error(), "rewritten")
}

func TestAuditReceipt_ReadsTheStoredHistoryAndPassesWhenIntact(t *testing.T) {
	f := setup(t)
	f.personal("acct-audit")
	r := f.cancelImmediately("acct-audit")
	token, _ := f.receiptOf(r)
	rc, err := f.svc.AuditReceipt(f.ctx, token)
	require.NoError(t, err)
	require.Equal(t, r.ID(), rc.RequestID)
	_, err = f.svc.AuditReceipt(f.ctx, token+"x")
	require.True(t, errors.Is(err, cancellation.ErrReceiptMalformed) || errors.Is(err, cancellation.ErrReceiptSignature))
}

func TestReceiptKeyPEM_RoundTripsWithItsIDAndRefusesOtherKeys(t *testing.T) {
	t.Parallel()
	pub := cancellation.ReceiptSigningKey{ID: "platform-1", Key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))}.Public()
	b, err := pub.PEM()
	require.NoError(t, err)
	require.Contains(t, string(b), "Key-Id: platform-1")
	got, err := cancellation.ParseReceiptKeyPEM(b, "")
	require.NoError(t, err)
	require.Equal(t, pub, got)
	got, err = cancellation.ParseReceiptKeyPEM(b, "renamed")
	require.NoError(t, err)
	require.Equal(t, "renamed", got.ID)

	var ve *cancellation.ValidationError
	noID := []byte(strings.Replace(string(b), "Key-Id: platform-1\n\n", "", 1))
	_, err = cancellation.ParseReceiptKeyPEM(noID, "")
	require.ErrorAs(t, err, &ve, "a key without an id")
	_, err = cancellation.ParseReceiptKeyPEM([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), "x")
	require.ErrorAs(t, err, &ve, "not an Ed25519 key")
	_, err = cancellation.ParseReceiptKeyPEM([]byte("nothing"), "x")
	require.ErrorAs(t, err, &ve)
	_, err = cancellation.ReceiptKey{ID: "", Key: pub.Key}.PEM()
	require.ErrorAs(t, err, &ve)
}

func TestReceipt_ScheduledClosingByDeferredMaintenance_LoginDisabledWhenTheCloseWasDone(t *testing.T) {
	f := setup(t, withMode(cancellation.CoolingOff(48*time.Hour)), func(c *cancellation.Config) { c.Effects = cancellation.EffectsDeferred })
	f.personal("acct-sched")
	r := f.approve(f.toReview("acct-sched"))
	require.Equal(t, cancellation.StateScheduled, r.State())
	_, has := r.Receipt()
	require.False(t, has, "no receipt before the request ends")

	f.clock.Set(r.ScheduledFor().Add(time.Minute))
	f.maintain() // begins closing: the close effect is claimed and done
	closeDone := f.clock.Now().UTC()
	f.clock.Advance(time.Minute)
	f.maintain() // carries out what the cancellation recorded
	done := f.stored(r.ID())
	require.Equal(t, cancellation.StateCancelled, done.State())
	_, rc := f.receiptOf(done)
	require.Equal(t, closeDone, rc.LoginDisabledAt)
	require.Equal(t, effect(t, done, r.ID()+"/close_account").DoneAt, rc.LoginDisabledAt)
	mail, ok := f.receiptMail(r.ID())
	require.True(t, ok, "the deferred success email carries the receipt")
	require.Equal(t, cancellation.TemplateCancelled, mail.Template)
	require.NoError(t, rc.CheckHistory(done.History(), f.kit.HistoryKey))
}
