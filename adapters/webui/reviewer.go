package webui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

func (h *Handler) reviewerRoutes() {
	h.mux.HandleFunc("GET /review/{$}", h.reviewer(h.queue))
	h.mux.HandleFunc("GET /review/requests/{id}", h.reviewer(h.reviewPage))
	h.mux.HandleFunc("GET /review/requests/{id}/documents/{kind}", h.reviewer(h.document))
	h.mux.HandleFunc("POST /review/requests/{id}/approve", h.reviewer(h.approve))
	h.mux.HandleFunc("POST /review/requests/{id}/reject", h.reviewer(h.reject))
	h.mux.HandleFunc("GET /review/effects", h.reviewer(h.stuck))
	h.mux.HandleFunc("POST /review/effects/retry", h.reviewer(h.effectAction(false)))
	h.mux.HandleFunc("POST /review/effects/give-up", h.reviewer(h.effectAction(true)))
	h.mux.HandleFunc("POST /review/requests/{id}/return", h.reviewer(h.askForMore))
	h.mux.HandleFunc("POST /review/staff-closures", h.reviewer(h.startStaffClosure))
	h.mux.HandleFunc("POST /review/requests/{id}/evidence", h.reviewer(h.addEvidence))
	h.mux.HandleFunc("GET /review/requests/{id}/evidence/{n}", h.reviewer(h.evidence))
	h.mux.HandleFunc("POST /review/requests/{id}/staff-approve", h.reviewer(h.approveStaffClosure))
	h.mux.HandleFunc("POST /review/requests/{id}/staff-decline", h.reviewer(h.declineStaffClosure))
	h.mux.HandleFunc("POST /review/requests/{id}/claim", h.reviewer(h.claim))
	h.mux.HandleFunc("POST /review/requests/{id}/release", h.reviewer(h.release))
}

// desk is one reviewer request.
type desk struct {
	w  http.ResponseWriter
	r  *http.Request
	l  *localizer
	rv cancellation.Reviewer
	p  *page
}

func (h *Handler) reviewer(fn func(d *desk)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := h.localize(w, r)
		p, ok := h.principal(w, r, l)
		if !ok {
			return
		}
		if p.Reviewer == nil {
			h.problemPage(w, r, l, http.StatusForbidden, "reviewers_only")
			return
		}
		pg := h.newPage(r, l, "desk.title")
		pg.Who, pg.Reviewer = p.Reviewer.ID, true
		fn(&desk{w: w, r: r, l: l, rv: *p.Reviewer, p: pg})
	}
}

func (h *Handler) deskFail(d *desk, tmpl string, err error) {
	status, code := problemOf(err)
	d.p.Problem = d.l.T("problem."+code, problemArgs(d.l, err)...)
	if status >= 500 {
		h.opts.Logger.Error("webui: reviewer operation failed", "path", d.r.URL.Path, "error", err)
	}
	if tmpl == "" || status == http.StatusNotFound || status >= 500 {
		d.p.Title = d.l.T("error.title")
		h.render(d.w, status, "error", d.p)
		return
	}
	h.render(d.w, status, tmpl, d.p)
}

// queueView is the data of the queue page: a page, the link to the next
// one (with the same filters) and the filters, as the form shows them.
type queueView struct {
	Items  []cancellation.QueueItem
	Next   string
	Filter queueFilter
	// StaffReasons feed the form that starts a staff closure.
	StaffReasons []cancellation.StaffReason
	// Closures are the staff closures awaiting approval, for seniors.
	Closures []*cancellation.Request
}

// queueFilter is the queue's filters, as query parameters: claims
// (unclaimed, mine), overdue ("1") and kind (personal, enterprise).
type queueFilter struct {
	Claims, Overdue, Kind string
}

func (h *Handler) queue(d *desk) {
	q := d.r.URL.Query()
	f := queueFilter{Claims: q.Get("claims"), Overdue: q.Get("overdue"), Kind: q.Get("kind")}
	page, err := h.svc.ReviewQueue(ctx(d.r), d.rv, cancellation.QueueOptions{After: q.Get("after"),
		Claims: cancellation.QueueClaims(f.Claims), Overdue: f.Overdue == "1", AccountKind: ports.AccountKind(f.Kind)})
	if err != nil {
		h.deskFail(d, "", err)
		return
	}
	v := queueView{Items: page.Items, StaffReasons: cancellation.StaffReasons, Filter: f}
	// Seniors also see the staff closures awaiting a second approval; for
	// others (ErrForbidden), or while the Store fails, the list is left out.
	if closures, err := h.svc.StaffClosures(ctx(d.r), d.rv, 50); err == nil {
		v.Closures = closures
	} else if !errors.Is(err, cancellation.ErrForbidden) {
		h.opts.Logger.Warn("webui: listing staff closures failed", "error", err)
	}
	if page.Next != "" {
		next := url.Values{"after": {page.Next}}
		for k, val := range map[string]string{"claims": f.Claims, "overdue": f.Overdue, "kind": f.Kind} {
			if val != "" {
				next.Set(k, val)
			}
		}
		v.Next = "/review/?" + next.Encode()
	}
	d.p.Data = v
	h.render(d.w, http.StatusOK, "queue", d.p)
}

// reviewView is the data of a request's page.
type reviewView struct {
	Request     *cancellation.Request
	Documents   []cancellation.Document
	Decidable   bool
	Reasons     []cancellation.ReasonCode
	HistoryOK   bool
	Form        url.Values
	Confirmed   *cancellation.Confirmation
	Decision    *cancellation.Decision
	ConsentRows []consentRow
	// Returnable: the request may be returned to the customer (it is in
	// review and its account uploads documents), with these reasons and
	// kinds.
	Returnable    bool
	ReturnReasons []cancellation.ReturnReason
	ReturnKinds   []cancellation.DocumentKind
	Return        *cancellation.Return
	// Staff is set on a closure staff started; StaffPending while it
	// awaits approval.
	Staff        *cancellation.StaffClosure
	StaffPending bool
	// Evidence are the indexes of a staff closure's evidence documents
	// (-1 for one purged).
	Evidence []int
	// Claim is the claim that holds the request now, if any; Mine says
	// the reviewer holds it.
	Claim *cancellation.Claim
	Mine  bool
}

// consentRow is a consent on record with the finding's items.
type consentRow struct {
	Consent cancellation.Consent
	Finding cancellation.Finding
}

func (h *Handler) reviewPage(d *desk) {
	h.renderReview(d, http.StatusOK, nil)
}

func (h *Handler) renderReview(d *desk, status int, failure error) {
	r, err := h.svc.Review(ctx(d.r), d.rv, d.r.PathValue("id"))
	v := reviewView{Reasons: cancellation.ReasonCodes, Form: d.r.PostForm}
	switch {
	case errors.Is(err, cancellation.ErrCorrupt):
		d.p.Problem = d.l.T("problem.corrupt")
		h.render(d.w, http.StatusOK, "error", d.p)
		return
	case err != nil:
		h.deskFail(d, "", err)
		return
	}
	v.Request, v.HistoryOK = r, true
	v.Decidable = r.State() == cancellation.StateInReview
	v.Returnable = v.Decidable && r.IdentityVerified()
	v.ReturnReasons = cancellation.ReturnReasons
	if r.AccountKind() == ports.Enterprise {
		v.ReturnKinds = []cancellation.DocumentKind{cancellation.DocumentBusinessLicence}
	} else {
		v.ReturnKinds = []cancellation.DocumentKind{cancellation.DocumentPassport, cancellation.DocumentDriversLicence}
	}
	if rt, ok := r.Return(); ok {
		v.Return = &rt
	}
	if sc, ok := r.StaffClosure(); ok {
		v.Staff, v.StaffPending = &sc, r.State() == cancellation.StateAwaitingApproval
	}
	if c, ok := r.Claim(); ok && c.HeldAt(h.now()) {
		v.Claim, v.Mine = &c, c.By == d.rv.ID
	}
	for _, doc := range r.Documents() {
		switch {
		case doc.Kind == cancellation.DocumentEvidence:
			if doc.PurgedAt.IsZero() {
				v.Evidence = append(v.Evidence, len(v.Evidence))
			} else {
				v.Evidence = append(v.Evidence, -1)
			}
		case doc.ReplacedAt.IsZero() && doc.PurgedAt.IsZero():
			v.Documents = append(v.Documents, doc)
		}
	}
	if c, ok := r.Confirmation(); ok {
		v.Confirmed = &c
	}
	if dec, ok := r.Decision(); ok {
		v.Decision = &dec
	}
	rep := r.Eligibility()
	for _, c := range r.Consents() {
		f, _ := rep.Finding(c.Rule)
		v.ConsentRows = append(v.ConsentRows, consentRow{Consent: c, Finding: f})
	}
	d.p.Title = d.l.T("review.title", r.ID())
	d.p.Data = v
	if failure != nil {
		h.deskFail(d, "review", failure)
		return
	}
	h.render(d.w, status, "review", d.p)
}

func (h *Handler) document(d *desk) {
	doc, b, err := h.svc.ReviewDocument(ctx(d.r), d.rv, d.r.PathValue("id"), cancellation.DocumentKind(d.r.PathValue("kind")))
	h.image(d, doc, b, err)
}

// evidence serves the n-th evidence document of a staff closure.
func (h *Handler) evidence(d *desk) {
	n, err := strconv.Atoi(d.r.PathValue("n"))
	if err != nil {
		h.deskFail(d, "", badForm(err))
		return
	}
	doc, b, err := h.svc.ReviewEvidence(ctx(d.r), d.rv, d.r.PathValue("id"), n)
	h.image(d, doc, b, err)
}

// image answers a document's bytes, never cached.
func (h *Handler) image(d *desk, doc cancellation.Document, b []byte, err error) {
	if err != nil {
		h.deskFail(d, "", err)
		return
	}
	ct := "image/" + strings.ToLower(string(doc.Facts.Format))
	switch doc.Facts.Format {
	case "jpeg", "png", "webp":
	default:
		ct = "application/octet-stream"
	}
	d.w.Header().Set("Content-Type", ct)
	d.w.Header().Set("Cache-Control", "private, no-store")
	d.w.Header().Set("Content-Disposition", "inline")
	_, _ = d.w.Write(b)
}

func (h *Handler) approve(d *desk) {
	d.r.Body = http.MaxBytesReader(d.w, d.r.Body, 64<<10)
	_, err := h.svc.Approve(ctx(d.r), d.rv, d.r.PathValue("id"), formText(d.r, "note"))
	if err != nil && !errors.Is(err, cancellation.ErrNotEligible) && !errors.Is(err, cancellation.ErrConsentRequired) {
		h.renderReview(d, 0, err)
		return
	}
	http.Redirect(d.w, d.r, "/review/requests/"+url.PathEscape(d.r.PathValue("id")), http.StatusSeeOther)
}

// claim claims the request for the reviewer (or renews their claim).
func (h *Handler) claim(d *desk) { h.claimOp(d, h.svc.Claim) }

// release releases the reviewer's claim.
func (h *Handler) release(d *desk) { h.claimOp(d, h.svc.ReleaseClaim) }

func (h *Handler) claimOp(d *desk, op func(context.Context, cancellation.Reviewer, string) (*cancellation.Request, error)) {
	if _, err := op(ctx(d.r), d.rv, d.r.PathValue("id")); err != nil {
		h.renderReview(d, 0, err)
		return
	}
	http.Redirect(d.w, d.r, "/review/requests/"+url.PathEscape(d.r.PathValue("id")), http.StatusSeeOther)
}

func (h *Handler) reject(d *desk) {
	d.r.Body = http.MaxBytesReader(d.w, d.r.Body, 64<<10)
	if err := d.r.ParseForm(); err != nil {
		h.renderReview(d, 0, badForm(err))
		return
	}
	var reasons []cancellation.ReasonCode
	for _, rc := range d.r.PostForm["reason"] {
		reasons = append(reasons, cancellation.ReasonCode(rc))
	}
	_, err := h.svc.Reject(ctx(d.r), d.rv, d.r.PathValue("id"), reasons, formText(d.r, "note"))
	if err != nil {
		h.renderReview(d, 0, err)
		return
	}
	http.Redirect(d.w, d.r, "/review/requests/"+url.PathEscape(d.r.PathValue("id")), http.StatusSeeOther)
}

// backToReview answers a desk form: the request's page, or the page with
// the problem of err.
func (h *Handler) backToReview(d *desk, id string, err error) {
	if err != nil {
		h.renderReview(d, 0, err)
		return
	}
	http.Redirect(d.w, d.r, "/review/requests/"+url.PathEscape(id), http.StatusSeeOther)
}

// askForMore returns the request to the customer with the reasons and the
// kinds ticked.
func (h *Handler) askForMore(d *desk) {
	d.r.Body = http.MaxBytesReader(d.w, d.r.Body, 64<<10)
	if err := d.r.ParseForm(); err != nil {
		h.renderReview(d, 0, badForm(err))
		return
	}
	m := cancellation.MoreRequest{Note: formText(d.r, "note")}
	for _, rc := range d.r.PostForm["reason"] {
		m.Reasons = append(m.Reasons, cancellation.ReturnReason(rc))
	}
	for _, k := range d.r.PostForm["document"] {
		m.Documents = append(m.Documents, cancellation.DocumentKind(k))
	}
	_, err := h.svc.AskForMore(ctx(d.r), d.rv, d.r.PathValue("id"), m)
	h.backToReview(d, d.r.PathValue("id"), err)
}

// startStaffClosure starts a closure on a customer's behalf from the
// queue page's form, then shows it.
func (h *Handler) startStaffClosure(d *desk) {
	d.r.Body = http.MaxBytesReader(d.w, d.r.Body, 64<<10)
	r, err := h.svc.StartStaffClosure(ctx(d.r), d.rv, ports.AccountID(d.r.PostFormValue("account")), cancellation.StaffClosureStart{
		Reason: cancellation.StaffReason(d.r.PostFormValue("reason")), Note: formText(d.r, "note"),
	})
	if err != nil {
		h.deskFail(d, "", err)
		return
	}
	http.Redirect(d.w, d.r, "/review/requests/"+url.PathEscape(r.ID()), http.StatusSeeOther)
}

// addEvidence uploads an evidence document to a staff closure.
func (h *Handler) addEvidence(d *desk) {
	d.r.Body = http.MaxBytesReader(d.w, d.r.Body, h.opts.MaxUploadBytes)
	_, file, err := h.readUpload(d.r)
	if err == nil {
		_, err = h.svc.AddStaffEvidence(ctx(d.r), d.rv, d.r.PathValue("id"), file)
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			err = errTooLarge
		}
	}
	h.backToReview(d, d.r.PathValue("id"), err)
}

func (h *Handler) approveStaffClosure(d *desk) {
	d.r.Body = http.MaxBytesReader(d.w, d.r.Body, 64<<10)
	_, err := h.svc.ApproveStaffClosure(ctx(d.r), d.rv, d.r.PathValue("id"), cancellation.StaffApproval{
		Note: formText(d.r, "note"), Justification: formText(d.r, "justification"),
	})
	h.backToReview(d, d.r.PathValue("id"), err)
}

func (h *Handler) declineStaffClosure(d *desk) {
	d.r.Body = http.MaxBytesReader(d.w, d.r.Body, 64<<10)
	_, err := h.svc.DeclineStaffClosure(ctx(d.r), d.rv, d.r.PathValue("id"), formText(d.r, "note"))
	h.backToReview(d, d.r.PathValue("id"), err)
}
