package cancellation

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// secretRequest is a request holding a secret in every field that may
// hold one; each secret contains "SECRET".
func secretRequest() *Request {
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	n := &ports.Notification{IdempotencyKey: "k", Channel: ports.ChannelSMS, To: "+1555SECRET-phone",
		Account: "acct-1", Template: "review_rejected", Data: map[string]string{"note": "SECRET-note-in-notification"}}
	r := &Request{d: requestData{
		ID: "can_1", Account: "acct-1", State: StateRejected, Version: 3, CreatedAt: at, UpdatedAt: at,
		OTP:       &otpState{Hash: "SECRET-code-hash", KeyID: "SECRET-key-id"},
		Decision:  &Decision{Actor: Actor{Kind: ActorReviewer, ID: "rev"}, Note: "SECRET-reviewer-note", At: at},
		Documents: []Document{{Kind: DocumentPassport, Key: "SECRET-blob-key", Facts: DocumentFacts{SHA256: "SECRET-document-hash"}}},
		Reserved:  []string{"SECRET-reserved-key"},
		Effects: []Effect{{Key: "can_1/x", Kind: EffectNotify, Notification: n, LeaseOwner: "SECRET-lease-owner",
			LastError: "SECRET-last-error"}},
	}}
	r.record(at, Actor{Kind: ActorReviewer, ID: "rev"}, EventRejected, map[string]string{"note": "SECRET-note-in-history"})
	return r
}

// TestHardening_LogsRevealNoSecrets: a request, and the exported values
// that hold secrets, printed with every fmt verb and logged with slog's
// text and JSON handlers show no code hash, reviewer note, lease owner,
// contact, document key or hash, verification key or one-time code.
func TestHardening_LogsRevealNoSecrets(t *testing.T) {
	t.Parallel()
	r := secretRequest()
	d, _ := r.Decision()
	values := map[string]any{
		"*Request": r, "Request": *r, "QueueItem": QueueItem{Request: r},
		"History": r.History(), "Event": r.History()[0], "Effects": r.Effects(), "Effect": r.Effects()[0],
		"Decision": d, "*Decision": &d, "Documents": r.Documents(),
		"Notification": *r.d.Effects[0].Notification,
		"OTPMessage":   ports.OTPMessage{Phone: "+1555SECRET-phone", Code: "SECRET-code", IdempotencyKey: "k"},
		"Verification": VerificationPolicy{Key: []byte("SECRET-verification-key")},
		"Config":       Config{Verification: VerificationPolicy{Key: []byte("SECRET-verification-key")}},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%10.3v"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, "SECRET") {
				t.Errorf("%s printed with %s reveals a secret: %s", name, verb, out)
			}
		}
		for hname, h := range map[string]func(*bytes.Buffer) slog.Handler{
			// slog's JSON handler encodes a slice with encoding/json, which
			// for Event, Effect and Document is the storage encoding: log
			// their elements, not the slice (see redact.go).
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			if _, slice := map[string]bool{"History": true, "Effects": true, "Documents": true}[name]; slice && hname == "json" {
				continue
			}
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("msg", "value", v, slog.Any("any", v), slog.Group("g", "v", v))
			if strings.Contains(buf.String(), "SECRET") {
				t.Errorf("%s logged by the %s handler reveals a secret: %s", name, hname, buf.String())
			}
		}
	}
	// The view is still useful.
	if out := fmt.Sprintf("%v", r); !strings.Contains(out, "can_1") || !strings.Contains(out, "rejected") {
		t.Errorf("%%v of a request shows %q, without its id and state", out)
	}
	b, err := r.MarshalBinary()
	if err != nil || !bytes.Contains(b, []byte("SECRET-code-hash")) {
		t.Errorf("MarshalBinary must still hold the whole state: %v", err)
	}
}

// fingerprintBefore is fingerprint as first written, with fmt: stored
// consents bind its values.
func fingerprintBefore(rule string, items []Item) string {
	lines := make([]string, len(items))
	for i, it := range items {
		lines[i] = fmt.Sprintf("%q %q %q %d %q", it.Kind, it.Ref, it.Description, it.Value.Amount, it.Value.Currency)
	}
	sort.Strings(lines)
	h := sha256.New()
	fmt.Fprintf(h, "%q\n", rule)
	for _, l := range lines {
		fmt.Fprintln(h, l)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// TestHardening_FingerprintUnchanged: the cheaper fingerprint gives the
// same value as before for any items, so consents on record still match.
func TestHardening_FingerprintUnchanged(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	text := func() string {
		alphabet := []string{"a", "Z", " ", "\"", "\\", "\n", "\x00", "\xff", "é", "😀", "\u2028", "`", "1"}
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	if got, want := fingerprint("unused_rights", nil), fingerprintBefore("unused_rights", nil); got != want {
		t.Fatalf("no items: %s, want %s", got, want)
	}
	for range 2000 {
		items := make([]Item, rng.IntN(5))
		for i := range items {
			items[i] = Item{Kind: text(), Ref: text(), Description: text(),
				Value: ports.Money{Amount: rng.Int64N(2000) - 1000, Currency: text()}}
		}
		rule := text()
		if got, want := fingerprint(rule, items), fingerprintBefore(rule, items); got != want {
			t.Fatalf("fingerprint(%q, %q) = %s, want %s", rule, items, got, want)
		}
	}
}
