package cancellation

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/internal/docfixtures"
)

// TestUploadGate_ReadsBeforeTakingAnInspectionSlot shows the order that
// issue 7 item 2 asks for: with every inspection slot taken, an upload is
// still read to its end (holding a buffer slot), and only then waits for
// an inspection slot, giving back its buffer slot if it stops waiting.
func TestUploadGate_ReadsBeforeTakingAnInspectionSlot(t *testing.T) {
	t.Parallel()
	g := newUploadGate(DocumentPolicy{MaxConcurrentInspections: 1, MaxBufferedUploads: 1})
	require.NoError(t, g.inspections.Acquire(t.Context(), 1)) // a long inspection elsewhere

	body := bytes.NewReader(docfixtures.JPEG(docfixtures.ColourIDCard(800, 520), 85))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, _, _, err := g.take(ctx, body, DocumentLimits{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "waiting to inspect")
	require.Zero(t, body.Len(), "the body was read before waiting for the slot")
	require.True(t, g.buffered.TryAcquire(1), "the buffer slot was given back")
	g.buffered.Release(1)

	g.inspections.Release(1)
	_, err = body.Seek(0, 0)
	require.NoError(t, err)
	data, facts, release, err := g.take(t.Context(), body, DocumentLimits{})
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), facts.Bytes)
	require.False(t, g.buffered.TryAcquire(1), "the caller holds the buffer slot until it releases it")
	require.True(t, g.inspections.TryAcquire(1), "the inspection slot is free once inspected")
	release()
	require.True(t, g.buffered.TryAcquire(1))
}

// TestUploadGate_Defaults holds the documented defaults: 16 bodies in
// memory, 2 inspections at once.
func TestUploadGate_Defaults(t *testing.T) {
	t.Parallel()
	g := newUploadGate(DocumentPolicy{}.withDefaults())
	require.Equal(t, 16, DefaultMaxBufferedUploads)
	require.True(t, g.buffered.TryAcquire(DefaultMaxBufferedUploads))
	require.False(t, g.buffered.TryAcquire(1))
	require.True(t, g.inspections.TryAcquire(2))
	require.False(t, g.inspections.TryAcquire(1))
}
