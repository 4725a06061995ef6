package portstest

import (
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

// VerificationServiceUnderTest is what the constructor of
// [TestVerificationService] returns.
type VerificationServiceUnderTest struct {
	// Service is the implementation under test.
	Service ports.VerificationService
	// Code returns the last code the service sent to phone, as the person
	// holding the phone would read it (a test inbox of the provider, a
	// sandbox API), and false when none was sent. Must not be nil: a
	// verification cannot be approved without the code.
	Code func(phone string) (string, bool)
}

// TestVerificationService checks an implementation of
// [ports.VerificationService]: the code sent approves a check once, a
// wrong code is denied (not an error) and leaves the right one valid, a
// phone with nothing pending is expired, a start repeated with its
// IdempotencyKey sends no new code, a done context fails both calls, and
// concurrent verifications of different phones do not mix.
func TestVerificationService(t *testing.T, f Features, newService func(t *testing.T) VerificationServiceUnderTest) {
	t.Helper()
	// phone returns a number unique to the subtest and i, so a host may
	// back every constructor call with one shared sandbox.
	phone := func(t *testing.T, i int) string {
		return fmt.Sprintf("+1555%07d", (crc32.ChecksumIEEE([]byte(uniqueName(t, "")))+uint32(i))%10_000_000)
	}
	start := func(t *testing.T, u VerificationServiceUnderTest, ph, key string) string {
		t.Helper()
		require.NoError(t, u.Service.StartVerification(t.Context(), ports.VerificationStart{Phone: ph, Locale: "en", IdempotencyKey: key}))
		code, ok := u.Code(ph)
		require.True(t, ok, "no code reached %s", ph)
		require.NotEmpty(t, code)
		return code
	}
	check := func(t *testing.T, u VerificationServiceUnderTest, ph, code, key string) ports.VerificationOutcome {
		t.Helper()
		out, err := u.Service.CheckVerification(t.Context(), ports.VerificationCheck{Phone: ph, Code: code, IdempotencyKey: key})
		require.NoError(t, err)
		return out
	}
	wrong := func(code string) string {
		b := []byte(code)
		b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
		return string(b)
	}

	t.Run("Approved", func(t *testing.T) {
		u := newService(t)
		ph := phone(t, 0)
		code := start(t, u, ph, uniqueName(t, "s"))
		require.Equal(t, ports.VerificationApproved, check(t, u, ph, code, uniqueName(t, "c1")))
		require.NotEqual(t, ports.VerificationApproved, check(t, u, ph, code, uniqueName(t, "c2")), "an approved code is used up")
	})

	t.Run("WrongCodeDenied", func(t *testing.T) {
		u := newService(t)
		ph := phone(t, 1)
		code := start(t, u, ph, uniqueName(t, "s"))
		require.Equal(t, ports.VerificationDenied, check(t, u, ph, wrong(code), uniqueName(t, "c1")))
		require.Equal(t, ports.VerificationApproved, check(t, u, ph, code, uniqueName(t, "c2")), "a wrong guess leaves the code valid")
	})

	t.Run("NothingPendingExpired", func(t *testing.T) {
		u := newService(t)
		require.Equal(t, ports.VerificationExpired, check(t, u, phone(t, 2), "123456", uniqueName(t, "c")))
	})

	t.Run("RepeatedStartKeySendsNoNewCode", func(t *testing.T) {
		u := newService(t)
		ph := phone(t, 3)
		key := uniqueName(t, "s")
		code := start(t, u, ph, key)
		require.Equal(t, code, start(t, u, ph, key), "a retried start must not send another code")
		require.Equal(t, ports.VerificationApproved, check(t, u, ph, code, uniqueName(t, "c")))
	})

	t.Run("CancelledContext", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		u := newService(t)
		ph := phone(t, 4)
		require.Error(t, u.Service.StartVerification(cancelledContext(t), ports.VerificationStart{Phone: ph, IdempotencyKey: uniqueName(t, "s")}))
		_, err := u.Service.CheckVerification(cancelledContext(t), ports.VerificationCheck{Phone: ph, Code: "123456", IdempotencyKey: uniqueName(t, "c")})
		require.Error(t, err, "a check with a done context must fail, not report an outcome")
	})

	t.Run("Concurrent", func(t *testing.T) {
		u := newService(t)
		concurrently(t, func(g int) error {
			ph := phone(t, 100+g)
			if err := u.Service.StartVerification(t.Context(), ports.VerificationStart{Phone: ph, IdempotencyKey: uniqueName(t, fmt.Sprint("s", g))}); err != nil {
				return err
			}
			code, ok := u.Code(ph)
			if !ok {
				return fmt.Errorf("no code reached %s", ph)
			}
			out, err := u.Service.CheckVerification(t.Context(), ports.VerificationCheck{Phone: ph, Code: code, IdempotencyKey: uniqueName(t, fmt.Sprint("c", g))})
			if err != nil {
				return err
			}
			if out != ports.VerificationApproved {
				return fmt.Errorf("phone %s: %s, want approved", ph, out)
			}
			return nil
		})
	})
}
