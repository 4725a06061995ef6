package webui_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/webui"
	"github.com/accountkit/cancellation/ports"
)

// Mount the console with an Authenticator over the host's own sessions;
// here a header names the customer, which a real host must never trust.
func ExampleNew() {
	kit := memory.NewKit(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC))
	kit.Platform.SeedDemo()
	svc, err := cancellation.New(kit.Config())
	if err != nil {
		panic(err)
	}
	console, err := webui.New(svc, webui.Options{
		Authenticator: webui.AuthenticatorFunc(func(r *http.Request) (webui.Principal, error) {
			if id := r.Header.Get("X-Demo-Account"); id != "" {
				return webui.Principal{Account: ports.AccountID(id)}, nil
			}
			return webui.Principal{}, webui.ErrUnauthenticated
		}),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", console) // the wizard at /, the desk at /review/
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.Header.Set("X-Demo-Account", string(memory.AccountBlocked))
	req.Header.Set("Accept-Language", "zh-CN")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, contains(string(b), "仍有 2 个 API 密钥"))
	// Output: 200 true
}

// Render a notification in the account's language.
func ExampleNotification() {
	subject, body, err := webui.Notification(ports.Notification{
		Template: "withdrawn", Locale: "zh-CN", Data: map[string]string{"request_id": "can_42"},
	})
	fmt.Println(subject)
	fmt.Println(body, err)
	// Output:
	// 您的账号注销申请已撤回
	// 您的申请 can_42 已撤回，账号保持正常。 <nil>
}
