package portstest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

// TestDocumentStore checks an implementation of [ports.DocumentStore]:
// blobs come back byte for byte, a put replaces, an unknown key is
// ErrNotFound, a delete is idempotent, neither the caller's slice nor the
// returned one is shared with the store, and concurrent use is safe.
// newStore returns an empty store.
func TestDocumentStore(t *testing.T, f Features, newStore func(t *testing.T) ports.DocumentStore) {
	t.Helper()

	t.Run("RoundTrip", func(t *testing.T) {
		store := newStore(t)
		docs := map[string]struct {
			contentType string
			data        []byte
		}{
			uniqueName(t, "passport.jpg"):   {"image/jpeg", sampleBytes(1, 64<<10)},
			uniqueName(t, "licence.png"):    {"image/png", sampleBytes(2, 3000)},
			uniqueName(t, "every-byte.bin"): {"application/octet-stream", everyByte()},
		}
		for key, d := range docs {
			require.NoError(t, store.PutDocument(t.Context(), key, d.contentType, d.data))
		}
		for key, d := range docs {
			got, err := store.GetDocument(t.Context(), key)
			require.NoError(t, err, key)
			require.Equal(t, d.data, got, key)
		}
	})

	t.Run("Replace", func(t *testing.T) {
		store := newStore(t)
		key := uniqueName(t, "doc")
		require.NoError(t, store.PutDocument(t.Context(), key, "image/jpeg", sampleBytes(1, 5000)))
		require.NoError(t, store.PutDocument(t.Context(), key, "image/png", sampleBytes(2, 700)))
		got, err := store.GetDocument(t.Context(), key)
		require.NoError(t, err)
		require.Equal(t, sampleBytes(2, 700), got)
	})

	t.Run("GetUnknown", func(t *testing.T) {
		store := newStore(t)
		_, err := store.GetDocument(t.Context(), uniqueName(t, "unknown"))
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("Delete", func(t *testing.T) {
		store := newStore(t)
		key, other := uniqueName(t, "doc"), uniqueName(t, "other")
		require.NoError(t, store.PutDocument(t.Context(), key, "image/jpeg", sampleBytes(1, 100)))
		require.NoError(t, store.PutDocument(t.Context(), other, "image/jpeg", sampleBytes(2, 100)))
		require.NoError(t, store.DeleteDocument(t.Context(), key))
		_, err := store.GetDocument(t.Context(), key)
		require.ErrorIs(t, err, ports.ErrNotFound)
		require.NoError(t, store.DeleteDocument(t.Context(), key), "deleting twice must succeed")
		got, err := store.GetDocument(t.Context(), other)
		require.NoError(t, err, "deleting one key must keep the others")
		require.Equal(t, sampleBytes(2, 100), got)
	})

	t.Run("DeleteUnknown", func(t *testing.T) {
		store := newStore(t)
		require.NoError(t, store.DeleteDocument(t.Context(), uniqueName(t, "never-stored")))
	})

	t.Run("NotAliased", func(t *testing.T) {
		store := newStore(t)
		key := uniqueName(t, "doc")
		want := sampleBytes(3, 1000)
		in := slices.Clone(want)
		require.NoError(t, store.PutDocument(t.Context(), key, "image/jpeg", in))
		clear(in)
		got, err := store.GetDocument(t.Context(), key)
		require.NoError(t, err)
		require.Equal(t, want, got, "changing the slice given to PutDocument must not change the document")
		clear(got)
		again, err := store.GetDocument(t.Context(), key)
		require.NoError(t, err)
		require.Equal(t, want, again, "changing the slice GetDocument returned must not change the document")
	})

	t.Run("CancelledContext", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		store := newStore(t)
		key := uniqueName(t, "doc")
		require.NoError(t, store.PutDocument(t.Context(), key, "image/jpeg", sampleBytes(1, 100)))
		ctx := cancelledContext(t)
		require.Error(t, store.PutDocument(ctx, uniqueName(t, "new"), "image/jpeg", sampleBytes(2, 100)), "PutDocument")
		_, err := store.GetDocument(ctx, key)
		require.Error(t, err, "GetDocument")
		require.Error(t, store.DeleteDocument(ctx, key), "DeleteDocument")
	})

	t.Run("Concurrent", func(t *testing.T) {
		store := newStore(t)
		shared := uniqueName(t, "shared")
		// Every goroutine round-trips its own key and overwrites a shared
		// one; the shared document must end as one whole version.
		concurrently(t, func(g int) error {
			key, data := uniqueName(t, fmt.Sprint(g)), sampleBytes(uint64(g), 2000)
			for range callsPerGoroutine {
				if err := errors.Join(
					store.PutDocument(t.Context(), key, "image/png", data),
					store.PutDocument(t.Context(), shared, "image/png", sampleBytes(uint64(g), 4000)),
				); err != nil {
					return err
				}
				got, err := store.GetDocument(t.Context(), key)
				if err != nil {
					return err
				}
				if !slices.Equal(data, got) {
					return fmt.Errorf("key %q: got %d other bytes", key, len(got))
				}
			}
			return store.DeleteDocument(t.Context(), key)
		})
		got, err := store.GetDocument(t.Context(), shared)
		require.NoError(t, err)
		whole := false
		for g := range goroutines {
			whole = whole || slices.Equal(got, sampleBytes(uint64(g), 4000))
		}
		require.True(t, whole, "the shared document must be one of the versions written, whole")
	})
}

// sampleBytes returns n pseudo-random bytes, the same for the same seed.
func sampleBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// everyByte returns the 256 byte values in order, NUL included.
func everyByte() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}
