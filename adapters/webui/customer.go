package webui

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

func (h *Handler) customerRoutes() {
	h.mux.HandleFunc("GET /{$}", h.customer(h.home))
	h.mux.HandleFunc("POST /start", h.customer(h.start))
	h.mux.HandleFunc("GET /requests/{id}", h.customer(h.status))
	h.mux.HandleFunc("GET /requests/{id}/notes", h.customer(h.notesPage))
	h.mux.HandleFunc("POST /requests/{id}/notes", h.customer(h.confirm))
	h.mux.HandleFunc("GET /requests/{id}/code", h.customer(h.codePage))
	h.mux.HandleFunc("POST /requests/{id}/code/send", h.customer(h.sendCode))
	h.mux.HandleFunc("POST /requests/{id}/code", h.customer(h.verifyCode))
	h.mux.HandleFunc("GET /requests/{id}/documents", h.customer(h.documentsPage))
	h.mux.HandleFunc("POST /requests/{id}/documents", h.customer(h.upload))
	h.mux.HandleFunc("GET /requests/{id}/submit", h.customer(h.submitPage))
	h.mux.HandleFunc("POST /requests/{id}/submit", h.customer(h.submit))
	h.mux.HandleFunc("POST /requests/{id}/withdraw", h.customer(h.withdraw))
	h.mux.HandleFunc("GET /requests/{id}/receipt", h.customer(h.receipt))
}

// call is one customer request: the language, the account, the page.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	l    *localizer
	acct ports.AccountID
	p    *page
}

func (h *Handler) customer(fn func(c *call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := h.localize(w, r)
		p, ok := h.principal(w, r, l)
		if !ok {
			return
		}
		if p.Reviewer != nil {
			http.Redirect(w, r, "/review/", http.StatusSeeOther)
			return
		}
		pg := h.newPage(r, l, "app.title")
		pg.Who = string(p.Account)
		fn(&call{w: w, r: r, l: l, acct: p.Account, p: pg})
	}
}

func reqPath(id, step string) string {
	p := "/requests/" + url.PathEscape(id)
	if step != "" {
		p += "/" + step
	}
	return p
}

// stepOf is the wizard page a request in its state continues on.
func stepOf(r *cancellation.Request) (int, string) {
	switch r.State() {
	case cancellation.StateStarted:
		return 2, "notes"
	case cancellation.StateConfirmed:
		return 3, "code"
	case cancellation.StatePhoneVerified:
		if r.IdentityVerified() {
			return 4, "documents"
		}
		return 5, "submit"
	case cancellation.StateDocumentsUploaded:
		return 5, "submit"
	case cancellation.StateReturned:
		// Asked for more: upload again what the reviewer named, then submit.
		if len(r.View().Returned.Pending) > 0 {
			return 4, "documents"
		}
		return 5, "submit"
	}
	return 6, ""
}

// fail renders the problem of err on the page of the template, or the
// error page when err is not the customer's to fix.
func (h *Handler) fail(c *call, tmpl string, err error) {
	status, code := problemOf(err)
	c.p.Problem = c.l.T("problem."+code, problemArgs(c.l, err)...)
	if status >= 500 {
		h.opts.Logger.Error("webui: operation failed", "path", c.r.URL.Path, "error", err)
	}
	if tmpl == "" || status == http.StatusNotFound || status >= 500 {
		c.p.Title = c.l.T("error.title")
		h.render(c.w, status, "error", c.p)
		return
	}
	h.render(c.w, status, tmpl, c.p)
}

// eligibilityView is the data of step 1.
type eligibilityView struct {
	Report  cancellation.Report
	Blocked bool
	Active  string
	Closed  bool
	// Past is a short list of the account's latest ended requests,
	// newest first (PastMore: there are older ones).
	Past     []cancellation.RequestView
	PastMore bool
}

// pastShown is how many earlier requests the first step lists.
const pastShown = 5

func (h *Handler) home(c *call) {
	if r, err := h.svc.Active(ctx(c.r), c.acct); err == nil {
		_, step := stepOf(r)
		http.Redirect(c.w, c.r, reqPath(r.ID(), step), http.StatusSeeOther)
		return
	} else if !errors.Is(err, cancellation.ErrNotFound) && !errors.Is(err, ports.ErrNotFound) {
		h.fail(c, "", err)
		return
	}
	c.p.withStep(1).Title = c.l.T("eligibility.title")
	// The earlier requests are a courtesy: a failure to list them must
	// not keep the customer from the first step.
	var v eligibilityView
	if past, err := h.svc.PastRequests(ctx(c.r), c.acct, cancellation.PastOptions{Limit: pastShown}); err == nil {
		v.Past, v.PastMore = past.Requests, past.Next != ""
	} else {
		h.opts.Logger.Warn("webui: listing earlier requests failed", "error", err)
	}
	rep, err := h.svc.CheckEligibility(ctx(c.r), c.acct)
	if errors.Is(err, cancellation.ErrAccountClosed) {
		v.Closed = true
		c.p.Data = v
		h.render(c.w, http.StatusOK, "eligibility", c.p)
		return
	}
	if err != nil {
		h.fail(c, "", err)
		return
	}
	v.Report, v.Blocked = rep, rep.Outcome == cancellation.OutcomeBlocked
	c.p.Data = v
	h.render(c.w, http.StatusOK, "eligibility", c.p)
}

func (h *Handler) start(c *call) {
	r, err := h.svc.Start(ctx(c.r), c.acct)
	if err != nil {
		c.p.withStep(1).Title = c.l.T("eligibility.title")
		var ne *cancellation.NotEligibleError
		if errors.As(err, &ne) {
			c.p.Data = eligibilityView{Report: ne.Report, Blocked: true}
		} else if rep, rerr := h.svc.CheckEligibility(ctx(c.r), c.acct); rerr == nil {
			c.p.Data = eligibilityView{Report: rep, Blocked: rep.Outcome == cancellation.OutcomeBlocked}
		} else {
			c.p.Data = eligibilityView{Closed: errors.Is(rerr, cancellation.ErrAccountClosed)}
		}
		h.fail(c, "eligibility", err)
		return
	}
	http.Redirect(c.w, c.r, reqPath(r.ID(), "notes"), http.StatusSeeOther)
}

// load reads the customer's request of the path, or renders why not.
func (h *Handler) load(c *call) (*cancellation.Request, bool) {
	r, err := h.svc.Get(ctx(c.r), c.acct, c.r.PathValue("id"))
	if err != nil {
		h.fail(c, "", err)
		return nil, false
	}
	return r, true
}

// onStep sends the browser to the request's current step when the page
// asked for is not one it can use now.
func (h *Handler) onStep(c *call, r *cancellation.Request, want ...string) bool {
	_, step := stepOf(r)
	if slices.Contains(want, step) {
		return true
	}
	http.Redirect(c.w, c.r, reqPath(r.ID(), step), http.StatusSeeOther)
	return false
}

// notesView is the data of step 2.
type notesView struct {
	ID       string
	Notes    cancellation.Notes
	Consents []cancellation.Finding
	// Reconsent is set after confirmation, when the findings changed.
	Reconsent bool
	// OfferExport is set when the Service offers a data export.
	OfferExport bool
	Form        url.Values
}

// notesFor returns the notes in the page's language.
func (h *Handler) notesFor(l *localizer) cancellation.Notes {
	for _, n := range h.svc.NotesTranslations() {
		if Match(n.Language) == l.tag.String() && n.Language != "" && Match(n.Language) != "en" {
			return n
		}
	}
	return h.svc.Notes()
}

func (h *Handler) notesPage(c *call) {
	r, ok := h.load(c)
	if !ok {
		return
	}
	h.renderNotes(c, r, http.StatusOK, nil)
}

func (h *Handler) renderNotes(c *call, r *cancellation.Request, status int, err error) {
	rep, rerr := h.svc.CheckEligibility(ctx(c.r), c.acct)
	if rerr != nil {
		h.fail(c, "", rerr)
		return
	}
	v := notesView{ID: r.ID(), Notes: h.notesFor(c.l), Form: c.r.PostForm, OfferExport: h.svc.OffersDataExport()}
	if r.State() != cancellation.StateStarted {
		// After confirmation the page re-asks only the consents whose
		// findings changed.
		var cre *cancellation.ConsentRequiredError
		if !errors.As(err, &cre) {
			_, step := stepOf(r)
			http.Redirect(c.w, c.r, reqPath(r.ID(), step), http.StatusSeeOther)
			return
		}
		v.Reconsent = true
	}
	v.Consents = rep.NeedsConsent()
	c.p.withStep(2).Title = c.l.T("notes.title")
	c.p.Data = v
	if err != nil {
		h.fail(c, "notes", err)
		return
	}
	h.render(c.w, status, "notes", c.p)
}

func (h *Handler) confirm(c *call) {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, 64<<10)
	r, ok := h.load(c)
	if !ok {
		return
	}
	if err := c.r.ParseForm(); err != nil {
		h.fail(c, "", badForm(err))
		return
	}
	f := c.r.PostForm
	var consents []cancellation.Consent
	for _, rule := range f["consent"] {
		consents = append(consents, cancellation.Consent{Rule: rule, Fingerprint: f.Get("fp." + rule)})
	}
	var err error
	if r.State() == cancellation.StateStarted {
		_, err = h.svc.Confirm(ctx(c.r), c.acct, r.ID(), cancellation.Confirmation{
			NotesVersion: f.Get("notes_version"),
			Irreversible: f.Get("irreversible") == "on",
			Attestations: cancellation.Attestations{
				BackupDoneOrWaived:  f.Get("backup") == "on",
				NotEvading:          f.Get("not_evading") == "on",
				OtherMattersHandled: f.Get("other_matters") == "on",
			},
			Consents:   consents,
			DataExport: cancellation.ExportChoice(f.Get("data_export")),
		})
	} else {
		_, err = h.svc.Consent(ctx(c.r), c.acct, r.ID(), consents)
	}
	if err != nil {
		h.renderNotes(c, r, 0, err)
		return
	}
	r, ok = h.load(c)
	if !ok {
		return
	}
	_, step := stepOf(r)
	http.Redirect(c.w, c.r, reqPath(r.ID(), step), http.StatusSeeOther)
}

// codeView is the data of step 3.
type codeView struct {
	ID        string
	Sent      bool
	Phone     string
	ExpiresAt time.Time
	ResendAt  time.Time
	Attempts  int
}

func (h *Handler) codePage(c *call) {
	r, ok := h.load(c)
	if !ok || !h.onStep(c, r, "code") {
		return
	}
	h.renderCode(c, r, nil)
}

func (h *Handler) renderCode(c *call, r *cancellation.Request, err error) {
	q := c.r.URL.Query()
	v := codeView{ID: r.ID(), ExpiresAt: r.CodeExpiresAt(), Sent: !r.CodeExpiresAt().IsZero(), Phone: q.Get("phone")}
	if s, perr := strconv.ParseInt(q.Get("resend"), 10, 64); perr == nil {
		v.ResendAt = time.Unix(s, 0)
	}
	var ce *cancellation.CodeError
	if errors.As(err, &ce) {
		v.Attempts = ce.AttemptsLeft
		if !ce.RetryAt.IsZero() {
			v.ResendAt = ce.RetryAt
		}
	}
	c.p.withStep(3).Title = c.l.T("code.title")
	c.p.Data = v
	if err != nil {
		h.fail(c, "code", err)
		return
	}
	h.render(c.w, http.StatusOK, "code", c.p)
}

func (h *Handler) sendCode(c *call) {
	r, ok := h.load(c)
	if !ok {
		return
	}
	sent, err := h.svc.SendCode(ctx(c.r), c.acct, r.ID())
	if err != nil {
		h.renderCode(c, r, err)
		return
	}
	q := url.Values{"phone": {sent.MaskedPhone}, "resend": {strconv.FormatInt(sent.ResendAt.Unix(), 10)}}
	http.Redirect(c.w, c.r, reqPath(r.ID(), "code")+"?"+q.Encode(), http.StatusSeeOther)
}

func (h *Handler) verifyCode(c *call) {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, 4<<10)
	r, ok := h.load(c)
	if !ok {
		return
	}
	r2, err := h.svc.VerifyCode(ctx(c.r), c.acct, r.ID(), c.r.PostFormValue("code"))
	if err != nil {
		if cur, gerr := h.svc.Get(ctx(c.r), c.acct, r.ID()); gerr == nil {
			r = cur
		}
		h.renderCode(c, r, err)
		return
	}
	_, step := stepOf(r2)
	http.Redirect(c.w, c.r, reqPath(r2.ID(), step), http.StatusSeeOther)
}

// documentsView is the data of step 4.
type documentsView struct {
	ID         string
	Kinds      []cancellation.DocumentKind
	Documents  []cancellation.Document
	Facts      *cancellation.DocumentFacts
	Complete   bool
	MaxMiB     int64
	Enterprise bool
	// Returned is what the reviewer asked for, when the request was
	// returned to the customer.
	Returned *cancellation.ReturnView
}

func (h *Handler) documentsPage(c *call) {
	r, ok := h.load(c)
	if !ok || !h.onStep(c, r, "documents", "submit") {
		return
	}
	if !r.IdentityVerified() {
		http.Redirect(c.w, c.r, reqPath(r.ID(), "submit"), http.StatusSeeOther)
		return
	}
	h.renderDocuments(c, r, nil)
}

func (h *Handler) renderDocuments(c *call, r *cancellation.Request, err error) {
	v := documentsView{ID: r.ID(), MaxMiB: h.opts.MaxUploadBytes >> 20, Enterprise: r.AccountKind() == ports.Enterprise}
	if v.Enterprise {
		v.Kinds = []cancellation.DocumentKind{cancellation.DocumentBusinessLicence}
	} else {
		v.Kinds = []cancellation.DocumentKind{cancellation.DocumentPassport, cancellation.DocumentDriversLicence}
	}
	for _, d := range r.Documents() {
		if d.ReplacedAt.IsZero() && d.PurgedAt.IsZero() {
			v.Documents = append(v.Documents, d)
		}
	}
	v.Complete = r.State() == cancellation.StateDocumentsUploaded
	if rv := r.View().Returned; rv != nil {
		// Only the kinds asked for may be uploaded again.
		v.Returned, v.Kinds, v.Complete = rv, rv.Documents, len(rv.Pending) == 0
	}
	var de *cancellation.DocumentError
	if errors.As(err, &de) {
		v.Facts = &de.Facts
	}
	c.p.withStep(4).Title = c.l.T("documents.title")
	c.p.Data = v
	if err != nil {
		h.fail(c, "documents", err)
		return
	}
	h.render(c.w, http.StatusOK, "documents", c.p)
}

// errTooLarge is an upload over Options.MaxUploadBytes.
var errTooLarge = &cancellation.DocumentError{Problem: cancellation.DocumentTooLarge, Detail: "the upload is too large"}

func (h *Handler) upload(c *call) {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, h.opts.MaxUploadBytes)
	r, ok := h.load(c)
	if !ok {
		return
	}
	kind, file, err := h.readUpload(c.r)
	if err == nil {
		_, err = h.svc.UploadDocument(ctx(c.r), c.acct, r.ID(), cancellation.DocumentKind(kind), file)
		var mb *http.MaxBytesError
		if errors.As(err, &mb) || (err != nil && !errors.Is(err, cancellation.ErrDocumentRejected) && errors.As(file.err, &mb)) {
			err = errTooLarge
		}
	}
	if err != nil {
		if cur, gerr := h.svc.Get(ctx(c.r), c.acct, r.ID()); gerr == nil {
			r = cur
		}
		h.renderDocuments(c, r, err)
		return
	}
	http.Redirect(c.w, c.r, reqPath(r.ID(), "documents"), http.StatusSeeOther)
}

// readErr remembers the read error of the body it reads.
type readErr struct {
	r   interface{ Read([]byte) (int, error) }
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// readUpload streams the form: the "kind" field, then the "file" part.
func (h *Handler) readUpload(r *http.Request) (string, *readErr, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", nil, badForm(errors.New("not multipart/form-data"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	kind := ""
	for {
		part, err := mr.NextPart()
		var mb *http.MaxBytesError
		switch {
		case errors.As(err, &mb):
			return "", nil, errTooLarge
		case err != nil:
			return "", nil, badForm(errors.New("no file"))
		}
		switch part.FormName() {
		case "kind":
			b, err := io.ReadAll(io.LimitReader(part, 64))
			if err != nil {
				return "", nil, badForm(err)
			}
			kind = string(b)
		case "file":
			if part.FileName() == "" {
				return "", nil, badForm(errors.New("no file chosen"))
			}
			return kind, &readErr{r: part}, nil
		}
	}
}

// submitView is the data of step 5.
type submitView struct {
	ID      string
	Request *cancellation.Request
}

func (h *Handler) submitPage(c *call) {
	r, ok := h.load(c)
	if !ok || !h.onStep(c, r, "submit") {
		return
	}
	c.p.withStep(5).Title = c.l.T("submit.title")
	c.p.Data = submitView{ID: r.ID(), Request: r}
	h.render(c.w, http.StatusOK, "submit", c.p)
}

func (h *Handler) submit(c *call) {
	r, ok := h.load(c)
	if !ok {
		return
	}
	if _, err := h.svc.Submit(ctx(c.r), c.acct, r.ID()); err != nil {
		var cre *cancellation.ConsentRequiredError
		if errors.As(err, &cre) {
			h.renderNotes(c, r, 0, err)
			return
		}
		c.p.withStep(5).Title = c.l.T("submit.title")
		c.p.Data = submitView{ID: r.ID(), Request: r}
		h.fail(c, "submit", err)
		return
	}
	http.Redirect(c.w, c.r, reqPath(r.ID(), ""), http.StatusSeeOther)
}

// statusView is the data of step 6.
type statusView struct {
	ID          string
	Request     *cancellation.Request
	Withdrawing bool
	// Decision is the customer's view of the decision: the outcome and
	// its reason codes, never the reviewer or their note.
	Decision *cancellation.DecisionView
	Continue string
	Returned *cancellation.ReturnView
}

// withdrawable reports whether the customer may still withdraw.
func withdrawable(r *cancellation.Request) bool {
	return r.State().CanMoveTo(cancellation.StateWithdrawn)
}

func (h *Handler) status(c *call) {
	r, ok := h.load(c)
	if !ok {
		return
	}
	h.renderStatus(c, r, nil)
}

func (h *Handler) renderStatus(c *call, r *cancellation.Request, err error) {
	n, step := stepOf(r)
	v := statusView{ID: r.ID(), Request: r, Withdrawing: withdrawable(r)}
	if step != "" {
		v.Continue = reqPath(r.ID(), step)
	}
	view := r.View()
	v.Decision, v.Returned = view.Decision, view.Returned
	c.p.withStep(max(n, 6)).Title = c.l.T("status.title")
	if r.State() == cancellation.StateCancelled {
		c.p.Title = c.l.T("cancelled.title")
	}
	c.p.Data = v
	if err != nil {
		h.fail(c, "status", err)
		return
	}
	h.render(c.w, http.StatusOK, "status", c.p)
}

func (h *Handler) withdraw(c *call) {
	r, ok := h.load(c)
	if !ok {
		return
	}
	r2, err := h.svc.Withdraw(ctx(c.r), c.acct, r.ID())
	if err != nil {
		h.renderStatus(c, r, err)
		return
	}
	http.Redirect(c.w, c.r, reqPath(r2.ID(), ""), http.StatusSeeOther)
}

// receipt downloads the signed receipt of the customer's own request.
func (h *Handler) receipt(c *call) {
	id := c.r.PathValue("id")
	token, err := h.svc.Receipt(ctx(c.r), c.acct, id)
	if err != nil {
		h.fail(c, "", err)
		return
	}
	c.w.Header().Set("Content-Type", cancellation.ReceiptMediaType)
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.Header().Set("X-Content-Type-Options", "nosniff")
	// id passed the Service's id check: no quote or control character.
	c.w.Header().Set("Content-Disposition", `attachment; filename="cancellation-receipt-`+id+`.jws"`)
	_, _ = c.w.Write([]byte(token))
}
