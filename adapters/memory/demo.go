package memory

import (
	"time"

	"github.com/accountkit/cancellation/ports"
)

// The demo accounts that [Platform.SeedDemo] adds. Their recovery phones are
// in the +1 555 01xx range reserved for fiction, their emails at
// example.com, and their locale is "en".
const (
	// AccountEligible is a personal account without identity verification
	// and without any finding: it can apply and skips the document step.
	AccountEligible ports.AccountID = "acct-eligible"
	// AccountVerified is an identity-verified personal account without any
	// finding: it must upload a passport or a driver's licence.
	AccountVerified ports.AccountID = "acct-verified"
	// AccountEnterprise is an identity-verified enterprise account without
	// any finding: it must upload a business licence.
	AccountEnterprise ports.AccountID = "acct-enterprise"
	// AccountBlocked is a personal account that cannot apply until its two
	// API keys (note 5) and its sub-user and collaborator (note 4) are
	// deleted; see DeleteAPIKeys and DeleteSubUsers.
	AccountBlocked ports.AccountID = "acct-blocked"
	// AccountBalance is a personal account with 12.34 USD of cash and a
	// 50.00 USD voucher (note 2): the customer must consent to forfeit them.
	AccountBalance ports.AccountID = "acct-balance"
	// AccountComplaint is a personal account with an open complaint (note
	// 8), which blocks cancellation until it is closed; see RemoveCase.
	AccountComplaint ports.AccountID = "acct-complaint"
)

// DemoAccounts lists the IDs of the accounts that SeedDemo adds, in the order
// of their constants.
func DemoAccounts() []ports.AccountID {
	return []ports.AccountID{AccountEligible, AccountVerified, AccountEnterprise, AccountBlocked, AccountBalance, AccountComplaint}
}

// demoTime is when the demo items were created; it is fixed so that demo
// output is reproducible.
var demoTime = time.Date(2025, time.January, 15, 9, 30, 0, 0, time.UTC)

// SeedDemo adds the demo accounts named by the Account... constants (see
// each constant for what it has) and their findings, replacing any account
// or item with the same ID or ref. It returns p.
func (p *Platform) SeedDemo() *Platform {
	demo := func(id ports.AccountID, kind ports.AccountKind, verified bool, phone string) ports.Account {
		return ports.Account{
			ID:               id,
			Kind:             kind,
			IdentityVerified: verified,
			RecoveryPhone:    phone,
			Email:            string(id) + "@example.com",
			Locale:           "en",
		}
	}
	return p.
		AddAccount(demo(AccountEligible, ports.Personal, false, "+15550100001")).
		AddAccount(demo(AccountVerified, ports.Personal, true, "+15550100002")).
		AddAccount(demo(AccountEnterprise, ports.Enterprise, true, "+15550100003")).
		AddAccount(demo(AccountBlocked, ports.Personal, false, "+15550100004")).
		AddAPIKey(AccountBlocked, ports.APIKey{ID: "AKID-demo-1", Label: "ci-deploy", CreatedAt: demoTime}).
		AddAPIKey(AccountBlocked, ports.APIKey{ID: "AKID-demo-2", Label: "backup-job", CreatedAt: demoTime.Add(24 * time.Hour)}).
		AddSubUser(AccountBlocked, ports.SubUser{Kind: ports.SubUserSubUser, Ref: "subuser-ops", Name: "ops"}).
		AddSubUser(AccountBlocked, ports.SubUser{Kind: ports.SubUserCollaborator, Ref: "collab-alice", Name: "Alice"}).
		AddAccount(demo(AccountBalance, ports.Personal, false, "+15550100005")).
		AddRight(AccountBalance, ports.Right{Kind: ports.RightCash, Ref: "cash", Description: "Cash balance", Value: ports.Money{Amount: 1234, Currency: "USD"}}).
		AddRight(AccountBalance, ports.Right{Kind: ports.RightVoucher, Ref: "voucher-welcome", Description: "Welcome voucher", Value: ports.Money{Amount: 5000, Currency: "USD"}}).
		AddAccount(demo(AccountComplaint, ports.Personal, false, "+15550100006")).
		AddCase(AccountComplaint, ports.Case{Kind: ports.CaseComplaint, Ref: "complaint-1001", Summary: "Abuse report about hosted content", OpenedAt: demoTime})
}
