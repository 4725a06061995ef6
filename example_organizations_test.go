package cancellation_test

import (
	"context"
	"fmt"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// A host that has staff close an organisation's member accounts: the
// admin's request opens a staff closure for each member (under the same
// quota), which two different seniors approve; the member is told by SMS
// and email when the account is closed.
func ExampleService_CloseMembers_staffClosures() {
	ctx := context.Background()
	kit := memory.NewKit(time.Date(2026, time.November, 27, 9, 0, 0, 0, time.UTC))
	var members []ports.AccountID
	for i := range 10 {
		id := ports.AccountID(fmt.Sprintf("member-%02d", i))
		kit.Platform.AddAccount(ports.Account{ID: id, Kind: ports.Personal, RecoveryPhone: fmt.Sprintf("+155501000%02d", i), Email: string(id) + "@example.com"})
		kit.Organizations.Add("org-acme", id, i == 0)
		members = append(members, id)
	}
	kit.Staff.Put(ports.StaffMember{ID: "grace", Roles: []ports.Role{ports.RoleSenior}})
	kit.Staff.Put(ports.StaffMember{ID: "linus", Roles: []ports.Role{ports.RoleSenior}})
	cfg := kit.Config()
	cfg.Organizations = kit.Organizations
	cfg.MemberClosures = cancellation.MemberStaffClosures
	svc, err := cancellation.New(cfg)
	if err != nil {
		panic(err)
	}

	out, err := svc.CloseMembers(ctx, "org-acme", "member-00", members[1:2])
	if err != nil {
		panic(err)
	}
	req := out[0].Request
	sc, _ := req.StaffClosure()
	fmt.Println(req.Account(), req.State(), sc.Reason, "asked by", sc.RequestedBy, "of", sc.Organization)

	req, _ = svc.ApproveStaffClosure(ctx, cancellation.Reviewer{ID: "grace"}, req.ID(), cancellation.StaffApproval{})
	fmt.Println("after one senior:", req.State())
	_, err = svc.ApproveStaffClosure(ctx, cancellation.Reviewer{ID: "grace"}, req.ID(), cancellation.StaffApproval{})
	fmt.Println("same senior again refused:", err != nil)
	req, _ = svc.ApproveStaffClosure(ctx, cancellation.Reviewer{ID: "linus"}, req.ID(), cancellation.StaffApproval{})
	fmt.Println("after a second senior:", req.State())
	for _, n := range kit.Notifier.Sent() {
		fmt.Println(n.Channel, n.Template, n.To)
	}
	// Unordered output:
	// member-01 awaiting_approval organization_request asked by member-00 of org-acme
	// after one senior: awaiting_approval
	// same senior again refused: true
	// after a second senior: cancelled
	// sms cancelled +15550100001
	// email cancelled member-01@example.com
}
