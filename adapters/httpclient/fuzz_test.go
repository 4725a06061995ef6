package httpclient_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/stretchr/testify/require"
)

// FuzzAnswers feeds arbitrary bodies to the Client as a host's 200
// answers: every call either succeeds or fails with ErrBadResponse, never
// panics, and no error quotes the body.
func FuzzAnswers(f *testing.F) {
	for _, seed := range []string{
		`{"items":[]}`, `{"items":null}`, `{}`, `[]`, `null`, ``, `{"items":[{}]}`,
		`{"items":[{"ref":"m","description":"d","blocking":true,"remedy":"r"}]}`,
		`{"id":"acct-1","kind":"personal","identity_verified":true,"recovery_phone":"+1","email":"e","locale":"en","closed":false}`,
		`{"time_zone":"UTC","dates":["2026-12-25"]}`, `{"items":[{"ref":"\u0000secret"}]}`, `{"items":"secret"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := httpclient.New("http://host.invalid", httpclient.Options{
			Attempts: 1,
			HTTPClient: &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{
					StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
					Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r,
				}, nil
			})},
		})
		require.NoError(t, err)
		ctx := t.Context()
		_, errAccount := c.Account(ctx, "acct-1")
		_, errMatters := c.OpenMatters(ctx, "acct-1")
		_, errKeys := c.APIKeys(ctx, "acct-1")
		_, _, errHolidays := c.Holidays(ctx, time.Now(), time.Now())
		for _, err := range []error{errAccount, errMatters, errKeys, errHolidays} {
			if err == nil {
				continue
			}
			require.ErrorIs(t, err, httpclient.ErrBadResponse)
			if len(body) >= 8 {
				require.NotContains(t, err.Error(), string(body))
			}
			require.NotContains(t, err.Error(), "secret")
		}
		if errAccount == nil {
			require.True(t, strings.Contains(string(body), "acct-1") || strings.Contains(string(body), `\u`), "an account read from nothing")
		}
	})
}
