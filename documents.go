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
}

// DefaultDocumentRetention is the default DocumentPolicy.Retention.
const DefaultDocumentRetention = 30 * 24 * time.Hour

func (p DocumentPolicy) withDefaults() DocumentPolicy {
	if p.Retention <= 0 {
		p.Retention = DefaultDocumentRetention
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
	if r.d.State != StatePhoneVerified && r.d.State != StateDocumentsUploaded {
		return r.refuse("upload a document to", StateDocumentsUploaded, "documents are uploaded after the phone is verified and before submission")
	}
	if !documentKindAllowed(r.d.AccountKind, kind) {
		return fmt.Errorf("%w: a %s account uploads one of %v, not %q", ErrWrongDocumentKind, r.d.AccountKind, documentKinds(r.d.AccountKind), kind)
	}
	return nil
}

// addDocument records an inspected, stored document and moves to
// documents_uploaded once the policy is satisfied. A document of the same
// kind replaces the earlier one; the replaced blob's key is returned so the
// caller can delete it.
func (r *Request) addDocument(now time.Time, doc Document) (replaced string, err error) {
	if err := r.checkDocumentUpload(doc.Kind); err != nil {
		return "", err
	}
	for _, d := range r.d.Documents {
		if d.Facts.SHA256 == doc.Facts.SHA256 && d.Kind != doc.Kind {
			doc.Duplicate = d.Kind
		}
	}
	r.d.Documents = slices.DeleteFunc(r.d.Documents, func(d Document) bool {
		if d.Kind == doc.Kind && d.Key != doc.Key {
			replaced = d.Key
		}
		return d.Kind == doc.Kind
	})
	r.d.Documents = append(r.d.Documents, doc)
	actor := Actor{Kind: ActorCustomer, ID: string(r.d.Account)}
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
