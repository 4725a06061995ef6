package cancellation

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sync/semaphore"
)

// uploadGate bounds the memory that uploads take in a Service. A body is
// read, into a buffer of at most about MaxBytes, while its upload holds a
// buffer slot (DocumentPolicy.MaxBufferedUploads) and no inspection slot;
// only the decoding and measuring then take an inspection slot
// (DocumentPolicy.MaxConcurrentInspections). So a client that sends its
// body slowly, or stalls, holds one buffer slot and never keeps another
// customer's upload from being inspected.
type uploadGate struct {
	buffered    *semaphore.Weighted // bodies in memory, from the first byte read until stored
	inspections *semaphore.Weighted // uploads being decoded and measured
	hooks       *hookSet            // observe each inspection
}

func newUploadGate(p DocumentPolicy) *uploadGate {
	return &uploadGate{
		buffered:    semaphore.NewWeighted(int64(p.MaxBufferedUploads)),
		inspections: semaphore.NewWeighted(int64(p.MaxConcurrentInspections)),
	}
}

// take reads body within limits and inspects it. On success it returns the
// bytes, their facts and a release function that the caller must call once
// it no longer holds the bytes (after storing them); on failure it has
// released everything itself.
func (g *uploadGate) take(ctx context.Context, body io.Reader, limits DocumentLimits) (data []byte, facts DocumentFacts, release func(), err error) {
	if err := g.buffered.Acquire(ctx, 1); err != nil {
		return nil, DocumentFacts{}, nil, fmt.Errorf("cancellation: waiting to read the upload: %w", err)
	}
	release = func() { g.buffered.Release(1) }
	data, err = ReadDocument(body, limits)
	if err == nil {
		if err = g.inspections.Acquire(ctx, 1); err != nil {
			err = fmt.Errorf("cancellation: waiting to inspect the upload: %w", err)
		} else {
			facts, err = g.hooks.inspect(ctx, data, limits)
			g.inspections.Release(1)
		}
	}
	if err != nil {
		release()
		return nil, DocumentFacts{}, nil, err
	}
	return data, facts, release, nil
}

// Reading buffers: docReadFirst is the first buffer for a body of unknown
// length; it doubles while it stays under a docReadSteps-th of the limit,
// and then goes at once to the limit plus one byte.
const (
	docReadFirst = 64 << 10
	docReadSteps = 32
)

// docReadAtMost reads r until it ends or n bytes are read, whichever comes
// first, and allocates at most about n·(1 + 1/16) bytes in all, whatever
// the length of r: a reader that tells its length (Len, as *bytes.Reader,
// *bytes.Buffer and *strings.Reader do) gets one buffer of that length
// plus one byte (to see the end), capped at n; any other starts small,
// doubles up to n/32, then takes one buffer of n bytes. It never reads
// more than n bytes.
func docReadAtMost(r io.Reader, n int64) ([]byte, error) {
	size := int64(docReadFirst)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len()) + 1
	}
	buf := make([]byte, 0, max(min(size, n), 1))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			next := 2 * int64(cap(buf))
			if next > n/docReadSteps {
				next = n
			}
			grown := make([]byte, len(buf), min(next, n))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}
