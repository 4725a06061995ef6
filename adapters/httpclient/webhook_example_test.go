package httpclient_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/accountkit/cancellation/ports"
)

// A receiver checks each webhook with a WebhookVerifier over the secret it
// shares with the sender, then deduplicates by the event id: a Webhook
// delivers at least once, always under the same id.
func ExampleWebhook() {
	secret := httpclient.NewWebhookSecret()
	verifier, err := httpclient.NewWebhookVerifier(httpclient.WebhookVerifierOptions{}, secret)
	if err != nil {
		panic(err)
	}
	seen := map[string]bool{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		e, err := verifier.VerifyEvent(r.Header, body)
		if err != nil {
			http.Error(w, "unverified", http.StatusUnauthorized)
			return
		}
		if !seen[e.ID] {
			seen[e.ID] = true
			fmt.Println("received", e.Type, "for", e.Subject)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	hook, err := httpclient.NewWebhook(receiver.URL+"/hooks/cancellation", secret, httpclient.Options{})
	if err != nil {
		panic(err)
	}
	e := ports.CloudEvent{
		SpecVersion: "1.0", ID: "can_0f1e/event/5", Source: "urn:accountkit:cancellation",
		Type: "cancellation.approved", Subject: "can_0f1e", Time: time.Now(),
		DataContentType: "application/json", Data: []byte(`{"id":"can_0f1e","state":"approved"}`),
	}
	fmt.Println(hook.Publish(context.Background(), e))
	fmt.Println(hook.Publish(context.Background(), e)) // a retry: accepted, not processed twice
	// Output:
	// received cancellation.approved for can_0f1e
	// <nil>
	// <nil>
}

// Verify checks the Standard Webhooks signature of a request; here the
// published test vector of the scheme.
func ExampleWebhookVerifier_Verify() {
	v, _ := httpclient.NewWebhookVerifier(httpclient.WebhookVerifierOptions{
		Now: func() time.Time { return time.Unix(1614265330, 0) },
	}, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	fmt.Println(v.Verify(h, []byte(`{"test": 2432232314}`)))
	fmt.Println(v.Verify(h, []byte(`{"test": 0}`)))
	// Output:
	// <nil>
	// httpclient: webhook signature does not verify: no v1 signature matches
}
