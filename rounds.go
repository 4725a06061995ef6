package cancellation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// DefaultMaxReturns is how often a request may be returned to the
// customer when Config.MaxReturns is zero.
const DefaultMaxReturns = 3

// MaxReturnsLimit is the largest Config.MaxReturns New accepts: each round
// adds a few events, and rounds must never fill a request's history
// (MaxHistory) before the reviewer decides.
const MaxReturnsLimit = 10

// ReturnReason is a stable code for why a reviewer returns a request to
// the customer. The customer sees it; the reviewer's note stays with staff.
type ReturnReason string

// Return reasons.
const (
	ReturnDocumentUnreadable ReturnReason = "document_unreadable"
	ReturnDocumentExpired    ReturnReason = "document_expired"
	ReturnNameMismatch       ReturnReason = "name_mismatch"
	ReturnDocumentMissing    ReturnReason = "document_missing"
	// ReturnOther needs a note that explains it (for staff).
	ReturnOther ReturnReason = "other"
)

var returnReasons = []ReturnReason{
	ReturnDocumentUnreadable, ReturnDocumentExpired, ReturnNameMismatch, ReturnDocumentMissing, ReturnOther,
}

// ReturnReasons lists every return reason. It is a copy for reading:
// changing it changes nothing the library accepts.
var ReturnReasons = slices.Clone(returnReasons)

// MoreRequest is what a reviewer asks the customer for with
// Service.AskForMore.
type MoreRequest struct {
	// Reasons are at least one return reason, shown to the customer.
	Reasons []ReturnReason
	// Documents are the kinds the customer must upload again: at least
	// one, each fitting the account's kind, no kind twice. Only these may
	// be uploaded while the request is returned.
	Documents []DocumentKind
	// Note is for staff only, never sent to the customer; ReturnOther
	// needs one. It is at most MaxNoteLength characters.
	Note string
}

// validate checks what needs no request: the reasons, the note (given
// for ReturnOther, at most MaxNoteLength characters), and the document
// kinds named once each. checkKinds checks the kinds against the
// request's account.
func (m MoreRequest) validate() error {
	if len(m.Reasons) == 0 {
		return invalid("reasons", "asking for more needs at least one reason code")
	}
	for _, rc := range m.Reasons {
		if !slices.Contains(returnReasons, rc) {
			return invalid("reasons", fmt.Sprintf("unknown return reason %q (known: %v)", rc, returnReasons))
		}
	}
	if slices.Contains(m.Reasons, ReturnOther) && strings.TrimSpace(m.Note) == "" {
		return invalid("note", `reason "other" needs a note that explains it`)
	}
	if err := checkNote("note", m.Note); err != nil {
		return err
	}
	if len(m.Documents) == 0 {
		return invalid("documents", "name at least one document kind the customer must upload again")
	}
	for i, k := range m.Documents {
		if !slices.Contains(documentKinds(ports.Personal), k) && !slices.Contains(documentKinds(ports.Enterprise), k) {
			return invalid(fmt.Sprintf("documents[%d]", i), fmt.Sprintf("unknown document kind %q", k))
		}
		if slices.Contains(m.Documents[:i], k) {
			return invalid(fmt.Sprintf("documents[%d]", i), fmt.Sprintf("%q is named twice", k))
		}
	}
	return nil
}

// checkKinds checks that each kind asked for fits the account's kind.
func (m MoreRequest) checkKinds(kind ports.AccountKind) error {
	for i, k := range m.Documents {
		if !documentKindAllowed(kind, k) {
			return invalid(fmt.Sprintf("documents[%d]", i), fmt.Sprintf("a %s account uploads one of %v, not %q", kind, documentKinds(kind), k))
		}
	}
	return nil
}

// Return is one round of asking the customer for more, as the request
// records it (Request.Return). Note and By are for staff.
type Return struct {
	// Round is the round of review returned: 1 for the first submission.
	Round     int            `json:"round"`
	Reasons   []ReturnReason `json:"reasons"`
	Documents []DocumentKind `json:"documents"`
	Note      string         `json:"note,omitempty"`
	By        Actor          `json:"by"`
	At        time.Time      `json:"at"`
	// Since is how many documents the request held at the return: the
	// ones after it were uploaded again.
	Since int `json:"since"`
}

func (rt *Return) clone() *Return {
	if rt == nil {
		return nil
	}
	c := *rt
	c.Reasons, c.Documents = slices.Clone(rt.Reasons), slices.Clone(rt.Documents)
	return &c
}

// ReturnView is what the customer sees of a return: the reasons and the
// documents to upload again, with which of them are done. No note, no
// reviewer.
type ReturnView struct {
	Round     int            `json:"round"`
	Reasons   []ReturnReason `json:"reasons"`
	Documents []DocumentKind `json:"documents"`
	// Pending are the documents not uploaded again yet.
	Pending []DocumentKind `json:"pending,omitempty"`
	At      time.Time      `json:"at"`
}

// returnView is the customer's view of the open return.
func (r *Request) returnView() *ReturnView {
	rt := r.d.Return
	return &ReturnView{Round: rt.Round, Reasons: slices.Clone(rt.Reasons), Documents: slices.Clone(rt.Documents), Pending: r.notReuploaded(), At: rt.At}
}

// Return returns the latest round of asking the customer for more, if any.
func (r *Request) Return() (Return, bool) {
	if r.d.Return == nil {
		return Return{}, false
	}
	return *r.d.Return.clone(), true
}

// Rounds returns how often the request has been returned to the customer.
func (r *Request) Rounds() int { return int(r.d.Rounds) }

// askedKinds lists the kinds the open return asks for.
func (r *Request) askedKinds() []DocumentKind {
	if r.d.Return == nil {
		return nil
	}
	return slices.Clone(r.d.Return.Documents)
}

// notReuploaded lists the kinds asked for that have no current document
// uploaded since the return.
func (r *Request) notReuploaded() []DocumentKind {
	var missing []DocumentKind
	for _, k := range r.askedKinds() {
		since := min(max(r.d.Return.Since, 0), len(r.d.Documents))
		if !slices.ContainsFunc(r.d.Documents[since:], func(d Document) bool {
			return d.Kind == k && d.ReplacedAt.IsZero()
		}) {
			missing = append(missing, k)
		}
	}
	return missing
}

// askForMore returns a request in review to the customer.
func (r *Request) askForMore(ec effectCtx, by ports.StaffMember, m MoreRequest, maxReturns int) error {
	const op = "ask for more on"
	if err := r.checkDecision(op, StateReturned, by, ec.now); err != nil {
		return err
	}
	if !r.d.IdentityVerified {
		return fmt.Errorf("%w: account %s uploads no documents, so there is nothing to ask for again", ErrDocumentsNotRequired, r.d.Account)
	}
	if err := m.checkKinds(r.d.AccountKind); err != nil {
		return err
	}
	if int(r.d.Rounds) >= maxReturns {
		return fmt.Errorf("%w: request %s was returned %d times, the most Config.MaxReturns allows: approve or reject it", ErrRoundsExhausted, r.d.ID, r.d.Rounds)
	}
	note := validText(m.Note)
	rt := &Return{Round: int(r.d.Rounds) + 1, Reasons: slices.Clone(m.Reasons), Documents: slices.Clone(m.Documents), Note: note, By: staffActor(by), At: ec.now, Since: len(r.d.Documents)}
	reasons, docs := joinCodes(rt.Reasons), joinCodes(rt.Documents)
	if err := r.move(op, StateReturned, ec.now, staffActor(by), EventReturned, map[string]string{
		DataRound: fmt.Sprint(rt.Round), DataReasons: reasons, DataDocuments: docs, "note": note,
	}); err != nil {
		return err
	}
	r.d.Return, r.d.Rounds = rt, int32(rt.Round)
	// The reviewer's note is for staff: the customer's SMS or email
	// carries the reason codes and the documents to upload again only.
	r.notifyAs(fmt.Sprintf("%s/%d", TemplateMoreRequested, rt.Round), TemplateMoreRequested,
		map[string]string{DataReasons: reasons, DataDocuments: docs, DataRound: fmt.Sprint(rt.Round)},
		ec.to, ec.to.resultChannel(), ec.owner, ec.lease)
	return nil
}

func joinCodes[T ~string](codes []T) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// AskForMore returns a request in review to the customer (a staff member
// with the reviewer role, not on their own account's request): the
// reasons and the documents to upload again are sent to the customer by
// SMS, or email without a phone (TemplateMoreRequested; never the note),
// and the request moves to StateReturned. There the customer uploads again
// only the kinds asked for (others are refused with ErrNotAsked) and
// submits again with Submit, which refuses until every kind asked for was
// uploaded since the return; the review is then due three business days
// from the resubmission (Config.Calendar). A returned request left idle
// for Config.ExpireAfter expires like an unsubmitted one; the customer may
// also withdraw it. A request is returned at most Config.MaxReturns times
// (ErrRoundsExhausted after); the history records each round: the
// returned event and the resubmission name its round. A note of more
// than MaxNoteLength characters is a ValidationError (field "note"),
// returned before anything is read or changed.
func (s *Service) AskForMore(ctx context.Context, rv Reviewer, id string, m MoreRequest) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpAskForMore)(&err)
	if err := rv.check(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil { // bad input is named whatever the request's state
		return nil, err
	}
	member, err := s.authorize(ctx, "ask for more", rv, ports.RoleReviewer)
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, staff, id, func(r *Request, ec effectCtx) error {
		return r.askForMore(ec, member, m, s.maxReturns())
	})
}

func (s *Service) maxReturns() int {
	if s.cfg.MaxReturns == 0 {
		return DefaultMaxReturns
	}
	return s.cfg.MaxReturns
}
