package cancellation_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// trickle sends body to w one byte every few milliseconds, as a slow or
// hostile client does, until stop is closed; then it breaks the
// connection. It returns once the reader has taken the first byte.
func trickle(t *testing.T, w *io.PipeWriter, body []byte, stop <-chan struct{}) {
	t.Helper()
	_, err := w.Write(body[:1])
	require.NoError(t, err)
	go func() {
		defer w.CloseWithError(errors.New("client went away"))
		for _, b := range body[1 : len(body)-1] { // never the last byte
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
		}
		<-stop
	}()
}

// TestUploadDocument_StalledReadersDoNotBlockOtherUploads is the
// regression test of issue 7 item 2: two clients trickle their bodies and
// never finish, and a third customer's valid upload still completes, with
// one inspection slot and with the default two.
func TestUploadDocument_StalledReadersDoNotBlockOtherUploads(t *testing.T) {
	t.Parallel()
	for _, slots := range []int{1, 0} { // 0: the default, 2
		t.Run(fmt.Sprintf("MaxConcurrentInspections=%d", slots), func(t *testing.T) {
			f := setup(t, func(c *cancellation.Config) { c.DocumentPolicy.MaxConcurrentInspections = slots })
			stop := make(chan struct{})
			var stalled []chan error
			for i := range 2 {
				a := f.account(ports.AccountID(fmt.Sprintf("acct-stalled-%d", i)), ports.Personal, true)
				r := f.untilVerified(a.ID)
				pr, pw := io.Pipe()
				done := make(chan error, 1)
				go func() {
					_, err := f.svc.UploadDocument(f.ctx, a.ID, r.ID(), cancellation.DocumentPassport, pr)
					done <- err
				}()
				trickle(t, pw, colourScan(), stop)
				stalled = append(stalled, done)
			}

			c := f.account("acct-third", ports.Personal, true)
			rc := f.untilVerified(c.ID)
			ctx, cancel := context.WithTimeout(f.ctx, 20*time.Second)
			defer cancel()
			doc, err := f.svc.UploadDocument(ctx, c.ID, rc.ID(), cancellation.DocumentPassport, bytes.NewReader(colourScan()))
			require.NoError(t, err, "the third upload does not wait for the stalled ones")
			require.Equal(t, cancellation.StateDocumentsUploaded, f.stored(rc.ID()).State())
			require.NotEmpty(t, doc.Key)

			close(stop)
			for _, done := range stalled {
				err := <-done
				require.ErrorContains(t, err, "client went away")
				require.NotErrorIs(t, err, cancellation.ErrDocumentRejected)
			}
		})
	}
}

// endless is a body of any length that allocates nothing and hides its
// length (no Len method), as a network body does; it counts what is read.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.n += int64(len(p))
	return len(p), nil
}

// sized is a body of n bytes that hides its length.
func sized(n int64) io.Reader { return io.LimitReader(&endless{}, n) }

// allocatedBy returns the bytes that f allocates on the heap, the least of
// three runs (a garbage collection or another goroutine can only add).
func allocatedBy(f func()) uint64 {
	best := ^uint64(0)
	for range 3 {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		best = min(best, after.TotalAlloc-before.TotalAlloc)
	}
	return best
}

// TestReadDocument_AllocatesLittleOverTheLimit is the regression test of
// issue 7 item 10: reading a body of unknown length allocates at most
// MaxBytes·(1 + 1/16), not several times the upload, and an oversize
// upload is refused after MaxBytes+1 bytes. Not parallel: it measures the
// process's allocations.
func TestReadDocument_AllocatesLittleOverTheLimit(t *testing.T) {
	const limit = 10 << 20
	limits := cancellation.DocumentLimits{MaxBytes: limit}
	budget := uint64(limit + limit/16 + 64<<10)
	t.Run("oversize: refused after MaxBytes+1 bytes", func(t *testing.T) {
		var read int64
		got := allocatedBy(func() {
			body := &endless{}
			_, err := cancellation.ReadDocument(body, limits)
			var de *cancellation.DocumentError
			require.ErrorAs(t, err, &de)
			require.Equal(t, cancellation.DocumentTooLarge, de.Problem)
			require.Equal(t, int64(limit+1), de.Facts.Bytes)
			read = body.n
		})
		require.Equal(t, int64(limit+1), read, "reads no more than MaxBytes+1 bytes")
		t.Logf("10 MiB + 1 byte: %.2f MiB allocated", float64(got)/(1<<20))
		require.LessOrEqual(t, got, budget)
	})
	for _, n := range []int64{limit, limit / 2, limit / 64, 100 << 10} {
		t.Run(fmt.Sprintf("%d bytes of unknown length", n), func(t *testing.T) {
			got := allocatedBy(func() {
				data, err := cancellation.ReadDocument(sized(n), limits)
				require.NoError(t, err)
				require.Len(t, data, int(n))
			})
			t.Logf("%.2f MiB allocated", float64(got)/(1<<20))
			require.LessOrEqual(t, got, budget)
			if n <= limit/64 { // small uploads stay small
				require.LessOrEqual(t, got, uint64(4*n+64<<10)) // doubling buffers
			}
		})
	}
	t.Run("a reader that tells its length gets one buffer", func(t *testing.T) {
		body := make([]byte, 3<<20)
		got := allocatedBy(func() {
			data, err := cancellation.ReadDocument(bytes.NewReader(body), limits)
			require.NoError(t, err)
			require.Len(t, data, len(body))
		})
		require.LessOrEqual(t, got, uint64(len(body)+16<<10)) // +1 byte rounds up to a page
	})
}
