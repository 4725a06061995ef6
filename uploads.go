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
