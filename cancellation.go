package cancellation

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/accountkit/cancellation/ports"
)

// State is the state of a cancellation request.
type State string

// States, in the order of the seed's process. See the package
// documentation for the diagram.
const (
	StateStarted           State = "started"            // step 1: the customer chose Cancel
	StateConfirmed         State = "confirmed"          // step 2: notes read, consents given
	StatePhoneVerified     State = "phone_verified"     // step 3: recovery phone verified
	StateDocumentsUploaded State = "documents_uploaded" // step 4: identity documents uploaded
	StateInReview          State = "in_review"          // step 5: waiting for a reviewer
	StateApproved          State = "approved"           // step 5: approved, closing
	StateScheduled         State = "scheduled"          // cooling-off or settlement period
	StateCancelled         State = "cancelled"          // step 6: login disabled; final
	StateRejected          State = "rejected"           // by a reviewer or by eligibility
	StateWithdrawn         State = "withdrawn"          // by the customer
	StateExpired           State = "expired"            // abandoned before submission
	// StateReturned: a reviewer asked the customer for more (documents to
	// upload again); the customer uploads them and submits again, or the
	// request expires like an unsubmitted one (see Service.AskForMore).
	StateReturned State = "returned"
	// StateAwaitingApproval: a closure staff started on the customer's
	// behalf waits for a second staff member's approval (four eyes; see
	// Service.StartStaffClosure). Only staff move it on.
	StateAwaitingApproval State = "awaiting_approval"
)

// states are the defined states, which validation reads.
var states = []State{
	StateStarted, StateConfirmed, StatePhoneVerified, StateDocumentsUploaded,
	StateInReview, StateApproved, StateScheduled, StateCancelled,
	StateRejected, StateWithdrawn, StateExpired,
	StateReturned, StateAwaitingApproval,
}

// States lists every state, in process order. It is a copy for reading:
// changing it changes nothing the library accepts.
var States = slices.Clone(states)

// transitions is the state machine: the states each state may move to.
// Terminal states have no entry; in particular nothing leaves
// StateCancelled: there is no restore operation, by design. The edge from
// StateStarted to StateAwaitingApproval is taken only by
// Service.StartStaffClosure, in the write that creates the request.
var transitions = map[State][]State{
	StateStarted:           {StateConfirmed, StateWithdrawn, StateExpired, StateAwaitingApproval},
	StateConfirmed:         {StatePhoneVerified, StateWithdrawn, StateExpired},
	StatePhoneVerified:     {StateDocumentsUploaded, StateInReview, StateWithdrawn, StateExpired},
	StateDocumentsUploaded: {StateInReview, StateWithdrawn, StateExpired},
	StateInReview:          {StateApproved, StateRejected, StateWithdrawn, StateReturned},
	StateReturned:          {StateInReview, StateWithdrawn, StateExpired},
	StateAwaitingApproval:  {StateApproved, StateRejected},
	StateApproved:          {StateScheduled, StateCancelled, StateRejected},
	StateScheduled:         {StateCancelled, StateRejected, StateWithdrawn},
}

// Valid reports whether s is one of the defined states.
func (s State) Valid() bool { return slices.Contains(states, s) }

// Terminal reports whether no transition leaves s.
func (s State) Terminal() bool { return s.Valid() && len(transitions[s]) == 0 }

// CanMoveTo reports whether the state machine has an edge from s to t.
func (s State) CanMoveTo(t State) bool { return slices.Contains(transitions[s], t) }

// ActorKind says who caused an event.
type ActorKind string

// Actor kinds.
const (
	ActorCustomer ActorKind = "customer"
	ActorReviewer ActorKind = "reviewer"
	ActorSystem   ActorKind = "system"
)

// Actor is who caused an event: the customer's account, a reviewer, or the
// library itself (maintenance, eligibility).
type Actor struct {
	Kind ActorKind `json:"kind"`
	ID   string    `json:"id"`
}

var systemActor = Actor{Kind: ActorSystem, ID: "cancellation"}

// EventType names what happened.
type EventType string

// Event types. Transition events are named after the state they lead to.
const (
	EventStarted           EventType = "started"
	EventConfirmed         EventType = "confirmed"
	EventConsented         EventType = "consented"
	EventCodeSent          EventType = "code_sent"
	EventCodeFailed        EventType = "code_failed"
	EventCodeLocked        EventType = "code_locked"
	EventPhoneVerified     EventType = "phone_verified"
	EventDocumentUploaded  EventType = "document_uploaded"
	EventDocumentsUploaded EventType = "documents_uploaded"
	EventSubmitted         EventType = "in_review"
	EventReviewOverdue     EventType = "review_overdue"
	EventApproved          EventType = "approved"
	EventClosing           EventType = "closing"
	EventScheduled         EventType = "scheduled"
	EventCancelled         EventType = "cancelled"
	EventRejected          EventType = "rejected"
	EventWithdrawn         EventType = "withdrawn"
	EventExpired           EventType = "expired"
	EventEffectDone        EventType = "effect_done"
	EventDocumentsPurged   EventType = "documents_purged"
	// EventReturned: a reviewer asked the customer for more (a transition
	// to StateReturned). Data: round, reasons, documents, note (staff only).
	EventReturned EventType = "returned"
	// EventAwaitingApproval: staff started a closure on the customer's
	// behalf (a transition to StateAwaitingApproval). Data: reason, note.
	EventAwaitingApproval EventType = "awaiting_approval"
	// EventBlockersOverridden: a senior approved a staff closure over the
	// eligibility blockers. Data: rules, justification.
	EventBlockersOverridden EventType = "blockers_overridden"
	// EventFirstApproval: the first of the two seniors approved a closure
	// an organisation's admin asked for; it awaits the second.
	EventFirstApproval EventType = "first_approval"
)

// Event is one entry of a request's history, which is its audit trail.
// Each event carries a hash over its content and the hash of the one
// before it: keyed (HMAC, see HistoryKey) when the Service has
// HistoryKeys, so VerifyHistory can prove the trail was not edited
// afterwards.
type Event struct {
	Seq      int               `json:"seq"`
	At       time.Time         `json:"at"`
	Actor    Actor             `json:"actor"`
	Type     EventType         `json:"type"`
	Data     map[string]string `json:"data,omitempty"`
	PrevHash string            `json:"prev_hash"`
	Hash     string            `json:"hash"`
	// KeyID names the HistoryKey of Hash; empty for a plain SHA-256 hash.
	KeyID string `json:"key_id,omitempty"`
	// State and Version are the request's state and version after the
	// write that recorded the event (empty in events written before keys).
	State   State `json:"state,omitempty"`
	Version int64 `json:"version,omitempty"`
}

// Attestations are the customer's statements required by seed notes 6, 7
// and 9.
type Attestations struct {
	// BackupDoneOrWaived: all data is migrated and backed up, or the customer
	// waives retaining and retrieving it (note 6).
	BackupDoneOrWaived bool `json:"backup_done_or_waived"`
	// NotEvading: the application is not made to avoid complaints,
	// disputes, litigation or supervision (note 7).
	NotEvading bool `json:"not_evading"`
	// OtherMattersHandled: other matters that may affect the customer's
	// rights are handled (note 9).
	OtherMattersHandled bool `json:"other_matters_handled"`
}

// Consent accepts one needs_consent finding as it was shown: the
// Fingerprint binds it to the finding's items, so a new voucher or top-up
// after the consent is not covered by it.
type Consent struct {
	Rule        string `json:"rule"`
	Fingerprint string `json:"fingerprint"`
}

// Confirmation is what the customer submits at step 2.
type Confirmation struct {
	// NotesVersion is Notes.Version of the notes text shown to the customer.
	NotesVersion string `json:"notes_version"`
	// Irreversible acknowledges that a cancelled account cannot be restored.
	Irreversible bool         `json:"irreversible"`
	Attestations Attestations `json:"attestations"`
	// Consents accept the needs_consent findings of the current report.
	Consents []Consent `json:"consents,omitempty"`
	// DataExport answers the offer of an export of the customer's data
	// (GDPR Art. 20): ExportRequested or ExportWaived when the Service has
	// a Config.Exporter (an answer is then required), ExportNotOffered
	// otherwise. A requested export is delivered before the account is
	// closed, unless waived later (see Service.WaiveDataExport).
	DataExport ExportChoice `json:"data_export,omitempty"`
}

// missing lists the acknowledgements and attestations not given.
func (c Confirmation) missing() []string {
	var m []string
	if !c.Irreversible {
		m = append(m, "irreversible")
	}
	if !c.Attestations.BackupDoneOrWaived {
		m = append(m, "backup_done_or_waived")
	}
	if !c.Attestations.NotEvading {
		m = append(m, "not_evading")
	}
	if !c.Attestations.OtherMattersHandled {
		m = append(m, "other_matters_handled")
	}
	return m
}

// uncovered returns the needs_consent findings of rep that no consent
// covers with the current fingerprint.
func uncovered(rep Report, consents []Consent) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.Outcome != OutcomeNeedsConsent {
			continue
		}
		if !slices.Contains(consents, Consent{Rule: f.Rule, Fingerprint: f.Fingerprint}) {
			out = append(out, f)
		}
	}
	return out
}

// DocumentKind is a kind of identity document (seed step 4).
type DocumentKind string

// Document kinds. Identity-verified personal accounts upload a passport or
// a driver's licence; identity-verified enterprise accounts upload a
// business licence.
const (
	DocumentPassport        DocumentKind = "passport"
	DocumentDriversLicence  DocumentKind = "drivers_licence"
	DocumentBusinessLicence DocumentKind = "business_licence"
	// DocumentEvidence is evidence staff upload to a closure they started
	// (a court order, a death certificate...). Customers never upload it
	// and their view never shows it.
	DocumentEvidence DocumentKind = "evidence"
)

// Document is an uploaded identity document as the request records it. The
// blob lives in the DocumentStore under Key until it is purged.
type Document struct {
	Kind       DocumentKind  `json:"kind"`
	Key        string        `json:"key"`
	Facts      DocumentFacts `json:"facts"`
	UploadedAt time.Time     `json:"uploaded_at"`
	// Duplicate names the kind of an earlier upload with the same SHA-256,
	// so reviewers see that one file was sent twice.
	Duplicate DocumentKind `json:"duplicate,omitempty"`
	// ReplacedAt is when a later upload of the same kind replaced this one.
	// Its blob is deleted then (best effort) and by the purge in any case.
	ReplacedAt time.Time `json:"replaced_at,omitzero"`
	PurgedAt   time.Time `json:"purged_at,omitzero"`
}

// Decision is a reviewer's verdict, or the library's when eligibility fails
// at approval or at closing.
type Decision struct {
	Approved bool         `json:"approved"`
	Actor    Actor        `json:"actor"`
	Reasons  []ReasonCode `json:"reasons,omitempty"`
	Note     string       `json:"note,omitempty"`
	At       time.Time    `json:"at"`
}

// EffectKind is a kind of side effect.
type EffectKind string

// Effect kinds.
const (
	EffectNotify         EffectKind = "notify"
	EffectCloseAccount   EffectKind = "close_account"
	EffectPurgeDocuments EffectKind = "purge_documents"
	// EffectPublishEvent hands a transition's CloudEvent to the
	// Config.Events publisher (see events.go).
	EffectPublishEvent EffectKind = "publish_event"
)

// Effect is a side effect recorded in the same Store write as the
// transition that causes it, carried out afterwards and marked done. Until
// it is done, Service.RunMaintenance retries it with backoff. Key is the
// idempotency key handed to the port on every attempt.
//
// A notification effect holds no address: Notification.To is read from
// the AccountDirectory each time it is delivered, so no contact is stored.
type Effect struct {
	Key          string              `json:"key"`
	Kind         EffectKind          `json:"kind"`
	Notification *ports.Notification `json:"notification,omitempty"`
	// Event is the CloudEvent of an EffectPublishEvent, built when the
	// transition was recorded; its ID is Key.
	Event *ports.CloudEvent `json:"event,omitempty"`
	// Identifiers are the keyed hashes an EffectKeepIdentifiers stores
	// (never the identifiers themselves).
	Identifiers []IdentifierHash `json:"identifiers,omitempty"`
	// NotBefore delays the effect (document retention).
	NotBefore     time.Time `json:"not_before,omitzero"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// LeaseOwner and LeaseUntil claim the effect for one Service instance,
	// so that replicas do not carry out the same effect at once.
	LeaseOwner string    `json:"lease_owner,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	DoneAt     time.Time `json:"done_at,omitzero"`
	// FailingSince is when the current run of failures began (zero when
	// the last attempt succeeded or none was made): past
	// Config.AttentionAfter the request is flagged for a person.
	FailingSince time.Time `json:"failing_since,omitzero"`
	// StuckAt is when a failed attempt found the effect failing for
	// Config.AttentionAfter or longer (zero until then, and again after a
	// success): the effect is stuck, and HookEffectAdmin hooks heard so
	// once.
	StuckAt time.Time `json:"stuck_at,omitzero"`
	// GivenUpAt, GivenUpBy and GivenUpReason record an admin's decision
	// to give the effect up (Service.GiveUpEffect): it is never attempted
	// again, and what would have followed its success does not happen.
	GivenUpAt     time.Time `json:"given_up_at,omitzero"`
	GivenUpBy     string    `json:"given_up_by,omitempty"`
	GivenUpReason string    `json:"given_up_reason,omitempty"`
}

// Done reports whether the effect has been carried out.
func (e Effect) Done() bool { return !e.DoneAt.IsZero() }

// GivenUp reports whether an admin gave the effect up.
func (e Effect) GivenUp() bool { return !e.GivenUpAt.IsZero() }

// open reports whether the effect is still to be carried out: neither
// done nor given up.
func (e Effect) open() bool { return !e.Done() && !e.GivenUp() }

// dueAt is when the effect may next be attempted.
func (e Effect) dueAt() time.Time {
	t := e.NotBefore
	if e.NextAttemptAt.After(t) {
		t = e.NextAttemptAt
	}
	if e.LeaseUntil.After(t) {
		t = e.LeaseUntil
	}
	return t
}

// otpState is the pending one-time code, stored only as a keyed hash.
type otpState struct {
	Hash        string    `json:"hash,omitempty"`
	KeyID       string    `json:"key_id,omitempty"`
	Serial      int       `json:"serial"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Attempts    int       `json:"attempts"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	LastSentAt  time.Time `json:"last_sent_at,omitzero"`
	Day         string    `json:"day,omitempty"`
	SentOnDay   int       `json:"sent_on_day"`

	// Managed is true while a code sent by the managed verification
	// service is pending: the service holds the code, so Hash is empty.
	Managed bool `json:"managed,omitempty"`
}

// requestData is the persistent content of a Request.
type requestData struct {
	ID          string            `json:"id"`
	Account     ports.AccountID   `json:"account"`
	AccountKind ports.AccountKind `json:"account_kind"`
	// The three flags and Rounds sit together, in one word rather than
	// one each: a Request is copied several times a flow (see
	// TestRequestSize). OverdueFlagged is set once the review is past its
	// due date, ErasureOverdueFlagged once ErasureDueAt passed unmet.
	// Rounds counts the rounds of asking the customer for more (at most
	// MaxReturnsLimit); Return is the latest.
	IdentityVerified      bool          `json:"identity_verified"`
	OverdueFlagged        bool          `json:"overdue_flagged,omitempty"`
	ErasureOverdueFlagged bool          `json:"erasure_overdue_flagged,omitempty"`
	Rounds                int32         `json:"rounds,omitempty"`
	State                 State         `json:"state"`
	Version               int64         `json:"version"`
	CreatedAt             time.Time     `json:"created_at"`
	UpdatedAt             time.Time     `json:"updated_at"`
	Confirmation          *Confirmation `json:"confirmation,omitempty"`
	Consents              []Consent     `json:"consents,omitempty"`
	// Eligibility is replaced whole, never changed in place: copies of
	// the request share it (see Clone).
	Eligibility Report `json:"eligibility"`
	// OTP, the one-time code's state, is shared by copies of the request
	// until one changes it (see ownOTP). nil is the zero state, and
	// MarshalBinary stores it as such. Read it through Request.otp.
	OTP       *otpState  `json:"otp"`
	Documents []Document `json:"documents,omitempty"`
	// Reserved are blob keys of uploads not yet recorded as documents:
	// the purge deletes them too, so a crash mid-upload leaves nothing.
	Reserved     []string      `json:"reserved_documents,omitempty"`
	SubmittedAt  time.Time     `json:"submitted_at,omitzero"`
	DueAt        time.Time     `json:"due_at,omitzero"`
	Decision     *Decision     `json:"decision,omitempty"`
	Mode         string        `json:"mode,omitempty"`
	ScheduledFor time.Time     `json:"scheduled_for,omitzero"`
	ExpireAfter  time.Duration `json:"expire_after"`
	Effects      []Effect      `json:"effects,omitempty"`
	// ClosingRetry is set while the end of the scheduled period cannot be
	// checked because a port fails.
	ClosingRetry *closingRetry `json:"closing_retry,omitempty"`
	// Attention is set when the request waits for a person.
	Attention *Attention `json:"attention,omitempty"`
	// Reached records when the request first entered each state (for
	// the receipt's step times).
	Reached map[State]time.Time `json:"reached,omitempty"`
	// Receipt is the signed receipt, once the request has ended.
	Receipt string `json:"receipt,omitempty"`
	// ErasureDueAt is the Art. 12(3) deadline and ErasureExtension its
	// extension.
	ErasureDueAt     time.Time         `json:"erasure_due_at,omitzero"`
	ErasureExtension *ErasureExtension `json:"erasure_extension,omitempty"`
	// Organization is the organisation whose admin started the request.
	Organization ports.OrganizationID `json:"organization,omitempty"`
	// Export records the data export offered at confirmation (nil: none).
	Export *DataExport `json:"data_export,omitempty"`
	// Return is the latest round of asking the customer for more.
	Return *Return `json:"return,omitempty"`
	// StaffClosure is set on a closure staff started on the customer's
	// behalf.
	StaffClosure *StaffClosure `json:"staff_closure,omitempty"`
	// Claim is a staff member's lease on the request in review.
	Claim *Claim `json:"claim,omitempty"`
	// Viewed records which staff member opened the request or viewed
	// which document, so that each is one event.
	Viewed []staffView `json:"viewed,omitempty"`
	// ActivitySince is the version of the last change that was not staff
	// activity while only staff activity followed it (0 otherwise): an
	// IfVersion from then on still matches (see checkVersion).
	ActivitySince int64 `json:"activity_since,omitempty"`
	// Head is the newest event; the Store keeps the others apart (see
	// NewEvents and Store.History).
	Head *Event `json:"head,omitempty"`
	// History, in memory, holds the newest events the request has read or
	// recorded, ending with the head. Stored requests written before
	// events were kept apart have their whole history here.
	History []Event `json:"history,omitempty"`
}

// Request is one application to cancel an account: the aggregate. Its
// state changes only through the Service, each change checked against the
// state machine and its guard and recorded as an Event in its history.
//
// A Request returned by the Service is the caller's own copy: changing it
// changes nothing stored. Stores persist it with MarshalBinary and restore
// it with UnmarshalBinary, which validates it and returns an error wrapping
// ErrCorrupt for a damaged record. json.Marshal encodes the RequestView,
// which is safe to show the customer.
type Request struct {
	d requestData
	// stored is the sequence number of the newest event the Store holds:
	// the events after it are NewEvents. It and sealed are int32, which
	// keeps a Request in its size class (see TestRequestSize): histories
	// are capped (see historyRoom), and UnmarshalBinary refuses a head
	// whose sequence number does not fit.
	stored int32
	// sealed is the sequence number of the newest event sealed (signed
	// for a version): the events after it were recorded by the change in
	// progress. Events of a record from before keys are sealed as they
	// are: never re-signed.
	sealed int32
	// headOK is the Service that verified (checkHead) or sealed the head
	// this copy holds, so that it checks it once per version read, not on
	// every change; nil when no Service has. Copies keep it: their head
	// is the same. It vouches only to that Service, whose keys did it.
	headOK *Service
	// owns holds what r may change in place (ownsEffects,
	// ownsHistoryRoom, ownsOTP). It is read and changed atomically, since
	// copies of one request may be made at once; a copy of the Request
	// value (a value receiver) reads it plainly, so nothing changes it
	// while r may be the caller's (see settleWithin).
	owns uint32
}

const (
	// ownsEffects: no other copy shares the array of d.Effects, which r
	// may then change in place (see ownEffects).
	ownsEffects uint32 = 1 << iota
	// ownsHistoryRoom: r alone may append to d.History in place, into the
	// room past its length (see record and handOver). Without it, a copy
	// sharing the array may append there too.
	ownsHistoryRoom
	// ownsOTP: no other copy shares *d.OTP, which r may then change in
	// place (see ownOTP).
	ownsOTP
)

// shareWithCopy records that another copy shares r's array of effects and
// its OTP state.
func (r *Request) shareWithCopy() {
	const shared = ownsEffects | ownsOTP
	if atomic.LoadUint32(&r.owns)&shared != 0 {
		atomic.AndUint32(&r.owns, ^shared)
	}
}

// ownEffects makes the array of r.d.Effects r's own, copying it (with
// room for extra more) unless it already is, so that r may change its
// effects in place. Every change to an effect in place comes after it:
// copies of a request share their effects until then (see Clone).
func (r *Request) ownEffects(extra int) {
	if atomic.LoadUint32(&r.owns)&ownsEffects != 0 {
		return
	}
	r.d.Effects = append(make([]Effect, 0, len(r.d.Effects)+extra), r.d.Effects...)
	atomic.OrUint32(&r.owns, ownsEffects)
}

// noOTP is the zero OTP state, which otp returns for a request with none.
// It is never written: writes go to ownOTP's copy.
var noOTP otpState

// otp returns r's OTP state to read, the zero state when r has none. It
// must not be written through: other copies of r may share it (see
// ownOTP).
func (r *Request) otp() *otpState {
	if r.d.OTP == nil {
		return &noOTP
	}
	return r.d.OTP
}

// ownOTP makes r's OTP state its own, copying it unless it already is,
// and returns it, for r to change in place. Every change to the OTP state
// goes through it: copies of a request share the state until then (see
// Clone), so that the many copies a flow makes do not each copy it.
func (r *Request) ownOTP() *otpState {
	if r.d.OTP != nil && atomic.LoadUint32(&r.owns)&ownsOTP != 0 {
		return r.d.OTP
	}
	o := new(otpState)
	*o = *r.otp()
	r.d.OTP = o
	atomic.OrUint32(&r.owns, ownsOTP)
	return o
}

// ID returns the request's identifier.
func (r *Request) ID() string { return r.d.ID }

// Account returns the account the request would cancel.
func (r *Request) Account() ports.AccountID { return r.d.Account }

// AccountKind returns the account's kind when the request started.
func (r *Request) AccountKind() ports.AccountKind { return r.d.AccountKind }

// IdentityVerified reports whether the account was identity-verified when
// the request started, which makes documents required.
func (r *Request) IdentityVerified() bool { return r.d.IdentityVerified }

// State returns the current state.
func (r *Request) State() State { return r.d.State }

// Version returns the optimistic-concurrency version: 1 when created, one
// more with each stored change.
func (r *Request) Version() int64 { return r.d.Version }

// CreatedAt returns when the request started.
func (r *Request) CreatedAt() time.Time { return r.d.CreatedAt }

// UpdatedAt returns when the request last changed.
func (r *Request) UpdatedAt() time.Time { return r.d.UpdatedAt }

// Confirmation returns the recorded confirmation, if any.
func (r *Request) Confirmation() (Confirmation, bool) {
	if r.d.Confirmation == nil {
		return Confirmation{}, false
	}
	return cloneConfirmation(*r.d.Confirmation), true
}

// Consents returns the consents currently on record.
func (r *Request) Consents() []Consent { return slices.Clone(r.d.Consents) }

// Eligibility returns the latest eligibility report evaluated for the
// request.
func (r *Request) Eligibility() Report { return r.d.Eligibility.clone() }

// Documents returns the uploaded identity documents with their facts.
func (r *Request) Documents() []Document { return slices.Clone(r.d.Documents) }

// SubmittedAt returns when the request entered review (zero before).
func (r *Request) SubmittedAt() time.Time { return r.d.SubmittedAt }

// DueAt returns the review due date: three business days after the
// (latest) submission, so a request returned for more and submitted again
// is due three business days from the resubmission.
func (r *Request) DueAt() time.Time { return r.d.DueAt }

// Overdue reports whether the request is in review past its due date.
func (r *Request) Overdue(now time.Time) bool {
	return r.d.State == StateInReview && now.After(r.d.DueAt)
}

// Decision returns the review decision, if any.
func (r *Request) Decision() (Decision, bool) {
	if r.d.Decision == nil {
		return Decision{}, false
	}
	d := *r.d.Decision
	d.Reasons = slices.Clone(d.Reasons)
	return d, true
}

// ScheduledFor returns when a scheduled request closes (zero unless it is
// or was scheduled).
func (r *Request) ScheduledFor() time.Time { return r.d.ScheduledFor }

// Effects returns the side effects recorded for the request, done or
// pending.
func (r *Request) Effects() []Effect {
	out := make([]Effect, len(r.d.Effects))
	for i, e := range r.d.Effects {
		out[i] = cloneEffect(e)
	}
	return out
}

// PendingEffects returns the effects still to be carried out: neither
// done nor given up.
func (r *Request) PendingEffects() []Effect {
	var out []Effect
	for _, e := range r.d.Effects {
		if e.open() {
			out = append(out, cloneEffect(e))
		}
	}
	return out
}

// History returns the events of the audit trail that r holds, oldest
// first. A request from Service.Get or Service.Review holds the whole
// trail, verified; one returned by a change (Confirm, Submit, Approve...)
// or read from Store.Get holds the newest event before the change and the
// events the change recorded, so that a change never reads the whole
// trail. HistoryLen tells the length of the whole trail.
func (r *Request) History() []Event {
	out := make([]Event, len(r.d.History))
	for i, e := range r.d.History {
		e.Data = cloneMap(e.Data)
		out[i] = e
	}
	return out
}

// CodeExpiresAt returns when the pending one-time code expires (zero when
// none is pending).
func (r *Request) CodeExpiresAt() time.Time {
	o := r.otp()
	if o.Hash == "" && !o.Managed {
		return time.Time{}
	}
	return o.ExpiresAt
}

// NextWake returns the earliest time at which maintenance has work on the
// request: a pending effect, the end of a cooling-off or settlement period,
// an overdue review, an expiry or an erasure deadline passing. It is zero
// when there is none; a given-up effect is no work. Stores
// index it so that Service.RunMaintenance finds the requests that need it.
func (r *Request) NextWake() time.Time {
	var t time.Time
	consider := func(c time.Time) {
		if !c.IsZero() && (t.IsZero() || c.Before(t)) {
			t = c
		}
	}
	for _, e := range r.d.Effects {
		if e.open() && !r.effectWaits(e) {
			due := e.dueAt()
			if due.IsZero() { // unclaimed and never tried (EffectsDeferred): due since recorded
				due = r.d.UpdatedAt
			}
			consider(due)
		}
	}
	consider(r.expiresAt())
	if r.awaitingAction() && !r.d.ErasureOverdueFlagged {
		consider(r.d.ErasureDueAt)
	}
	switch r.d.State {
	case StateInReview:
		if !r.d.OverdueFlagged {
			consider(r.d.DueAt)
		}
	case StateScheduled:
		if !r.closing() {
			consider(r.closingDueAt())
		}
	}
	return t
}

// MarshalBinary encodes the request for a Store: the JSON of its whole
// state with its newest event (the head), without the older events, which
// the Store keeps apart (see NewEvents). It is the storage format, not a
// view for customers: it holds internal state (the code's keyed hash,
// reviewer notes, effect leases, contact details). json.Marshal gives the
// customer-safe RequestView.
func (r *Request) MarshalBinary() ([]byte, error) {
	d := r.d
	// A request with no OTP state (nil) stores the zero state, as it did
	// before OTP was a pointer.
	d.Head, d.History, d.OTP = r.head(), nil, r.otp()
	return marshalJSON(&d)
}

var (
	_ encoding.BinaryAppender = (*Request)(nil)
	_ encoding.BinaryAppender = Event{}
)

// AppendBinary appends to b the bytes MarshalBinary returns
// (encoding.BinaryAppender), so that a Store can encode into a buffer it
// reuses rather than into a new slice each time.
func (r *Request) AppendBinary(b []byte) ([]byte, error) {
	// The copy without the history goes to a pooled value, not a new one:
	// appendJSON takes it as an interface, so a local would move to the
	// heap, a request's worth of garbage on every write.
	d := appendScratch.Get().(*requestData)
	*d = r.d
	d.Head, d.History, d.OTP = r.head(), nil, r.otp() // as MarshalBinary
	b, err := appendJSON(b, d)
	*d = requestData{} // keeps nothing of r alive in the pool
	appendScratch.Put(d)
	return b, err
}

// appendScratch holds the copies AppendBinary encodes.
var appendScratch = sync.Pool{New: func() any { return new(requestData) }}

// UnmarshalBinary decodes a request written by MarshalBinary and validates
// it: a known state, an identifier, an account, a head event that agrees
// with its state and version, a staff closure only in the states staff
// closures reach, and a return that is the latest of its rounds. A request written before events were
// kept apart, with its whole history inline, is accepted when that history
// is an intact chain. A failure wraps ErrCorrupt. Keyed hashes are checked
// by the Service, which holds the keys.
func (r *Request) UnmarshalBinary(b []byte) error {
	return r.unmarshalInPlace(func(d *requestData) error { return unmarshalJSON(b, d) })
}

// UnmarshalString is UnmarshalBinary of s's bytes, for a Store whose
// database driver hands it text: it decodes s without copying it, so
// the request's strings share s's memory (s is immutable) and keep it
// alive while they live.
func (r *Request) UnmarshalString(s string) error {
	return r.unmarshalInPlace(func(d *requestData) error { return unmarshalJSONString(s, d) })
}

// unmarshalInPlace decodes into r by decode and validates the result.
func (r *Request) unmarshalInPlace(decode func(*requestData) error) error {
	// Decoded in place, not into a copy: a request is a large value. The
	// old value comes back on error.
	old := *r
	*r = Request{}
	if err := r.unmarshalData(decode); err != nil {
		*r = old
		return err
	}
	return nil
}

// unmarshalData is unmarshalInPlace into r, which is zero.
func (r *Request) unmarshalData(decode func(*requestData) error) error {
	d := &r.d
	if err := decode(d); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	switch {
	case d.ID == "":
		return fmt.Errorf("%w: request has no id", ErrCorrupt)
	case d.Account == "":
		return fmt.Errorf("%w: request %s has no account", ErrCorrupt, d.ID)
	case !d.State.Valid():
		return fmt.Errorf("%w: request %s has unknown state %q", ErrCorrupt, d.ID, d.State)
	case d.Version < 1:
		return fmt.Errorf("%w: request %s has version %d", ErrCorrupt, d.ID, d.Version)
	case d.Head == nil && len(d.History) == 0:
		return fmt.Errorf("%w: request %s has no history", ErrCorrupt, d.ID)
	case d.StaffClosure != nil && !slices.Contains(staffClosureStates, d.State):
		return fmt.Errorf("%w: request %s is a staff closure in state %s, which only customers reach", ErrCorrupt, d.ID, d.State)
	case d.StaffClosure != nil && !d.StaffClosure.consistent():
		return fmt.Errorf("%w: request %s is a staff closure whose reason %q disagrees with who started it", ErrCorrupt, d.ID, d.StaffClosure.Reason)
	case d.Return != nil && (d.Return.Round < 1 || d.Return.Round != int(d.Rounds)):
		return fmt.Errorf("%w: request %s records return round %d of %d rounds", ErrCorrupt, d.ID, d.Return.Round, d.Rounds)
	}
	legacy := d.Head == nil
	if !legacy {
		if d.Head.Seq < 1 || d.Head.Seq > math.MaxInt32 || d.Head.Hash == "" {
			return fmt.Errorf("%w: request %s has a malformed last event", ErrCorrupt, d.ID)
		}
		if d.Head.KeyID == "" {
			// An unkeyed hash is checked here; a keyed one by the
			// Service, which holds the keys.
			if err := d.Head.checkHash(nil); err != nil {
				return fmt.Errorf("request %s: %w", d.ID, err)
			}
		}
		// The decoded head becomes the history's one element in place,
		// not copied into a new array: the decoder allocated it for
		// this request alone, and the next event appended moves the
		// history to an array of its own (capacity 1).
		d.History = unsafe.Slice(d.Head, 1)
	} else if err := VerifyHistory(d.History); err != nil {
		// Written before events were kept apart: the inline chain is
		// unkeyed, and verified here.
		return fmt.Errorf("request %s: %w", d.ID, err)
	}
	d.Head = nil
	if d.OTP != nil {
		// The decoder allocated it for this request alone.
		atomic.OrUint32(&r.owns, ownsOTP)
	}
	if err := r.headAgrees(); err != nil {
		return err
	}
	// A legacy head's sequence number is its history's length (see
	// VerifyHistory), which fits an int32.
	seq := int32(r.head().Seq)
	if !legacy {
		r.stored = seq
	}
	// A request written with its history inline has stored 0: all its
	// events are NewEvents, which its next write moves to the Store's
	// event rows (the migration of old records, one write at a time).
	r.sealed = seq
	return nil
}

// Clone returns a copy of r that neither a change to r nor one to the copy
// affects: what a change may alter is copied, and what is never altered
// once recorded (sealed events and their data, the eligibility report,
// the confirmation, the decision, the consents, an effect's notification,
// event and identifiers) is shared, as are the effects and the one-time
// code's state until a copy changes them.
func (r *Request) Clone() *Request {
	c := new(Request)
	r.cloneInto(c, false)
	return c
}

// handOver is Clone for a change that goes on from r while r is kept only
// to fall back on: the copy takes over the room r's history has past its
// length, and records its events there, as r would have, rather than
// copying every event to an array of its own. r loses the room: its own
// next event, if ever, goes to a new array (see record). Effect rounds
// (Service.settle) record several versions in a row this way.
func (r *Request) handOver() *Request {
	c := new(Request)
	r.cloneInto(c, true)
	return c
}

// cloneInto makes c a copy of r, as Clone does, replacing what c held;
// with handOver, as handOver does.
func (r *Request) cloneInto(c *Request, handOver bool) {
	*c = Request{d: r.d, stored: r.stored, sealed: r.sealed, headOK: r.headOK}
	// The eligibility report, the confirmation, the decision, the consents
	// and the events' data are shared: none is ever changed in place (a
	// report, a confirmation, a decision and the consents are replaced
	// whole, an event's data is fixed when it is recorded), and the
	// accessors hand out copies.
	c.d.Documents = slices.Clone(r.d.Documents)
	if r.d.Export != nil {
		x := *r.d.Export
		c.d.Export = &x
	}
	c.d.Reserved = slices.Clone(r.d.Reserved)
	c.d.Viewed = slices.Clone(r.d.Viewed)
	if r.d.Claim != nil {
		cl := *r.d.Claim
		c.d.Claim = &cl
	}
	c.d.Return = r.d.Return.clone()
	c.d.StaffClosure = r.d.StaffClosure.clone()
	// The OTP state is shared until either copy changes it (see ownOTP).
	// The effects are shared until either copy changes one (see
	// ownEffects): clipped, so that either's next effect goes to an array
	// of its own, and neither is the array's owner any more. An effect's
	// notification, event and identifiers are replaced whole when they
	// change (see withNotification), never written in place, so even an
	// owner's copy of the array shares them.
	c.d.Effects = slices.Clip(r.d.Effects)
	r.shareWithCopy()
	// Reached is replaced whole when it changes (see move), never written
	// in place: the copies share it.
	if r.d.ErasureExtension != nil {
		x := *r.d.ErasureExtension
		c.d.ErasureExtension = &x
	}
	// Sealed events are never changed (seal fixes only those recorded
	// since): the copies share them, clipped so that either copy's next
	// event goes to an array of its own, unless c takes over r's room.
	// Events not sealed yet are copied.
	switch n := len(r.d.History); {
	case n == 0 || r.d.History[n-1].Seq > int(r.sealed):
		c.d.History = slices.Clone(r.d.History)
	case handOver && atomic.AndUint32(&r.owns, ^ownsHistoryRoom)&ownsHistoryRoom != 0:
		c.d.History = r.d.History
		c.owns = ownsHistoryRoom
	default:
		c.d.History = slices.Clip(r.d.History)
	}
}

// reserveEvents gives r room for n more events in an array of its own, so
// that recording them copies the history at most once.
func (r *Request) reserveEvents(n int) {
	h := r.d.History
	if cap(h)-len(h) >= n && atomic.LoadUint32(&r.owns)&ownsHistoryRoom != 0 {
		return
	}
	r.d.History = append(make([]Event, 0, len(h)+n), h...)
	atomic.OrUint32(&r.owns, ownsHistoryRoom)
}

// keepEligibility makes rep the request's eligibility report, with
// findings the request owns: those it holds when rep's are the same, or
// else a copy of rep's (which may be an evaluation's buffer, see
// Service.evaluateScratch). Either way they are never changed in place,
// so copies of the request share them (see Clone).
func (r *Request) keepEligibility(rep Report) {
	if sameFindings(r.d.Eligibility.Findings, rep.Findings) {
		rep.Findings = r.d.Eligibility.Findings
	} else {
		rep.Findings = append(make([]Finding, 0, len(rep.Findings)), rep.Findings...)
	}
	r.d.Eligibility = rep
}

// sameFindings reports whether a and b hold the same findings, in order.
func sameFindings(a, b []Finding) bool {
	return a != nil && slices.EqualFunc(a, b, func(x, y Finding) bool {
		return x.Rule == y.Rule && x.Note == y.Note && x.Outcome == y.Outcome && x.Code == y.Code &&
			x.Summary == y.Summary && x.Error == y.Error && x.Fingerprint == y.Fingerprint &&
			slices.Equal(x.Items, y.Items) && (x.Remedy == nil) == (y.Remedy == nil) && (x.Remedy == nil || *x.Remedy == *y.Remedy)
	})
}

func cloneConfirmation(c Confirmation) Confirmation {
	c.Consents = slices.Clone(c.Consents)
	return c
}

// withNotification replaces e's notification with a copy that change has
// altered: copies of the request share an effect's notification (see
// Clone), so it is never changed in place once recorded. The copy's
// attachments are its own to append to. What leaves the request
// (accessors, ports) is deep-copied with cloneEffect or at the port.
func (e *Effect) withNotification(change func(n *ports.Notification)) {
	n := *e.Notification
	n.Attachments = slices.Clip(n.Attachments)
	change(&n)
	e.Notification = &n
}

func cloneEffect(e Effect) Effect {
	if e.Notification != nil {
		n := *e.Notification
		n.Data = cloneMap(n.Data)
		n.Attachments = cloneAttachments(n.Attachments)
		e.Notification = &n
	}
	e.Event = cloneEvent(e.Event)
	e.Identifiers = slices.Clone(e.Identifiers)
	return e
}

// cloneAttachments copies attachments and their bytes: a port may change
// what it is given in place.
func cloneAttachments(as []ports.Attachment) []ports.Attachment {
	c := slices.Clone(as)
	for i := range c {
		c[i].Content = bytes.Clone(c[i].Content)
	}
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// newRequest starts a request for acct (seed step 1);
// actor started it; extra adds to the data of its started event.
func newRequest(id string, acct ports.Account, now time.Time, rep Report, expireAfter time.Duration, actor Actor, extra map[string]string) *Request {
	r := &Request{d: requestData{
		ID:               id,
		Account:          acct.ID,
		AccountKind:      acct.Kind,
		IdentityVerified: acct.IdentityVerified,
		State:            StateStarted,
		Version:          1,
		CreatedAt:        now,
		UpdatedAt:        now,
		ErasureDueAt:     AddMonths(now, 1),
		Eligibility:      rep,
		ExpireAfter:      expireAfter,
	}}
	data := map[string]string{
		"account":           string(acct.ID),
		"kind":              string(acct.Kind),
		"identity_verified": fmt.Sprint(acct.IdentityVerified),
		"eligibility":       string(rep.Outcome),
	}
	for k, v := range extra {
		data[k] = v
	}
	r.record(now, actor, EventStarted, data)
	return r
}

// record appends an event to the history, chained to the previous one.
// Text is made valid UTF-8 first: JSON would replace invalid bytes when the
// request is stored, and the hash must survive that round trip. The event
// has no hash until seal gives it one (plain or keyed) with the version it
// leads to: hashing it here would be work seal always redoes.
func (r *Request) record(now time.Time, actor Actor, typ EventType, data map[string]string) {
	actor.ID = strings.ToValidUTF8(actor.ID, "\uFFFD")
	for k, v := range data {
		switch {
		case !utf8.ValidString(k):
			delete(data, k)
			data[strings.ToValidUTF8(k, "\uFFFD")] = strings.ToValidUTF8(v, "\uFFFD")
		case !utf8.ValidString(v):
			data[k] = strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	prev, seq := "", 1
	if n := len(r.d.History); n > 0 {
		prev, seq = r.d.History[n-1].Hash, r.d.History[n-1].Seq+1
	}
	if atomic.LoadUint32(&r.owns)&ownsHistoryRoom == 0 {
		// The room past the history may be another copy's: the event goes
		// to an array of r's own.
		r.d.History = slices.Clip(r.d.History)
		atomic.OrUint32(&r.owns, ownsHistoryRoom)
	}
	r.d.History = append(r.d.History, Event{Seq: seq, At: now, Actor: actor, Type: typ, Data: data, PrevHash: prev, State: r.d.State, Version: r.d.Version})
	r.headOK = nil
	r.d.UpdatedAt = now
}

// move checks the state machine for op and moves to the state to,
// recording the event. It changes nothing when the move is not allowed.
func (r *Request) move(op string, to State, now time.Time, actor Actor, typ EventType, data map[string]string) error {
	if !r.d.State.CanMoveTo(to) {
		return &TransitionError{Op: op, From: r.d.State, To: to, Reason: "not allowed by the state machine"}
	}
	if data == nil {
		data = map[string]string{}
	}
	data["from"] = string(r.d.State)
	if r.d.State == StateInReview && to != StateInReview {
		r.d.Claim = nil // a decision, or any move out of review, releases the claim
	}
	r.d.State = to
	if _, ok := r.d.Reached[to]; !ok {
		// Copies of a request share Reached (see Clone): it is replaced,
		// never written in place.
		reached := make(map[State]time.Time, len(r.d.Reached)+1)
		maps.Copy(reached, r.d.Reached)
		reached[to] = now
		r.d.Reached = reached
	}
	if to.Terminal() {
		// A final request verifies no code: the pending code's hash goes
		// (retention); the counters that limit sends stay.
		if o := r.otp(); o.Hash != "" || o.KeyID != "" || o.Managed || !o.ExpiresAt.IsZero() {
			o = r.ownOTP()
			o.Hash, o.KeyID, o.Managed, o.ExpiresAt = "", "", false, time.Time{}
		}
	}
	r.record(now, actor, typ, data)
	return nil
}

// refuse builds the error for a guard that failed.
func (r *Request) refuse(op string, to State, reason string) error {
	return &TransitionError{Op: op, From: r.d.State, To: to, Reason: reason}
}

// closing reports whether the close effect has been recorded.
func (r *Request) closing() bool {
	return slices.ContainsFunc(r.d.Effects, func(e Effect) bool { return e.Kind == EffectCloseAccount })
}

// documentsComplete reports whether the uploaded documents satisfy the
// policy for the account's kind.
func (r *Request) documentsComplete() bool {
	for _, d := range r.d.Documents {
		if d.ReplacedAt.IsZero() && documentKindAllowed(r.d.AccountKind, d.Kind) {
			return true
		}
	}
	return false
}

// addEffect records a pending effect, claimed by owner until leaseUntil
// (owner "" leaves it to maintenance).
func (r *Request) addEffect(e Effect, owner string, leaseUntil time.Time) {
	for _, old := range r.d.Effects {
		if old.Key == e.Key {
			return // recorded already: idempotent
		}
	}
	if owner != "" {
		e.LeaseOwner, e.LeaseUntil = owner, leaseUntil
	}
	r.ownEffects(2) // a transition records one or two (a notice, a close)
	r.d.Effects = append(r.d.Effects, e)
}

// findEffect returns the effect with the key, to read only (copies of
// r may share it; see ownEffects), or nil.
func (r *Request) findEffect(key string) *Effect {
	for i := range r.d.Effects {
		if r.d.Effects[i].Key == key {
			return &r.d.Effects[i]
		}
	}
	return nil
}

// effect returns the effect with the key, r's own to change (see
// ownEffects), or nil.
func (r *Request) effect(key string) *Effect {
	if r.findEffect(key) == nil {
		return nil
	}
	r.ownEffects(0) // may move the effects to an array of r's own
	return r.findEffect(key)
}

// confirm records the customer's confirmation (seed step 2) after every
// check passed; it changes nothing when one fails.
func (r *Request) confirm(now time.Time, c Confirmation, notes Notes, rep Report) error {
	const op = "confirm"
	if r.d.State != StateStarted {
		return r.refuse(op, StateConfirmed, "only a started request is confirmed")
	}
	if c.NotesVersion != notes.Version {
		return fmt.Errorf("%w: confirmation names notes version %q, current is %q", ErrStaleNotes, c.NotesVersion, notes.Version)
	}
	if missing := c.missing(); len(missing) > 0 {
		return &ConsentRequiredError{Missing: missing}
	}
	if rep.Outcome == OutcomeBlocked {
		return notEligible(op, rep)
	}
	if err := checkConsents(rep, c.Consents); err != nil {
		return err
	}
	c = cloneConfirmation(c)
	r.d.Confirmation = &c
	r.d.Consents = slices.Clone(c.Consents)
	r.keepEligibility(rep)
	data := map[string]string{"notes_version": notes.Version, "consents": consentList(c.Consents)}
	if c.DataExport != ExportNotOffered {
		data["data_export"] = string(c.DataExport)
	}
	return r.move(op, StateConfirmed, now, Actor{Kind: ActorCustomer, ID: string(r.d.Account)}, EventConfirmed, data)
}

// consent replaces the consents on record, for a customer whose findings
// changed after confirmation (a new voucher, a top-up). Consents equal to
// those on record (in any order) change nothing and record no event.
func (r *Request) consent(now time.Time, consents []Consent, rep Report) error {
	switch r.d.State {
	case StateConfirmed, StatePhoneVerified, StateDocumentsUploaded, StateReturned:
	default:
		return r.refuse("consent on", "", "consents are given between confirmation and submission, or while returned")
	}
	if rep.Outcome == OutcomeBlocked {
		return notEligible("consent", rep)
	}
	if err := checkConsents(rep, consents); err != nil {
		return err
	}
	if consentList(consents) == consentList(r.d.Consents) {
		return errNoChange // the same consents again: nothing to record
	}
	r.d.Consents = slices.Clone(consents)
	r.keepEligibility(rep)
	r.record(now, Actor{Kind: ActorCustomer, ID: string(r.d.Account)}, EventConsented, map[string]string{"consents": consentList(consents)})
	return nil
}

// checkConsents requires consents to cover every needs_consent finding of
// rep and to name only current findings.
func checkConsents(rep Report, consents []Consent) error {
	for i, c := range consents {
		f, ok := rep.Finding(c.Rule)
		switch {
		case !ok || f.Outcome != OutcomeNeedsConsent:
			return invalid(fmt.Sprintf("consents[%d]", i), fmt.Sprintf("rule %q has no finding that needs consent", c.Rule))
		case f.Fingerprint != c.Fingerprint:
			return &ConsentRequiredError{Findings: []Finding{f}}
		}
	}
	if missing := uncovered(rep, consents); len(missing) > 0 {
		return &ConsentRequiredError{Findings: missing}
	}
	return nil
}

func consentList(cs []Consent) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Rule + ":" + c.Fingerprint
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// RequestView is what a customer may see of their request: no code hash,
// no reviewer notes or identities, no internal effects. Request's
// MarshalJSON encodes it, so a handler that writes a Request as JSON leaks
// nothing.
type RequestView struct {
	ID            string          `json:"id"`
	Account       ports.AccountID `json:"account"`
	State         State           `json:"state"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	CodeExpiresAt time.Time       `json:"code_expires_at,omitzero"`
	Documents     []DocumentView  `json:"documents,omitempty"`
	SubmittedAt   time.Time       `json:"submitted_at,omitzero"`
	DueAt         time.Time       `json:"due_at,omitzero"`
	ScheduledFor  time.Time       `json:"scheduled_for,omitzero"`
	Decision      *DecisionView   `json:"decision,omitempty"`
	Eligibility   Report          `json:"eligibility"`
	Consents      []Consent       `json:"consents,omitempty"`
	// Returned is what the reviewer asked for, while the request is
	// StateReturned: reason codes and document kinds, never the note or
	// the reviewer.
	Returned *ReturnView `json:"returned,omitempty"`
	// Round is the current round of review: 1, then one more each time a
	// reviewer returns the request to the customer.
	Round int `json:"round"`
	// Origin is "staff" for a closure staff started on the customer's
	// behalf, "customer" otherwise. Staff identities and the reason stay
	// hidden.
	Origin string `json:"origin"`
	// DataExport is what the request records of the data export (nil when
	// none was offered).
	DataExport *DataExport `json:"data_export,omitempty"`
	// ErasureDueAt is the date by which the platform must have acted on
	// the request; ErasureExtension, when it was extended, by how long
	// and why.
	ErasureDueAt     time.Time             `json:"erasure_due_at,omitzero"`
	ErasureExtension *ErasureExtensionView `json:"erasure_extension,omitempty"`
	// HasReceipt says that the request's signed receipt can be downloaded.
	HasReceipt bool `json:"has_receipt,omitempty"`
}

// ErasureExtensionView is what a customer is told of an extension of the
// erasure deadline: not who gave it.
type ErasureExtensionView struct {
	Months int       `json:"months"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// DocumentView is what a customer may see of an uploaded document.
type DocumentView struct {
	Kind       DocumentKind   `json:"kind"`
	Format     DocumentFormat `json:"format"`
	Width      int            `json:"width"`
	Height     int            `json:"height"`
	UploadedAt time.Time      `json:"uploaded_at"`
	Replaced   bool           `json:"replaced,omitempty"`
}

// DecisionView is what a customer may see of the decision: the outcome and
// the reason codes, not the reviewer or their note.
type DecisionView struct {
	Approved bool         `json:"approved"`
	Reasons  []ReasonCode `json:"reasons,omitempty"`
	At       time.Time    `json:"at"`
}

// View returns the customer-safe view of r.
func (r *Request) View() RequestView {
	v := RequestView{
		ID: r.d.ID, Account: r.d.Account, State: r.d.State,
		CreatedAt: r.d.CreatedAt, UpdatedAt: r.d.UpdatedAt, CodeExpiresAt: r.CodeExpiresAt(),
		SubmittedAt: r.d.SubmittedAt, DueAt: r.d.DueAt, ScheduledFor: r.d.ScheduledFor,
		Eligibility: r.d.Eligibility.CustomerView(), Consents: slices.Clone(r.d.Consents),
		ErasureDueAt: r.d.ErasureDueAt, HasReceipt: r.d.Receipt != "",
		Round: int(r.d.Rounds) + 1, Origin: "customer",
	}
	if x := r.d.ErasureExtension; x != nil {
		v.ErasureExtension = &ErasureExtensionView{Months: x.Months, Reason: x.Reason, At: x.At}
	}
	if r.d.StaffClosure != nil {
		v.Origin = "staff"
	}
	if r.d.State == StateReturned && r.d.Return != nil {
		v.Returned = r.returnView()
	}
	for _, d := range r.d.Documents {
		if d.PurgedAt.IsZero() && d.Kind != DocumentEvidence {
			v.Documents = append(v.Documents, DocumentView{Kind: d.Kind, Format: d.Facts.Format,
				Width: d.Facts.Width, Height: d.Facts.Height, UploadedAt: d.UploadedAt, Replaced: !d.ReplacedAt.IsZero()})
		}
	}
	if r.d.Export != nil {
		x := *r.d.Export
		v.DataExport = &x
	}
	if r.d.Decision != nil {
		v.Decision = &DecisionView{Approved: r.d.Decision.Approved, Reasons: slices.Clone(r.d.Decision.Reasons), At: r.d.Decision.At}
	}
	return v
}

// MarshalJSON encodes r's customer-safe RequestView. Stores use
// MarshalBinary instead.
func (r *Request) MarshalJSON() ([]byte, error) { return json.Marshal(r.View()) }
