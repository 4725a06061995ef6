package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

func TestDocumentStoreHelpers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := memory.NewDocumentStore()
	require.Zero(t, s.Len())
	require.Empty(t, s.Keys())
	_, ok := s.ContentType("req-1/passport")
	require.False(t, ok)

	require.NoError(t, s.PutDocument(ctx, "req-2/licence", "image/png", []byte{1}))
	require.NoError(t, s.PutDocument(ctx, "req-1/passport", "image/jpeg", []byte{2, 3}))
	require.NoError(t, s.PutDocument(ctx, "req-1/passport", "image/png", []byte{4}))
	require.Equal(t, 2, s.Len())
	require.Equal(t, []string{"req-1/passport", "req-2/licence"}, s.Keys())
	ct, ok := s.ContentType("req-1/passport")
	require.True(t, ok)
	require.Equal(t, "image/png", ct, "a put replaces the content type too")

	require.NoError(t, s.DeleteDocument(ctx, "req-2/licence"))
	require.Equal(t, []string{"req-1/passport"}, s.Keys())
	require.Equal(t, 1, s.Len())
}

func TestDocumentStoreFailNext(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	boom := errors.New("bucket unavailable")
	var s memory.DocumentStore // the zero value is ready to use
	require.NoError(t, s.PutDocument(ctx, "k", "image/jpeg", []byte{1, 2}))

	s.FailNext(3, boom)
	require.ErrorIs(t, s.PutDocument(ctx, "k", "image/jpeg", []byte{9}), boom)
	_, err := s.GetDocument(ctx, "k")
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, s.DeleteDocument(ctx, "k"), boom)

	got, err := s.GetDocument(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, []byte{1, 2}, got, "failed calls change nothing")

	s.FailNext(1, nil)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.GetDocument(cancelled, "k")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.GetDocument(ctx, "k")
	require.ErrorIs(t, err, memory.ErrInjected, "a done context does not use up a failure")
	_, err = s.GetDocument(ctx, "unknown")
	require.ErrorIs(t, err, ports.ErrNotFound)
}
