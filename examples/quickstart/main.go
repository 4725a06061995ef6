// Command quickstart runs whole cancellations in process with the memory
// adapters and prints each step as the customer and the reviewer would see
// it: one eligible, identity-verified account from "can I cancel?" to "login
// disabled, SMS and email sent", and one account blocked by API keys and
// sub-users, shown its remedies.
//
//	go run ./examples/quickstart
//
// It exits with status 1 if any step does not behave as the seed requires.
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/doctest"
	"github.com/accountkit/cancellation/ports"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// start is a Friday morning, so the review's three business days cross a
// weekend.
var start = time.Date(2026, time.November, 27, 9, 0, 0, 0, time.UTC)

func run(ctx context.Context, w io.Writer) error {
	kit := memory.NewKit(start)
	kit.Platform.SeedDemo()
	// The verified demo account also holds a voucher it will forfeit.
	kit.Platform.AddRight(memory.AccountVerified, ports.Right{
		Kind: ports.RightVoucher, Ref: "voucher-spring", Description: "Spring promotion voucher",
		Value: ports.Money{Amount: 2000, Currency: "USD"},
	})
	// The back office: ana reviews; her own customer account is acct-ana.
	kit.Staff.Put(ports.StaffMember{ID: "reviewer-ana", Name: "Ana", Roles: []ports.Role{ports.RoleReviewer}, Account: "acct-ana"})
	svc, err := cancellation.New(kit.Config())
	if err != nil {
		return err
	}
	p := printer{w: w}
	if err := happyPath(ctx, p, kit, svc); err != nil {
		return err
	}
	return blockedPath(ctx, p, kit, svc)
}

type printer struct{ w io.Writer }

func (p printer) step(format string, args ...any) { fmt.Fprintf(p.w, "\n== "+format+"\n", args...) }
func (p printer) say(format string, args ...any)  { fmt.Fprintf(p.w, "   "+format+"\n", args...) }

func (p printer) report(rep cancellation.Report) {
	p.say("eligibility: %s", rep.Outcome)
	for _, f := range rep.Findings {
		if f.Outcome == cancellation.OutcomePass {
			continue
		}
		p.say("- note %d (%s): %s: %s", f.Note, f.Rule, f.Outcome, f.Summary)
		for _, it := range f.Items {
			value := ""
			if it.Value.Currency != "" {
				value = " (" + it.Value.String() + ")"
			}
			p.say("    %s %s %q%s", it.Kind, it.Ref, it.Description, value)
		}
		if f.Remedy != nil {
			p.say("    what to do: %s, in %s", f.Remedy.Action, f.Remedy.Where)
		}
	}
}

func happyPath(ctx context.Context, p printer, kit *memory.Kit, svc *cancellation.Service) error {
	acct := memory.AccountVerified
	p.step("Account %s: can I cancel?", acct)
	rep, err := svc.CheckEligibility(ctx, acct)
	if err != nil {
		return err
	}
	p.report(rep)

	p.step("Step 1: Account Center > Security Settings > Cancel")
	req, err := svc.Start(ctx, acct)
	if err != nil {
		return err
	}
	p.say("application opened: %s", req.State())

	p.step("Step 2: read the notes and confirm")
	notes := svc.Notes()
	p.say("%s (version %s)", notes.Title, notes.Version)
	for _, n := range notes.Items {
		p.say("%d. %s", n.Number, n.Text)
	}
	p.say("[x] I understand that a cancelled account cannot be restored")
	p.say("[x] I backed up my data or waive it; I am not evading complaints or supervision; other matters are handled")
	for _, f := range rep.NeedsConsent() {
		p.say("[x] I consent: %s", f.Summary)
	}
	req, err = svc.Confirm(ctx, acct, req.ID(), cancellation.Confirmation{
		NotesVersion: notes.Version,
		Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	})
	if err != nil {
		return err
	}
	p.say("confirmed: %s", req.State())

	p.step("Step 3: verify the recovery phone")
	if _, err := svc.VerifyCode(ctx, acct, req.ID(), "000000"); !errors.Is(err, cancellation.ErrCodeExpired) {
		return fmt.Errorf("verifying before a code was sent: got %v, want ErrCodeExpired", err)
	}
	sent, err := svc.SendCode(ctx, acct, req.ID())
	if err != nil {
		return err
	}
	p.say("a code was sent to %s, valid until %s", sent.MaskedPhone, sent.ExpiresAt.Format("15:04 MST"))
	code, ok := kit.OTP.LastCode("+15550100002")
	if !ok {
		return errors.New("no code reached the recovery phone")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if _, err := svc.VerifyCode(ctx, acct, req.ID(), wrong); err != nil {
		p.say("a mistyped code: %v", err)
	} else {
		return errors.New("a wrong code was accepted")
	}
	req, err = svc.VerifyCode(ctx, acct, req.ID(), code)
	if err != nil {
		return err
	}
	p.say("phone verified: %s", req.State())

	p.step("Step 4: upload identity documents (identity-verified personal account)")
	p.say("accepted: %v", cancellation.RequiredDocuments(ports.Account{Kind: req.AccountKind(), IdentityVerified: true}))
	grey := doctest.GreyscaleScan()
	if _, err := svc.UploadDocument(ctx, acct, req.ID(), cancellation.DocumentPassport, bytes.NewReader(grey)); err != nil {
		p.say("a greyscale photocopy: %v", err)
	} else {
		return errors.New("a greyscale photocopy was accepted")
	}
	if _, err := svc.UploadDocument(ctx, acct, req.ID(), cancellation.DocumentPassport, strings.NewReader("%PDF-1.7\n")); err != nil {
		p.say("a PDF: %v", err)
	} else {
		return errors.New("a PDF was accepted")
	}
	doc, err := svc.UploadDocument(ctx, acct, req.ID(), cancellation.DocumentPassport,
		bytes.NewReader(doctest.ColourScan()))
	if err != nil {
		return err
	}
	p.say("passport scan accepted: %s %dx%d", doc.Facts.Format, doc.Facts.Width, doc.Facts.Height)

	p.step("Step 5: submit for review")
	req, err = svc.Submit(ctx, acct, req.ID())
	if err != nil {
		return err
	}
	p.say("%s, submitted %s, review due %s (three business days)", req.State(),
		req.SubmittedAt().Format("Mon 2 Jan"), req.DueAt().Format("Mon 2 Jan"))

	kit.Clock.Advance(2 * 24 * time.Hour)
	reviewer := cancellation.Reviewer{ID: "reviewer-ana"}
	queue, err := svc.Queue(ctx, reviewer, 10, 0)
	if err != nil {
		return err
	}
	p.say("reviewer %s sees %d application(s) in the queue", reviewer.ID, len(queue))
	for _, d := range queue[0].Request.Documents() {
		p.say("  document %s: %s %dx%d, colourfulness %.0f", d.Kind, d.Facts.Format, d.Facts.Width, d.Facts.Height, d.Facts.Colourfulness)
	}
	if _, err := svc.Claim(ctx, reviewer, req.ID()); err != nil { // claimed, so no other reviewer decides it meanwhile
		return err
	}
	req, err = svc.Approve(ctx, reviewer, req.ID(), "documents match the verified identity")
	if err != nil {
		return err
	}

	p.step("Step 6: cancellation")
	p.say("state: %s", req.State())
	acctNow, err := kit.Platform.Account(ctx, acct)
	if err != nil {
		return err
	}
	p.say("login disabled: %v", acctNow.Closed)
	// The notices of one event go out at once, in any order: by event,
	// then by channel.
	notices := kit.Notifier.Sent()
	event := map[string]int{}
	for i, n := range notices {
		if _, ok := event[n.Template]; !ok {
			event[n.Template] = i
		}
	}
	slices.SortStableFunc(notices, func(a, b ports.Notification) int {
		return cmp.Or(cmp.Compare(event[a.Template], event[b.Template]), cmp.Compare(a.Channel, b.Channel))
	})
	for _, n := range notices {
		if n.Account == acct {
			p.say("%-5s to %s: %s", n.Channel, n.To, n.Template)
		}
	}
	if req.State() != cancellation.StateCancelled || !acctNow.Closed {
		return fmt.Errorf("account not cancelled: state %s, closed %v", req.State(), acctNow.Closed)
	}
	// Get reads the whole audit trail and verifies its keyed hash chain.
	full, err := svc.Get(ctx, acct, req.ID())
	if err != nil {
		return err
	}
	p.say("audit trail: %d events, hash chain verified", len(full.History()))
	if _, err := svc.Start(ctx, acct); !errors.Is(err, cancellation.ErrAccountClosed) {
		return fmt.Errorf("starting again on a cancelled account: got %v, want ErrAccountClosed", err)
	}
	p.say("a cancelled account cannot apply again or be restored")
	return nil
}

func blockedPath(ctx context.Context, p printer, kit *memory.Kit, svc *cancellation.Service) error {
	acct := memory.AccountBlocked
	p.step("Account %s: can I cancel?", acct)
	_, err := svc.Start(ctx, acct)
	var notEligible *cancellation.NotEligibleError
	if !errors.As(err, &notEligible) {
		return fmt.Errorf("starting a blocked account: got %v, want a NotEligibleError", err)
	}
	p.say("cannot apply yet:")
	p.report(notEligible.Report)

	p.step("The customer follows the remedies")
	kit.Platform.DeleteAPIKeys(acct).DeleteSubUsers(acct)
	rep, err := svc.CheckEligibility(ctx, acct)
	if err != nil {
		return err
	}
	p.say("after deleting the API keys and sub-users:")
	p.report(rep)
	if rep.Outcome != cancellation.OutcomePass {
		return fmt.Errorf("still %s after the remedies", rep.Outcome)
	}
	return nil
}
