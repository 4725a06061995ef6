package cancellation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestMACSet_KeysUsedInTurnKeepTheirHMAC: the history, code and identifier
// keys of a flow, used in turn, each keep the HMAC set up for them, and
// every sum is the HMAC of its own key, also when a fourth key evicts one.
func TestMACSet_KeysUsedInTurnKeepTheirHMAC(t *testing.T) {
	t.Parallel()
	keys := [][]byte{[]byte("history key 0123456789abcdef0123"), []byte("code key 0123456789abcdef0123456"), []byte("identifier key 0123456789abcdef0"), []byte("a fourth key 0123456789abcdef012")}
	var m macSet
	first := make([]any, 3)
	for round := range 3 {
		for i, k := range keys[:3] {
			h := m.forKey(k)
			if round == 0 {
				first[i] = h
			} else if h != first[i] {
				t.Errorf("round %d: key %d was set up again", round, i)
			}
		}
	}
	for round := range 2 {
		for i, k := range keys {
			data := []byte{byte(round), byte(i)}
			want := hmac.New(sha256.New, k)
			want.Write(data)
			if got := m.hexSum(k, data); got != hex.EncodeToString(want.Sum(nil)) {
				t.Errorf("round %d, key %d: sum under another key", round, i)
			}
		}
	}
}
