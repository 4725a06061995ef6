package cancellation

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// HMAC-SHA256s are kept ready for their keys: events are sealed and
// verified by the thousand under the history key, codes hashed under the
// code key and identifiers under the identifier key, and an HMAC set up
// once per key (hmac.New: two SHA-256 states and the padded key) costs
// half as much per use.

// macSet is what the pool holds: an HMAC for each of the last few keys
// used, so that the keys of one flow, used in turn, do not evict one
// another, and a buffer for what is hashed.
type macSet struct {
	keyed [3]keyedMAC
	next  int // the entry the next new key replaces
	buf   []byte
	sum   [sha256.Size]byte
}

type keyedMAC struct {
	key []byte // a copy of the key h is set up with
	h   hash.Hash
}

var macs = sync.Pool{New: func() any { return new(macSet) }}

// getMAC returns a macSet from the pool; put it back with macs.Put.
func getMAC() *macSet { return macs.Get().(*macSet) }

// hexSum returns the hex HMAC-SHA256 of data under secret.
func (m *macSet) hexSum(secret, data []byte) string {
	h := m.forKey(secret)
	h.Reset()
	h.Write(data)
	var out [2 * sha256.Size]byte
	return string(hex.AppendEncode(out[:0], h.Sum(m.sum[:0])))
}

// forKey returns the set's HMAC for secret, set up anew (replacing the
// oldest) when the set holds none.
func (m *macSet) forKey(secret []byte) hash.Hash {
	for i := range m.keyed {
		if k := &m.keyed[i]; k.h != nil && bytes.Equal(k.key, secret) {
			return k.h
		}
	}
	k := &m.keyed[m.next]
	m.next = (m.next + 1) % len(m.keyed)
	k.key = append(k.key[:0], secret...)
	k.h = hmac.New(sha256.New, k.key)
	return k.h
}

// hmacHex returns the hex HMAC-SHA256 of data under secret, with an HMAC
// from the pool.
func hmacHex(secret, data []byte) string {
	m := getMAC()
	defer macs.Put(m)
	return m.hexSum(secret, data)
}
