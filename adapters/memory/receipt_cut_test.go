package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// TestReceipt_DetectsHistoryCutShortAndRequestRolledBackInTheStore plays
// someone with write access to the store who, after a request was
// cancelled (seed step 6) and its receipt issued, drops the newest events
// and puts back the request as it was in review: the Service reads a
// consistent request, so only the receipt the customer holds shows the cut.
func TestReceipt_DetectsHistoryCutShortAndRequestRolledBackInTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kit := NewKit(time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC))
	kit.Staff.Put(ports.StaffMember{ID: "rev-1", Roles: []ports.Role{ports.RoleSenior}}) // decides without a claim
	svc, err := cancellation.New(kit.Config())
	if err != nil {
		t.Fatal(err)
	}
	acct := ports.AccountID("acct-cut")
	kit.Platform.AddAccount(ports.Account{ID: acct, Kind: ports.Personal, RecoveryPhone: "+15550001", Email: "cut@example.com"})
	r := toReview(t, svc, kit, acct)

	kit.Store.mu.RLock()
	before := *kit.Store.rows[r.ID()] // the row in review
	before.req = before.req.Clone()   // the approval writes over the one kept
	kept := len(*before.events)
	kit.Store.mu.RUnlock()

	done, err := svc.Approve(ctx, cancellation.Reviewer{ID: "rev-1"}, r.ID(), "")
	if err != nil || done.State() != cancellation.StateCancelled {
		t.Fatalf("approve: %v, %s", err, done.State())
	}
	token, ok := done.Receipt()
	if !ok {
		t.Fatal("no receipt")
	}
	if _, err := svc.AuditReceipt(ctx, token); err != nil {
		t.Fatalf("intact history: %v", err)
	}

	// The cut: the newest events dropped, the row rolled back.
	s := kit.Store
	s.mu.Lock()
	cur := s.rows[r.ID()]
	*cur.events = (*cur.events)[:kept]
	s.reindex(cur, &before)
	s.rows[r.ID()] = &before
	s.mu.Unlock()

	got, err := svc.Get(ctx, acct, r.ID())
	if err != nil || got.State() != cancellation.StateInReview {
		t.Fatalf("the rolled-back request reads as consistent (%v, %v): the chain alone cannot tell", got, err)
	}
	_, err = svc.AuditReceipt(ctx, token)
	if !errors.Is(err, cancellation.ErrCorrupt) {
		t.Fatalf("AuditReceipt after the cut = %v, want ErrCorrupt", err)
	}
}

// toReview takes a new request of acct through steps 1 to 5 up to review.
func toReview(t *testing.T, svc *cancellation.Service, kit *Kit, acct ports.AccountID) *cancellation.Request {
	t.Helper()
	ctx := context.Background()
	r, err := svc.Start(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.CheckEligibility(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Confirm(ctx, acct, r.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendCode(ctx, acct, r.ID()); err != nil {
		t.Fatal(err)
	}
	acctInfo, _ := kit.Platform.Account(ctx, acct)
	code, _ := kit.OTP.LastCode(acctInfo.RecoveryPhone)
	if _, err := svc.VerifyCode(ctx, acct, r.ID(), code); err != nil {
		t.Fatal(err)
	}
	r, err = svc.Submit(ctx, acct, r.ID())
	if err != nil {
		t.Fatal(err)
	}
	return r
}
