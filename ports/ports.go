package ports

//go:generate go tool mockgen -typed -destination=mocks/ports.go -package=mocks . AccountDirectory,OrderChecker,BalanceChecker,AuthorizationStore,SubUserStore,APIKeyStore,DataInventory,ComplaintChecker,MatterChecker,OTPSender,Notifier,DocumentStore,AccountCloser,Clock,BusinessCalendar

import (
	"context"
	"time"
)

// AccountDirectory looks up customer accounts.
//
// Account returns an error wrapping ErrNotFound when no account has the id.
// It must be safe for concurrent use.
type AccountDirectory interface {
	Account(ctx context.Context, id AccountID) (Account, error)
}

// OrderChecker reports uncompleted orders and services, outstanding or
// unsettled payments and other unfulfilled obligations (seed note 1).
//
// An empty result means there are none. It must be safe for concurrent use.
type OrderChecker interface {
	OpenObligations(ctx context.Context, id AccountID) ([]Obligation, error)
}

// BalanceChecker reports unused rights: cash, gift cards, vouchers and cloud
// resources, each with its value (seed note 2).
//
// An empty result means there are none. It must be safe for concurrent use.
type BalanceChecker interface {
	UnusedRights(ctx context.Context, id AccountID) ([]Right, error)
}

// AuthorizationStore reports bindings to third-party websites, apps and
// other accounts, and external authorizations not yet revoked (seed note 3).
//
// An empty result means there are none. It must be safe for concurrent use.
type AuthorizationStore interface {
	Authorizations(ctx context.Context, id AccountID) ([]Authorization, error)
}

// SubUserStore reports collaborators, sub-users and message recipients
// (seed note 4).
//
// An empty result means there are none. It must be safe for concurrent use.
type SubUserStore interface {
	SubUsers(ctx context.Context, id AccountID) ([]SubUser, error)
}

// APIKeyStore reports the API keys of an account (seed note 5).
//
// An empty result means there are none. It must be safe for concurrent use.
type APIKeyStore interface {
	APIKeys(ctx context.Context, id AccountID) ([]APIKey, error)
}

// DataInventory reports data and information under an account that is
// deleted with it: backups, storage buckets, databases (seed note 6).
//
// An empty result means there is none. It must be safe for concurrent use.
type DataInventory interface {
	DataHoldings(ctx context.Context, id AccountID) ([]DataHolding, error)
}

// ComplaintChecker reports open complaints, reports, disputes, litigation,
// regulatory matters and legal holds involving an account (seed notes 7 and
// 8).
//
// An empty result means there are none. It must be safe for concurrent use.
type ComplaintChecker interface {
	OpenCases(ctx context.Context, id AccountID) ([]Case, error)
}

// MatterChecker reports any other matters that may affect the customer's
// rights (seed note 9).
//
// An empty result means there are none. It must be safe for concurrent use.
type MatterChecker interface {
	OpenMatters(ctx context.Context, id AccountID) ([]Matter, error)
}

// InProcess is an optional interface of a port: one that answers in the
// caller's process, without blocking, implements it and returns true. Such
// a call neither blocks nor waits on I/O (no network, no disk, no lock
// held for longer than it takes to copy what the call returns), so it
// answers in microseconds, and the library may run it on the caller's
// goroutine instead of handing it to another: RuleSet.Evaluate runs the
// default rules over such ports one after another on the caller, and a
// request's notifications and close run one after another on the caller,
// with nothing spread over other goroutines, when the Notifier, the
// AccountCloser and (for a notification recorded without its address)
// the AccountDirectory all answer in process and no hook hears of effect
// attempts.
//
// Hosts implement it only for ports that keep that promise, and may return
// false when, at the time of the call, they do not (an in-memory port
// configured to wait, say). A port that does not implement it, or returns
// false or panics, is treated as one that may block. A decorator (tracing,
// metrics, retries) must not forward it unless what it adds cannot block
// either. InProcess itself must not block and must be safe for concurrent
// use.
//
// InProcess speaks for every method of the port, and Go promotes it with
// the others: a type that embeds a port implementing it (a
// *memory.Platform, say) says it answers in process too, even where it
// overrides a method with one that calls a database or a service. Such a
// type must declare its own InProcess, returning false, or the rules (or
// effects) over the overriding method run on the caller's goroutine, where
// a call that ignores its context holds the caller past RuleSet.Timeout,
// and a notification that hangs holds up the others.
type InProcess interface {
	InProcess() bool
}

// OTPMessage is a one-time code to deliver to a phone.
type OTPMessage struct {
	// Phone is the recovery phone on file; the workflow never sends a code
	// to a number supplied by the caller.
	Phone     string
	Code      string
	Locale    string
	ExpiresAt time.Time
	// IdempotencyKey is unique per code; a retried delivery carries the
	// same key.
	IdempotencyKey string
}

// OTPSender delivers one-time codes by SMS or voice (seed step 3).
//
// SendCode returns nil once the message is accepted for delivery. It must
// be safe for concurrent use. A call repeated with the same IdempotencyKey
// must not deliver a second message.
type OTPSender interface {
	SendCode(ctx context.Context, msg OTPMessage) error
}

// Channel is a notification channel.
type Channel string

// Notification channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// Notification is a message to the customer about their application.
type Notification struct {
	// IdempotencyKey is stable across retries of the same notification: a
	// Notifier that sees a key it has already delivered must return nil
	// without delivering again.
	IdempotencyKey string
	Channel        Channel
	// To is a phone number for ChannelSMS and an email address for
	// ChannelEmail, taken from the account on file.
	To      string
	Account AccountID
	// Template names the message: "review_approved" (Data has
	// "scheduled_for" in the cooling-off and settlement modes),
	// "review_rejected" (Data has "reasons"), "cancelled", "withdrawn",
	// "receipt" (by email, the signed receipt attached, when the
	// outcome went by SMS only; Data has "outcome") or "erasure_extended" (Data has "erasure_due_at" and
	// "reason"). Data always has "request_id".
	Template string
	// Data holds the template's parameters (request id, reasons, dates).
	Data   map[string]string
	Locale string
	// Attachments are files to attach to an email (ChannelEmail only):
	// the signed closing receipt, on the email of the outcome
	// ("cancelled", "review_rejected", "withdrawn") or of "receipt". A
	// Notifier that cannot attach files must fail rather than drop them.
	Attachments []Attachment
}

// Attachment is a file sent with an email notification.
type Attachment struct {
	// Filename is the file's name, without a directory.
	Filename string
	// ContentType is its media type ("application/jose").
	ContentType string
	// Content is the file's bytes.
	Content []byte
}

// Notifier delivers notifications by SMS and email (seed steps 5 and 6).
//
// Notify returns nil once the message is accepted for delivery. It must be
// safe for concurrent use and idempotent by Notification.IdempotencyKey: the
// workflow retries after failures and crashes, with the same key.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// DocumentStore keeps identity-document blobs (seed step 4).
//
// PutDocument stores data under key, replacing any blob already there.
// GetDocument returns an error wrapping ErrNotFound for an unknown key.
// DeleteDocument is idempotent: deleting an unknown key returns nil.
// It must be safe for concurrent use.
type DocumentStore interface {
	PutDocument(ctx context.Context, key, contentType string, data []byte) error
	GetDocument(ctx context.Context, key string) ([]byte, error)
	DeleteDocument(ctx context.Context, key string) error
}

// AccountCloser disables login and closes the account (seed step 6).
//
// CloseAccount must be idempotent: closing an account that is already
// closed returns nil. idempotencyKey is the same on every retry for one
// cancellation. An unknown account returns an error wrapping ErrNotFound.
// It must be safe for concurrent use.
type AccountCloser interface {
	CloseAccount(ctx context.Context, id AccountID, idempotencyKey string) error
}

// Clock tells the time. Tests use a fake clock to cross review days,
// cooling-off periods and code expiries.
type Clock interface {
	Now() time.Time
}

// BusinessCalendar tells which days are business days (seed step 5: review
// takes about three business days).
//
// IsBusinessDay considers the calendar date of t in the calendar's own time
// zone. It must be safe for concurrent use.
type BusinessCalendar interface {
	IsBusinessDay(t time.Time) bool
}
