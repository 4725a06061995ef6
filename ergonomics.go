package cancellation

import (
	"context"

	"github.com/accountkit/cancellation/ports"
)

// Notification templates: ports.Notification.Template of each
// notification the library sends. A Notifier renders them.
const (
	// TemplateReviewApproved: the review approved the request (by SMS, or
	// email without a phone). Data: DataRequestID, and DataScheduledFor
	// when closing is scheduled.
	TemplateReviewApproved = "review_approved"
	// TemplateReviewRejected: the request was rejected. Data:
	// DataRequestID and DataReasons; never the reviewer's note.
	TemplateReviewRejected = "review_rejected"
	// TemplateCancelled: the account is closed (SMS and email). Data:
	// DataRequestID.
	TemplateCancelled = "cancelled"
	// TemplateWithdrawn: the customer withdrew the request. Data:
	// DataRequestID.
	TemplateWithdrawn = "withdrawn"
	// TemplateReceipt: the request ended (rejected or withdrawn) and its
	// outcome went by SMS only, so its signed receipt comes attached to an
	// email of its own (under a Service with Config.ReceiptKey; when the
	// outcome is emailed, that email carries the receipt). Data:
	// DataRequestID and DataOutcome.
	TemplateReceipt = "receipt"
	// TemplateErasureExtended: staff extended the deadline by which the
	// platform acts on the request. Data: DataRequestID,
	// DataErasureDueAt and DataReason.
	TemplateErasureExtended = "erasure_extended"
	// TemplateMoreRequested: a reviewer returned the request and asks the
	// customer to upload documents again (by SMS, or email without a
	// phone). Data: DataRequestID, DataRound, DataReasons (the
	// ReturnReasons) and DataDocuments; never the reviewer's note.
	TemplateMoreRequested = "more_requested"
)

// Keys of ports.Notification.Data.
const (
	// DataRequestID is the request's id, in every notification.
	DataRequestID = "request_id"
	// DataReasons is the comma-separated ReasonCodes of a rejection, or
	// ReturnReasons of a return.
	DataReasons = "reasons"
	// DataScheduledFor is when a scheduled request closes, RFC 3339.
	DataScheduledFor = "scheduled_for"
	// DataOutcome is the state a request ended in (TemplateReceipt).
	DataOutcome = "outcome"
	// DataErasureDueAt is the erasure deadline, RFC 3339.
	DataErasureDueAt = "erasure_due_at"
	// DataReason is the reason staff gave the customer for an extension.
	DataReason = "reason"
	// DataRound is the round of review a return or a submission belongs
	// to: 1 for the first submission, one more after each return.
	DataRound = "round"
	// DataDocuments is the comma-separated DocumentKinds to upload again.
	DataDocuments = "documents"
)

// Consents returns the consents that accept every finding of e as it
// stands: what to pass to Service.Consent (or in Confirmation.Consents)
// once the customer agrees to them.
func (e *ConsentRequiredError) Consents() []Consent {
	return Report{Findings: e.Findings}.Consents()
}

// NotApplicable is the checker a host passes in Checkers for a concept its
// platform does not have (no sub-users, no API keys...): the rule then
// passes with Code FindingNotApplicable, and the choice is explicit in the
// wiring rather than hidden in a stub. It implements every checker port.
type NotApplicable struct{}

var (
	_ ports.OrderChecker       = NotApplicable{}
	_ ports.BalanceChecker     = NotApplicable{}
	_ ports.AuthorizationStore = NotApplicable{}
	_ ports.SubUserStore       = NotApplicable{}
	_ ports.APIKeyStore        = NotApplicable{}
	_ ports.DataInventory      = NotApplicable{}
	_ ports.ComplaintChecker   = NotApplicable{}
	_ ports.MatterChecker      = NotApplicable{}
	_ ports.InProcess          = NotApplicable{}
)

// InProcess implements [ports.InProcess]: NotApplicable answers nothing at
// once, so its rules run on the caller's goroutine. A type that embeds
// NotApplicable (for the methods it does not need) inherits it: if it
// overrides one with a call that may block, it must declare its own
// InProcess returning false (see [ports.InProcess]).
func (NotApplicable) InProcess() bool { return true }

// OpenObligations returns nothing.
func (NotApplicable) OpenObligations(context.Context, ports.AccountID) ([]ports.Obligation, error) {
	return nil, nil
}

// UnusedRights returns nothing.
func (NotApplicable) UnusedRights(context.Context, ports.AccountID) ([]ports.Right, error) {
	return nil, nil
}

// Authorizations returns nothing.
func (NotApplicable) Authorizations(context.Context, ports.AccountID) ([]ports.Authorization, error) {
	return nil, nil
}

// SubUsers returns nothing.
func (NotApplicable) SubUsers(context.Context, ports.AccountID) ([]ports.SubUser, error) {
	return nil, nil
}

// APIKeys returns nothing.
func (NotApplicable) APIKeys(context.Context, ports.AccountID) ([]ports.APIKey, error) {
	return nil, nil
}

// DataHoldings returns nothing.
func (NotApplicable) DataHoldings(context.Context, ports.AccountID) ([]ports.DataHolding, error) {
	return nil, nil
}

// OpenCases returns nothing.
func (NotApplicable) OpenCases(context.Context, ports.AccountID) ([]ports.Case, error) {
	return nil, nil
}

// OpenMatters returns nothing.
func (NotApplicable) OpenMatters(context.Context, ports.AccountID) ([]ports.Matter, error) {
	return nil, nil
}

// notApplicable reports whether port is the NotApplicable checker.
func notApplicable(port any) bool {
	switch port.(type) {
	case NotApplicable, *NotApplicable:
		return true
	}
	return false
}
