package cancellation_test

import (
	"context"
	"fmt"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
)

// A request that ends gets a signed receipt: the customer downloads it
// (or finds it attached to the email of the outcome) and anyone verifies
// it offline with the platform's public key, then checks the stored
// history against it.
func ExampleVerifyReceipt() {
	ctx := context.Background()
	svc, kit := exampleService() // kit.Config() wires kit.ReceiptKey
	acct := memory.AccountEligible
	req, _ := svc.Start(ctx, acct)
	req, _ = svc.Withdraw(ctx, acct, req.ID())

	token, _ := svc.Receipt(ctx, acct, req.ID())
	public := kit.ReceiptKey.Public() // what the platform publishes (ReceiptKey.PEM)
	rc, err := cancellation.VerifyReceipt(token, public)
	if err != nil {
		panic(err)
	}
	fmt.Println(rc.Outcome, "signed by", rc.KeyID)
	fmt.Println("erasure due", rc.ErasureDueAt.Format("2 Jan 2006"))

	history, _ := kit.Store.History(ctx, req.ID())
	fmt.Println("history matches:", rc.CheckHistory(history, kit.HistoryKey) == nil)
	fmt.Println("cut short detected:", rc.CheckHistory(history[:rc.HistoryHead.Seq-1], kit.HistoryKey) != nil)
	// Output:
	// withdrawn signed by memory-kit-receipt-1
	// erasure due 27 Dec 2026
	// history matches: true
	// cut short detected: true
}
