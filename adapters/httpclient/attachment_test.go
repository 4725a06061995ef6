package httpclient_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/accountkit/cancellation/ports"
)

// TestNotify_SendsAttachmentsAsTheContractSays shows that an email's
// attachment (the signed receipt) reaches the host base64-encoded, in a
// request that keeps to host-openapi.yaml, byte for byte.
func TestNotify_SendsAttachmentsAsTheContractSays(t *testing.T) {
	t.Parallel()
	var got httpclient.Notification
	srv := httptest.NewServer(validating(t, t.Errorf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &got))
		require.Contains(t, string(b), `"content":"ZXlKaGJHYy4uLg=="`, "base64 of the bytes")
		w.WriteHeader(http.StatusAccepted)
	})))
	defer srv.Close()
	c, err := httpclient.New(srv.URL, httpclient.Options{Authorize: httpclient.BearerToken(testToken), Attempts: 1})
	require.NoError(t, err)
	file := ports.Attachment{Filename: "cancellation-receipt-can_1.jws", ContentType: "application/jose", Content: []byte("eyJhbGc...")}
	require.NoError(t, c.Notify(t.Context(), ports.Notification{
		IdempotencyKey: "can_1/cancelled/email", Channel: ports.ChannelEmail, To: "a@example.com", Account: "acct-1",
		Template: "cancelled", Data: map[string]string{"request_id": "can_1"}, Locale: "en", Attachments: []ports.Attachment{file},
	}))
	require.Equal(t, []httpclient.Attachment{{Filename: file.Filename, ContentType: file.ContentType, Content: file.Content}}, got.Attachments)
}
