package httpapi

import (
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// QueuePage is one page of the review queue: overdue first, then by due
// date. NextCursor, given as the cursor parameter, reads the next page;
// it is absent on the last page.
type QueuePage struct {
	Items      []QueueEntry `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// QueueEntry is a request in the review queue.
type QueueEntry struct {
	ID               string             `json:"id"`
	Account          ports.AccountID    `json:"account"`
	AccountKind      ports.AccountKind  `json:"account_kind"`
	IdentityVerified bool               `json:"identity_verified"`
	State            cancellation.State `json:"state"`
	SubmittedAt      time.Time          `json:"submitted_at"`
	DueAt            time.Time          `json:"due_at"`
	Overdue          bool               `json:"overdue"`
	// ErasureDueAt and ErasureOverdue: the request's erasure deadline and
	// whether it is undecided past it (cancellation.QueueItem).
	ErasureDueAt   time.Time `json:"erasure_due_at,omitzero"`
	ErasureOverdue bool      `json:"erasure_overdue,omitempty"`
	// ClaimedBy and ClaimedUntil are the claim that holds the request
	// now (absent when none does); Mine says the caller holds it.
	ClaimedBy    string    `json:"claimed_by,omitempty"`
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	Mine         bool      `json:"mine"`
}

func queueEntry(it cancellation.QueueItem) QueueEntry {
	r := it.Request
	return QueueEntry{ID: r.ID(), Account: r.Account(), AccountKind: r.AccountKind(), IdentityVerified: r.IdentityVerified(),
		State: r.State(), SubmittedAt: r.SubmittedAt(), DueAt: r.DueAt(), Overdue: it.Overdue,
		ErasureDueAt: it.ErasureDueAt, ErasureOverdue: it.ErasureOverdue,
		ClaimedBy: it.ClaimedBy, ClaimedUntil: it.ClaimedUntil, Mine: it.Mine}
}

// ReviewView is what a reviewer sees of a request: the customer's view
// plus the confirmation, the documents' facts, the whole decision and the
// history with the result of its verification.
type ReviewView struct {
	cancellation.RequestView
	Version          int64                      `json:"version"`
	AccountKind      ports.AccountKind          `json:"account_kind"`
	IdentityVerified bool                       `json:"identity_verified"`
	Overdue          bool                       `json:"overdue"`
	Confirmation     *cancellation.Confirmation `json:"confirmation,omitempty"`
	Documents        []ReviewDocument           `json:"documents,omitempty"`
	Decision         *cancellation.Decision     `json:"decision,omitempty"`
	// Return is the latest round of asking the customer for more, with the
	// reviewer and their note (the customer's view has neither).
	Return *cancellation.Return `json:"return,omitempty"`
	// StaffClosure is set on a closure staff started: reason, note, who
	// started and approved it, and any override of blockers.
	StaffClosure *cancellation.StaffClosure `json:"staff_closure,omitempty"`
	// Eligibility is the report on record with the raw error of each
	// checker that failed, which the customer's view leaves out.
	Eligibility cancellation.Report `json:"eligibility"`
	// Claim is the claim recorded on the request, while one holds it.
	Claim   *cancellation.Claim  `json:"claim,omitempty"`
	History []cancellation.Event `json:"history"`
	// HistoryVerified reports that the Service verified the hash chain
	// with its history keys and found it intact, and its last event
	// agreeing with the request's state and version. It is always true: a
	// request whose history does not verify is not served at all (the
	// Service answers ErrCorrupt, a 500 problem that names no detail).
	HistoryVerified bool `json:"history_verified"`
}

// ReviewDocument is an uploaded document as a reviewer sees it: the facts
// the inspector measured. The image is at
// /v1/reviews/{id}/documents/{kind}.
type ReviewDocument struct {
	Kind       cancellation.DocumentKind  `json:"kind"`
	Facts      cancellation.DocumentFacts `json:"facts"`
	UploadedAt time.Time                  `json:"uploaded_at"`
	Duplicate  cancellation.DocumentKind  `json:"duplicate,omitempty"`
	Replaced   bool                       `json:"replaced,omitempty"`
	Purged     bool                       `json:"purged,omitempty"`
}

func reviewDocument(d cancellation.Document) ReviewDocument {
	return ReviewDocument{Kind: d.Kind, Facts: d.Facts, UploadedAt: d.UploadedAt, Duplicate: d.Duplicate,
		Replaced: !d.ReplacedAt.IsZero(), Purged: !d.PurgedAt.IsZero()}
}

// redactedKey is the event data member that holds a port's error text.
const redactedKey = "delivery"

func reviewView(r *cancellation.Request, now time.Time) ReviewView {
	v := ReviewView{RequestView: r.View(), Version: r.Version(), AccountKind: r.AccountKind(), IdentityVerified: r.IdentityVerified(),
		Overdue: r.Overdue(now), History: r.History(), HistoryVerified: true, Eligibility: r.Eligibility()}
	if c, ok := r.Confirmation(); ok {
		v.Confirmation = &c
	}
	for _, d := range r.Documents() {
		v.Documents = append(v.Documents, reviewDocument(d))
	}
	if d, ok := r.Decision(); ok {
		v.Decision = &d
	}
	if rt, ok := r.Return(); ok {
		v.Return = &rt
	}
	if sc, ok := r.StaffClosure(); ok {
		v.StaffClosure = &sc
	}
	if c, ok := r.Claim(); ok && c.HeldAt(now) {
		v.Claim = &c
	}
	// A failed code delivery records the OTP port's own error text, which
	// no response carries: the reviewer sees that it failed. (The chain
	// was verified on the events as stored.)
	for i, e := range v.History {
		if _, ok := e.Data[redactedKey]; ok {
			d := make(map[string]string, len(e.Data))
			for k, val := range e.Data {
				d[k] = val
			}
			d[redactedKey] = "failed (the cause is in the server's log)"
			v.History[i].Data = d
		}
	}
	return v
}
