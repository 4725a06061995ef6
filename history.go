package cancellation

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// The history of a request is stored apart from the request's current
// state: the Store keeps the state (MarshalBinary) with the newest event,
// the head, and appends each change's new events (NewEvents) beside it.
// Reading a request for a change therefore costs the same at its first
// event and at its last, and the whole trail is read only to show or audit
// it (Service.Get, Service.Review, Store.History).

// History caps. No customer action can take a request's history past
// CustomerHistoryLimit events: the change is refused with a
// HistoryFullError and nothing is stored. The events between it and
// MaxHistory are reserved for reviewers and the library itself, so that a
// decision, an expiry, the closing and its notifications can always be
// recorded; past MaxHistory every change is refused, except on a request
// stored before the cap with a longer history: reviewers and the library
// may still add up to 32 events a change to it, so that it can be decided,
// expire and close, while customer actions stay refused.
const (
	MaxHistory           = 256
	CustomerHistoryLimit = MaxHistory - 32
)

// historyReserve is what one staff or system change may add to a history
// already past MaxHistory (written before the cap).
const historyReserve = MaxHistory - CustomerHistoryLimit

// ErrHistoryFull is wrapped by HistoryFullError: the request's history is
// at its cap, so the change was refused and nothing changed.
var ErrHistoryFull = errors.New("cancellation: request history is full")

// HistoryFullError says that a change would take a request's history past
// Limit events (CustomerHistoryLimit for customer actions, MaxHistory for
// the others). It matches ErrHistoryFull with errors.Is.
type HistoryFullError struct {
	ID    string
	Limit int
}

func (e *HistoryFullError) Error() string {
	return fmt.Sprintf("cancellation: request %s: history is full (%d events): the change was not made", e.ID, e.Limit)
}

// Is reports whether target is ErrHistoryFull.
func (e *HistoryFullError) Is(target error) bool { return target == ErrHistoryFull }

// HistoryKey keys the history chain: each event written under it carries
// ID as its KeyID and an HMAC-SHA256 under Secret as its Hash. Keep every
// key whose events are still stored: an event verifies only with the key
// its KeyID names.
type HistoryKey struct {
	// ID names the key in each event; it is not secret. Non-empty, at most
	// 64 bytes, unique among the configured keys.
	ID string
	// Secret is at least 32 random bytes, the same on every replica.
	Secret []byte
}

// validateHistoryKeys checks the configured keys.
func validateHistoryKeys(keys []HistoryKey) error {
	seen := map[string]bool{}
	for i, k := range keys {
		field := fmt.Sprintf("HistoryKeys[%d]", i)
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
	return nil
}

func findKey(keys []HistoryKey, id string) ([]byte, bool) {
	for _, k := range keys {
		if k.ID == id {
			return k.Secret, true
		}
	}
	return nil, false
}

// appendFields appends the event's content to buf, length-prefixed so
// that no two different events share an encoding. Unkeyed events (the
// format before keys) cover what they always did; keyed events also cover
// the key id and the request's state and version after the event.
func (e Event) appendFields(buf []byte) []byte {
	field := func(s string) {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	// A number or time is its decimal or RFC 3339 text, formatted in
	// place after its length's 8 bytes, which are then filled in.
	fieldOf := func(appendText func([]byte) []byte) {
		at := len(buf)
		buf = appendText(binary.BigEndian.AppendUint64(buf, 0))
		binary.BigEndian.PutUint64(buf[at:], uint64(len(buf)-at-8))
	}
	fieldOf(func(b []byte) []byte { return strconv.AppendInt(b, int64(e.Seq), 10) })
	fieldOf(func(b []byte) []byte { return e.At.UTC().AppendFormat(b, time.RFC3339Nano) })
	field(string(e.Actor.Kind))
	field(e.Actor.ID)
	field(string(e.Type))
	fieldOf(func(b []byte) []byte { return strconv.AppendInt(b, int64(len(e.Data)), 10) })
	if len(e.Data) > 0 {
		var stack [8]string
		keys := stack[:0]
		for k := range e.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			field(k)
			field(e.Data[k])
		}
	}
	field(e.PrevHash)
	if e.KeyID != "" {
		field(e.KeyID)
		field(string(e.State))
		fieldOf(func(b []byte) []byte { return strconv.AppendInt(b, e.Version, 10) })
	}
	return buf
}

// computeHash is the plain SHA-256 of an unkeyed event.
func (e Event) computeHash() string {
	var stack [512]byte
	sum := sha256.Sum256(e.appendFields(stack[:0]))
	return hex.EncodeToString(sum[:])
}

// mac is the HMAC-SHA256 of a keyed event under secret.
func (e Event) mac(secret []byte) string {
	m := getMAC()
	defer macs.Put(m)
	m.buf = e.appendFields(m.buf[:0])
	return m.hexSum(secret, m.buf)
}

// checkHash verifies one event's own hash: an unkeyed event by SHA-256, a
// keyed one by the HMAC of the key it names.
func (e Event) checkHash(keys []HistoryKey) error {
	if e.KeyID == "" {
		if e.computeHash() != e.Hash {
			return fmt.Errorf("%w: history event %d was altered (hash mismatch)", ErrCorrupt, e.Seq)
		}
		return nil
	}
	secret, ok := findKey(keys, e.KeyID)
	if !ok {
		return fmt.Errorf("%w: history event %d is keyed with key %q, which is not configured", ErrCorrupt, e.Seq, e.KeyID)
	}
	if !hmac.Equal([]byte(e.mac(secret)), []byte(e.Hash)) {
		return fmt.Errorf("%w: history event %d was altered (keyed hash mismatch)", ErrCorrupt, e.Seq)
	}
	return nil
}

// VerifyHistory checks that events are an unbroken chain: sequence numbers
// count up from 1, each PrevHash is the previous event's Hash, and each
// Hash matches the event's content. A keyed event (KeyID set) verifies only
// with the key of that id among keys; an unkeyed event, the format written
// before keys or by a Service without HistoryKeys, by plain SHA-256. An
// unkeyed event after a keyed one is refused: a chain is never downgraded.
// The error wraps ErrCorrupt and names the first event that fails.
//
// What it detects, and what it does not: with keys, someone who can write
// the database but does not hold a key cannot edit, insert, reorder or
// remove an event in the middle of the chain, nor recompute the hashes
// after it. Without keys (or for the unkeyed prefix of a request written
// before keys were configured) anyone can recompute the chain: it detects
// only accidental damage. Removing the newest events is not detected by
// the chain alone: the Service checks the last event against the
// request's stored head, state and version, and a cut together with an
// older copy of the whole request is detected only against an anchor kept
// elsewhere, such as the head hash in a receipt given to the customer.
func VerifyHistory(events []Event, keys ...HistoryKey) error {
	if len(events) > 0 && events[0].Seq != 1 {
		return fmt.Errorf("%w: history starts at event %d", ErrCorrupt, events[0].Seq)
	}
	return verifyChain(events, "", keys)
}

// verifyChain checks events as a stretch of a chain whose previous hash is
// prev.
func verifyChain(events []Event, prev string, keys []HistoryKey) error {
	keyed := false
	for i, e := range events {
		if i > 0 && e.Seq != events[i-1].Seq+1 {
			return fmt.Errorf("%w: history event %d has sequence number %d", ErrCorrupt, events[i-1].Seq+1, e.Seq)
		}
		if e.PrevHash != prev {
			return fmt.Errorf("%w: history event %d does not follow event %d", ErrCorrupt, e.Seq, e.Seq-1)
		}
		if keyed && e.KeyID == "" {
			return fmt.Errorf("%w: history event %d is unkeyed after keyed events", ErrCorrupt, e.Seq)
		}
		keyed = keyed || e.KeyID != ""
		if err := e.checkHash(keys); err != nil {
			return err
		}
		prev = e.Hash
	}
	return nil
}

// MarshalBinary encodes the event for a Store that keeps events as rows of
// their own: its JSON.
func (e Event) MarshalBinary() ([]byte, error) { return marshalJSON(&e) }

// AppendBinary appends to b the bytes MarshalBinary returns
// (encoding.BinaryAppender), so that a Store can encode into a buffer it
// reuses.
func (e Event) AppendBinary(b []byte) ([]byte, error) { return appendJSON(b, &e) }

// UnmarshalBinary decodes an event written by MarshalBinary. A failure
// wraps ErrCorrupt. The hash is not checked here: Service.Get and
// VerifyHistory check the chain with the keys.
func (e *Event) UnmarshalBinary(b []byte) error {
	var ev Event
	if err := unmarshalJSON(b, &ev); err != nil {
		return fmt.Errorf("%w: event: %v", ErrCorrupt, err)
	}
	if ev.Seq < 1 || ev.Hash == "" {
		return fmt.Errorf("%w: event %d has no sequence number or hash", ErrCorrupt, ev.Seq)
	}
	*e = ev
	return nil
}

// head returns the newest event the request holds.
func (r *Request) head() *Event { return &r.d.History[len(r.d.History)-1] }

// NewEvents returns the events recorded since r was read from its Store
// (for a new request, its whole history), in order. Store.Create and
// Store.Update store them with r, in the same atomic write.
//
// The slice is the caller's own, but each event's Data map is shared with
// r and its copies: an event's data is fixed when it is recorded, so a
// Store may keep the maps or encode them, and must not change them (the
// events a Store returns from History are the caller's own again).
func (r *Request) NewEvents() []Event {
	return slices.Clone(r.newEvents())
}

// newEvents is NewEvents without a copy: r's own events, to read.
func (r *Request) newEvents() []Event {
	i := sort.Search(len(r.d.History), func(i int) bool { return r.d.History[i].Seq > int(r.stored) })
	return r.d.History[i:]
}

// HistoryLen returns the number of events in r's whole history, held or
// not: the sequence number of its newest event.
func (r *Request) HistoryLen() int { return r.head().Seq }

// HistoryHead returns the newest event of r's history, which the Store
// keeps with the request.
func (r *Request) HistoryHead() Event {
	e := *r.head()
	e.Data = cloneMap(e.Data)
	return e
}

// AsStored returns a copy of r as Store.Get returns it once r is stored:
// holding its newest event only, with no NewEvents. Like Clone, it shares
// what is never changed in place (see Clone). A Store that
// keeps what it wrote, to answer a read of the same bytes without decoding
// them again, keeps this.
func (r *Request) AsStored() *Request {
	c := new(Request)
	r.AsStoredInto(c)
	return c
}

// AsStoredInto is AsStored into dst instead of a new Request: whatever dst
// held is replaced. A Store that keeps requests in memory may write a new
// version over the one it replaces, and so allocate nothing, if no one
// else holds that one: if it only ever hands out copies (Clone) of what it
// keeps, made while no write can run.
func (r *Request) AsStoredInto(dst *Request) {
	// Only the head is copied: the older events are not kept.
	head := Request{d: r.d, headOK: r.headOK, sealed: r.sealed}
	head.d.History = r.d.History[len(r.d.History)-1:]
	head.cloneInto(dst, false)
	r.shareWithCopy() // dst shares r's effects and OTP state, as a clone of r would
	seq := int32(dst.head().Seq)
	dst.stored, dst.sealed = seq, seq
}

// markStored records that the Store now holds every event of r.
func (r *Request) markStored() { r.stored = int32(r.head().Seq) }

// seal fixes the events recorded since the request was read: each carries
// the state and version it leads to and, under key, its HMAC chained to
// the one before. Without a key the events keep their plain hashes.
func (r *Request) seal(key *HistoryKey, version int64) {
	h := r.d.History
	i := sort.Search(len(h), func(i int) bool { return h[i].Seq > int(r.sealed) })
	defer func() { r.sealed = int32(r.head().Seq) }()
	for ; i < len(h); i++ {
		e := &h[i]
		e.Version = version
		if i > 0 {
			e.PrevHash = h[i-1].Hash
		}
		if key == nil {
			e.KeyID = ""
			e.Hash = e.computeHash()
			continue
		}
		e.KeyID = key.ID
		e.Hash = e.mac(key.Secret)
	}
}

// historyRoom refuses a change that recorded events past the cap for its
// scope: CustomerHistoryLimit for a customer, MaxHistory for staff and for
// the customer's move to a final state (withdrawing), which can happen
// once. A request stored before the cap may already hold more than
// MaxHistory events (before, its length when read): a staff or system
// change to it may still add up to historyReserve events, so that it can
// be decided, expire and close; customer changes stay refused.
func (r *Request) historyRoom(staff bool, before int) error {
	limit := CustomerHistoryLimit
	if staff || r.d.State.Terminal() {
		limit = max(MaxHistory, before+historyReserve)
	}
	if n := r.head().Seq; n > before && n > limit {
		return &HistoryFullError{ID: r.d.ID, Limit: limit}
	}
	return nil
}

// checkHead verifies the newest event the request holds against its
// state and version: its own hash (keyed when it names a key), the state
// it leads to, and a version no later than the request's. It costs one
// hash, so every change runs it.
func (r *Request) checkHead(keys []HistoryKey, refuseUnkeyed bool) error {
	h := r.head()
	if h.KeyID == "" && refuseUnkeyed {
		return fmt.Errorf("%w: request %s: history event %d is unkeyed", ErrCorrupt, r.d.ID, h.Seq)
	}
	if err := h.checkHash(keys); err != nil {
		return fmt.Errorf("request %s: %w", r.d.ID, err)
	}
	return r.headAgrees()
}

// checkHead is r.checkHead with the Service's keys, done once per copy of
// a version: a head this Service verified or sealed itself (r.headOK) is
// not hashed again.
func (s *Service) checkHead(r *Request) error {
	if r.headOK == s {
		return nil
	}
	if err := r.checkHead(s.cfg.HistoryKeys, s.refuseUnkeyed()); err != nil {
		return err
	}
	r.headOK = s
	return nil
}

// headAgrees checks the state and version the head event records (events
// written before keys record none).
func (r *Request) headAgrees() error {
	h := r.head()
	switch {
	case h.State != "" && h.State != r.d.State:
		return fmt.Errorf("%w: request %s is %s but its last event %d leads to %s", ErrCorrupt, r.d.ID, r.d.State, h.Seq, h.State)
	case h.Version > r.d.Version:
		return fmt.Errorf("%w: request %s is at version %d but its last event %d was written at version %d", ErrCorrupt, r.d.ID, r.d.Version, h.Seq, h.Version)
	}
	return nil
}

// withHistory returns r holding events as its whole history, after
// checking that they are a chain under keys that ends in r's head.
func (r *Request) withHistory(events []Event, keys []HistoryKey, refuseUnkeyed bool) error {
	if err := VerifyHistory(events, keys...); err != nil {
		return fmt.Errorf("request %s: %w", r.d.ID, err)
	}
	if len(events) == 0 || events[len(events)-1].Hash != r.head().Hash || events[len(events)-1].Seq != r.head().Seq {
		return fmt.Errorf("%w: request %s: its stored history does not end in its last event %d", ErrCorrupt, r.d.ID, r.head().Seq)
	}
	if refuseUnkeyed {
		for _, e := range events {
			if e.KeyID == "" {
				return fmt.Errorf("%w: request %s: history event %d is unkeyed", ErrCorrupt, r.d.ID, e.Seq)
			}
		}
	}
	r.d.History = events

	return nil
}

// signKey is the key that signs new events, nil without keys.
func (s *Service) signKey() *HistoryKey {
	if len(s.cfg.HistoryKeys) == 0 {
		return nil
	}
	return &s.cfg.HistoryKeys[0]
}

// fullHistory gives r its whole history, read from the Store (unless r
// holds it already, as a request stored before events were kept apart
// does) and verified with the Service's keys against r's head.
func (s *Service) fullHistory(ctx context.Context, r *Request) (*Request, error) {
	if err := s.checkHead(r); err != nil {
		return nil, err
	}
	events := r.d.History
	if events[0].Seq != 1 {
		var err error
		if events, err = s.store.History(ctx, r.ID()); err != nil {
			return nil, fmt.Errorf("cancellation: reading the history of %s: %w", r.ID(), err)
		}
		// A change stored between the two reads appends events after r's
		// head; r's history is the events up to its head, and the check
		// below still finds a history cut short.
		for len(events) > 0 && events[len(events)-1].Seq > r.head().Seq {
			events = events[:len(events)-1]
		}
	}
	if err := r.withHistory(events, s.cfg.HistoryKeys, s.refuseUnkeyed()); err != nil {
		return nil, err
	}
	return r, nil
}

// refuseUnkeyed reports whether unkeyed events are refused: with keys,
// unless AcceptUnkeyedHistory.
func (s *Service) refuseUnkeyed() bool {
	return len(s.cfg.HistoryKeys) > 0 && !s.cfg.AcceptUnkeyedHistory
}
