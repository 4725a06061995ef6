package memory_test

import (
	"testing"

	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/portstest"
)

// TestEventPublisherConformance runs the EventPublisher suite against the
// memory publisher, with its deliveries observed.
func TestEventPublisherConformance(t *testing.T) {
	t.Parallel()
	portstest.TestEventPublisher(t, portstest.Features{}, func(*testing.T) portstest.Delivery[ports.EventPublisher] {
		p := memory.NewEventPublisher()
		return portstest.Delivery[ports.EventPublisher]{Port: p, Deliveries: p.Deliveries}
	})
}

// TestVerifierConformance runs the VerificationService suite against the
// memory Verifier.
func TestVerifierConformance(t *testing.T) {
	t.Parallel()
	portstest.TestVerificationService(t, portstest.Features{}, func(*testing.T) portstest.VerificationServiceUnderTest {
		v := memory.NewVerifier()
		return portstest.VerificationServiceUnderTest{Service: v, Code: v.LastCode}
	})
}
