package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/stretchr/testify/require"
)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, time.March, 3, 9, 0, 0, 0, time.UTC)
	c := memory.NewClock(start)
	require.Equal(t, start, c.Now())
	require.Equal(t, start, c.Now(), "the clock stands still")

	require.Equal(t, start.Add(72*time.Hour), c.Advance(72*time.Hour))
	require.Equal(t, start.Add(72*time.Hour), c.Now())
	require.Equal(t, start.Add(71*time.Hour), c.Advance(-time.Hour))

	later := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	c.Set(later)
	require.Equal(t, later, c.Now())

	var zero memory.Clock
	require.True(t, zero.Now().IsZero())
}

func TestClockConcurrent(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, time.March, 3, 9, 0, 0, 0, time.UTC)
	c := memory.NewClock(start)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	require.Equal(t, start.Add(1600*time.Second), c.Now())
}
