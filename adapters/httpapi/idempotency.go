package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/accountkit/cancellation"
)

// maxKeyLength bounds an Idempotency-Key value.
const maxKeyLength = 255

// idempotent runs a POST under its Idempotency-Key, following the IETF
// httpapi draft: the key is scoped to the caller and the body is
// fingerprinted (with the method and path). The first request reserves
// the key in the Store and its response is kept; a retry with the same
// body gets that response again (header Idempotent-Replayed: true)
// without running the operation; the same key with another body answers
// 422, and a retry while the first still runs answers 409. Responses that
// a retry should not see again (5xx, 429, 412) release the key instead.
func (h *Handler) idempotent(r *http.Request, p Principal, o op, limit int64) reply {
	key, ok := parseKey(r.Header.Get("Idempotency-Key"))
	switch {
	case h.idem == nil:
		return problemReply(newProblem(http.StatusBadRequest, "idempotency_unsupported", "Idempotency-Key is not supported by this server's store", "retry without the header, or use a store that keeps keys"))
	case !ok:
		return problemReply(newProblem(http.StatusBadRequest, "idempotency_key_invalid", "The Idempotency-Key is invalid", "use 1 to 255 visible ASCII characters, e.g. a UUID"))
	}
	fp := newFingerprint(r)
	ctx := r.Context()
	now := h.opts.Clock.Now()
	// The reservation is not renewed: the client's part of the request
	// (its body) must be read within half the lease, or a slow upload
	// would outlive the reservation and a retry would run the operation
	// a second time. (serve also sets the connection's read deadline.)
	r.Body = teeBody{&deadlineBody{ReadCloser: r.Body, clock: h.opts.Clock, until: now.Add(h.opts.IdempotencyLease / 2)}, fp}
	rec := cancellation.IdempotencyRecord{Scope: p.scope(), Key: key, Owner: randomOwner(), ExpiresAt: now.Add(h.opts.IdempotencyLease)}
	cur, reserved, err := h.idem.ReserveIdempotency(ctx, rec, now)
	if err != nil {
		return h.errorReply(r, err, limit)
	}
	if !reserved {
		if !cur.Done() {
			return problemReply(newProblem(http.StatusConflict, "idempotency_key_in_use", "A request with this Idempotency-Key is still being processed", "wait for it, then retry"))
		}
		sum, err := drain(r.Body, fp)
		if err != nil {
			return h.errorReply(r, err, limit)
		}
		var first reply
		if sum != cur.Fingerprint || json.Unmarshal(cur.Response, &first) != nil || first.Status == 0 {
			return problemReply(newProblem(http.StatusUnprocessableEntity, "idempotency_key_reused", "This Idempotency-Key was used for another request", "use a new key for a new request"))
		}
		first.Header["Idempotent-Replayed"] = "true"
		return first
	}
	rep := h.run(r, p, o, limit)
	sum, drainErr := drain(r.Body, fp)
	// The record is kept or released even when the client went away.
	keep := context.WithoutCancel(ctx)
	// Answers that a retry should not see again: the server's failures,
	// a client that went away (499), and answers that change with time or
	// with the request's version. A body that could not be read to its end
	// (over the bound) has no fingerprint to compare a retry with.
	release := drainErr != nil || rep.Status >= 499 || rep.Status == http.StatusTooManyRequests || rep.Status == http.StatusPreconditionFailed
	if !release {
		rec.Fingerprint = sum
		rec.Response, _ = json.Marshal(rep) // a reply always marshals
		rec.ExpiresAt = h.opts.Clock.Now().Add(h.opts.IdempotencyTTL)
		err := h.idem.CompleteIdempotency(keep, rec)
		if err == nil {
			return rep
		}
		// The operation ran and its answer stands; free the key so that a
		// retry is judged by the Service rather than wait for the lease.
		h.opts.Logger.Error("httpapi: keeping the idempotency key's response", "error", err)
	}
	if err := h.idem.ReleaseIdempotency(keep, rec.Scope, rec.Key, rec.Owner); err != nil {
		h.opts.Logger.Error("httpapi: releasing an idempotency key", "error", err)
	}
	return rep
}

// parseKey accepts a bare key or an sf-string ("..."), as the draft writes
// it.
func parseKey(v string) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > maxKeyLength || strings.ContainsFunc(v, func(c rune) bool { return c < 0x21 || c > 0x7e || c == '"' }) {
		return "", false
	}
	return v, true
}

// drain reads the rest of the body (bounded by MaxBytesReader) so that the
// fingerprint covers all of it, and returns the fingerprint.
func drain(body io.Reader, fp *fingerprint) (string, error) {
	if _, err := io.Copy(io.Discard, body); err != nil {
		return "", err
	}
	return fp.sum(), nil
}

// fingerprint hashes the method, the path and the body as it streams. In
// a multipart body the boundary is replaced by a fixed token, since
// clients (curl among them) draw a new boundary for each attempt of the
// same upload.
type fingerprint struct {
	h        hash.Hash
	boundary []byte
	pending  []byte // a tail that may begin a boundary
}

func newFingerprint(r *http.Request) *fingerprint {
	fp := &fingerprint{h: sha256.New()}
	io.WriteString(fp.h, r.Method+"\x00"+r.URL.Path+"\x00")
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		fp.boundary = []byte(params["boundary"])
	}
	return fp
}

func (f *fingerprint) Write(p []byte) (int, error) {
	if len(f.boundary) == 0 {
		return f.h.Write(p)
	}
	data := append(f.pending, p...)
	for {
		i := bytes.Index(data, f.boundary)
		if i < 0 {
			break
		}
		f.h.Write(data[:i])
		f.h.Write([]byte("\x00boundary\x00"))
		data = data[i+len(f.boundary):]
	}
	keep := min(len(data), len(f.boundary)-1)
	f.h.Write(data[:len(data)-keep])
	f.pending = append(f.pending[:0:0], data[len(data)-keep:]...)
	return len(p), nil
}

func (f *fingerprint) sum() string {
	f.h.Write(f.pending)
	f.pending = nil
	return hex.EncodeToString(f.h.Sum(nil))
}

func randomOwner() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// deadlineBody refuses to read past until (by the Handler's clock), so
// that a body trickling in cannot keep a request running past its
// Idempotency-Key reservation.
type deadlineBody struct {
	io.ReadCloser
	clock interface{ Now() time.Time }
	until time.Time
}

func (d *deadlineBody) Read(p []byte) (int, error) {
	if !d.clock.Now().Before(d.until) {
		return 0, errBodyTooSlow
	}
	return d.ReadCloser.Read(p)
}

var errBodyTooSlow = bodyProblem(http.StatusRequestTimeout, "body_too_slow", "The request body arrived too slowly",
	"send the body within half the Idempotency-Key lease, then retry with the same key")

// teeBody feeds what the operation reads into the fingerprint.
type teeBody struct {
	io.ReadCloser
	h io.Writer
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.h.Write(p[:n])
	return n, err
}
