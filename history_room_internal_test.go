package cancellation

import (
	"errors"
	"testing"
	"time"
)

// longRequest is a request in review holding n events, as one stored
// before the history cap may.
func longRequest(n int) *Request {
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	r := &Request{d: requestData{ID: "can_long", Account: "acct-long", State: StateInReview, Version: 1, CreatedAt: at, UpdatedAt: at}}
	for range n {
		r.record(at, Actor{Kind: ActorCustomer, ID: "acct-long"}, EventConsented, nil)
	}
	return r
}

// TestHistoryRoom_LegacyHistoryPastTheCapStillTakesStaffChanges: a request
// stored before the cap with more than MaxHistory events can still be
// decided, expire and close (staff and system changes), a bounded number
// of events at a time, while customer actions stay refused.
func TestHistoryRoom_LegacyHistoryPastTheCapStillTakesStaffChanges(t *testing.T) {
	t.Parallel()
	const before = MaxHistory + 44
	at := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	staff := Actor{Kind: ActorReviewer, ID: "rev"}

	r := longRequest(before)
	r.record(at, staff, EventApproved, nil)
	r.record(at, staff, EventEffectDone, nil)
	if err := r.historyRoom(true, before); err != nil {
		t.Fatalf("a staff change to a history stored before the cap was refused: %v", err)
	}
	if err := r.historyRoom(false, before); !errors.Is(err, ErrHistoryFull) {
		t.Fatalf("a customer change past the cap: got %v, want ErrHistoryFull", err)
	}

	r = longRequest(before)
	for range (MaxHistory - CustomerHistoryLimit) + 1 {
		r.record(at, staff, EventEffectDone, nil)
	}
	if err := r.historyRoom(true, before); !errors.Is(err, ErrHistoryFull) {
		t.Fatalf("a staff change of %d events past the cap: got %v, want ErrHistoryFull", (MaxHistory-CustomerHistoryLimit)+1, err)
	}
}
