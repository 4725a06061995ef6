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

// exampleService wires a Service to the in-memory demo platform.
func exampleService() (*cancellation.Service, *memory.Kit) {
	kit := memory.NewKit(time.Date(2026, time.November, 27, 9, 0, 0, 0, time.UTC)) // a Friday
	kit.Platform.SeedDemo()
	kit.Staff.SeedDemo() // reviewer-1, senior-1, admin-1
	svc, err := cancellation.New(kit.Config())
	if err != nil {
		panic(err)
	}
	return svc, kit
}

// A whole cancellation of an account without identity verification: it
// skips the document step.
func Example() {
	ctx := context.Background()
	svc, kit := exampleService()
	acct := memory.AccountEligible

	req, _ := svc.Start(ctx, acct)
	req, _ = svc.Confirm(ctx, acct, req.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version,
		Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	})
	sent, _ := svc.SendCode(ctx, acct, req.ID())
	code, _ := kit.OTP.LastCode("+15550100001") // what the customer reads on their phone
	req, _ = svc.VerifyCode(ctx, acct, req.ID(), code)
	req, _ = svc.Submit(ctx, acct, req.ID())
	fmt.Println("code sent to", sent.MaskedPhone)
	fmt.Println(req.State(), "due", req.DueAt().Format("Mon 2 Jan"))

	// A reviewer claims the request, then decides it.
	reviewer := cancellation.Reviewer{ID: memory.DemoReviewer}
	if _, err := svc.Claim(ctx, reviewer, req.ID()); err != nil {
		panic(err)
	}
	req, err := svc.Approve(ctx, reviewer, req.ID(), "")
	if err != nil {
		panic(err)
	}
	fmt.Println(req.State())
	// The approval's notifications are carried out at once, in any order.
	for _, n := range kit.Notifier.Sent() {
		fmt.Println(n.Channel, n.Template)
	}
	// Unordered output:
	// code sent to +15*****0001
	// in_review due Wed 2 Dec
	// cancelled
	// sms review_approved
	// sms cancelled
	// email cancelled
}

// The dry run: what stands between an account and cancellation, with the
// remedies.
func ExampleService_CheckEligibility() {
	svc, _ := exampleService()
	rep, err := svc.CheckEligibility(context.Background(), memory.AccountBlocked)
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Outcome)
	for _, f := range rep.Blocked() {
		fmt.Printf("note %d: %s; %s in %s\n", f.Note, f.Summary, f.Remedy.Action, f.Remedy.Where)
	}
	// Output:
	// blocked
	// note 4: 2 collaborators, sub-users or message recipients remain; delete all collaborators, sub-users and message recipients in User Management
	// note 5: 2 API keys remain; delete all API keys in API Key Management
}

// Start refuses a blocked account and creates nothing; the error carries
// the report.
func ExampleService_Start() {
	svc, _ := exampleService()
	_, err := svc.Start(context.Background(), memory.AccountComplaint)
	var notEligible *cancellation.NotEligibleError
	fmt.Println(errors.Is(err, cancellation.ErrNotEligible), errors.As(err, &notEligible))
	fmt.Println(notEligible.Report.Blocked()[0].Rule)
	// Output:
	// true true
	// complaints_and_reports
}

// Unused rights need the customer's consent, bound to the items shown.
func ExampleService_Confirm() {
	ctx := context.Background()
	svc, _ := exampleService()
	acct := memory.AccountBalance
	rep, _ := svc.CheckEligibility(ctx, acct)
	req, _ := svc.Start(ctx, acct)
	c := cancellation.Confirmation{
		NotesVersion: svc.Notes().Version,
		Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	}
	_, err := svc.Confirm(ctx, acct, req.ID(), c)
	fmt.Println(err)
	c.Consents = rep.Consents()
	req, err = svc.Confirm(ctx, acct, req.ID(), c)
	fmt.Println(req.State(), err)
	// Output:
	// cancellation: consent required: consent to unused_rights
	// confirmed <nil>
}

// Effects that fail are retried by maintenance with the same idempotency
// key: effects are carried out at least once, and a Notifier that
// deduplicates by the key (the memory one does) notifies the customer once.
func ExampleService_RunMaintenance() {
	ctx := context.Background()
	svc, kit := exampleService()
	req := exampleInReview(ctx, svc, kit, memory.AccountEligible, "+15550100001")

	kit.Notifier.FailNext(1, errors.New("SMS gateway down"))
	req, _ = svc.Approve(ctx, cancellation.Reviewer{ID: memory.DemoSenior}, req.ID(), "") // a senior decides without a claim
	fmt.Println(req.State(), len(req.PendingEffects()), "pending")

	kit.Clock.Advance(time.Minute)
	rep, err := svc.RunMaintenance(ctx)
	fmt.Println(rep.EffectsDone, "done", rep.EffectsFailed, "failed", err)
	// Output:
	// cancelled 1 pending
	// 1 done 0 failed <nil>
}

// Rules run concurrently; one that fails makes the report blocked (fail
// closed) and says why.
func ExampleRuleSet_Evaluate() {
	rs := cancellation.RuleSet{Rules: []cancellation.Rule{
		cancellation.RuleFunc{RuleName: "reseller_contract", Func: func(ctx context.Context, acct ports.Account) (cancellation.Finding, error) {
			return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
		}},
		cancellation.RuleFunc{RuleName: "domain_registrations", Func: func(ctx context.Context, acct ports.Account) (cancellation.Finding, error) {
			return cancellation.Finding{}, errors.New("registry API unavailable")
		}},
	}}
	rep := rs.Evaluate(context.Background(), ports.Account{ID: "acct-1"}, time.Now())
	fmt.Println(rep.Outcome)
	fmt.Println(rep.Blocked()[0].Error)
	// Output:
	// blocked
	// domain_registrations: registry API unavailable
}

// The review is due three business days after submission, skipping
// weekends and holidays.
func ExampleAddBusinessDays() {
	cal := cancellation.NewCalendar(time.UTC, time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC))
	friday := time.Date(2026, time.November, 27, 15, 0, 0, 0, time.UTC)
	fmt.Println(cancellation.AddBusinessDays(cal, friday, cancellation.ReviewDays).Format("Mon 2 Jan 15:04"))
	// Output: Thu 3 Dec 15:00
}

// The history is a keyed hash chain: an edited event is detected, and so
// is a chain checked without the key that signed it.
func ExampleVerifyHistory() {
	svc, kit := exampleService()
	req, _ := svc.Start(context.Background(), memory.AccountEligible)
	events := req.History()
	fmt.Println(cancellation.VerifyHistory(events, kit.HistoryKey))
	fmt.Println(cancellation.VerifyHistory(events))
	events[0].Data["account"] = "someone-else"
	fmt.Println(cancellation.VerifyHistory(events, kit.HistoryKey))
	// Output:
	// <nil>
	// cancellation: stored request is corrupt: history event 1 is keyed with key "memory-kit-1", which is not configured
	// cancellation: stored request is corrupt: history event 1 was altered (keyed hash mismatch)
}

func ExampleMaskPhone() {
	fmt.Println(cancellation.MaskPhone("+4915112345678"))
	// Output: +49*******5678
}

// Service.Run is the background runner every replica runs until shutdown.
// With EffectsDeferred, Approve returns once the approval is stored and the
// runner, woken at once, closes the account.
func ExampleService_Run() {
	ctx := context.Background()
	kit := memory.NewKit(time.Date(2026, time.November, 27, 9, 0, 0, 0, time.UTC))
	kit.Platform.SeedDemo()
	kit.Staff.SeedDemo()
	cfg := kit.Config()
	cfg.Effects = cancellation.EffectsDeferred
	svc, err := cancellation.New(cfg)
	if err != nil {
		panic(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- svc.Run(runCtx) }()

	acct := memory.AccountEligible
	req, _ := svc.Start(ctx, acct)
	req, _ = svc.Confirm(ctx, acct, req.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	})
	_, _ = svc.SendCode(ctx, acct, req.ID())
	code, _ := kit.OTP.LastCode("+15550100001")
	req, _ = svc.VerifyCode(ctx, acct, req.ID(), code)
	req, _ = svc.Submit(ctx, acct, req.ID())
	req, _ = svc.Approve(ctx, cancellation.Reviewer{ID: memory.DemoSenior}, req.ID(), "") // a senior decides without a claim
	fmt.Println("Approve returned:", req.State())

	for id := req.ID(); req.State() != cancellation.StateCancelled; { // the runner works in the background
		time.Sleep(10 * time.Millisecond)
		if r, err := svc.Get(ctx, acct, id); err == nil {
			req = r
		}
	}
	stop()
	fmt.Println("Run returned:", <-stopped)
	fmt.Println("then:", req.State())
	// Output:
	// Approve returned: approved
	// Run returned: <nil>
	// then: cancelled
}

// IfVersion makes a change conditional on the version the caller read,
// as an HTTP If-Match does: of two tabs that both read version 1, the
// first to confirm wins and the second is told the request moved on,
// with nothing changed.
func ExampleIfVersion() {
	ctx := context.Background()
	svc, _ := exampleService()
	acct := memory.AccountEligible
	req, _ := svc.Start(ctx, acct)
	read := req.Version() // what both tabs show

	c := cancellation.Confirmation{
		NotesVersion: svc.Notes().Version,
		Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	}
	first, err := svc.Confirm(cancellation.IfVersion(ctx, read), acct, req.ID(), c)
	fmt.Println(first.State(), err)

	_, err = svc.Withdraw(cancellation.IfVersion(ctx, read), acct, req.ID())
	var mismatch *cancellation.VersionMismatchError
	fmt.Println(errors.Is(err, cancellation.ErrVersionMismatch), errors.As(err, &mismatch) && mismatch.Want == read)
	now, _ := svc.Get(ctx, acct, req.ID())
	fmt.Println(now.State())
	// Output:
	// confirmed <nil>
	// true true
	// confirmed
}
