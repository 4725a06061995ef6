package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServer_WebConsole: the server mounts the web console at / and
// /review/ behind the API's own dev tokens, carried in a cookie by the dev
// sign-in page; a notification is logged with the text the customer reads.
func TestServer_WebConsole(t *testing.T) {
	s := startServer(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(path string) (*http.Response, string) {
		resp, err := browser.Get(s.url + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp, b.String()
	}
	post := func(path string, form url.Values) (*http.Response, string) {
		resp, err := browser.PostForm(s.url+path, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp, b.String()
	}

	resp, body := get("/")
	require.Equal(t, "/signin", resp.Request.URL.Path, "a stranger is sent to the dev sign-in page")
	require.Contains(t, body, "acct-verified (identity-verified person")
	require.Contains(t, body, "reviewer-1 (reviewer: claims before deciding)")
	require.NotEmpty(t, resp.Header.Get("Content-Security-Policy"))

	resp, body = post("/signin", url.Values{"token": {s.tokens["TOKEN_ELIGIBLE"]}, "next": {"/"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "Start the cancellation")
	resp, _ = post("/start", nil)
	id := strings.Split(strings.TrimPrefix(resp.Request.URL.Path, "/requests/"), "/")[0]
	require.NotEmpty(t, id)
	_, body = post("/requests/"+id+"/withdraw", nil)
	require.Contains(t, body, "You withdrew the application")
	s.logLine(regexp.MustCompile(`notification sent.*subject="Your account cancellation was withdrawn"`))

	_, body = post("/signin", url.Values{"token": {s.tokens["TOKEN_REVIEWER"]}, "next": {"/review/"}})
	require.Contains(t, body, "Review queue")
	resp, _ = get("/v1/cancellations/active")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the API still wants its bearer token, not the console's cookie")
}
