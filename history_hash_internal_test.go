package cancellation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sort"
	"strconv"
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
	secret := []byte("reference secret")
	for _, e := range []Event{
		{Seq: 1, At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Actor: Actor{Kind: "customer", ID: "acct_1"}, Type: "started"},
		{Seq: 7, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), Actor: Actor{Kind: "reviewer", ID: "rev"}, Type: "approved",
			Data: map[string]string{"from": "in_review", "note": "ok", "b": long}, PrevHash: "abc", KeyID: "k1", State: StateApproved, Version: 9},
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
