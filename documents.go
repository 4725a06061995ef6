package cancellation

import (
	"fmt"
	"slices"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// DocumentPolicy governs identity documents (seed step 4). Zero fields take
// the defaults.
type DocumentPolicy struct {
	// Limits bound and judge each upload; see InspectDocument.
	Limits DocumentLimits
	// Retention is how long documents are kept after the final decision
	// (cancelled, rejected, withdrawn, expired) before they are deleted from
	// the DocumentStore (default 30 days).
	Retention time.Duration
	// MaxConcurrentInspections bounds the uploads a Service decodes and
	// measures at once (default 2), so that a burst of large or hostile
	// scans cannot take the process's memory: each may need up to about 24
	// bytes a pixel of Limits.MaxPixels while it is decoded. An upload
	// takes its inspection slot only once its body is read, so a client
	// that sends slowly or stalls holds none. Uploads beyond it wait for
	// their turn, or for their context to end.
	MaxConcurrentInspections int
	// MaxBufferedUploads bounds the uploads a Service holds in memory at
	// once, from the first byte of the body read until the document is
	// stored or refused (default 16). Reading one allocates at most about
	// Limits.MaxBytes·(1 + 1/16) (see ReadDocument), so the bodies take at
	// most about MaxBufferedUploads × 10.6 MiB at the defaults, beside the
	// decoding memory that MaxConcurrentInspections bounds. A client that
	// stalls holds its slot until its context ends: give uploads a
	// deadline (http.Server.ReadTimeout, or a context with a timeout), or
	// MaxBufferedUploads stalled clients make the other uploads wait.
	// Uploads beyond it wait for their turn, or for their context to end.
	MaxBufferedUploads int
}

// DefaultMaxBufferedUploads is the default DocumentPolicy.MaxBufferedUploads.
const DefaultMaxBufferedUploads = 16

// DefaultDocumentRetention is the default DocumentPolicy.Retention.
const DefaultDocumentRetention = 30 * 24 * time.Hour

func (p DocumentPolicy) withDefaults() DocumentPolicy {
	if p.Retention <= 0 {
		p.Retention = DefaultDocumentRetention
	}
	if p.MaxConcurrentInspections <= 0 {
		p.MaxConcurrentInspections = 2
	}
	if p.MaxBufferedUploads <= 0 {
		p.MaxBufferedUploads = DefaultMaxBufferedUploads
	}
	return p
}

// RequiredDocuments returns the document kinds an account may upload to
// satisfy step 4, any one of which suffices: a passport or driver's licence
// for identity-verified personal accounts, a business licence for
// identity-verified enterprise accounts, and none for accounts that have not
// verified their identity.
func RequiredDocuments(acct ports.Account) []DocumentKind {
	if !acct.IdentityVerified {
		return nil
	}
	return documentKinds(acct.Kind)
}

func documentKinds(kind ports.AccountKind) []DocumentKind {
	switch kind {
	case ports.Personal:
		return []DocumentKind{DocumentPassport, DocumentDriversLicence}
	case ports.Enterprise:
		return []DocumentKind{DocumentBusinessLicence}
	}
	return nil
}

func documentKindAllowed(acct ports.AccountKind, kind DocumentKind) bool {
	return slices.Contains(documentKinds(acct), kind)
}

// contentType returns the MIME type of a sniffed format.
func contentType(f DocumentFormat) string {
	return "image/" + string(f)
}

// documentKey is where a document's blob lives in the DocumentStore. Each
// upload gets a key of its own, so that an upload that is refused or
// replaced deletes its own blob only, never the blob of the same file
// recorded by an earlier or concurrent upload.
func documentKey(requestID string, kind DocumentKind, sha string) string {
	return fmt.Sprintf("cancellation/%s/%s-%.16s-%s", requestID, kind, sha, randomID(4))
}

// checkDocumentUpload is the guard of an upload: the right state, a
// verified account and a kind that fits the account.
func (r *Request) checkDocumentUpload(kind DocumentKind) error {
	if r.d.State.Terminal() {
		return r.refuse("upload a document to", StateDocumentsUploaded, "the request is final")
	}
	if !r.d.IdentityVerified {
		return fmt.Errorf("%w: account %s has not verified its identity", ErrDocumentsNotRequired, r.d.Account)
	}
	if kind == DocumentEvidence {
		return fmt.Errorf("%w: evidence is uploaded by staff, to a closure they started", ErrWrongDocumentKind)
	}
	if r.d.State == StateReturned {
		// Only what the reviewer asked for is uploaded again.
		if r.d.Return == nil || !slices.Contains(r.d.Return.Documents, kind) {
			return fmt.Errorf("%w: the reviewer asked for %v to be uploaded again, not %q", ErrNotAsked, r.askedKinds(), kind)
		}
		return nil
	}
	if r.d.State != StatePhoneVerified && r.d.State != StateDocumentsUploaded {
		return r.refuse("upload a document to", StateDocumentsUploaded, "documents are uploaded after the phone is verified and before submission, or when a reviewer asks for them again")
	}
	if !documentKindAllowed(r.d.AccountKind, kind) {
		return fmt.Errorf("%w: a %s account uploads one of %v, not %q", ErrWrongDocumentKind, r.d.AccountKind, documentKinds(r.d.AccountKind), kind)
	}
	return nil
}

// checkUpload is the guard of an upload by: a customer's document, or
// staff's evidence.
func (r *Request) checkUpload(kind DocumentKind, by Actor) error {
	if by.Kind == ActorReviewer {
		return r.checkEvidenceUpload(kind)
	}
	return r.checkDocumentUpload(kind)
}

// reserveDocument records the key an upload is about to be stored under.
func (r *Request) reserveDocument(kind DocumentKind, key string, by Actor) error {
	if err := r.checkUpload(kind, by); err != nil {
		return err
	}
	r.d.Reserved = append(r.d.Reserved, key) // no event: recording the upload adds one
	return nil
}

// addDocument records an inspected, stored document and moves to
// documents_uploaded once the policy is satisfied. A document of the same
// kind replaces the earlier one; the replaced blob's key is returned so the
// caller can delete it.
func (r *Request) addDocument(now time.Time, doc Document, by Actor) (replaced string, err error) {
	if err := r.checkUpload(doc.Kind, by); err != nil {
		return "", err
	}
	evidence := doc.Kind == DocumentEvidence
	r.d.Reserved = slices.DeleteFunc(r.d.Reserved, func(k string) bool { return k == doc.Key })
	for i := range r.d.Documents {
		d := &r.d.Documents[i]
		if d.Facts.SHA256 == doc.Facts.SHA256 {
			doc.Duplicate = d.Kind
		}
		// A replaced document stays on record, so that the purge after the
		// decision deletes its blob even if deleting it now fails.
		if d.Kind == doc.Kind && d.ReplacedAt.IsZero() && !evidence { // evidence adds up
			d.ReplacedAt = now
			replaced = d.Key
		}
	}
	r.d.Documents = append(r.d.Documents, doc)
	actor := by
	data := map[string]string{
		"kind": string(doc.Kind), "sha256": doc.Facts.SHA256, "format": string(doc.Facts.Format),
		"size": fmt.Sprintf("%dx%d", doc.Facts.Width, doc.Facts.Height),
	}
	if doc.Duplicate != "" {
		data["duplicate_of"] = string(doc.Duplicate)
	}
	r.record(now, actor, EventDocumentUploaded, data)
	if r.d.State == StatePhoneVerified && r.documentsComplete() {
		return replaced, r.move("upload a document to", StateDocumentsUploaded, now, actor, EventDocumentsUploaded, nil)
	}
	return replaced, nil
}
