package cancellation_test

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/accountkit/cancellation"
)

// BenchmarkReceipt signs and verifies a receipt of a full cancellation,
// beside its floor: the bare Ed25519 signature and verification of the
// same signing input, which no JWS encoding can beat.
func BenchmarkReceipt(b *testing.B) {
	key := cancellation.ReceiptSigningKey{ID: "bench-1", Key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))}
	at := time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)
	rc := cancellation.Receipt{
		RequestID: "can_0123456789abcdef01234567", Account: "acct-bench", Outcome: cancellation.StateCancelled, IssuedAt: at,
		Steps:        cancellation.ReceiptSteps{Started: at, Confirmed: at, PhoneVerified: at, DocumentsUploaded: at, Submitted: at, Decided: at, Ended: at},
		NotesVersion: "v1", Consents: []cancellation.Consent{{Rule: "unused_rights", Fingerprint: strings.Repeat("f", 64)}},
		Decision:        &cancellation.ReceiptDecision{Approved: true, By: cancellation.ActorReviewer, At: at},
		LoginDisabledAt: at, ErasureDueAt: at,
		HistoryHead: cancellation.ReceiptHead{Seq: 14, Hash: strings.Repeat("a", 64), KeyID: "k1"},
	}
	token, err := cancellation.SignReceipt(rc, key)
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(token[:strings.LastIndexByte(token, '.')])
	sig := ed25519.Sign(key.Key, input)
	pub := key.Public()
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := cancellation.SignReceipt(rc, key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign_floor_ed25519", func(b *testing.B) {
		for b.Loop() {
			ed25519.Sign(key.Key, input)
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := cancellation.VerifyReceipt(token, pub); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify_floor_ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub.Key, input, sig) {
				b.Fatal("no")
			}
		}
	})
}
