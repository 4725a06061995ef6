package cancellation_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// The back office lists the effects that keep failing and an admin
// retries one once the port is back.
func ExampleService_StuckEffects() {
	ctx := context.Background()
	svc, kit := exampleService()
	kit.Staff.Put(ports.StaffMember{ID: "ada", Name: "Ada", Roles: []ports.Role{ports.RoleAdmin}})
	acct := memory.AccountEligible

	// A request approved while the account closer is down.
	req := exampleInReview(ctx, svc, kit, acct, "+15550100001")
	kit.Platform.SetOutage(memory.PortAccountCloser, errors.New("closer: 503"))
	req, _ = svc.Approve(ctx, cancellation.Reviewer{ID: memory.DemoSenior}, req.ID(), "") // a senior decides without a claim
	fmt.Println(req.State())

	// A day of failing later, it is stuck.
	kit.Clock.Advance(cancellation.DefaultAttentionAfter)
	rep, _ := svc.RunMaintenance(ctx)
	fmt.Println("stuck:", rep.EffectsStuck)
	admin := cancellation.Reviewer{ID: "ada"}
	page, err := svc.StuckEffects(ctx, admin, cancellation.StuckOptions{})
	if err != nil {
		panic(err)
	}
	for _, e := range page.Effects {
		fmt.Println(e.Kind, e.Attempts, "attempts:", e.LastError)
	}

	// The closer is back: retry now rather than wait for the backoff.
	kit.Platform.SetOutage(memory.PortAccountCloser, nil)
	req, err = svc.RetryEffect(ctx, admin, page.Effects[0].RequestID, page.Effects[0].Key)
	if err != nil {
		panic(err)
	}
	fmt.Println(req.State())
	page, _ = svc.StuckEffects(ctx, admin, cancellation.StuckOptions{})
	fmt.Println("stuck:", len(page.Effects))
	// Output:
	// approved
	// stuck: 1
	// close_account 2 attempts: closer: 503
	// cancelled
	// stuck: 0
}

// exampleInReview takes a demo account without identity verification,
// whose recovery phone is phone, to review.
func exampleInReview(ctx context.Context, svc *cancellation.Service, kit *memory.Kit, acct ports.AccountID, phone string) *cancellation.Request {
	req, _ := svc.Start(ctx, acct)
	req, _ = svc.Confirm(ctx, acct, req.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	})
	_, _ = svc.SendCode(ctx, acct, req.ID())
	code, _ := kit.OTP.LastCode(phone)
	req, _ = svc.VerifyCode(ctx, acct, req.ID(), code)
	req, _ = svc.Submit(ctx, acct, req.ID())
	return req
}
