package cancellation_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// A host asks whether an email or phone belonged to a recently closed
// account before letting it register again. Only keyed hashes are kept.
func ExampleService_RecentlyClosed() {
	ctx := context.Background()
	kit := memory.NewKit(time.Date(2026, time.November, 27, 9, 0, 0, 0, time.UTC))
	kit.Platform.AddAccount(ports.Account{ID: "acct-ada", Kind: ports.Personal, RecoveryPhone: "+15550100042", Email: "ada@example.com"})
	kit.Staff.SeedDemo()
	cfg := kit.Config()
	cfg.IdentifierKeys = []cancellation.IdentifierKey{{ID: "ids-2026", Secret: []byte("a secret of at least 32 random bytes!")}}
	svc, err := cancellation.New(cfg)
	if err != nil {
		panic(err)
	}
	req, _ := svc.Start(ctx, "acct-ada")
	req, _ = svc.Confirm(ctx, "acct-ada", req.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	})
	_, _ = svc.SendCode(ctx, "acct-ada", req.ID())
	code, _ := kit.OTP.LastCode("+15550100042")
	_, _ = svc.VerifyCode(ctx, "acct-ada", req.ID(), code)
	_, _ = svc.Submit(ctx, "acct-ada", req.ID())
	req, _ = svc.Approve(ctx, cancellation.Reviewer{ID: memory.DemoSenior}, req.ID(), "") // a senior decides without a claim
	fmt.Println(req.State())

	for _, id := range []string{"ADA@example.com", "+1 555 010 0042", "grace@example.com"} {
		closed, _ := svc.RecentlyClosed(ctx, id)
		fmt.Println(id, closed)
	}
	kit.Clock.Advance(cancellation.DefaultIdentifierRetention)
	rep, _ := svc.RunMaintenance(ctx)
	closed, _ := svc.RecentlyClosed(ctx, "ada@example.com")
	fmt.Println("after 180 days:", closed, "purged", rep.IdentifiersPurged)
	// Output:
	// cancelled
	// ADA@example.com true
	// +1 555 010 0042 true
	// grace@example.com false
	// after 180 days: false purged 2
}

// exampleOrganization is a Service whose organisation org-acme has n
// members, member-00 (its admin) to member-<n-1>, closed as mode says;
// grace and linus are seniors.
func exampleOrganization(n int, mode cancellation.MemberClosureMode) (*cancellation.Service, *memory.Kit, []ports.AccountID) {
	kit := memory.NewKit(time.Date(2026, time.November, 27, 9, 0, 0, 0, time.UTC))
	var members []ports.AccountID
	for i := range n {
		id := ports.AccountID(fmt.Sprintf("member-%02d", i))
		kit.Platform.AddAccount(ports.Account{ID: id, Kind: ports.Personal, RecoveryPhone: fmt.Sprintf("+155501000%02d", i), Email: string(id) + "@example.com"})
		kit.Organizations.Add("org-acme", id, i == 0)
		members = append(members, id)
	}
	kit.Staff.Put(ports.StaffMember{ID: "grace", Roles: []ports.Role{ports.RoleSenior}})
	kit.Staff.Put(ports.StaffMember{ID: "linus", Roles: []ports.Role{ports.RoleSenior}})
	cfg := kit.Config()
	cfg.Organizations = kit.Organizations
	cfg.MemberClosures = mode
	svc, err := cancellation.New(cfg)
	if err != nil {
		panic(err)
	}
	return svc, kit, members
}

// An organisation's admin starts closing member accounts; each member
// completes the steps of their own request. The quota (10% of the
// members per 30 days) refuses the excess with the date it frees up.
func ExampleService_CloseMembers() {
	ctx := context.Background()
	svc, _, members := exampleOrganization(20, cancellation.MemberSteps)
	out, err := svc.CloseMembers(ctx, "org-acme", "member-00", members[1:3])
	if err != nil {
		panic(err)
	}
	for _, m := range out {
		fmt.Println(m.Account, m.Request.State(), m.Request.Organization())
	}
	_, err = svc.CloseMembers(ctx, "org-acme", "member-00", members[3:4])
	var qe *cancellation.QuotaExceededError
	if errors.As(err, &qe) {
		fmt.Println("refused: admissible now", qe.Admissible, "of quota", qe.Limit, "; fits from", qe.FreesAt.Format("2 Jan 2006"))
	}
	// Output:
	// member-01 started org-acme
	// member-02 started org-acme
	// refused: admissible now 0 of quota 2 ; fits from 27 Dec 2026
}
