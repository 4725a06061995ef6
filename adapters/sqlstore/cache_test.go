package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// A Store reading a row another Store wrote decodes it and only notes its
// bytes; the second read of the same bytes caches a copy, which answers
// the reads after it with the request the row holds.
func TestCache_AnothersWriteIsCachedOnItsSecondRead(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		rs := replicas(t, d.newDSN(t), 2)
		writer, reader := rs[0], rs[1]
		e := newEnv()
		r := e.inReview(t, e.service(t, writer), e.account("cache-"+randomHex(5)))
		want, err := r.MarshalBinary()
		require.NoError(t, err)
		for read, cached := range []bool{false, true, true} {
			got, err := reader.Get(t.Context(), r.ID())
			require.NoError(t, err)
			data, err := got.MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, string(want), string(data), "read %d", read+1)
			require.True(t, sqlstore.Cached(reader, r.ID()), "read %d: the bytes are noted", read+1)
			require.Equal(t, cached, sqlstore.CachedRequest(reader, r.ID()), "read %d: the request is cached", read+1)
		}
	})
}

// A row changed after a Store first read it, or after it cached it on its
// second read, is decoded again: a damaged row is refused with
// ErrCorrupt on every read, and never noted or cached: what the cache
// held for the intact bytes stays, and answers once they are back.
func TestCache_AChangedRowIsDecodedAgain(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		rs := replicas(t, d.newDSN(t), 2)
		writer, reader := rs[0], rs[1]
		e := newEnv()
		for _, reads := range []int{1, 2} {
			for _, damage := range []struct {
				name string
				edit func(data string) string
			}{
				{"truncated", func(data string) string { return data[:len(data)/2] }},
				{"state disagrees with its column", func(data string) string {
					return strings.Replace(data, `"state":"in_review"`, `"state":"approved"`, 1)
				}},
			} {
				r := e.inReview(t, e.service(t, writer), e.account("cache-damage-"+randomHex(5)))
				for range reads {
					_, err := reader.Get(t.Context(), r.ID())
					require.NoError(t, err)
				}
				require.Equal(t, reads == 2, sqlstore.CachedRequest(reader, r.ID()), "precondition")
				var data string
				require.NoError(t, writer.DB().QueryRowContext(t.Context(), sqlstore.Bind(d.name, "SELECT data FROM cancellation_requests WHERE id = ?"), r.ID()).Scan(&data))
				edited := damage.edit(data)
				require.NotEqual(t, data, edited, "precondition: %s changes the row", damage.name)
				execSQL(t, writer, "UPDATE cancellation_requests SET data = ? WHERE id = ?", edited, r.ID())
				for range 3 {
					_, err := reader.Get(t.Context(), r.ID())
					require.ErrorIs(t, err, cancellation.ErrCorrupt, "%s after %d reads", damage.name, reads)
					require.ErrorContains(t, err, r.ID())
				}
				require.Equal(t, reads == 2, sqlstore.CachedRequest(reader, r.ID()), "the intact bytes' entry stays")
				execSQL(t, writer, "UPDATE cancellation_requests SET data = ? WHERE id = ?", data, r.ID())
				got, err := reader.Get(t.Context(), r.ID())
				require.NoError(t, err, "the row restored reads again")
				require.Equal(t, r.Version(), got.Version())
				require.True(t, sqlstore.CachedRequest(reader, r.ID()), "the intact bytes read again: cached now if not before")
			}
		}
	})
}
