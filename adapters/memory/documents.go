package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/accountkit/cancellation/ports"
)

var _ ports.DocumentStore = (*DocumentStore)(nil)

// DocumentStore is an in-memory [ports.DocumentStore]: a map from key to a
// copy of the bytes and their content type. It is for tests, examples and
// demos; not for production: nothing survives the process. The zero value
// is ready to use and all methods are safe for concurrent use.
type DocumentStore struct {
	mu     sync.Mutex
	docs   map[string]storedDocument
	faults faults
}

type storedDocument struct {
	contentType string
	data        []byte
}

// NewDocumentStore returns an empty DocumentStore.
func NewDocumentStore() *DocumentStore { return &DocumentStore{} }

// PutDocument implements [ports.DocumentStore]: it stores a copy of data
// under key, replacing what was there.
func (s *DocumentStore) PutDocument(ctx context.Context, key, contentType string, data []byte) error {
	return s.do(ctx, func() error {
		if s.docs == nil {
			s.docs = make(map[string]storedDocument)
		}
		s.docs[key] = storedDocument{contentType: contentType, data: slices.Clone(data)}
		return nil
	})
}

// GetDocument implements [ports.DocumentStore]: it returns a copy of the
// bytes under key, or an error wrapping [ports.ErrNotFound].
func (s *DocumentStore) GetDocument(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := s.do(ctx, func() error {
		d, ok := s.docs[key]
		if !ok {
			return fmt.Errorf("memory: document %q: %w", key, ports.ErrNotFound)
		}
		data = slices.Clone(d.data)
		return nil
	})
	return data, err
}

// DeleteDocument implements [ports.DocumentStore]; deleting an unknown key
// returns nil.
func (s *DocumentStore) DeleteDocument(ctx context.Context, key string) error {
	return s.do(ctx, func() error {
		delete(s.docs, key)
		return nil
	})
}

// ContentType returns the content type stored with key, and false when
// there is no document under key.
func (s *DocumentStore) ContentType(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[key]
	return d.contentType, ok
}

// Len returns the number of documents stored.
func (s *DocumentStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs)
}

// Keys returns the keys of the documents stored, sorted.
func (s *DocumentStore) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.docs))
}

// FailNext makes the next n calls of PutDocument, GetDocument or
// DeleteDocument fail with err, or with [ErrInjected] when err is nil,
// without effect; the calls after them succeed again. Calls whose context is
// already done do not count.
func (s *DocumentStore) FailNext(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failNext(n, err)
}

// do runs f under the mutex unless ctx is done or a failure is armed.
func (s *DocumentStore) do(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.faults.take(); err != nil {
		return err
	}
	return f()
}
