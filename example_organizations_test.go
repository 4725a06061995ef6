package cancellation_test

import (
	"context"
	"fmt"

	"github.com/accountkit/cancellation"
)

// A host that has staff close an organisation's member accounts: the
// admin's request opens a staff closure for each member (under the same
// quota), which two different seniors approve; the member is told by SMS
// and email when the account is closed.
func ExampleService_CloseMembers_staffClosures() {
	ctx := context.Background()
	svc, kit, members := exampleOrganization(10, cancellation.MemberStaffClosures)

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
