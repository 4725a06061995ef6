package memory

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"math/big"
	"sync"

	"github.com/accountkit/cancellation/ports"
)

// Compile-time check.
var _ ports.VerificationService = (*Verifier)(nil)

// Verifier is an in-memory [ports.VerificationService]: it plays a managed
// SMS verification service that draws a code for each start, "sends" it
// to the phone (tests read it with LastCode, as a person reads their SMS)
// and checks it. For tests, examples and demos. Its limits: one pending
// code per phone, valid until approved or replaced by a later start (no
// expiry and no attempt limit of its own: the workflow applies its own);
// a start repeated with the same IdempotencyKey sends nothing new. The
// zero value is ready to use (6-digit codes) and all methods are safe for
// concurrent use.
type Verifier struct {
	// CodeLength is the number of digits of the codes (default 6); set
	// it before first use to the workflow's VerificationPolicy.CodeLength.
	CodeLength int

	mu      sync.Mutex
	pending map[string]string // phone -> pending code
	last    map[string]string // phone -> last code sent
	keys    map[string]bool   // start keys seen
	starts  int
	checks  int
	faults  faults
}

// NewVerifier returns a Verifier with 6-digit codes.
func NewVerifier() *Verifier { return &Verifier{} }

// StartVerification implements [ports.VerificationService]: it draws a
// code for v.Phone, unless v.IdempotencyKey was started before. It returns
// ctx.Err() if ctx is done, and the error armed by FailNext, without
// sending.
func (m *Verifier) StartVerification(ctx context.Context, v ports.VerificationStart) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.faults.take(); err != nil {
		return err
	}
	m.init()
	if m.keys[v.IdempotencyKey] {
		return nil
	}
	n := m.CodeLength
	if n <= 0 {
		n = 6
	}
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	x, err := rand.Int(rand.Reader, max)
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%0*s", n, x.String())
	m.keys[v.IdempotencyKey] = true
	m.pending[v.Phone], m.last[v.Phone] = code, code
	m.starts++
	return nil
}

// CheckVerification implements [ports.VerificationService]: approved
// (and used up) when c.Code is the pending code of c.Phone, denied when it
// is another, expired when none is pending. It returns ctx.Err() if ctx is
// done, and the error armed by FailNext.
func (m *Verifier) CheckVerification(ctx context.Context, c ports.VerificationCheck) (ports.VerificationOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.faults.take(); err != nil {
		return "", err
	}
	m.init()
	m.checks++
	want, ok := m.pending[c.Phone]
	switch {
	case !ok:
		return ports.VerificationExpired, nil
	case subtle.ConstantTimeCompare([]byte(want), []byte(c.Code)) == 1:
		delete(m.pending, c.Phone)
		return ports.VerificationApproved, nil
	}
	return ports.VerificationDenied, nil
}

func (m *Verifier) init() {
	if m.pending == nil {
		m.pending, m.last, m.keys = map[string]string{}, map[string]string{}, map[string]bool{}
	}
}

// LastCode returns the last code sent to phone, and false when none was.
func (m *Verifier) LastCode(phone string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.last[phone]
	return c, ok
}

// Starts returns how many codes were sent (repeated keys not counted).
func (m *Verifier) Starts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.starts
}

// Checks returns how many checks reached the service (failed calls not
// counted).
func (m *Verifier) Checks() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checks
}

// FailNext makes the next n calls fail with err, or with [ErrInjected]
// when err is nil; FailNext(0, nil) disarms.
func (m *Verifier) FailNext(n int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults.failNext(n, err)
}
