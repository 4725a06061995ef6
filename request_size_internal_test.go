package cancellation

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/accountkit/cancellation/ports"
)

// TestRequestSize: a Request fits Go's 640-byte size class. A whole flow
// copies its request about ten times (newRequest, Clone, handOver,
// AsStored), each copy a heap object of the Request's size class: past
// it, each takes 704 bytes or more, garbage every flow makes. The runtime
// puts an 8-byte header before a heap object with pointers larger than
// 512 bytes, so the Request itself has 632 bytes. Keep what is large and
// seldom changed behind a pointer the copies share (as OTP is, see
// ownOTP) rather than grow the struct.
func TestRequestSize(t *testing.T) {
	t.Parallel()
	const sizeClass, mallocHeader = 640, 8
	if n := unsafe.Sizeof(Request{}); n+mallocHeader > sizeClass {
		t.Fatalf("a Request is %d bytes, %d with the runtime's header: more than the %d of its size class, so each of the ten or so copies a whole flow makes takes a larger one", n, n+mallocHeader, sizeClass)
	}
}

// TestUnmarshalBinary_RefusesAHeadPastInt32: a stored head whose
// sequence number does not fit the int32 that Request keeps of it
// (stored, sealed) is corrupt, not truncated.
func TestUnmarshalBinary_RefusesAHeadPastInt32(t *testing.T) {
	t.Parallel()
	raw := approvedDoc(t)
	var r Request
	for _, seq := range []string{"2147483647", "2147483648", "4294967307"} {
		doc := bytes.Replace(raw, []byte(`"head":{"seq":11,`), []byte(`"head":{"seq":`+seq+`,`), 1)
		if bytes.Equal(doc, raw) {
			t.Fatal("the document has no head to change")
		}
		err := r.UnmarshalBinary(doc)
		if seq == "2147483647" {
			if err != nil {
				t.Fatalf("seq %s: %v", seq, err)
			}
			if r.HistoryLen() != 2147483647 || len(r.NewEvents()) != 0 {
				t.Fatalf("seq %s: history length %d, %d new events", seq, r.HistoryLen(), len(r.NewEvents()))
			}
			continue
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("seq %s: %v, want ErrCorrupt", seq, err)
		}
	}
}

// TestOTP_CopiesShareItUntilOneChangesIt: copies of a request (Clone,
// AsStoredInto) share its one-time code's state, and every change to it
// (a code issued, sent by a managed service or not delivered, a wrong
// code, a match, a lock, a check reserved or answered, the daily count
// rolled over, limits inherited, the code dropped by a final move) goes
// to the changed copy's own: the other's state and stored form stay as
// they were, whichever of the two changes.
func TestOTP_CopiesShareItUntilOneChangesIt(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 3, 23, 58, 0, 0, time.UTC)
	p := VerificationPolicy{Key: bytes.Repeat([]byte{3}, 32)}.withDefaults()
	key := &HistoryKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}
	actor := Actor{Kind: ActorCustomer, ID: "acct-otp"}
	// fresh is a stored request with a code pending: sent by the library
	// (hashed), or by a managed service with or without a check
	// reserved.
	type pending int
	const (
		hashed pending = iota
		managed
		reserved
	)
	fresh := func(t *testing.T, code pending) *Request {
		t.Helper()
		r := &Request{d: requestData{ID: "can_otp", Account: "acct-otp", State: StateConfirmed, Version: 2, CreatedAt: at, UpdatedAt: at}}
		r.record(at, actor, EventConfirmed, nil)
		var err error
		if code == hashed {
			err = r.issueCode(at, p, "123456")
		} else {
			err = r.startManaged(at, p)
		}
		if err == nil && code == reserved {
			_, _, err = r.reserveCheck(at, p)
		}
		if err != nil {
			t.Fatal(err)
		}
		r.seal(key, 2)
		r.markStored()
		return r
	}
	later := &Request{d: requestData{OTP: &otpState{LastSentAt: at.Add(time.Minute), LockedUntil: at.Add(time.Hour), Day: "2025-03-04", SentOnDay: 3}}}
	noCap := p
	noCap.DailyCap = 0 // so that allowSend refuses after rolling the day over
	atLimit := p
	atLimit.MaxAttempts = 1
	cases := []struct {
		name   string
		code   pending
		change func(r *Request) error
	}{
		{"a code issued", hashed, func(r *Request) error { return r.issueCode(at.Add(time.Minute), p, "654321") }},
		{"a code issued the next day", hashed, func(r *Request) error { return r.issueCode(at.Add(3*time.Minute), p, "654321") }},
		{"a wrong code", hashed, func(r *Request) error { return ignoreCodeError(r.verifyCode(at.Add(time.Second), p, "000000")) }},
		{"the right code", hashed, func(r *Request) error { return ignoreCodeError(r.verifyCode(at.Add(time.Second), p, "123456")) }},
		{"a wrong code at the limit", hashed, func(r *Request) error {
			return ignoreCodeError(r.verifyCode(at.Add(time.Second), atLimit, "000000"))
		}},
		{"the day rolled over", hashed, func(r *Request) error { return r.allowSend(at.Add(3*time.Minute), p) }},
		{"the day rolled over, then a send refused", hashed, func(r *Request) error {
			if err := r.allowSend(at.Add(3*time.Minute), noCap); !errors.Is(err, ErrRateLimited) {
				return errors.Join(errors.New("allowSend did not refuse"), err)
			}
			return nil
		}},
		{"a code not delivered", hashed, func(r *Request) error { return r.codeUndelivered(at.Add(time.Second), 1, errors.New("sms down")) }},
		{"a final move", hashed, func(r *Request) error {
			return r.move("withdraw", StateWithdrawn, at.Add(time.Second), actor, EventWithdrawn, nil)
		}},
		{"limits inherited", hashed, func(r *Request) error { r.inheritCodeLimits([]*Request{later}); return nil }},
		{"a managed code started", managed, func(r *Request) error { return r.startManaged(at.Add(time.Minute), p) }},
		{"a managed code started the next day", managed, func(r *Request) error { return r.startManaged(at.Add(3*time.Minute), p) }},
		{"a managed code not delivered", managed, func(r *Request) error { return r.codeUndelivered(at.Add(time.Second), 1, errors.New("service down")) }},
		{"a managed check reserved", managed, func(r *Request) error { _, _, err := r.reserveCheck(at.Add(time.Second), p); return err }},
		{"a managed check approved", reserved, func(r *Request) error {
			return ignoreCodeError(r.managedOutcome(at.Add(time.Second), p, 1, ports.VerificationApproved, nil))
		}},
		{"a managed check denied at the limit", reserved, func(r *Request) error {
			return ignoreCodeError(r.managedOutcome(at.Add(time.Second), atLimit, 1, ports.VerificationDenied, nil))
		}},
		{"a managed code expired at the service", reserved, func(r *Request) error {
			return ignoreCodeError(r.managedOutcome(at.Add(time.Second), p, 1, ports.VerificationExpired, nil))
		}},
		{"a managed check that failed", reserved, func(r *Request) error {
			if _, err := r.managedOutcome(at.Add(time.Second), p, 1, "", errors.New("service down")); err == nil {
				return errors.New("managedOutcome did not pass on the failure")
			}
			return nil
		}},
	}
	copies := []struct {
		name string
		copy func(r *Request) *Request
	}{
		{"Clone", (*Request).Clone},
		{"AsStoredInto", func(r *Request) *Request {
			dst := &Request{d: requestData{OTP: &otpState{Serial: 99}}} // a version it replaces
			r.AsStoredInto(dst)
			return dst
		}},
	}
	for _, cp := range copies {
		for _, which := range []string{"copy", "original"} {
			for _, c := range cases {
				t.Run(cp.name+"/changing the "+which+"/"+c.name, func(t *testing.T) {
					t.Parallel()
					r := fresh(t, c.code)
					dup := cp.copy(r)
					changed, kept := dup, r
					if which == "original" {
						changed, kept = r, dup
					}
					before := *changed.otp()
					wantOTP := *kept.otp()
					wantBytes, err := kept.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					if err := c.change(changed); err != nil {
						t.Fatal(err)
					}
					if *changed.otp() == before {
						t.Fatal("the change left the code's state as it was: the case tests nothing")
					}
					if got := *kept.otp(); got != wantOTP {
						t.Errorf("the other copy's code state changed:\n got %+v\nwant %+v", got, wantOTP)
					}
					if got, err := kept.MarshalBinary(); err != nil || !bytes.Equal(got, wantBytes) {
						t.Errorf("the other copy's stored form changed (%v):\n got %s\nwant %s", err, got, wantBytes)
					}
				})
			}
		}
	}
}

// ignoreCodeError drops the CodeError (and the changed flag) that a
// counted wrong or burnt code returns with its change.
func ignoreCodeError(_ bool, err error) error {
	if _, ok := errors.AsType[*CodeError](err); ok {
		return nil
	}
	return err
}

// TestOTP_NoneIsStoredAsTheZeroState: a request with no code state (a new
// request, or a document with "otp" null or missing) is stored with the
// zero state, as before the state was shared by pointer, and reads as it.
func TestOTP_NoneIsStoredAsTheZeroState(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	r := newRequest("can_none", ports.Account{ID: "acct-none"}, at, Report{}, time.Hour, Actor{Kind: ActorCustomer, ID: "acct-none"}, nil)
	r.seal(nil, 1)
	const zero = `"otp":{"serial":0,"attempts":0,"sent_on_day":0}`
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(zero)) {
		t.Fatalf("a new request is stored without %s:\n%s", zero, b)
	}
	if a, err := r.AppendBinary(nil); err != nil || !bytes.Equal(a, b) {
		t.Fatalf("AppendBinary (%v) gave\n%s\nwant\n%s", err, a, b)
	}
	for _, doc := range [][]byte{
		bytes.Replace(b, []byte(zero), []byte(`"otp":null`), 1),
		bytes.Replace(b, []byte(zero+","), nil, 1),
	} {
		var back Request
		if err := back.UnmarshalBinary(doc); err != nil {
			t.Fatal(err)
		}
		if *back.otp() != (otpState{}) || !back.CodeExpiresAt().IsZero() {
			t.Fatalf("decoding %s gave code state %+v", doc, *back.otp())
		}
		if again, err := back.MarshalBinary(); err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoding and encoding again (%v) gave\n%s\nwant\n%s", err, again, b)
		}
	}
}
