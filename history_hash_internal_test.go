package cancellation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// referenceFields writes an event's fields one Write at a time, each
// prefixed by its length: the encoding the chain has always hashed.
func referenceFields(e Event, h hash.Hash) {
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(strconv.Itoa(e.Seq))
	field(e.At.UTC().Format(time.RFC3339Nano))
	field(string(e.Actor.Kind))
	field(e.Actor.ID)
	field(string(e.Type))
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	field(strconv.Itoa(len(keys)))
	for _, k := range keys {
		field(k)
		field(e.Data[k])
	}
	field(e.PrevHash)
	if e.KeyID != "" {
		field(e.KeyID)
		field(string(e.State))
		field(strconv.FormatInt(e.Version, 10))
	}
}

// TestEventHashesKeepTheirEncoding shows that the plain and keyed hashes of
// events, small and larger than the hashing buffer, are those of the
// length-prefixed field encoding, so histories stored before stay valid.
func TestEventHashesKeepTheirEncoding(t *testing.T) {
	t.Parallel()
	long := string(make([]byte, 2000))
	manyKeys := map[string]string{}
	for i := range 13 {
		manyKeys[fmt.Sprintf("key-%02d", 12-i)] = strconv.Itoa(i)
	}
	secret := []byte("reference secret")
	for _, e := range []Event{
		{Seq: 1, At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Actor: Actor{Kind: "customer", ID: "acct_1"}, Type: "started"},
		{Seq: 7, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), Actor: Actor{Kind: "reviewer", ID: "rev"}, Type: "approved",
			Data: map[string]string{"from": "in_review", "note": "ok", "b": long}, PrevHash: "abc", KeyID: "k1", State: StateApproved, Version: 9},
		// Empty data (not nil) and more keys than appendFields sorts
		// without allocating.
		{Seq: 2, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: Actor{Kind: "system"}, Type: "expired", Data: map[string]string{}, PrevHash: "p", KeyID: "k1", State: StateExpired, Version: 3},
		{Seq: 3, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: Actor{Kind: "customer", ID: "acct_1"}, Type: "confirmed", Data: manyKeys, PrevHash: "p", KeyID: "k2", State: StateConfirmed, Version: 4},
		{Seq: 4, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: Actor{Kind: "customer", ID: "acct_1"}, Type: "confirmed", Data: manyKeys},
	} {
		plain := sha256.New()
		referenceFields(e, plain)
		keyed := hmac.New(sha256.New, secret)
		referenceFields(e, keyed)
		if got, want := e.computeHash(), hex.EncodeToString(plain.Sum(nil)); got != want {
			t.Errorf("event %d: plain hash %s, want %s", e.Seq, got, want)
		}
		if got, want := e.mac(secret), hex.EncodeToString(keyed.Sum(nil)); got != want {
			t.Errorf("event %d: keyed hash %s, want %s", e.Seq, got, want)
		}
	}
}

// TestEventMACsUnderOneKeyEach: HMACs from the pool are set up for one
// key; events MACed under keys in turn, from goroutines at once, each get
// the MAC under their own key, never one left in the pool for another.
func TestEventMACsUnderOneKeyEach(t *testing.T) {
	t.Parallel()
	e := Event{Seq: 5, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: Actor{Kind: "customer", ID: "acct_1"}, Type: "started",
		Data: map[string]string{"a": "b"}, KeyID: "k", State: StateStarted, Version: 1}
	secrets := [][]byte{[]byte("first secret"), []byte("second secret"), []byte("first secret!"), {}, make([]byte, 100)}
	want := make([]string, len(secrets))
	for i, secret := range secrets {
		m := hmac.New(sha256.New, secret)
		referenceFields(e, m)
		want[i] = hex.EncodeToString(m.Sum(nil))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 200 {
				i := (g + round) % len(secrets)
				if got := e.mac(secrets[i]); got != want[i] {
					t.Errorf("MAC under secret %d: %s, want %s", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}
