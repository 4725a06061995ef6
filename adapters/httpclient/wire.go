package httpclient

import (
	"time"

	"github.com/accountkit/cancellation/ports"
)

// The JSON bodies of the host contract (host-openapi.yaml), member for
// member the types of package ports in snake case. Money is ports.Money:
// an integer amount in minor units and an ISO 4217 currency. Times are RFC
// 3339 strings.

// Account is the body of GET /accounts/{accountId}.
type Account struct {
	ID               ports.AccountID   `json:"id"`
	Kind             ports.AccountKind `json:"kind"`
	IdentityVerified bool              `json:"identity_verified"`
	RecoveryPhone    string            `json:"recovery_phone"`
	Email            string            `json:"email"`
	Locale           string            `json:"locale"`
	Closed           bool              `json:"closed"`
	// LoginIdentifiers are other login identifiers (user names), kept
	// hashed from reuse after cancellation; optional.
	LoginIdentifiers []string `json:"login_identifiers,omitempty"`
}

// Obligation is an item of GET /accounts/{accountId}/obligations.
type Obligation struct {
	Kind        ports.ObligationKind `json:"kind"`
	Ref         string               `json:"ref"`
	Description string               `json:"description"`
	Amount      ports.Money          `json:"amount"`
}

// Right is an item of GET /accounts/{accountId}/rights.
type Right struct {
	Kind        ports.RightKind `json:"kind"`
	Ref         string          `json:"ref"`
	Description string          `json:"description"`
	Value       ports.Money     `json:"value"`
}

// Authorization is an item of GET /accounts/{accountId}/authorizations.
type Authorization struct {
	Kind  ports.AuthorizationKind `json:"kind"`
	Ref   string                  `json:"ref"`
	Party string                  `json:"party"`
}

// SubUser is an item of GET /accounts/{accountId}/sub-users.
type SubUser struct {
	Kind ports.SubUserKind `json:"kind"`
	Ref  string            `json:"ref"`
	Name string            `json:"name"`
}

// APIKey is an item of GET /accounts/{accountId}/api-keys: the key's
// identifier, never its secret.
type APIKey struct {
	ID        string    `json:"id"`
	Label     string    `json:"label"`
	CreatedAt time.Time `json:"created_at"`
}

// DataHolding is an item of GET /accounts/{accountId}/data-holdings.
type DataHolding struct {
	Kind        ports.DataHoldingKind `json:"kind"`
	Ref         string                `json:"ref"`
	Description string                `json:"description"`
	SizeBytes   int64                 `json:"size_bytes"`
}

// Case is an item of GET /accounts/{accountId}/cases.
type Case struct {
	Kind     ports.CaseKind `json:"kind"`
	Ref      string         `json:"ref"`
	Summary  string         `json:"summary"`
	OpenedAt time.Time      `json:"opened_at"`
}

// Matter is an item of GET /accounts/{accountId}/matters.
type Matter struct {
	Ref         string `json:"ref"`
	Description string `json:"description"`
	Blocking    bool   `json:"blocking"`
	Remedy      string `json:"remedy"`
}

// List is the body of every checker endpoint. Items is required: a body
// without it is a broken answer, never "nothing found".
type List[T any] struct {
	Items *[]T `json:"items"`
}

// The members a response must hold, as host-openapi.yaml requires them
// (a test holds the two together). The Client refuses an answer that
// lacks one rather than read a zero value: a missing "identity_verified"
// or "blocking" would otherwise read as false and skip the documents or
// a block.
func (Account) requiredMembers() []string {
	return []string{"id", "kind", "identity_verified", "recovery_phone", "email", "locale", "closed"}
}
func (Obligation) requiredMembers() []string    { return []string{"kind", "ref", "description"} }
func (Right) requiredMembers() []string         { return []string{"kind", "ref", "description", "value"} }
func (Authorization) requiredMembers() []string { return []string{"kind", "ref", "party"} }
func (SubUser) requiredMembers() []string       { return []string{"kind", "ref", "name"} }
func (APIKey) requiredMembers() []string        { return []string{"id", "label", "created_at"} }
func (DataHolding) requiredMembers() []string {
	return []string{"kind", "ref", "description", "size_bytes"}
}
func (Case) requiredMembers() []string   { return []string{"kind", "ref", "summary", "opened_at"} }
func (Matter) requiredMembers() []string { return []string{"ref", "description", "blocking", "remedy"} }
func (Holidays) requiredMembers() []string {
	return []string{"time_zone", "dates"}
}

func (List[T]) requiredMembers() []string { return []string{"items"} }

// wireBody is a response body with required members.
type wireBody interface{ requiredMembers() []string }

// OTPMessage is the body of POST /otp-messages; its idempotency key
// travels in the Idempotency-Key header.
type OTPMessage struct {
	Phone     string    `json:"phone"`
	Code      string    `json:"code"`
	Locale    string    `json:"locale"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Notification is the body of POST /notifications; its idempotency key
// travels in the Idempotency-Key header.
type Notification struct {
	Channel   ports.Channel     `json:"channel"`
	To        string            `json:"to"`
	AccountID ports.AccountID   `json:"account_id"`
	Template  string            `json:"template"`
	Data      map[string]string `json:"data"`
	Locale    string            `json:"locale"`
	// Attachments are the email's files (the signed receipt).
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file of a Notification; Content travels as base64.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Content     []byte `json:"content"`
}

// Holidays is the body of GET /calendar/holidays.
type Holidays struct {
	// TimeZone is an IANA zone name ("Europe/Berlin") that the dates are
	// in.
	TimeZone string `json:"time_zone"`
	// Dates are the holidays between from and to, as "2006-01-02".
	Dates []string `json:"dates"`
}
