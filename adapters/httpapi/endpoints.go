package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

func (h *Handler) notes(r *http.Request, _ Principal) (reply, error) {
	return jsonReply(http.StatusOK, h.svc.Notes(), 0)
}

func (h *Handler) eligibility(r *http.Request, p Principal) (reply, error) {
	rep, err := h.svc.CheckEligibility(r.Context(), p.Account)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, rep, 0)
}

// request answers with the customer's view of a request and its ETag.
func request(status int, req *cancellation.Request, err error) (reply, error) {
	if err != nil {
		return reply{}, err
	}
	// The view itself, not req: encoding/json would check and compact a
	// Marshaler's output once more.
	return jsonReply(status, req.View(), req.Version())
}

// empty checks that an operation without arguments got no body, or {}.
func (h *Handler) empty(r *http.Request) error {
	var none struct{}
	return decodeJSON(r, h.opts.MaxJSONBytes, &none, true)
}

func (h *Handler) start(r *http.Request, p Principal) (reply, error) {
	if err := h.empty(r); err != nil {
		return reply{}, err
	}
	req, err := h.svc.Start(r.Context(), p.Account)
	rep, err := request(http.StatusCreated, req, err)
	if err == nil {
		rep.Header["Location"] = mountPrefix(r) + "/v1/cancellations/" + req.ID()
	}
	return rep, err
}

// mountPrefix is the path a host mounted the handler under (with
// http.StripPrefix): what RequestURI has before URL.Path.
func mountPrefix(r *http.Request) string {
	uri, _, _ := strings.Cut(r.RequestURI, "?")
	if prefix, ok := strings.CutSuffix(uri, r.URL.EscapedPath()); ok {
		return prefix
	}
	return ""
}

func (h *Handler) active(r *http.Request, p Principal) (reply, error) {
	req, err := h.svc.Active(r.Context(), p.Account)
	return request(http.StatusOK, req, err)
}

func (h *Handler) get(r *http.Request, p Principal) (reply, error) {
	req, err := h.svc.Get(r.Context(), p.Account, r.PathValue("id"))
	return request(http.StatusOK, req, err)
}

func (h *Handler) confirm(r *http.Request, p Principal) (reply, error) {
	var c cancellation.Confirmation
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &c, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.Confirm(r.Context(), p.Account, r.PathValue("id"), c)
	return request(http.StatusOK, req, err)
}

// ConsentsBody is the body of POST .../consents.
type ConsentsBody struct {
	Consents []cancellation.Consent `json:"consents"`
}

func (h *Handler) consent(r *http.Request, p Principal) (reply, error) {
	var b ConsentsBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.Consent(r.Context(), p.Account, r.PathValue("id"), b.Consents)
	return request(http.StatusOK, req, err)
}

// CodeSentView answers POST .../code.
type CodeSentView struct {
	MaskedPhone string    `json:"masked_phone"`
	ExpiresAt   time.Time `json:"expires_at"`
	ResendAt    time.Time `json:"resend_at"`
}

func (h *Handler) sendCode(r *http.Request, p Principal) (reply, error) {
	if err := h.empty(r); err != nil {
		return reply{}, err
	}
	sent, err := h.svc.SendCode(r.Context(), p.Account, r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	// The code changed the request: its new ETag, for the next If-Match.
	req, err := h.svc.Get(r.Context(), p.Account, r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusAccepted, CodeSentView{MaskedPhone: sent.MaskedPhone, ExpiresAt: sent.ExpiresAt, ResendAt: sent.ResendAt}, req.Version())
}

// VerifyBody is the body of POST .../code/verify.
type VerifyBody struct {
	Code string `json:"code"`
}

func (h *Handler) verifyCode(r *http.Request, p Principal) (reply, error) {
	var b VerifyBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.VerifyCode(r.Context(), p.Account, r.PathValue("id"), b.Code)
	return request(http.StatusOK, req, err)
}

// maxKindField bounds the "kind" form field of an upload.
const maxKindField = 64

// upload streams the "file" part of a multipart/form-data body through
// Service.UploadDocument (which reads it with ReadDocument, bounded). The
// "kind" field must come before the file.
func (h *Handler) upload(r *http.Request, p Principal) (reply, error) {
	doc, err := h.multipartUpload(r, func(kind string, src io.Reader) (cancellation.Document, error) {
		return h.svc.UploadDocument(r.Context(), p.Account, r.PathValue("id"), cancellation.DocumentKind(kind), src)
	})
	if err != nil {
		return reply{}, err
	}
	req, err := h.svc.Get(r.Context(), p.Account, r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	view := cancellation.DocumentView{Kind: doc.Kind, Format: doc.Facts.Format, Width: doc.Facts.Width, Height: doc.Facts.Height, UploadedAt: doc.UploadedAt}
	return jsonReply(http.StatusCreated, view, req.Version())
}

// multipartUpload reads a multipart/form-data body of a "kind" field then
// a "file" part and hands them to store, the Service's upload.
func (h *Handler) multipartUpload(r *http.Request, store func(kind string, src io.Reader) (cancellation.Document, error)) (cancellation.Document, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return cancellation.Document{}, bodyProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send multipart/form-data",
			`upload the document as multipart/form-data with a "kind" field, then a "file" part`)
	}
	if params["boundary"] == "" {
		return cancellation.Document{}, malformedMultipart("the Content-Type has no boundary")
	}
	// body remembers a read error of the whole body (the bound), which the
	// multipart reader reports without wrapping it.
	body := &readErr{r: r.Body}
	fail := func(err error, detail string) error {
		if tooLarge(body.err) {
			return body.err // errorReply answers 413
		}
		var bp errBodyProblem
		if errors.As(body.err, &bp) {
			return body.err
		}
		if err != nil && (tooLarge(err) || errors.As(err, &bp)) {
			return err
		}
		return malformedMultipart(detail)
	}
	mr := multipart.NewReader(body, params["boundary"])
	kind, err := kindField(mr, fail)
	if err != nil {
		return cancellation.Document{}, err
	}
	part, err := mr.NextPart()
	if err != nil {
		return cancellation.Document{}, fail(err, `a "file" part must follow the "kind" field`)
	}
	defer part.Close()
	if part.FormName() != "file" {
		return cancellation.Document{}, malformedMultipart(`the part after "kind" must be the "file" part`)
	}
	// The file's end reaches the Service only once the rest of the body is
	// checked, so that a body which goes on past the bound or holds another
	// part is refused before anything is stored.
	src := &readErr{r: &fileThenEnd{part: part, mr: mr, rest: body}}
	doc, err := store(kind, src)
	if err != nil {
		if src.err != nil && !errors.Is(err, cancellation.ErrDocumentRejected) || tooLarge(body.err) {
			return cancellation.Document{}, fail(src.err, "the file part is cut short")
		}
		return cancellation.Document{}, err
	}
	return doc, nil
}

func kindField(mr *multipart.Reader, fail func(error, string) error) (string, error) {
	part, err := mr.NextPart()
	if err != nil {
		return "", fail(err, `the body must start with the "kind" field`)
	}
	defer part.Close()
	if part.FormName() != "kind" {
		return "", malformedMultipart(`the first part must be the "kind" field (passport, drivers_licence or business_licence; evidence for staff)`)
	}
	b, err := io.ReadAll(io.LimitReader(part, maxKindField+1))
	if err != nil {
		return "", fail(err, `the "kind" field is cut short`)
	}
	if len(b) > maxKindField {
		return "", malformedMultipart(`the "kind" field is too long`)
	}
	return string(b), nil
}

func malformedMultipart(detail string) error {
	return bodyProblem(http.StatusBadRequest, "malformed_multipart", "The multipart body is malformed", detail)
}

// readErr remembers the error of the reader the Service reads, so that a
// broken or oversized body is not blamed on the document.
// fileThenEnd reads the file part and, at its end, checks that the body
// ends there: the closing boundary, no other part, and nothing past the
// bound (the epilogue is read to the end). Only then does it return EOF.
type fileThenEnd struct {
	part io.Reader
	mr   *multipart.Reader
	rest io.Reader
}

func (f *fileThenEnd) Read(p []byte) (int, error) {
	n, err := f.part.Read(p)
	if err != io.EOF {
		return n, err
	}
	next, err := f.mr.NextPart()
	switch {
	case err == nil:
		next.Close()
		return n, malformedMultipart(`the body must end after the "file" part`)
	case err != io.EOF:
		return n, err
	}
	if _, err := io.Copy(io.Discard, f.rest); err != nil {
		return n, err
	}
	return n, io.EOF
}

type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

func (h *Handler) submit(r *http.Request, p Principal) (reply, error) {
	if err := h.empty(r); err != nil {
		return reply{}, err
	}
	req, err := h.svc.Submit(r.Context(), p.Account, r.PathValue("id"))
	return request(http.StatusOK, req, err)
}

func (h *Handler) withdraw(r *http.Request, p Principal) (reply, error) {
	if err := h.empty(r); err != nil {
		return reply{}, err
	}
	req, err := h.svc.Withdraw(r.Context(), p.Account, r.PathValue("id"))
	return request(http.StatusOK, req, err)
}

func (h *Handler) waiveDataExport(r *http.Request, p Principal) (reply, error) {
	if err := h.empty(r); err != nil {
		return reply{}, err
	}
	req, err := h.svc.WaiveDataExport(r.Context(), p.Account, r.PathValue("id"))
	return request(http.StatusOK, req, err)
}

// Queue paging: limit 1..maxPage (default defaultPage); cursor is the
// next_cursor of the previous page.
const (
	defaultPage = 50
	maxPage     = 200
)

func (h *Handler) queue(r *http.Request, p Principal) (reply, error) {
	limit, err := intParam(r, "limit", defaultPage, 1, maxPage)
	if err != nil {
		return reply{}, err
	}
	q := r.URL.Query()
	opt := cancellation.QueueOptions{Limit: limit, After: q.Get("cursor"),
		Claims: cancellation.QueueClaims(q.Get("claims")), AccountKind: ports.AccountKind(q.Get("account_kind"))}
	switch q.Get("overdue") {
	case "", "false":
	case "true":
		opt.Overdue = true
	default:
		return reply{}, &cancellation.ValidationError{Field: "overdue", Problem: "must be true or false"}
	}
	page, err := h.queuePage(r, *p.Reviewer, opt)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, page, 0)
}

// queuePage is the one place that reads the Service's review queue. Pages
// are read by keyset and filtered by the Store, so a page deep in the
// queue costs what the first does and is never short because of the
// reviewer's own requests or the filters.
func (h *Handler) queuePage(r *http.Request, rv cancellation.Reviewer, opt cancellation.QueueOptions) (QueuePage, error) {
	res, err := h.svc.ReviewQueue(r.Context(), rv, opt)
	if err != nil {
		return QueuePage{}, err
	}
	page := QueuePage{Items: make([]QueueEntry, 0, len(res.Items)), NextCursor: res.Next}
	for _, it := range res.Items {
		page.Items = append(page.Items, queueEntry(it))
	}
	return page, nil
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &cancellation.ValidationError{Field: name, Problem: "must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)}
	}
	return n, nil
}

func (h *Handler) review(r *http.Request, p Principal) (reply, error) {
	req, err := h.svc.Review(r.Context(), *p.Reviewer, r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

func (h *Handler) reviewDocument(r *http.Request, p Principal) (reply, error) {
	doc, data, err := h.svc.ReviewDocument(r.Context(), *p.Reviewer, r.PathValue("id"), cancellation.DocumentKind(r.PathValue("kind")))
	if err != nil {
		return reply{}, err
	}
	return imageReply(doc, data, string(doc.Kind)), nil
}

// imageReply answers a document's image, never cached nor sniffed.
func imageReply(doc cancellation.Document, data []byte, filename string) reply {
	return reply{Status: http.StatusOK, Body: data, Header: map[string]string{
		"Content-Type":           contentType(doc.Facts.Format),
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Content-Disposition":    `inline; filename="` + filename + `"`,
	}}
}

func contentType(f cancellation.DocumentFormat) string {
	switch t := "image/" + string(f); t {
	case "image/jpeg", "image/png", "image/webp", "image/tiff":
		return t
	}
	return "application/octet-stream"
}

// claim claims the request for the reviewer, or renews their claim.
func (h *Handler) claim(r *http.Request, p Principal) (reply, error) {
	return h.claimOp(r, p, h.svc.Claim)
}

func (h *Handler) renewClaim(r *http.Request, p Principal) (reply, error) {
	return h.claimOp(r, p, h.svc.RenewClaim)
}

func (h *Handler) releaseClaim(r *http.Request, p Principal) (reply, error) {
	return h.claimOp(r, p, h.svc.ReleaseClaim)
}

func (h *Handler) claimOp(r *http.Request, p Principal, op func(context.Context, cancellation.Reviewer, string) (*cancellation.Request, error)) (reply, error) {
	if err := h.empty(r); err != nil {
		return reply{}, err
	}
	req, err := op(r.Context(), *p.Reviewer, r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

// ReassignBody is the body of POST /v1/reviews/{id}/claim/reassign.
type ReassignBody struct {
	// To is the staff id of the reviewer who gets the claim.
	To string `json:"to"`
}

func (h *Handler) reassign(r *http.Request, p Principal) (reply, error) {
	var b ReassignBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.Reassign(r.Context(), *p.Reviewer, r.PathValue("id"), b.To)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

// ApproveBody is the body of POST /v1/reviews/{id}/approve.
type ApproveBody struct {
	Note string `json:"note,omitempty"`
}

func (h *Handler) approve(r *http.Request, p Principal) (reply, error) {
	var b ApproveBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, true); err != nil {
		return reply{}, err
	}
	req, err := h.svc.Approve(r.Context(), *p.Reviewer, r.PathValue("id"), b.Note)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

// RejectBody is the body of POST /v1/reviews/{id}/reject.
type RejectBody struct {
	Reasons []cancellation.ReasonCode `json:"reasons"`
	Note    string                    `json:"note,omitempty"`
}

func (h *Handler) reject(r *http.Request, p Principal) (reply, error) {
	var b RejectBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.Reject(r.Context(), *p.Reviewer, r.PathValue("id"), b.Reasons, b.Note)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}

func (h *Handler) receipt(r *http.Request, p Principal) (reply, error) {
	id := r.PathValue("id")
	token, err := h.svc.Receipt(r.Context(), p.Account, id)
	if err != nil {
		return reply{}, err
	}
	return reply{Status: http.StatusOK, Body: []byte(token), Header: map[string]string{
		"Content-Type":           cancellation.ReceiptMediaType,
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		// id passed cancellation.CheckID: no quote or control character.
		"Content-Disposition": `attachment; filename="cancellation-receipt-` + id + `.jws"`,
	}}, nil
}

// ErasureExtensionBody is the body of POST
// /v1/reviews/{id}/erasure-extension.
type ErasureExtensionBody struct {
	Months int    `json:"months"`
	Reason string `json:"reason"`
}

func (h *Handler) extendErasure(r *http.Request, p Principal) (reply, error) {
	var b ErasureExtensionBody
	if err := decodeJSON(r, h.opts.MaxJSONBytes, &b, false); err != nil {
		return reply{}, err
	}
	req, err := h.svc.ExtendErasureDeadline(r.Context(), *p.Reviewer, r.PathValue("id"), b.Months, b.Reason)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, reviewView(req, h.opts.Clock.Now()), req.Version())
}
