package cancellation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

// TestHashCode_SameBytesAsBefore: a code's hash and a key's id are the
// HMACs they always were (a code sent before an upgrade still verifies
// after it), computed with pooled HMACs, also when keys alternate.
func TestHashCode_SameBytesAsBefore(t *testing.T) {
	t.Parallel()
	keys := [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("another key, another key, another")}
	for i := range 6 {
		key := keys[i%2]
		id, serial, code := fmt.Sprintf("can_%032d", i), i+1, fmt.Sprintf("%06d", i*7919)
		m := hmac.New(sha256.New, key)
		fmt.Fprintf(m, "%s\x00%d\x00%s", id, serial, code)
		if got, want := hashCode(key, id, serial, code), hex.EncodeToString(m.Sum(nil)); got != want {
			t.Errorf("hashCode under key %d: %s, want %s", i%2, got, want)
		}
		m = hmac.New(sha256.New, key)
		m.Write([]byte("cancellation one-time code key id"))
		if got, want := keyID(key), hex.EncodeToString(m.Sum(nil))[:12]; got != want {
			t.Errorf("keyID of key %d: %s, want %s", i%2, got, want)
		}
	}
}

// TestIdentifierHash_SameBytesAsBefore: a kept identifier's hash is the
// HMAC it always was, so identifiers kept before an upgrade are still
// recognised by RecentlyClosed after it.
func TestIdentifierHash_SameBytesAsBefore(t *testing.T) {
	t.Parallel()
	k := IdentifierKey{ID: "ik1", Secret: []byte("0123456789abcdef0123456789abcdef")}
	for _, n := range []string{"grace@example.com", "+15550100", "é"} {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte("cancellation login identifier\x00"))
		m.Write([]byte(n))
		if got, want := identifierHash(k, n), hex.EncodeToString(m.Sum(nil)); got != want {
			t.Errorf("identifierHash(%q) = %s, want %s", n, got, want)
		}
	}
}
