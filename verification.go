package cancellation

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// VerificationPolicy governs the one-time code sent to the recovery phone
// (seed step 3). Zero fields take the defaults.
type VerificationPolicy struct {
	// Key keys the HMAC-SHA256 under which codes are stored; the code
	// itself is never stored. All replicas of a platform must share it.
	// When empty, the Service draws a random key at start-up and logs a
	// warning: that suits a single process only, since a code sent by one
	// instance then reads as expired on another (never as a wrong guess).
	Key []byte
	// CodeLength is the number of decimal digits (default 6, 6 to 10).
	CodeLength int
	// TTL is how long a code stays valid (default 5 minutes).
	TTL time.Duration
	// MaxAttempts is how many wrong codes are allowed before the code is
	// burnt and verification locks (default 5).
	MaxAttempts int
	// LockFor is how long verification stays locked (default 30 minutes).
	LockFor time.Duration
	// ResendCooldown is the minimum time between two codes (default 60 s).
	ResendCooldown time.Duration
	// DailyCap is the most codes sent (a failed send counts) for one
	// account in a UTC day (default 10).
	DailyCap int
}

func (p VerificationPolicy) withDefaults() VerificationPolicy {
	if p.CodeLength < 6 || p.CodeLength > 10 {
		p.CodeLength = 6
	}
	if p.TTL <= 0 {
		p.TTL = 5 * time.Minute
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.LockFor <= 0 {
		p.LockFor = 30 * time.Minute
	}
	if p.ResendCooldown <= 0 {
		p.ResendCooldown = time.Minute
	}
	if p.DailyCap <= 0 {
		p.DailyCap = 10
	}
	return p
}

// CodeSent tells the customer where a code went and when they may ask for
// another. The phone is masked.
type CodeSent struct {
	MaskedPhone string    `json:"masked_phone"`
	ExpiresAt   time.Time `json:"expires_at"`
	ResendAt    time.Time `json:"resend_at"`
}

// MaskPhone hides all but the country prefix and the last four digits of a
// phone number: "+4915112345678" becomes "+49*******5678". Short or
// malformed input is masked entirely.
func MaskPhone(phone string) string {
	digits := strings.TrimPrefix(phone, "+")
	if len(digits) < 8 {
		return strings.Repeat("*", len(phone))
	}
	prefix := ""
	if strings.HasPrefix(phone, "+") {
		prefix = "+" + digits[:2]
		digits = digits[2:]
	}
	return prefix + strings.Repeat("*", len(digits)-4) + digits[len(digits)-4:]
}

// newCode draws a uniformly random code of length decimal digits (at
// most 19) from crypto/rand: a 64-bit draw, redrawn while at or past the
// largest multiple of 10^length that fits, so that every code is equally
// likely, then taken modulo 10^length.
func newCode(length int) string {
	mod := uint64(1)
	for range length {
		mod *= 10
	}
	limit := math.MaxUint64 / mod * mod
	var b [8]byte
	for {
		rand.Read(b[:]) // never fails (see crypto/rand.Read)
		if n := binary.LittleEndian.Uint64(b[:]); n < limit {
			var digits [20]byte
			code := strconv.AppendUint(digits[:0], n%mod, 10)
			return strings.Repeat("0", length-len(code)) + string(code)
		}
	}
}

// hashCode keys the code to the request and its serial number, so a hash
// leaked from one request or code is useless for another.
func hashCode(key []byte, requestID string, serial int, code string) string {
	var stack [128]byte
	b := append(stack[:0], requestID...)
	b = append(strconv.AppendInt(append(b, 0), int64(serial), 10), 0)
	return hmacHex(key, append(b, code...))
}

// keyID names a code key without revealing it, so a code hashed under
// another key (another replica's random key, a rotated key) is recognised
// as such instead of being counted as a wrong guess.
func keyID(key []byte) string {
	return hmacHex(key, []byte("cancellation one-time code key id"))[:12]
}

// issueCode records a new code's hash after checking lock, cooldown and
// daily cap. It does not change state.
func (r *Request) issueCode(now time.Time, p VerificationPolicy, code string) error {
	if err := r.allowSend(now, p); err != nil {
		return err
	}
	o := r.ownOTP()
	o.Serial++
	o.Hash = hashCode(p.Key, r.d.ID, o.Serial, code)
	o.KeyID = keyID(p.Key)
	o.ExpiresAt = now.Add(p.TTL)
	o.Attempts = 0
	o.LastSentAt = now
	o.SentOnDay++
	r.record(now, Actor{Kind: ActorCustomer, ID: string(r.d.Account)}, EventCodeSent,
		map[string]string{"serial": fmt.Sprint(o.Serial), "expires_at": o.ExpiresAt.UTC().Format(time.RFC3339)})
	return nil
}

// allowSend checks the lock, the resend cooldown and the daily cap before
// a code is sent, by the OTPSender or by a managed verification service.
// It rolls the daily count over to the current UTC day.
func (r *Request) allowSend(now time.Time, p VerificationPolicy) error {
	if r.d.State != StateConfirmed {
		return r.refuse("send a code for", StatePhoneVerified, "a code is sent after confirmation and before the phone is verified")
	}
	o := r.otp()
	if now.Before(o.LockedUntil) {
		return &CodeError{Err: ErrCodeLocked, RetryAt: o.LockedUntil}
	}
	if !o.LastSentAt.IsZero() && now.Before(o.LastSentAt.Add(p.ResendCooldown)) {
		return &CodeError{Err: ErrRateLimited, RetryAt: o.LastSentAt.Add(p.ResendCooldown)}
	}
	day := now.UTC().Format(time.DateOnly)
	if o.Day != day {
		// Rolled over even when the send is refused below.
		o = r.ownOTP()
		o.Day, o.SentOnDay = day, 0
	}
	if o.SentOnDay >= p.DailyCap {
		next, _ := time.Parse(time.DateOnly, day)
		return &CodeError{Err: ErrRateLimited, RetryAt: next.AddDate(0, 0, 1)}
	}
	return nil
}

// verifyCode compares code with the pending hash in constant time. A match
// moves the request to phone_verified; a miss counts an attempt and, at the
// limit, burns the code and locks verification. The returned error is
// meant for the caller even when the request changed (a counted miss must
// be stored).
func (r *Request) verifyCode(now time.Time, p VerificationPolicy, code string) (changed bool, err error) {
	if r.d.State != StateConfirmed {
		return false, r.refuse("verify the phone of", StatePhoneVerified, "the phone is verified after confirmation")
	}
	o := r.otp()
	if now.Before(o.LockedUntil) {
		return false, &CodeError{Err: ErrCodeLocked, RetryAt: o.LockedUntil}
	}
	if o.Hash == "" || !now.Before(o.ExpiresAt) || o.KeyID != keyID(p.Key) {
		return false, &CodeError{Err: ErrCodeExpired}
	}
	o = r.ownOTP() // a match and a miss both change it
	actor := Actor{Kind: ActorCustomer, ID: string(r.d.Account)}
	want, _ := hex.DecodeString(o.Hash)
	got, _ := hex.DecodeString(hashCode(p.Key, r.d.ID, o.Serial, code))
	if subtle.ConstantTimeCompare(want, got) == 1 {
		*o = otpState{Serial: o.Serial, Day: o.Day, SentOnDay: o.SentOnDay, LastSentAt: o.LastSentAt}
		return true, r.move("verify the phone of", StatePhoneVerified, now, actor, EventPhoneVerified, nil)
	}
	o.Attempts++
	left := p.MaxAttempts - o.Attempts
	if left <= 0 {
		o.Hash, o.ExpiresAt = "", time.Time{}
		o.LockedUntil = now.Add(p.LockFor)
		r.record(now, actor, EventCodeLocked, map[string]string{"locked_until": o.LockedUntil.UTC().Format(time.RFC3339)})
		return true, &CodeError{Err: ErrCodeLocked, RetryAt: o.LockedUntil}
	}
	r.record(now, actor, EventCodeFailed, map[string]string{"attempts_left": fmt.Sprint(left)})
	return true, &CodeError{Err: ErrCodeMismatch, AttemptsLeft: left}
}

// inheritCodeLimits carries the code limits of the account's earlier
// requests into a new one: the latest send (cooldown), the count of the day
// (daily cap) and any lock, so that starting again resets none of them.
func (r *Request) inheritCodeLimits(earlier []*Request) {
	if len(earlier) == 0 {
		return
	}
	o := r.ownOTP()
	for _, e := range earlier {
		p := e.otp()
		if p.LastSentAt.After(o.LastSentAt) {
			o.LastSentAt = p.LastSentAt
		}
		if p.LockedUntil.After(o.LockedUntil) {
			o.LockedUntil = p.LockedUntil
		}
		// Each request's count already includes what it inherited, so
		// the latest day's largest count is the account's.
		switch {
		case p.Day > o.Day:
			o.Day, o.SentOnDay = p.Day, p.SentOnDay
		case p.Day == o.Day:
			o.SentOnDay = max(o.SentOnDay, p.SentOnDay)
		}
	}
}
