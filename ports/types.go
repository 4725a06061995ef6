package ports

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned by AccountDirectory.Account for an unknown account
// and by DocumentStore.GetDocument for an unknown key. Implementations wrap
// it (fmt.Errorf("...: %w", ports.ErrNotFound)) so that errors.Is finds it.
var ErrNotFound = errors.New("ports: not found")

// AccountID identifies a customer account on the host platform.
type AccountID string

// AccountKind says whether an account belongs to a person or an enterprise.
// It decides which identity documents a verified account must upload.
type AccountKind string

// Account kinds.
const (
	Personal   AccountKind = "personal"
	Enterprise AccountKind = "enterprise"
)

// Account is what the workflow needs to know about a customer account.
type Account struct {
	ID   AccountID
	Kind AccountKind
	// IdentityVerified is true when the customer has passed the platform's
	// identity verification; such accounts must upload identity documents.
	IdentityVerified bool
	// RecoveryPhone is the secure phone number on file, in E.164 form
	// ("+4915112345678"). One-time codes go only to this number.
	RecoveryPhone string
	// Email is the secure email address on file.
	Email string
	// Locale is a BCP 47 tag ("en", "zh-CN") for messages to the customer.
	Locale string
	// Closed is true once the account can no longer log in.
	Closed bool
	// LoginIdentifiers are login identifiers other than Email and
	// RecoveryPhone (user names, secondary addresses) that the library
	// keeps from reuse, hashed, after the account is cancelled.
	LoginIdentifiers []string
}

// Money is an amount in the currency's minor units (cents, fen) with an
// ISO 4217 currency code. It is never a float.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// String formats m as "12.34 USD" assuming two minor digits, which holds for
// the currencies the examples use; hosts with other currencies format
// amounts themselves.
func (m Money) String() string {
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, a/100, a%100, m.Currency)
}

// ObligationKind classifies an open obligation (seed note 1).
type ObligationKind string

// Obligation kinds.
const (
	ObligationOrder   ObligationKind = "order"   // an uncompleted order
	ObligationService ObligationKind = "service" // a running, uncompleted service
	ObligationPayment ObligationKind = "payment" // an outstanding or unsettled payment
	ObligationOther   ObligationKind = "other"   // another unfulfilled legal obligation
)

// Obligation is an uncompleted order or service, an unsettled payment or
// another unfulfilled obligation.
type Obligation struct {
	Kind        ObligationKind
	Ref         string // the host's identifier, shown to the customer
	Description string
	Amount      Money // zero when the obligation has no amount
}

// RightKind classifies an unused right (seed note 2).
type RightKind string

// Right kinds.
const (
	RightCash          RightKind = "cash"
	RightGiftCard      RightKind = "gift_card"
	RightVoucher       RightKind = "voucher"
	RightCloudResource RightKind = "cloud_resource"
)

// Right is an unused right that the customer forfeits by cancelling.
type Right struct {
	Kind        RightKind
	Ref         string
	Description string
	Value       Money
}

// AuthorizationKind classifies a third-party binding (seed note 3).
type AuthorizationKind string

// Authorization kinds.
const (
	AuthorizationAppBinding    AuthorizationKind = "app_binding"    // a third-party website or app logs in with this account
	AuthorizationExternalGrant AuthorizationKind = "external_grant" // an external party holds an authorization
	AuthorizationLinkedAccount AuthorizationKind = "linked_account" // another account is linked to this one
)

// Authorization is a binding to a third party that has not been revoked.
type Authorization struct {
	Kind  AuthorizationKind
	Ref   string
	Party string // the third party's name, shown to the customer
}

// SubUserKind classifies a member of the account (seed note 4).
type SubUserKind string

// Sub-user kinds.
const (
	SubUserCollaborator     SubUserKind = "collaborator"
	SubUserSubUser          SubUserKind = "sub_user"
	SubUserMessageRecipient SubUserKind = "message_recipient"
)

// SubUser is a collaborator, sub-user or message recipient of the account.
type SubUser struct {
	Kind SubUserKind
	Ref  string
	Name string
}

// APIKey is an API key of the account (seed note 5). Only its identifier is
// exchanged, never its secret.
type APIKey struct {
	ID        string
	Label     string
	CreatedAt time.Time
}

// DataHoldingKind classifies data that is deleted with the account (seed
// note 6).
type DataHoldingKind string

// Data holding kinds.
const (
	DataBackup   DataHoldingKind = "backup"
	DataStorage  DataHoldingKind = "storage"
	DataDatabase DataHoldingKind = "database"
	DataOther    DataHoldingKind = "other"
)

// DataHolding is data or information under the account that is deleted when
// the account is cancelled.
type DataHolding struct {
	Kind        DataHoldingKind
	Ref         string
	Description string
	SizeBytes   int64
}

// CaseKind classifies a complaint, report or dispute (seed notes 7 and 8).
type CaseKind string

// Case kinds. Complaints and reports concern note 8; disputes, litigation,
// regulatory supervision and legal holds concern note 7.
const (
	CaseComplaint  CaseKind = "complaint"
	CaseReport     CaseKind = "report"
	CaseDispute    CaseKind = "dispute"
	CaseLitigation CaseKind = "litigation"
	CaseRegulatory CaseKind = "regulatory"
	CaseLegalHold  CaseKind = "legal_hold"
)

// Case is an open complaint, report, dispute, lawsuit, regulatory matter or
// legal hold involving the account.
type Case struct {
	Kind     CaseKind
	Ref      string
	Summary  string
	OpenedAt time.Time
}

// Matter is any other matter that may affect the customer's rights (seed
// note 9), such as a registered domain, a marketplace listing or a pending
// refund.
type Matter struct {
	Ref         string
	Description string
	// Blocking matters must be settled before cancellation; the others only
	// need the customer's consent.
	Blocking bool
	// Remedy tells the customer what to do and where, for blocking matters.
	Remedy string
}
