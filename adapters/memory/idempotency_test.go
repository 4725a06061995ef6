package memory_test

import (
	"testing"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports/portstest"
)

func TestIdempotencyStore(t *testing.T) {
	t.Parallel()
	portstest.TestIdempotencyStore(t, portstest.StoreFeatures{}, func(*testing.T) cancellation.Store { return memory.NewStore() })
}
