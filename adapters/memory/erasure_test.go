package memory_test

import (
	"testing"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports/portstest"
)

func TestIdentifierStore(t *testing.T) {
	t.Parallel()
	portstest.TestIdentifierStore(t, portstest.StoreFeatures{}, func(*testing.T) cancellation.Store { return memory.NewStore() })
}

func TestClosureQuotaStore(t *testing.T) {
	t.Parallel()
	portstest.TestClosureQuotaStore(t, portstest.StoreFeatures{}, func(*testing.T) cancellation.Store { return memory.NewStore() })
}

func TestRecordPurger(t *testing.T) {
	t.Parallel()
	portstest.TestRecordPurger(t, portstest.StoreFeatures{}, func(*testing.T) cancellation.Store { return memory.NewStore() })
}
