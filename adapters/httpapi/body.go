package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// errBodyProblem carries the problem of a refused body.
type errBodyProblem struct{ p Problem }

func (e errBodyProblem) Error() string { return e.p.Detail }

func bodyProblem(status int, code, title, detail string) error {
	return errBodyProblem{newProblem(status, code, title, detail)}
}

// tooLarge reports whether err is http.MaxBytesReader's.
func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

func errTooLarge(limit int64) error {
	return bodyProblem(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large",
		fmt.Sprintf("the body may have at most %d bytes", limit))
}

// decodeJSON reads the request's JSON body into v: application/json, one
// value, no unknown members, nothing after it. When empty is true an empty
// body leaves v as it is (for operations that take no arguments).
func decodeJSON(r *http.Request, limit int64, v any, empty bool) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		if tooLarge(err) {
			return errTooLarge(limit)
		}
		return bodyProblem(http.StatusBadRequest, "body_unreadable", "The request body could not be read", "")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if empty {
			return nil
		}
		return bodyProblem(http.StatusUnprocessableEntity, "malformed_json", "The request body is empty", "send a JSON object")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return bodyProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send application/json", "the body must be application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyProblem(http.StatusUnprocessableEntity, "malformed_json", "The request body is not valid JSON for this operation", jsonDetail(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return bodyProblem(http.StatusUnprocessableEntity, "malformed_json", "The request body is not valid JSON for this operation", "the body holds data after the JSON value")
	}
	return nil
}

// jsonDetail says what was wrong with a JSON body without echoing it.
func jsonDetail(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("member %q must be a JSON %s", typ.Field, typ.Type.Kind())
		}
		return fmt.Sprintf("the value must be a JSON %s", typ.Type.Kind())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON value is cut short"
	}
	// "json: unknown field \"x\"": the field name is the client's own.
	const unknown = "json: unknown field "
	if msg := err.Error(); len(msg) > len(unknown) && msg[:len(unknown)] == unknown && len(msg) < 200 {
		return "unknown member " + msg[len(unknown):]
	}
	return "the body is not a JSON object of this operation"
}
