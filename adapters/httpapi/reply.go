package httpapi

import (
	"encoding/json"
	"net/http"
)

// reply is a whole response, built before anything is written, so that
// an Idempotency-Key can store it and replay it.
type reply struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header,omitempty"`
	Body   []byte            `json:"body,omitempty"`
}

// jsonReply encodes v; version, when positive, is the request's ETag.
func jsonReply(status int, v any, version int64) (reply, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return reply{}, err
	}
	rep := reply{Status: status, Header: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}, Body: b}
	if version > 0 {
		rep.Header["ETag"] = etag(version)
	}
	return rep, nil
}

// problemReply renders a problem as a reply.
func problemReply(p Problem) reply {
	rec := &headerRecorder{h: http.Header{}}
	writeProblem(rec, p)
	rep := reply{Status: rec.status, Header: map[string]string{}, Body: rec.body}
	for k := range rec.h {
		rep.Header[k] = rec.h.Get(k)
	}
	return rep
}

// write sends the reply.
func (rep reply) write(w http.ResponseWriter) {
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.Status)
	_, _ = w.Write(rep.Body)
}

// headerRecorder is the minimal ResponseWriter problemReply renders into.
type headerRecorder struct {
	h      http.Header
	status int
	body   []byte
}

func (r *headerRecorder) Header() http.Header { return r.h }
func (r *headerRecorder) WriteHeader(s int)   { r.status = s }
func (r *headerRecorder) Write(b []byte) (int, error) {
	r.body = append(r.body, b...)
	return len(b), nil
}
