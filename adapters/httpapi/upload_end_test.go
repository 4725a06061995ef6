package httpapi_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
)

// phoneVerified takes the verified account's new request to phone_verified,
// where it uploads documents.
func (e *env) phoneVerified() string {
	e.t.Helper()
	id := e.start(tokVerified).ID
	require.Equal(e.t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", tokVerified, e.confirmation(memory.AccountVerified)).Status)
	require.Equal(e.t, http.StatusAccepted, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code", tokVerified, nil).Status)
	code, ok := e.kit.OTP.LastCode("+15550100002")
	require.True(e.t, ok)
	require.Equal(e.t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code/verify", tokVerified, map[string]string{"code": code}).Status)
	return id
}

// TestHandler_UploadChecksTheRestOfTheBody: an upload answers 201 only when
// the body ends after the file part within the bound; a second part, or an
// epilogue past the bound, is refused before anything is stored (and, with
// an Idempotency-Key, the refusal is what the key keeps or releases, never a
// 201 whose key was dropped).
func TestHandler_UploadChecksTheRestOfTheBody(t *testing.T) {
	t.Parallel()
	scan := colourScan()
	e := newEnv(t, func(_ *cancellation.Config, o *httpapi.Options) { o.MaxUploadBytes = int64(len(scan)) + 4096 })
	id := e.phoneVerified()
	path := "/v1/cancellations/" + id + "/documents"
	before := e.version(id)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("kind", "passport"))
	fw, err := mw.CreateFormFile("file", "scan.jpg")
	require.NoError(t, err)
	_, err = fw.Write(scan)
	require.NoError(t, err)
	require.NoError(t, mw.WriteField("extra", "more"))
	require.NoError(t, mw.Close())
	e.do(http.MethodPost, path, tokVerified, buf.Bytes(), "Content-Type", mw.FormDataContentType(), "Idempotency-Key", "k-extra").
		requireProblem(t, http.StatusBadRequest, "malformed_multipart")
	require.Equal(t, before, e.version(id), "a second part stores nothing")

	body, ct := multipartBody(t, "passport", scan)
	long := append(append([]byte{}, body...), bytes.Repeat([]byte("x"), 8192)...) // an epilogue past the bound
	e.do(http.MethodPost, path, tokVerified, long, "Content-Type", ct, "Idempotency-Key", "k-long").
		requireProblem(t, http.StatusRequestEntityTooLarge, "body_too_large")
	require.Equal(t, before, e.version(id), "a body past the bound stores nothing")

	require.Equal(t, http.StatusCreated, e.do(http.MethodPost, path, tokVerified, body, "Content-Type", ct, "Idempotency-Key", "k-ok").Status)
	require.Greater(t, e.version(id), before)
}
