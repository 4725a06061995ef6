package httpapi

import (
	"io"
	"net/http"
	"strconv"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// ReturnBody is the body of POST /v1/reviews/{id}/return: what the
// reviewer asks the customer for (cancellation.MoreRequest).
type ReturnBody struct {
	Reasons   []cancellation.ReturnReason `json:"reasons"`
	Documents []cancellation.DocumentKind `json:"documents"`
	// Note is for staff; the customer never sees it.
	Note string `json:"note,omitempty"`
}

func (h *Handler) askForMore(r *http.Request, p Principal) (reply, error) {
	var b ReturnBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.AskForMore(r.Context(), *p.Reviewer, r.PathValue("id"), cancellation.MoreRequest{Reasons: b.Reasons, Documents: b.Documents, Note: b.Note})
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

// StaffClosureBody is the body of POST /v1/staff-closures.
type StaffClosureBody struct {
	Account ports.AccountID          `json:"account"`
	Reason  cancellation.StaffReason `json:"reason"`
	Note    string                   `json:"note,omitempty"`
}

func (h *Handler) startStaffClosure(r *http.Request, p Principal) (reply, error) {
	var b StaffClosureBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.StartStaffClosure(r.Context(), *p.Reviewer, b.Account, cancellation.StaffClosureStart{Reason: b.Reason, Note: b.Note})
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusCreated, reviewView(req, h.opts.Clock.Now()), req.Version())
}

// StaffClosurePage lists the staff closures awaiting approval, oldest
// first.
type StaffClosurePage struct {
	Items []ReviewView `json:"items"`
}

func (h *Handler) staffClosures(r *http.Request, p Principal) (reply, error) {
	limit, err := intParam(r, "limit", defaultPage, 1, maxPage)
	if err != nil {
		return reply{}, err
	}
	rs, err := h.svc.StaffClosures(r.Context(), *p.Reviewer, limit)
	if err != nil {
		return reply{}, err
	}
	page := StaffClosurePage{Items: make([]ReviewView, 0, len(rs))}
	now := h.opts.Clock.Now()
	for _, req := range rs {
		page.Items = append(page.Items, reviewView(req, now))
	}
	return jsonReply(http.StatusOK, page, 0)
}

func (h *Handler) addStaffEvidence(r *http.Request, p Principal) (reply, error) {
	id := r.PathValue("id")
	doc, err := h.multipartUpload(r, func(kind string, src io.Reader) (cancellation.Document, error) {
		if kind != string(cancellation.DocumentEvidence) {
			return cancellation.Document{}, &cancellation.ValidationError{Field: "kind", Problem: `staff upload "evidence" to a staff closure`}
		}
		return h.svc.AddStaffEvidence(r.Context(), *p.Reviewer, id, src)
	})
	if err != nil {
		return reply{}, err
	}
	req, err := h.svc.Review(r.Context(), *p.Reviewer, id)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusCreated, reviewDocument(doc), req.Version())
}

// StaffApprovalBody is the body of POST /v1/staff-closures/{id}/approve.
type StaffApprovalBody struct {
	Note string `json:"note,omitempty"`
	// Justification overrides eligibility blockers (senior only); it is
	// recorded in the history.
	Justification string `json:"justification,omitempty"`
}

func (h *Handler) approveStaffClosure(r *http.Request, p Principal) (reply, error) {
	var b StaffApprovalBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, true); err != nil {
		return reply{}, err
	}
	req, err := h.svc.ApproveStaffClosure(r.Context(), *p.Reviewer, r.PathValue("id"), cancellation.StaffApproval{Note: b.Note, Justification: b.Justification})
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

// DeclineBody is the body of POST /v1/staff-closures/{id}/decline.
type DeclineBody struct {
	Note string `json:"note"`
}

func (h *Handler) declineStaffClosure(r *http.Request, p Principal) (reply, error) {
	var b DeclineBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.DeclineStaffClosure(r.Context(), *p.Reviewer, r.PathValue("id"), b.Note)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

func (h *Handler) staffEvidence(r *http.Request, p Principal) (reply, error) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= cancellation.MaxEvidence {
		return reply{}, &cancellation.ValidationError{Field: "n", Problem: "must be an integer from 0 to " + strconv.Itoa(cancellation.MaxEvidence-1)}
	}
	doc, data, err := h.svc.ReviewEvidence(r.Context(), *p.Reviewer, r.PathValue("id"), n)
	if err != nil {
		return reply{}, err
	}
	return imageReply(doc, data, "evidence-"+strconv.Itoa(n)), nil
}
