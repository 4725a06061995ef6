package cancellation_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/doctest"
	"github.com/accountkit/cancellation/ports"
)

// A closure on the customer's behalf: one senior starts it with a reason
// and evidence, a second senior approves it (four eyes), overriding the
// account's blockers with a justification that the history records; the
// account is then closed and the customer told by SMS and email.
func ExampleService_StartStaffClosure() {
	ctx := context.Background()
	svc, kit := exampleService()
	kit.Staff.Put(ports.StaffMember{ID: "grace", Name: "Grace", Roles: []ports.Role{ports.RoleSenior}})
	kit.Staff.Put(ports.StaffMember{ID: "linus", Name: "Linus", Roles: []ports.Role{ports.RoleSenior}})
	grace, linus := cancellation.Reviewer{ID: "grace"}, cancellation.Reviewer{ID: "linus"}
	acct := memory.AccountBlocked // sub-users and API keys remain

	req, err := svc.StartStaffClosure(ctx, grace, acct, cancellation.StaffClosureStart{
		Reason: cancellation.StaffReasonLegalOrder, Note: "court order 2026-117",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(req.State(), req.Eligibility().Outcome)
	if _, err := svc.AddStaffEvidence(ctx, grace, req.ID(), bytes.NewReader(doctest.ColourScan())); err != nil {
		panic(err)
	}

	_, err = svc.ApproveStaffClosure(ctx, grace, req.ID(), cancellation.StaffApproval{})
	fmt.Println("same person:", err != nil)
	_, err = svc.ApproveStaffClosure(ctx, linus, req.ID(), cancellation.StaffApproval{})
	fmt.Println("blocked without a justification:", err != nil)

	req, err = svc.ApproveStaffClosure(ctx, linus, req.ID(), cancellation.StaffApproval{
		Justification: "the order covers the remaining keys",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(req.State())
	sc, _ := req.StaffClosure()
	fmt.Println("started by", sc.StartedBy, "approved by", sc.ApprovedBy, "overriding", sc.Override.Rules)
	for _, n := range kit.Notifier.Sent() {
		fmt.Println(n.Channel, n.Template)
	}
	// Unordered output:
	// awaiting_approval blocked
	// same person: true
	// blocked without a justification: true
	// cancelled
	// started by grace approved by linus overriding [sub_users api_keys]
	// sms cancelled
	// email cancelled
}
