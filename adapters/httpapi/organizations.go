package httpapi

import (
	"net/http"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// MemberClosuresBody is the body of POST /v1/organizations/{org}/closures:
// the member accounts to start closing.
type MemberClosuresBody struct {
	Members []ports.AccountID `json:"members"`
}

// MemberClosuresResult answers POST /v1/organizations/{org}/closures: one
// item per member, in the order of the body.
type MemberClosuresResult struct {
	Items []MemberClosureView `json:"items"`
}

// MemberClosureView is one member's outcome, as the admin may see it:
// the request started (its id, state and kind), or the problem that kept
// it from starting (code, title and status only: the member's findings and
// details are theirs, not the admin's).
type MemberClosureView struct {
	Account ports.AccountID `json:"account"`
	// Request is set when a request started.
	Request *MemberRequestView `json:"request,omitempty"`
	// Problem is set when it did not; the member is not counted against
	// the quota then.
	Problem *MemberProblem `json:"problem,omitempty"`
}

// MemberRequestView is what an organisation's admin sees of a member's
// request.
type MemberRequestView struct {
	ID    string             `json:"id"`
	State cancellation.State `json:"state"`
	// Kind is "member_steps" (the member completes the steps) or
	// "staff_closure" (two seniors approve it).
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}

// MemberProblem is why one member's request did not start.
type MemberProblem struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Status int    `json:"status"`
}

// closeMembers serves an organisation's admin, a customer principal: the
// Service checks that the account is an admin of the organisation.
func (h *Handler) closeMembers(r *http.Request, p Principal) (reply, error) {
	var b MemberClosuresBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	out, err := h.svc.CloseMembers(r.Context(), ports.OrganizationID(r.PathValue("org")), p.Account, b.Members)
	if err != nil {
		return reply{}, err
	}
	res := MemberClosuresResult{Items: make([]MemberClosureView, len(out))}
	for i, m := range out {
		v := MemberClosureView{Account: m.Account}
		if m.Request != nil {
			kind := "member_steps"
			if _, ok := m.Request.StaffClosure(); ok {
				kind = "staff_closure"
			}
			v.Request = &MemberRequestView{ID: m.Request.ID(), State: m.Request.State(), Kind: kind, CreatedAt: m.Request.CreatedAt()}
		} else {
			pr, ok := problemFor(m.Err, h.opts.Clock.Now())
			if !ok {
				h.opts.Logger.Error("httpapi: member closure failed", "path", r.URL.Path, "account", m.Account, "error", m.Err)
				pr = errInternal
			}
			v.Problem = &MemberProblem{Code: pr.Code, Title: pr.Title, Status: pr.Status}
		}
		res.Items[i] = v
	}
	return jsonReply(http.StatusOK, res, 0)
}

// RecentlyClosedBody is the body of POST /v1/identifiers/recently-closed.
// The identifier travels in the body, not the URL, so that it stays out of
// access logs.
type RecentlyClosedBody struct {
	Identifier string `json:"identifier"`
}

// RecentlyClosedResult answers POST /v1/identifiers/recently-closed.
type RecentlyClosedResult struct {
	// RecentlyClosed is true when the identifier belonged to an account
	// cancelled within the Service's IdentifierRetention.
	RecentlyClosed bool `json:"recently_closed"`
}

// recentlyClosed serves staff principals only (the host's registration
// service authenticates as one, and the StaffDirectory must know it with
// at least the reviewer role): the answer tells something of another
// person's account, so customers and unknown staff are refused.
func (h *Handler) recentlyClosed(r *http.Request, p Principal) (reply, error) {
	var b RecentlyClosedBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	closed, err := h.svc.RecentlyClosedForStaff(r.Context(), *p.Reviewer, b.Identifier)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, RecentlyClosedResult{RecentlyClosed: closed}, 0)
}
