package cancellation

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Printing and logging show only what an operator's log may hold. A
// Request holds secrets and personal data: the keyed hash of the pending
// code, reviewer notes, effect leases and errors, the blob keys and hashes
// of identity documents, the contacts notifications go to. Request, Event,
// Effect, Decision, Document and VerificationPolicy therefore implement
// fmt.Formatter (every verb prints a safe view) and slog.LogValuer (every
// handler logs it), on value receivers so that pointers and values alike
// are covered. MarshalBinary remains the way to the whole state.
//
// slog's JSON handler encodes a value that is not a LogValuer, such as a
// slice, with encoding/json: for []Event, []Effect and []Document that is
// their stored form, secrets included. Log their elements instead.

// formatSafe prints safe, a view without secrets, for the verb: %v, %+v
// and %#v print its fields, %s its %v form and %q that form quoted. Other
// verbs print as fmt prints a bad verb, without the value.
func formatSafe(f fmt.State, verb rune, safe any) {
	switch verb {
	case 'v':
		fmt.Fprintf(f, fmt.FormatString(f, verb), safe)
	case 's':
		fmt.Fprintf(f, "%v", safe)
	case 'q':
		fmt.Fprintf(f, "%q", fmt.Sprintf("%v", safe))
	default:
		fmt.Fprintf(f, "%%!%c(%T)", verb, safe)
	}
}

// requestLog is what printing or logging a Request shows.
type requestLog struct {
	ID        string
	Account   ports.AccountID
	State     State
	Version   int64
	UpdatedAt time.Time
}

func (r Request) safe() requestLog {
	return requestLog{ID: r.d.ID, Account: r.d.Account, State: r.d.State, Version: r.d.Version, UpdatedAt: r.d.UpdatedAt}
}

// String returns the request's id, account, state and version.
func (r Request) String() string {
	return fmt.Sprintf("request %s of account %s, %s, version %d", r.d.ID, r.d.Account, r.d.State, r.d.Version)
}

// Format prints the request's id, account, state, version and update time
// for every verb; never its code hash, notes, effects or history.
func (r Request) Format(f fmt.State, verb rune) {
	if verb == 's' || verb == 'q' {
		formatSafe(f, verb, r.String())
		return
	}
	formatSafe(f, verb, r.safe())
}

// LogValue logs the request's id, account, state, version and update time.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", r.d.ID), slog.String("account", string(r.d.Account)),
		slog.String("state", string(r.d.State)), slog.Int64("version", r.d.Version), slog.Time("updated_at", r.d.UpdatedAt))
}

// eventLog is what printing or logging an Event shows: the event's data
// by key only, since values may hold a reviewer's note or a port's error.
type eventLog struct {
	Seq   int
	At    time.Time
	Actor Actor
	Type  EventType
	Keys  []string
}

func (e Event) safe() eventLog {
	l := eventLog{Seq: e.Seq, At: e.At, Actor: e.Actor, Type: e.Type}
	for k := range e.Data {
		l.Keys = append(l.Keys, k)
	}
	slices.Sort(l.Keys)
	return l
}

// Format prints the event without its data values and hashes.
func (e Event) Format(f fmt.State, verb rune) { formatSafe(f, verb, e.safe()) }

// LogValue logs the event without its data values and hashes.
func (e Event) LogValue() slog.Value { return slog.AnyValue(e.safe()) }

// effectLog is what printing or logging an Effect shows: not its lease
// owner, last error or notification's address and data.
type effectLog struct {
	Key           string
	Kind          EffectKind
	Attempts      int
	NextAttemptAt time.Time
	DoneAt        time.Time
}

func (e Effect) safe() effectLog {
	return effectLog{Key: e.Key, Kind: e.Kind, Attempts: e.Attempts, NextAttemptAt: e.NextAttemptAt, DoneAt: e.DoneAt}
}

// Format prints the effect without its lease, error and notification.
func (e Effect) Format(f fmt.State, verb rune) { formatSafe(f, verb, e.safe()) }

// LogValue logs the effect without its lease, error and notification.
func (e Effect) LogValue() slog.Value { return slog.AnyValue(e.safe()) }

// decisionLog is what printing or logging a Decision shows: not the note.
type decisionLog struct {
	Approved bool
	Actor    Actor
	Reasons  []ReasonCode
	At       time.Time
}

func (d Decision) safe() decisionLog {
	return decisionLog{Approved: d.Approved, Actor: d.Actor, Reasons: d.Reasons, At: d.At}
}

// Format prints the decision without the reviewer's note.
func (d Decision) Format(f fmt.State, verb rune) { formatSafe(f, verb, d.safe()) }

// LogValue logs the decision without the reviewer's note.
func (d Decision) LogValue() slog.Value { return slog.AnyValue(d.safe()) }

// documentLog is what printing or logging a Document shows: not its blob
// key or the hash of the identity document.
type documentLog struct {
	Kind       DocumentKind
	Format     DocumentFormat
	UploadedAt time.Time
	Replaced   bool
	Purged     bool
}

func (d Document) safe() documentLog {
	return documentLog{Kind: d.Kind, Format: d.Facts.Format, UploadedAt: d.UploadedAt,
		Replaced: !d.ReplacedAt.IsZero(), Purged: !d.PurgedAt.IsZero()}
}

// Format prints the document without its blob key and hash.
func (d Document) Format(f fmt.State, verb rune) { formatSafe(f, verb, d.safe()) }

// LogValue logs the document without its blob key and hash.
func (d Document) LogValue() slog.Value { return slog.AnyValue(d.safe()) }

// policyLog is what printing or logging a VerificationPolicy shows: whether
// a key is set, not the key.
type policyLog struct {
	KeySet         bool
	CodeLength     int
	TTL            time.Duration
	MaxAttempts    int
	LockFor        time.Duration
	ResendCooldown time.Duration
	DailyCap       int
}

func (p VerificationPolicy) safe() policyLog {
	return policyLog{KeySet: len(p.Key) > 0, CodeLength: p.CodeLength, TTL: p.TTL, MaxAttempts: p.MaxAttempts,
		LockFor: p.LockFor, ResendCooldown: p.ResendCooldown, DailyCap: p.DailyCap}
}

// Format prints the policy without its key, so that printing a Config
// does not reveal it.
func (p VerificationPolicy) Format(f fmt.State, verb rune) { formatSafe(f, verb, p.safe()) }

// LogValue logs the policy without its key.
func (p VerificationPolicy) LogValue() slog.Value { return slog.AnyValue(p.safe()) }
