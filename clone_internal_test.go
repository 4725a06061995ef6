package cancellation

import (
	"bytes"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/ports"
)

// TestClone_CopiesChangeIndependently: a copy shares what is never changed
// once recorded (sealed events, Reached until it changes, effects'
// notifications, events and identifiers); a change to either copy (a new
// event, sealed, a move to another state, an effect delivered and a
// receipt attached) leaves the other's stored form and history as they
// were.
func TestClone_CopiesChangeIndependently(t *testing.T) {
	t.Parallel()
	key := &HistoryKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	actor := Actor{Kind: ActorCustomer, ID: "acct-clone"}
	fresh := func() *Request {
		r := &Request{d: requestData{ID: "can_clone", Account: "acct-clone", State: StateStarted, Version: 1, CreatedAt: at, UpdatedAt: at}}
		r.record(at, actor, EventStarted, map[string]string{"k": "v"})
		r.record(at, actor, EventConsented, nil)
		r.seal(key, 1)
		r.d.History = slices.Grow(r.d.History, 8) // room to append in place
		return r
	}
	change := func(t *testing.T, r *Request) {
		t.Helper()
		if err := r.move("confirm", StateConfirmed, at.Add(time.Minute), actor, EventConfirmed, nil); err != nil {
			t.Fatal(err)
		}
		r.seal(key, r.d.Version+1)
	}
	snapshot := func(t *testing.T, r *Request) ([]byte, []Event) {
		t.Helper()
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b, r.History()
	}
	for _, which := range []string{"copy", "original"} {
		t.Run("changing the "+which, func(t *testing.T) {
			t.Parallel()
			r := fresh()
			c := r.Clone()
			changed, kept := c, r
			if which == "original" {
				changed, kept = r, c
			}
			wantBytes, wantHistory := snapshot(t, kept)
			change(t, changed)
			changed.record(at, actor, EventConsented, nil) // lands in the array of the first
			changed.seal(key, changed.d.Version+1)
			gotBytes, gotHistory := snapshot(t, kept)
			if !bytes.Equal(gotBytes, wantBytes) {
				t.Errorf("the other copy's stored form changed:\n got %s\nwant %s", gotBytes, wantBytes)
			}
			if len(gotHistory) != len(wantHistory) || gotHistory[len(gotHistory)-1].Hash != wantHistory[len(wantHistory)-1].Hash {
				t.Errorf("the other copy's history changed: %d events, want %d", len(gotHistory), len(wantHistory))
			}
			if _, ok := kept.d.Reached[StateConfirmed]; ok {
				t.Error("the other copy reached the changed copy's state")
			}
			if err := VerifyHistory(changed.History(), *key); err != nil {
				t.Errorf("the changed copy's history: %v", err)
			}
		})
	}
	t.Run("changing both", func(t *testing.T) {
		t.Parallel()
		r := fresh()
		c := r.Clone()
		change(t, r)
		_, want := snapshot(t, r)
		c.record(at, actor, EventWithdrawn, nil)
		c.seal(key, 2)
		if _, got := snapshot(t, r); got[len(got)-1].Type != want[len(want)-1].Type || got[len(got)-1].Hash != want[len(want)-1].Hash {
			t.Errorf("the copy's new event overwrote the original's: %s", got[len(got)-1].Type)
		}
		if err := VerifyHistory(r.History(), *key); err != nil {
			t.Errorf("the original's history: %v", err)
		}
	})
	// Effects share their notification, event and identifiers: changing
	// them in either copy (a delivery dropping the address and the
	// event's data, the receipt attached) replaces them there only.
	withEffects := func() *Request {
		r := fresh()
		r.owns = ownsEffects                     // as if it had changed them: Clone must share them
		attach := make([]ports.Attachment, 1, 4) // room to append in place
		attach[0] = ports.Attachment{Filename: "a.txt"}
		r.d.Effects = []Effect{
			{Key: "n", Kind: EffectNotify, Notification: &ports.Notification{To: "x@example.com", Template: "t", Data: map[string]string{"k": "v"}, Attachments: attach}},
			{Key: "e", Kind: EffectPublishEvent, Event: &ports.CloudEvent{ID: "e", Data: []byte(`{"a":1}`)}},
			{Key: "i", Kind: EffectKeepIdentifiers, Identifiers: []IdentifierHash{{Hash: "h"}}},
		}
		return r
	}
	// deliver changes the effects as the library does: through effect,
	// which makes them the request's own first.
	deliver := func(r *Request, file string) {
		for _, key := range []string{"n", "e", "i"} {
			dropDeliveredData(r.effect(key))
		}
		n := r.effect("n")
		n.withNotification(func(n *ports.Notification) {
			n.Attachments = append(n.Attachments, ports.Attachment{Filename: file})
		})
		n.Attempts++
		r.addEffect(Effect{Key: "added-" + file, Kind: EffectNotify}, "", time.Time{})
	}
	for _, which := range []string{"copy", "original"} {
		t.Run("changing the effects of the "+which, func(t *testing.T) {
			t.Parallel()
			r := withEffects()
			c := r.Clone()
			changed, kept := c, r
			if which == "original" {
				changed, kept = r, c
			}
			want, _ := snapshot(t, kept)
			deliver(changed, "receipt.jws")
			if got, _ := snapshot(t, kept); !bytes.Equal(got, want) {
				t.Errorf("the other copy's effects changed:\n got %s\nwant %s", got, want)
			}
			n := changed.d.Effects[0].Notification
			if n.To != "" || len(n.Attachments) != 2 || changed.d.Effects[1].Event.Data != nil || changed.d.Effects[0].Attempts != 1 || len(changed.d.Effects) != 4 {
				t.Errorf("the changed copy's effects did not change: %+v", changed.d.Effects)
			}
		})
	}
	t.Run("changing the effects of what was stored", func(t *testing.T) {
		t.Parallel()
		r := withEffects()
		stored := r.AsStored() // what a Store keeps, sharing the effects
		want, _ := snapshot(t, stored)
		deliver(r, "receipt.jws")
		if got, _ := snapshot(t, stored); !bytes.Equal(got, want) {
			t.Errorf("the stored copy's effects changed:\n got %s\nwant %s", got, want)
		}
	})
	t.Run("attaching to both", func(t *testing.T) {
		t.Parallel()
		r := withEffects()
		c := r.Clone()
		deliver(r, "r.jws")
		deliver(c, "c.jws")
		if got := r.d.Effects[0].Notification.Attachments[1].Filename; got != "r.jws" {
			t.Errorf("the copy's attachment overwrote the original's: %s", got)
		}
		if got := r.d.Effects[3].Key; got != "added-r.jws" {
			t.Errorf("the copy's new effect overwrote the original's: %s", got)
		}
	})
	t.Run("consenting in the copy", func(t *testing.T) {
		t.Parallel()
		r := fresh()
		r.d.State = StateConfirmed
		r.d.Consents = make([]Consent, 1, 4) // room to change in place
		r.d.Consents[0] = Consent{Rule: "vouchers", Fingerprint: "f1"}
		c := r.Clone()
		rep := Report{Outcome: OutcomeNeedsConsent, Findings: []Finding{
			{Rule: "vouchers", Outcome: OutcomeNeedsConsent, Fingerprint: "f2"},
			{Rule: "top-ups", Outcome: OutcomeNeedsConsent, Fingerprint: "f3"},
		}}
		if err := c.consent(at, []Consent{{Rule: "vouchers", Fingerprint: "f2"}, {Rule: "top-ups", Fingerprint: "f3"}}, rep); err != nil {
			t.Fatal(err)
		}
		if got := r.Consents(); len(got) != 1 || got[0].Fingerprint != "f1" {
			t.Errorf("the copy's consent changed the original's: %+v", got)
		}
	})
	t.Run("unsealed events are copied", func(t *testing.T) {
		t.Parallel()
		r := fresh()
		r.record(at, actor, EventConsented, nil) // not sealed yet
		c := r.Clone()
		r.seal(key, 2)
		if got := c.d.History[len(c.d.History)-1]; got.Hash != "" {
			t.Errorf("sealing the original sealed the copy's event %d too", got.Seq)
		}
	})
}

// TestRecord_MakesTextValidUTF8: an event's actor id, data keys and values
// are made valid UTF-8 when recorded (JSON would replace the bad bytes
// when stored, and the hash must survive that), and valid text is kept.
func TestRecord_MakesTextValidUTF8(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	r := &Request{d: requestData{ID: "can_utf8", Account: "acct-utf8", State: StateStarted, Version: 1, CreatedAt: at, UpdatedAt: at}}
	r.record(at, Actor{Kind: ActorCustomer, ID: "acct\xff"}, EventStarted, map[string]string{
		"ok": "fine é", "bad-value": "x\xc3", "bad\xffkey": "v",
	})
	e := r.d.History[0]
	want := map[string]string{"ok": "fine é", "bad-value": "x\uFFFD", "bad\uFFFDkey": "v"}
	if e.Actor.ID != "acct\uFFFD" || len(e.Data) != len(want) {
		t.Fatalf("recorded actor %q data %q", e.Actor.ID, e.Data)
	}
	for k, v := range want {
		if e.Data[k] != v {
			t.Errorf("data[%q] = %q, want %q", k, e.Data[k], v)
		}
	}
}

// TestKeepEligibility_SharesFindingsThatDidNotChange: a report whose
// findings are the ones the request holds keeps those (no copy); one
// whose findings differ in anything, items and remedies included, is
// copied, never kept as given.
func TestKeepEligibility_SharesFindingsThatDidNotChange(t *testing.T) {
	held := []Finding{
		{Rule: "orders", Outcome: OutcomePass, Fingerprint: "f1"},
		{Rule: "vouchers", Outcome: OutcomeNeedsConsent, Items: []Item{{Kind: "voucher", Ref: "v-1"}}, Remedy: &Remedy{Action: "use it"}, Fingerprint: "f2"},
	}
	r := &Request{}
	r.d.Eligibility = Report{Findings: held}
	same := func() []Finding {
		return []Finding{
			{Rule: "orders", Outcome: OutcomePass, Fingerprint: "f1"},
			{Rule: "vouchers", Outcome: OutcomeNeedsConsent, Items: []Item{{Kind: "voucher", Ref: "v-1"}}, Remedy: &Remedy{Action: "use it"}, Fingerprint: "f2"},
		}
	}
	r.keepEligibility(Report{Outcome: OutcomeNeedsConsent, Findings: same()})
	require.Same(t, &held[0], &r.d.Eligibility.Findings[0], "the same findings are kept, not copied")
	require.Equal(t, OutcomeNeedsConsent, r.d.Eligibility.Outcome, "the rest of the report is the new one")

	for name, change := range map[string]func([]Finding){
		"outcome": func(fs []Finding) { fs[0].Outcome = OutcomeBlocked },
		"item":    func(fs []Finding) { fs[1].Items[0].Ref = "v-2" },
		"remedy":  func(fs []Finding) { fs[1].Remedy.Where = "billing" },
		"count":   func(fs []Finding) {},
	} {
		given := same()
		change(given)
		if name == "count" {
			given = given[:1]
		}
		r.d.Eligibility = Report{Findings: held}
		r.keepEligibility(Report{Findings: given})
		require.NotSame(t, &held[0], &r.d.Eligibility.Findings[0], name)
		require.NotSame(t, &given[0], &r.d.Eligibility.Findings[0], "%s: the report's buffer is not kept", name)
		require.Equal(t, given, r.d.Eligibility.Findings, name)
	}
}

// TestEffectsOfCancelled_CountsWhatCancelledAdds: the room recording a
// close's success reserves is at least what cancelled adds, with and
// without identifiers to keep and documents to purge.
func TestEffectsOfCancelled_CountsWhatCancelledAdds(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		identifiers bool
		documents   bool
	}{{"bare", false, false}, {"identifiers", true, false}, {"documents", false, true}, {"both", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &Request{d: requestData{ID: "can_cancelled", Account: "acct-cancelled", State: StateApproved, Version: 3, CreatedAt: at, UpdatedAt: at}}
			r.record(at, systemActor, EventApproved, nil)
			ec := effectCtx{now: at, owner: "me", lease: at.Add(time.Minute),
				to:   contacts{phone: "+15550100001", email: "c@example.com", locale: "en"},
				acct: ports.Account{ID: "acct-cancelled", RecoveryPhone: "+15550100001", Email: "c@example.com"}}
			if tc.identifiers {
				ec.identifierKeys = []IdentifierKey{{ID: "ik1", Secret: bytes.Repeat([]byte{3}, 32)}}
				ec.identifiersUntil = at.Add(24 * time.Hour)
			}
			if tc.documents {
				r.d.Documents = []Document{{Key: "doc-1"}}
			}
			want := r.effectsOfCancelled(ec)
			before := len(r.d.Effects)
			require.NoError(t, r.cancelled(ec))
			added := len(r.d.Effects) - before
			require.LessOrEqual(t, added, want)
			require.Equal(t, 2+btoi(tc.identifiers)+btoi(tc.documents), added, "cancelled adds one effect per channel, identifiers and purge")
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// roomyRequest returns a started request with one sealed event and room
// for n more in its history's array, with the key, time and actor of that
// event.
func roomyRequest(n int) (*HistoryKey, time.Time, Actor, *Request) {
	key := &HistoryKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	actor := Actor{Kind: ActorCustomer, ID: "acct-handover"}
	r := &Request{d: requestData{ID: "can_handover", Account: "acct-handover", State: StateStarted, Version: 1, CreatedAt: at, UpdatedAt: at}}
	r.record(at, actor, EventStarted, map[string]string{"k": "v"})
	r.seal(key, 1)
	r.reserveEvents(n)
	return key, at, actor, r
}

// TestHandOver_CopyRecordsInTheRoomTheOriginalKeeps: a copy handed over
// records its events in the room past the original's history, without
// copying the history, while the original keeps its events, its stored
// form and a valid chain; the original's next event, and a second copy
// handed over, go to arrays of their own and overwrite nothing.
func TestHandOver_CopyRecordsInTheRoomTheOriginalKeeps(t *testing.T) {
	t.Parallel()
	key, at, actor, r := roomyRequest(4)
	wantBytes, err := r.MarshalBinary()
	require.NoError(t, err)
	wantHistory := r.History()

	c := r.handOver()
	require.NoError(t, c.move("confirm", StateConfirmed, at.Add(time.Minute), actor, EventConfirmed, nil))
	c.record(at.Add(time.Minute), actor, EventConsented, nil)
	c.seal(key, 2)
	require.Same(t, &r.d.History[0], &c.d.History[0], "the copy handed over records in the original's array")
	require.NoError(t, VerifyHistory(c.History(), *key))

	second := r.handOver() // the room is the first copy's now
	second.record(at.Add(2*time.Minute), actor, EventWithdrawn, nil)
	second.seal(key, 2)
	require.NotSame(t, &second.d.History[0], &c.d.History[0], "a second copy took the room of the first")
	gotBytes, err := r.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, string(wantBytes), string(gotBytes), "the original's stored form changed")
	require.Equal(t, wantHistory, r.History())

	r.record(at.Add(3*time.Minute), actor, EventCodeSent, nil) // the original's own next event
	require.NotSame(t, &r.d.History[0], &c.d.History[0], "the original's event went to the copy's room")
	got := c.History()
	require.Len(t, got, 3)
	require.Equal(t, []EventType{EventStarted, EventConfirmed, EventConsented}, []EventType{got[0].Type, got[1].Type, got[2].Type})
	require.NoError(t, VerifyHistory(got, *key), "the copy's events were overwritten")
	require.Equal(t, EventWithdrawn, second.History()[1].Type)
}

// TestHandOver_OneCopyTakesTheRoom: copies handed over from one request at
// once (as Clone, copies may be made concurrently) record without
// overwriting each other: one takes the room, the others copy.
func TestHandOver_OneCopyTakesTheRoom(t *testing.T) {
	t.Parallel()
	key, at, actor, r := roomyRequest(8)
	const copies = 8
	out := make([]*Request, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			c := r.handOver()
			c.record(at, actor, EventCodeSent, map[string]string{"copy": strconv.Itoa(i)})
			c.seal(key, 2)
			out[i] = c
		})
	}
	wg.Wait()
	inRoom := 0
	for i, c := range out {
		h := c.History()
		require.Len(t, h, 2)
		require.Equal(t, strconv.Itoa(i), h[1].Data["copy"], "copy %d holds another's event", i)
		require.NoError(t, VerifyHistory(h, *key))
		if &c.d.History[0] == &r.d.History[0] {
			inRoom++
		}
	}
	require.Equal(t, 1, inRoom, "copies recording in the original's room")
}

// TestApplyResults_RoomForTheRoundsEvents: recording a close's success
// makes room, in one copy of the history, for the events it records and
// for the outcomes of the notifications it adds, which the next round
// records; so the next round records in place (see handOver).
func TestApplyResults_RoomForTheRoundsEvents(t *testing.T) {
	t.Parallel()
	key := &HistoryKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	r := &Request{d: requestData{ID: "can_room", Account: "acct-room", State: StateApproved, Version: 6, CreatedAt: at, UpdatedAt: at}}
	r.record(at, systemActor, EventApproved, nil)
	r.seal(key, 6)
	r.d.History = slices.Clip(r.d.History)
	ec := effectCtx{now: at, owner: "me", lease: at.Add(time.Minute),
		to: contacts{phone: "+15550100001", email: "c@example.com", locale: "en"}}
	r.notify(TemplateReviewApproved, nil, ec.to, ec.to.resultChannel(), ec.owner, ec.lease)
	r.addEffect(Effect{Key: r.d.ID + "/close_account", Kind: EffectCloseAccount}, ec.owner, ec.lease)
	results := map[string]error{}
	for _, e := range r.d.Effects {
		results[e.Key] = nil
	}
	s := &Service{}
	require.NoError(t, s.applyResults(t.Context(), r, ec, results))
	require.Equal(t, StateCancelled, r.d.State)
	require.Len(t, r.d.History, 1+2+1, "approved, two outcomes, cancelled")
	added := 0
	for _, e := range r.d.Effects {
		if e.open() {
			added++
		}
	}
	require.Equal(t, 2, added, "the success notices")
	require.GreaterOrEqual(t, cap(r.d.History)-len(r.d.History), added, "room for the notices' outcomes")
}
