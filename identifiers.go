package cancellation

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/accountkit/cancellation/ports"
)

// Identifiers kept from reuse. After a cancellation the closed account's
// login identifiers (its email, its recovery phone and the
// ports.Account.LoginIdentifiers the host adds) are kept for
// Config.IdentifierRetention as keyed hashes, never in the clear, so that
// the host can ask Service.RecentlyClosed before letting one register
// again. They are recorded by an effect of the cancellation (so a crash
// loses none) and purged by RunMaintenance at the end of the period.

// DefaultIdentifierRetention is the default Config.IdentifierRetention.
const DefaultIdentifierRetention = 180 * 24 * time.Hour

// EffectKeepIdentifiers stores the keyed hashes of a cancelled account's
// login identifiers in the Store's IdentifierStore.
const EffectKeepIdentifiers EffectKind = "keep_identifiers"

// ErrIdentifiersNotKept is returned by Service.RecentlyClosed when the
// Service keeps no identifiers (Config.IdentifierKeys is empty): the
// question has no answer, which is not the same as "no".
var ErrIdentifiersNotKept = errors.New("cancellation: identifiers of closed accounts are not kept (Config.IdentifierKeys is empty)")

// IdentifierKey keys the hashes of kept identifiers: HMAC-SHA256 under
// Secret. Config.IdentifierKeys[0] hashes new identifiers; every key is
// tried on a look-up, so a rotated-out key answers until its hashes
// expire.
type IdentifierKey struct {
	// ID names the key in each stored hash; it is not secret. Non-empty, at
	// most 64 bytes, unique among the configured keys.
	ID string
	// Secret is at least 32 random bytes, the same on every replica.
	Secret []byte
}

// IdentifierHash is one kept identifier as a Store holds it.
type IdentifierHash struct {
	// Hash is the hex HMAC-SHA256 of the normalised identifier under the
	// key KeyID names.
	Hash  string `json:"hash"`
	KeyID string `json:"key_id"`
	// ExpiresAt is when the hash stops counting and may be purged.
	ExpiresAt time.Time `json:"expires_at"`
}

// IdentifierStore is an optional interface of a Store that keeps the
// hashed identifiers of recently closed accounts. A Service with
// Config.IdentifierKeys needs a Store that implements it (New refuses
// another). Implementations must pass portstest.TestIdentifierStore.
type IdentifierStore interface {
	// KeepIdentifiers stores the hashes. A hash already stored keeps the
	// later of the two ExpiresAt, so keeping is idempotent and a second
	// closure with the same identifier extends its period.
	KeepIdentifiers(ctx context.Context, hashes []IdentifierHash) error
	// IdentifierKept reports whether any of the hashes is stored and does
	// not expire at or before now.
	IdentifierKept(ctx context.Context, hashes []string, now time.Time) (bool, error)
	// PurgeIdentifiers deletes the hashes that expire at or before before,
	// and returns how many.
	PurgeIdentifiers(ctx context.Context, before time.Time) (int, error)
}

// validateIdentifierKeys checks the configured keys, and that the Store
// can keep what they hash.
func validateIdentifierKeys(cfg Config) error {
	seen := map[string]bool{}
	for i, k := range cfg.IdentifierKeys {
		field := fmt.Sprintf("IdentifierKeys[%d]", i)
		switch {
		case k.ID == "" || len(k.ID) > 64:
			return invalid(field, "the key id is empty or longer than 64 bytes")
		case seen[k.ID]:
			return invalid(field, fmt.Sprintf("key id %q is used twice", k.ID))
		case len(k.Secret) < 32:
			return invalid(field, "the secret is shorter than 32 bytes")
		}
		seen[k.ID] = true
	}
	if len(cfg.IdentifierKeys) > 0 && cfg.Store != nil {
		if _, ok := cfg.Store.(IdentifierStore); !ok {
			return invalid("config", "IdentifierKeys are set but the Store does not implement IdentifierStore")
		}
	}
	if cfg.IdentifierRetention < 0 {
		return invalid("IdentifierRetention", "must not be negative")
	}
	return nil
}

// NormalizeIdentifier returns the form of a login identifier that is
// hashed: surrounding space trimmed; an email address (it holds "@")
// lowercased; a phone number (it starts with "+" or "00" and holds only
// digits, spaces, dots, dashes and parentheses) in E.164 form, "+" and
// digits; anything else (a user name) lowercased. It returns "" for an
// identifier that is empty after trimming.
func NormalizeIdentifier(id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	if strings.Contains(id, "@") {
		return strings.ToLower(id)
	}
	if phone, ok := e164(id); ok {
		return phone
	}
	return strings.ToLower(id)
}

// e164 reads a phone number written with an international prefix.
func e164(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "+")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "00"); !ok {
			return "", false
		}
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, c := range rest {
		switch {
		case unicode.IsDigit(c) && c < 128:
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	if b.Len() < 4 {
		return "", false
	}
	return b.String(), true
}

// identifierHash is the keyed hash of a normalised identifier.
func identifierHash(k IdentifierKey, normalized string) string {
	return hmacHex(k.Secret, append([]byte("cancellation login identifier\x00"), normalized...))
}

// accountIdentifiers lists the account's login identifiers, normalised,
// without duplicates.
func accountIdentifiers(acct ports.Account) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range append([]string{acct.Email, acct.RecoveryPhone}, acct.LoginIdentifiers...) {
		if n := NormalizeIdentifier(id); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// hashIdentifiers hashes the account's identifiers under the first key,
// to expire at until; nil when the Service keeps none.
func hashIdentifiers(keys []IdentifierKey, acct ports.Account, until time.Time) []IdentifierHash {
	if len(keys) == 0 {
		return nil
	}
	k := keys[0]
	var out []IdentifierHash
	for _, n := range accountIdentifiers(acct) {
		out = append(out, IdentifierHash{Hash: identifierHash(k, n), KeyID: k.ID, ExpiresAt: until})
	}
	return out
}

// identifiers are the account's login identifiers, hashed, that a
// cancellation keeps from reuse (nil when the Service keeps none): hashed
// only by the change that needs them.
func (ec effectCtx) identifiers() []IdentifierHash {
	return hashIdentifiers(ec.identifierKeys, ec.acct, ec.identifiersUntil)
}

// RecentlyClosed reports whether identifier (an email address, a phone
// number or another login identifier; see NormalizeIdentifier) belonged to
// an account cancelled within Config.IdentifierRetention: ask it before
// letting the identifier register again. It returns ErrIdentifiersNotKept
// when Config.IdentifierKeys is empty, and an error wrapping
// ErrInvalidInput for an empty identifier. Identifiers are kept from the
// moment the cancellation's keep_identifiers effect is done, which is
// moments after the account closes.
func (s *Service) RecentlyClosed(ctx context.Context, identifier string) (_ bool, err error) {
	defer s.hooks.operation(&ctx, OpRecentlyClosed)(&err)
	return s.recentlyClosed(ctx, identifier)
}

// RecentlyClosedForStaff is RecentlyClosed asked by a staff member, as an
// API that serves many callers asks it: rv must be known to the
// StaffDirectory with at least the reviewer role, or the answer is an
// error wrapping ErrForbidden, since it tells something of another
// person's account. Code of the host's own that asks in process (its
// registration service) calls RecentlyClosed.
func (s *Service) RecentlyClosedForStaff(ctx context.Context, rv Reviewer, identifier string) (_ bool, err error) {
	defer s.hooks.operation(&ctx, OpRecentlyClosed)(&err)
	if _, err := s.authorize(ctx, "ask whether an identifier was recently closed", rv, ports.RoleReviewer); err != nil {
		return false, err
	}
	return s.recentlyClosed(ctx, identifier)
}

// recentlyClosed is RecentlyClosed without the hook.
func (s *Service) recentlyClosed(ctx context.Context, identifier string) (bool, error) {
	if len(s.cfg.IdentifierKeys) == 0 {
		return false, ErrIdentifiersNotKept
	}
	n := NormalizeIdentifier(identifier)
	if n == "" {
		return false, invalid("identifier", "is empty")
	}
	hashes := make([]string, len(s.cfg.IdentifierKeys))
	for i, k := range s.cfg.IdentifierKeys {
		hashes[i] = identifierHash(k, n)
	}
	kept, err := s.cfg.Store.(IdentifierStore).IdentifierKept(ctx, hashes, s.now())
	if err != nil {
		return false, s.store.wrap(ctx, "look up a closed account's identifier", err)
	}
	return kept, nil
}

// keepIdentifiers records, at cancellation, the effect that keeps the
// account's identifiers; the hashes are computed now, so the effect holds
// nothing in the clear.
func (r *Request) keepIdentifiers(ec effectCtx) {
	ids := ec.identifiers()
	if len(ids) == 0 {
		return
	}
	r.addEffect(Effect{Key: r.d.ID + "/keep_identifiers", Kind: EffectKeepIdentifiers, Identifiers: ids}, ec.owner, ec.lease)
}

// purgeIdentifiers deletes expired identifier hashes: the part of
// RunMaintenance for IdentifierStore.
func (s *Service) purgeIdentifiers(ctx context.Context, rep *MaintenanceReport) error {
	is, ok := s.cfg.Store.(IdentifierStore)
	if !ok {
		return nil
	}
	n, err := is.PurgeIdentifiers(ctx, s.now())
	rep.IdentifiersPurged += n
	if err != nil {
		return fmt.Errorf("cancellation: purging expired identifiers: %w", err)
	}
	return nil
}

// contactPattern matches what looks like an email address or a phone
// number in a port's error text.
var contactPattern = regexp.MustCompile(`[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+|\+?\d[\d ().-]{5,}\d`)

// scrubContacts replaces email addresses and phone numbers in text (a
// port's error) with "[redacted]", for text recorded in the history, which
// is hash-chained and cannot be purged later.
func scrubContacts(text string) string {
	return contactPattern.ReplaceAllString(text, "[redacted]")
}
