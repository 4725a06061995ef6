package cancellation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Closing receipts. When a request ends as cancelled, rejected or
// withdrawn, a Service with a Config.ReceiptKey issues a Receipt: what was
// done and when, signed with Ed25519 in a JWS compact serialization
// (RFC 7515, "alg":"EdDSA" of RFC 8037). It is stored with the request
// (Request.Receipt), mailed to the customer as an attachment (to the
// email of the outcome, or in a TemplateReceipt email) and verified offline with VerifyReceipt or the command
// cmd/verify-receipt. Because it names the newest event of the history
// when it was issued (HistoryHead), a history cut short afterwards is
// detected against it (Receipt.CheckHistory), even when the request's own
// record was rolled back with it.

// ReceiptType is the "typ" of a receipt's JWS header.
const ReceiptType = "cancellation-receipt+jws"

// ReceiptMediaType is the content type of a receipt sent as a file.
const ReceiptMediaType = "application/jose"

// receiptFormat is Receipt.Format of the receipts this version writes.
const receiptFormat = 1

// ReceiptSigningKey signs receipts: Config.ReceiptKey.
type ReceiptSigningKey struct {
	// ID is the key id ("kid") written in each receipt's header; not
	// secret. Non-empty, at most 64 printable ASCII bytes.
	ID string
	// Key is the Ed25519 private key (ed25519.PrivateKeySize bytes).
	Key ed25519.PrivateKey
}

// Public returns the key that verifies what k signs.
func (k ReceiptSigningKey) Public() ReceiptKey {
	pub, _ := k.Key.Public().(ed25519.PublicKey)
	return ReceiptKey{ID: k.ID, Key: slices.Clone(pub)}
}

// ReceiptKey verifies receipts signed by the private key of the same ID.
type ReceiptKey struct {
	// ID is the key id ("kid") of the receipts it verifies.
	ID string
	// Key is the Ed25519 public key (ed25519.PublicKeySize bytes).
	Key ed25519.PublicKey
}

// Errors of VerifyReceipt, wrapped by a ReceiptError.
var (
	// ErrReceiptMalformed: the token is not a JWS compact serialization
	// of a receipt in the format this package writes.
	ErrReceiptMalformed = errors.New("cancellation: malformed receipt")
	// ErrReceiptUnknownKey: the receipt names a key id that none of the
	// keys given has.
	ErrReceiptUnknownKey = errors.New("cancellation: receipt signed with an unknown key")
	// ErrReceiptSignature: the signature does not verify with the key the
	// receipt names: the receipt was altered or not signed by that key.
	ErrReceiptSignature = errors.New("cancellation: receipt signature does not verify")
	// ErrNoReceipt: the request has no receipt (it has not ended, or the
	// Service that ended it had no ReceiptKey).
	ErrNoReceipt = errors.New("cancellation: the request has no receipt")
)

// ReceiptError says why a receipt was refused. It wraps one of
// ErrReceiptMalformed, ErrReceiptUnknownKey and ErrReceiptSignature.
type ReceiptError struct {
	// KeyID is the key id the receipt names, when it could be read.
	KeyID string
	// Err is the sentinel.
	Err error
	// Detail says what was wrong.
	Detail string
}

// Error names the sentinel, the key id when known, and the detail.
func (e *ReceiptError) Error() string {
	if e.KeyID != "" {
		return fmt.Sprintf("%v (key %q): %s", e.Err, e.KeyID, e.Detail)
	}
	return fmt.Sprintf("%v: %s", e.Err, e.Detail)
}

// Unwrap returns the sentinel.
func (e *ReceiptError) Unwrap() error { return e.Err }

// Receipt is what a closing receipt states. Times are UTC; a step the
// request never reached, or reached before receipts recorded it, is zero.
type Receipt struct {
	// Format is the receipt format, 1.
	Format    int             `json:"format"`
	RequestID string          `json:"request_id"`
	Account   ports.AccountID `json:"account"`
	// Outcome is how the request ended: StateCancelled, StateRejected or
	// StateWithdrawn.
	Outcome  State     `json:"outcome"`
	IssuedAt time.Time `json:"issued_at"`
	// Steps are the times of the procedure's six steps.
	Steps ReceiptSteps `json:"steps"`
	// NotesVersion and NotesLanguage name the notes text the customer read
	// and confirmed (step 2); the language is empty for English.
	NotesVersion  string `json:"notes_version,omitempty"`
	NotesLanguage string `json:"notes_language,omitempty"`
	// Consents are the findings the customer accepted, each with the
	// fingerprint of the items it covered.
	Consents []Consent `json:"consents,omitempty"`
	// Decision is the review's outcome, without the reviewer's identity or
	// note; nil when the request ended before a decision.
	Decision *ReceiptDecision `json:"decision,omitempty"`
	// LoginDisabledAt is when the account was closed (its login
	// disabled); zero unless Outcome is StateCancelled.
	LoginDisabledAt time.Time `json:"login_disabled_at,omitzero"`
	// ErasureDueAt is the date by which the platform had to act on the
	// request (see Request.ErasureDueAt).
	ErasureDueAt time.Time `json:"erasure_due_at,omitzero"`
	// DataExport records the data export offered at confirmation (GDPR
	// Art. 20): whether the customer requested it and when its link was
	// delivered, or when they waived it; nil when none was offered.
	DataExport *DataExport `json:"data_export,omitempty"`
	// HistoryHead is the newest event of the request's history when the
	// receipt was issued.
	HistoryHead ReceiptHead `json:"history_head"`
	// KeyID is the id of the key that signed the receipt (from its
	// header, not part of the payload).
	KeyID string `json:"-"`
}

// ReceiptSteps are the times of the six steps of the procedure.
type ReceiptSteps struct {
	Started           time.Time `json:"started"`                     // step 1: the customer chose Cancel
	Confirmed         time.Time `json:"confirmed,omitzero"`          // step 2: notes read and confirmed
	PhoneVerified     time.Time `json:"phone_verified,omitzero"`     // step 3: recovery phone verified
	DocumentsUploaded time.Time `json:"documents_uploaded,omitzero"` // step 4: identity documents uploaded
	Submitted         time.Time `json:"submitted,omitzero"`          // step 5: sent for review
	Decided           time.Time `json:"decided,omitzero"`            // step 5: the review's decision
	Ended             time.Time `json:"ended"`                       // step 6 (cancelled) or the rejection or withdrawal
}

// ReceiptDecision is the review's decision as a receipt states it.
type ReceiptDecision struct {
	Approved bool `json:"approved"`
	// By is who decided: a reviewer, or the library (eligibility failed).
	By      ActorKind    `json:"by"`
	Reasons []ReasonCode `json:"reasons,omitempty"`
	At      time.Time    `json:"at"`
}

// ReceiptHead names one event of a history: its sequence number, its
// hash and the HistoryKey that keyed it (empty for a plain hash).
type ReceiptHead struct {
	Seq   int    `json:"seq"`
	Hash  string `json:"hash"`
	KeyID string `json:"key_id,omitempty"`
}

// receiptHeader is the JWS protected header.
type receiptHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// validKeyID reports whether id is a usable key id.
func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// validateReceiptKeys checks Config.ReceiptKey and Config.ReceiptKeys.
func validateReceiptKeys(sign *ReceiptSigningKey, verify []ReceiptKey) error {
	seen := map[string]ed25519.PublicKey{}
	if sign != nil {
		switch {
		case !validKeyID(sign.ID):
			return invalid("ReceiptKey", "the key id is empty, longer than 64 bytes or not printable ASCII")
		case len(sign.Key) != ed25519.PrivateKeySize:
			return invalid("ReceiptKey", fmt.Sprintf("the Ed25519 private key has %d bytes, not %d", len(sign.Key), ed25519.PrivateKeySize))
		}
		seen[sign.ID] = sign.Public().Key
	}
	for i, k := range verify {
		field := fmt.Sprintf("ReceiptKeys[%d]", i)
		switch {
		case !validKeyID(k.ID):
			return invalid(field, "the key id is empty, longer than 64 bytes or not printable ASCII")
		case len(k.Key) != ed25519.PublicKeySize:
			return invalid(field, fmt.Sprintf("the Ed25519 public key has %d bytes, not %d", len(k.Key), ed25519.PublicKeySize))
		}
		if prev, ok := seen[k.ID]; ok && !prev.Equal(k.Key) {
			return invalid(field, fmt.Sprintf("key id %q is used for two different keys", k.ID))
		}
		seen[k.ID] = k.Key
	}
	return nil
}

// SignReceipt signs rc with key as a JWS compact serialization. It sets
// rc's KeyID and Format.
func SignReceipt(rc Receipt, key ReceiptSigningKey) (string, error) {
	if err := validateReceiptKeys(&key, nil); err != nil {
		return "", err
	}
	rc.Format, rc.KeyID = receiptFormat, key.ID
	header, err := json.Marshal(receiptHeader{Alg: "EdDSA", Kid: key.ID, Typ: ReceiptType})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(rc)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	return input + "." + enc.EncodeToString(ed25519.Sign(key.Key, []byte(input))), nil
}

// maxReceiptLen bounds a token VerifyReceipt reads.
const maxReceiptLen = 64 << 10

// VerifyReceipt checks a receipt's signature with the key of keys whose ID
// the receipt names and returns what it states, with KeyID set. It needs
// no Service and no network: a customer or an auditor runs it with the
// platform's published public keys. A token that is not a receipt fails
// with ErrReceiptMalformed, one naming a key id none of keys has with
// ErrReceiptUnknownKey, and one whose signature does not verify with
// ErrReceiptSignature, each inside a ReceiptError.
func VerifyReceipt(token string, keys ...ReceiptKey) (Receipt, error) {
	bad := func(err error, kid, detail string) (Receipt, error) {
		return Receipt{}, &ReceiptError{KeyID: kid, Err: err, Detail: detail}
	}
	token = strings.TrimSpace(token)
	if len(token) > maxReceiptLen {
		return bad(ErrReceiptMalformed, "", "longer than 64 KiB")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return bad(ErrReceiptMalformed, "", "not three dot-separated parts")
	}
	enc := base64.RawURLEncoding.Strict()
	hb, err1 := enc.DecodeString(parts[0])
	pb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return bad(ErrReceiptMalformed, "", "a part is not unpadded base64url")
	}
	var h receiptHeader
	if err := strictJSON(hb, &h); err != nil {
		return bad(ErrReceiptMalformed, "", "header: "+err.Error())
	}
	switch {
	case h.Alg != "EdDSA":
		return bad(ErrReceiptMalformed, h.Kid, fmt.Sprintf("algorithm %q, not EdDSA", h.Alg))
	case h.Typ != ReceiptType:
		return bad(ErrReceiptMalformed, h.Kid, fmt.Sprintf("type %q, not %s", h.Typ, ReceiptType))
	case !validKeyID(h.Kid):
		return bad(ErrReceiptMalformed, "", "the header has no usable key id")
	}
	i := slices.IndexFunc(keys, func(k ReceiptKey) bool { return k.ID == h.Kid })
	if i < 0 {
		return bad(ErrReceiptUnknownKey, h.Kid, "no key given has this id")
	}
	if len(keys[i].Key) != ed25519.PublicKeySize {
		return bad(ErrReceiptUnknownKey, h.Kid, "the key of this id is not an Ed25519 public key")
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(keys[i].Key, []byte(parts[0]+"."+parts[1]), sig) {
		return bad(ErrReceiptSignature, h.Kid, "the receipt was altered or signed by another key")
	}
	var rc Receipt
	if err := strictJSON(pb, &rc); err != nil {
		return bad(ErrReceiptMalformed, h.Kid, "payload: "+err.Error())
	}
	if rc.Format != receiptFormat || rc.RequestID == "" || rc.HistoryHead.Seq < 1 || rc.HistoryHead.Hash == "" {
		return bad(ErrReceiptMalformed, h.Kid, "the payload is not a receipt of format 1")
	}
	rc.KeyID = h.Kid
	return rc, nil
}

// strictJSON decodes b into v, refusing unknown fields and trailing data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// CheckHistory checks events, a request's history as its Store returns
// it, against rc: the events must be an intact chain (VerifyHistory, with
// keys) of rc's request that still holds the event rc names as its head,
// with the same hash. A history cut short after the receipt was issued,
// or rewritten from that event on, fails with an error wrapping
// ErrCorrupt, even when the request's own record was rolled back with it.
// Events appended after the receipt (its notifications, say) are fine.
func (rc Receipt) CheckHistory(events []Event, keys ...HistoryKey) error {
	if err := VerifyHistory(events, keys...); err != nil {
		return fmt.Errorf("request %s: %w", rc.RequestID, err)
	}
	h := rc.HistoryHead
	switch {
	case len(events) < h.Seq:
		return fmt.Errorf("%w: request %s: the history ends at event %d but the receipt names event %d: it was cut short", ErrCorrupt, rc.RequestID, len(events), h.Seq)
	case events[h.Seq-1].Hash != h.Hash:
		return fmt.Errorf("%w: request %s: history event %d is not the one the receipt names: it was rewritten", ErrCorrupt, rc.RequestID, h.Seq)
	}
	return nil
}

// Receipt returns r's signed receipt (a JWS compact serialization), or
// false when it has none: it has not ended as cancelled, rejected or
// withdrawn, or ended under a Service without a ReceiptKey.
func (r *Request) Receipt() (string, bool) { return r.d.Receipt, r.d.Receipt != "" }

// receiptOutcome reports whether a request in state s is given a receipt.
func receiptOutcome(s State) bool {
	return s == StateCancelled || s == StateRejected || s == StateWithdrawn
}

// receiptFor builds the receipt of r, which has just ended and whose
// events are sealed.
func (s *Service) receiptFor(r *Request, now time.Time) Receipt {
	head := r.head()
	rc := Receipt{
		Format: receiptFormat, RequestID: r.d.ID, Account: r.d.Account, Outcome: r.d.State, IssuedAt: now,
		Steps: ReceiptSteps{
			Started:           r.d.CreatedAt,
			Confirmed:         r.d.Reached[StateConfirmed],
			PhoneVerified:     r.d.Reached[StatePhoneVerified],
			DocumentsUploaded: r.d.Reached[StateDocumentsUploaded],
			Submitted:         r.d.SubmittedAt,
			Ended:             r.d.Reached[r.d.State],
		},
		Consents:     slices.Clone(r.d.Consents),
		ErasureDueAt: r.d.ErasureDueAt,
		HistoryHead:  ReceiptHead{Seq: head.Seq, Hash: head.Hash, KeyID: head.KeyID},
	}
	if rc.Steps.Ended.IsZero() {
		rc.Steps.Ended = now
	}
	if c := r.d.Confirmation; c != nil {
		rc.NotesVersion = c.NotesVersion
		for _, n := range append([]Notes{s.notes}, s.notesIn...) {
			if n.Version == c.NotesVersion {
				rc.NotesLanguage = n.Language
				break
			}
		}
	}
	if x := r.d.Export; x != nil {
		d := *x
		rc.DataExport = &d
	}
	if d := r.d.Decision; d != nil {
		rc.Steps.Decided = d.At
		rc.Decision = &ReceiptDecision{Approved: d.Approved, By: d.Actor.Kind, Reasons: slices.Clone(d.Reasons), At: d.At}
	}
	if r.d.State == StateCancelled {
		rc.LoginDisabledAt = rc.Steps.Ended
		for _, e := range r.d.Effects {
			if e.Kind == EffectCloseAccount && e.Done() {
				rc.LoginDisabledAt = e.DoneAt
			}
		}
	}
	return rc
}

// issueReceipt gives r, sealed and about to be stored, its receipt when
// it has just ended and the Service has a ReceiptKey, and records in the
// same write the email that carries it to the customer: attached to the
// email of the outcome (TemplateCancelled, TemplateReviewRejected or
// TemplateWithdrawn) when one is sent, else in an email of its own
// (TemplateReceipt). A request that has one keeps it.
func (s *Service) issueReceipt(r *Request, ec effectCtx) error {
	if s.cfg.ReceiptKey == nil || r.d.Receipt != "" || !receiptOutcome(r.d.State) {
		return nil
	}
	token, err := SignReceipt(s.receiptFor(r, ec.now), *s.cfg.ReceiptKey)
	if err != nil {
		return fmt.Errorf("cancellation: signing the receipt of %s: %w", r.d.ID, err)
	}
	r.d.Receipt = token
	if r.hiddenFromCustomer() {
		// A declined staff closure was never announced to the customer
		// (see DeclineStaffClosure): its receipt is kept, not sent.
		return nil
	}
	file := ports.Attachment{Filename: "cancellation-receipt-" + r.d.ID + ".jws", ContentType: ReceiptMediaType, Content: []byte(token)}
	outcome := map[State]string{StateCancelled: TemplateCancelled, StateRejected: TemplateReviewRejected, StateWithdrawn: TemplateWithdrawn}[r.d.State]
	if e := r.effect(fmt.Sprintf("%s/%s/%s", r.d.ID, outcome, ports.ChannelEmail)); e != nil && !e.Done() && e.Notification != nil {
		e.withNotification(func(n *ports.Notification) { n.Attachments = append(n.Attachments, file) })
		return nil
	}
	if ec.to.email == "" {
		return nil
	}
	n := len(r.d.Effects)
	r.notify(TemplateReceipt, map[string]string{DataOutcome: string(r.d.State)}, ec.to, []ports.Channel{ports.ChannelEmail}, ec.owner, ec.lease)
	for i := n; i < len(r.d.Effects); i++ {
		r.d.Effects[i].withNotification(func(n *ports.Notification) { n.Attachments = []ports.Attachment{file} })
	}
	return nil
}

// receiptKeys are the keys the Service verifies receipts with: its
// signing key's public key and Config.ReceiptKeys.
func (s *Service) receiptKeys() []ReceiptKey {
	var keys []ReceiptKey
	if s.cfg.ReceiptKey != nil {
		keys = append(keys, s.cfg.ReceiptKey.Public())
	}
	return append(keys, s.cfg.ReceiptKeys...)
}

// Receipt returns the signed receipt of the account's request id: a JWS
// compact serialization for the customer to keep or download. A request
// of another account, or a staff closure staff declined (never announced
// to the customer), is ErrNotFound; one without a receipt ErrNoReceipt.
func (s *Service) Receipt(ctx context.Context, account ports.AccountID, id string) (_ string, err error) {
	defer s.hooks.operation(&ctx, OpReceipt)(&err)
	r, err := s.load(ctx, account, id)
	if err != nil {
		return "", err
	}
	token, ok := r.Receipt()
	if !ok {
		return "", fmt.Errorf("%w: request %s", ErrNoReceipt, id)
	}
	return token, nil
}

// VerifyReceipt verifies token with the Service's receipt keys (the
// signing key and Config.ReceiptKeys), as the package function does.
func (s *Service) VerifyReceipt(token string) (Receipt, error) {
	return VerifyReceipt(token, s.receiptKeys()...)
}

// AuditReceipt verifies token with the Service's receipt keys, reads the
// history the Store holds for its request, and checks that history against
// the receipt with the Service's HistoryKeys (Receipt.CheckHistory): an
// auditor's check that nothing was removed from the trail after the
// receipt. It reads the history only, not the request's record, so a
// request rolled back together with its history is detected too.
func (s *Service) AuditReceipt(ctx context.Context, token string) (Receipt, error) {
	rc, err := s.VerifyReceipt(token)
	if err != nil {
		return Receipt{}, err
	}
	events, err := s.store.History(ctx, rc.RequestID)
	if err != nil {
		return rc, fmt.Errorf("cancellation: reading the history of %s: %w", rc.RequestID, err)
	}
	return rc, rc.CheckHistory(events, s.cfg.HistoryKeys...)
}

// PEM encodes k as a PEM "PUBLIC KEY" block (PKIX), with its id in a
// "Key-Id" header: the file a platform publishes for its customers and
// that ParseReceiptKeyPEM and cmd/verify-receipt read.
func (k ReceiptKey) PEM() ([]byte, error) {
	if !validKeyID(k.ID) || len(k.Key) != ed25519.PublicKeySize {
		return nil, invalid("receipt key", "an Ed25519 public key with a printable id of at most 64 bytes is required")
	}
	der, err := x509.MarshalPKIXPublicKey(k.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Key-Id": k.ID}, Bytes: der}), nil
}

// ParseReceiptKeyPEM reads the first PEM "PUBLIC KEY" block of b, an
// Ed25519 key, with its id from the block's "Key-Id" header, or id when
// id is not empty. A block without an id, or not an Ed25519 key, is a
// ValidationError.
func ParseReceiptKeyPEM(b []byte, id string) (ReceiptKey, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return ReceiptKey{}, invalid("receipt key", "no PEM PUBLIC KEY block")
		}
		if block.Type != "PUBLIC KEY" {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		key, ok := pub.(ed25519.PublicKey)
		if err != nil || !ok {
			return ReceiptKey{}, invalid("receipt key", "the PUBLIC KEY block is not an Ed25519 key")
		}
		if id == "" {
			id = block.Headers["Key-Id"]
		}
		if !validKeyID(id) {
			return ReceiptKey{}, invalid("receipt key", "no key id: give one or a Key-Id header of printable ASCII, at most 64 bytes")
		}
		return ReceiptKey{ID: id, Key: key}, nil
	}
}
