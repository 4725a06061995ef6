package cancellation

import (
	"time"
	"unicode/utf8"
)

// maxDeliveryErrorLen bounds the text of a sender's error that the history
// keeps, so that a port cannot grow a request's history with long errors.
const maxDeliveryErrorLen = 200

// codeUndelivered withdraws the code of the given serial after the
// OTPSender failed to send it. The attempt keeps counting toward the
// cooldown and the daily cap: a sender may fail after the SMS went out, so
// a failed send must cost what a successful one costs, or a caller could
// send codes past every limit. Hence at most one failure is recorded per
// send the limits allowed, and the history grows no faster from failures
// than from codes sent. A code already withdrawn or replaced changes
// nothing.
func (r *Request) codeUndelivered(now time.Time, serial int, cause error) error {
	o := r.otp()
	if o.Serial != serial || o.Hash == "" && !o.Managed {
		return errNoChange
	}
	o = r.ownOTP()
	o.Hash, o.Managed, o.ExpiresAt = "", false, time.Time{}
	r.record(now, systemActor, EventCodeFailed, map[string]string{"delivery": truncateUTF8(scrubContacts(cause.Error()), maxDeliveryErrorLen)})
	return nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
