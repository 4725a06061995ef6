package httpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// The ports a Client implements.
var (
	_ ports.AccountDirectory   = (*Client)(nil)
	_ ports.OrderChecker       = (*Client)(nil)
	_ ports.BalanceChecker     = (*Client)(nil)
	_ ports.AuthorizationStore = (*Client)(nil)
	_ ports.SubUserStore       = (*Client)(nil)
	_ ports.APIKeyStore        = (*Client)(nil)
	_ ports.DataInventory      = (*Client)(nil)
	_ ports.ComplaintChecker   = (*Client)(nil)
	_ ports.MatterChecker      = (*Client)(nil)
	_ ports.OTPSender          = (*Client)(nil)
	_ ports.Notifier           = (*Client)(nil)
	_ ports.DocumentStore      = (*Client)(nil)
	_ ports.AccountCloser      = (*Client)(nil)
)

// accountPath returns the escaped path of an account's resource: id is one
// path segment, whatever it holds.
func accountPath(id ports.AccountID, sub string) string {
	return "/accounts/" + url.PathEscape(string(id)) + sub
}

// get returns the GET call of route at the escaped path.
func (cl *Client) get(route, path string, query url.Values) call {
	return call{method: http.MethodGet, route: route, path: path, query: query, limit: cl.opt.MaxResponseBytes}
}

// forAccount returns c, refused when id is empty.
func forAccount(c call, id ports.AccountID) call {
	if id == "" {
		c.refuse = "the account id is empty"
	}
	return c
}

// getJSON runs c and decodes the JSON body into v.
func (cl *Client) getJSON(ctx context.Context, c call, v wireBody) (*response, error) {
	resp, err := cl.do(ctx, c)
	if err != nil {
		return nil, err
	}
	return resp, decode(c, resp, v)
}

// errorOf returns the error of c, which got resp, as kind with cause.
func (c *call) errorOf(resp *response, kind, cause error) *Error {
	return &Error{Endpoint: c.endpoint(), Status: resp.status, Attempts: resp.attempts, kind: kind, cause: cause}
}

// decode decodes the JSON object body into v, after checking that it
// holds every member v requires. Unknown members are ignored, so that a
// host may add members without breaking its clients.
func decode(c call, resp *response, v wireBody) error {
	if err := decodeObject(resp.body, v, v.requiredMembers()); err != nil {
		return c.errorOf(resp, ErrBadResponse, err)
	}
	return nil
}

// decodeObject decodes the JSON object raw into v, whose required members
// must all be present (null counts as absent). Its errors name a member,
// never quote the body.
func decodeObject(raw []byte, v any, required []string) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return errors.New("the body is not a JSON object")
	}
	for _, m := range required {
		if val, ok := members[m]; !ok || string(val) == "null" {
			return fmt.Errorf("the member %q is missing", m)
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("the member %q has the wrong JSON type", te.Field)
		}
		return errors.New("the body does not decode")
	}
	return nil
}

// Account returns the account with id from GET /accounts/{accountId}. A
// 404 returns an error wrapping [ports.ErrNotFound]; an outage never
// does.
func (cl *Client) Account(ctx context.Context, id ports.AccountID) (ports.Account, error) {
	const route = "/accounts/{accountId}"
	c := forAccount(cl.get(route, accountPath(id, ""), nil), id)
	resp, err := cl.do(ctx, c, http.StatusNotFound)
	if err != nil {
		return ports.Account{}, err
	}
	if resp.status == http.StatusNotFound {
		return ports.Account{}, c.errorOf(resp, ErrRejected, ports.ErrNotFound)
	}
	var a Account
	if err := decode(c, resp, &a); err != nil {
		return ports.Account{}, err
	}
	if a.ID != id {
		return ports.Account{}, c.errorOf(resp, ErrBadResponse, errors.New("the account's id differs from the one asked for"))
	}
	return ports.Account(a), nil
}

// list GETs an account's items of one checker endpoint and converts them.
// A checker endpoint answers 200 with no items for an account it does not
// know; a 404 there means a wrong base URL or route, and fails the call
// (ErrRejected) rather than report "nothing found".
func list[W wireBody, T any](ctx context.Context, cl *Client, id ports.AccountID, sub string, conv func(W) T) ([]T, error) {
	c := forAccount(cl.get("/accounts/{accountId}"+sub, accountPath(id, sub), nil), id)
	var body List[json.RawMessage]
	resp, err := cl.getJSON(ctx, c, &body)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(*body.Items))
	for i, raw := range *body.Items {
		var w W
		if err := decodeObject(raw, &w, w.requiredMembers()); err != nil {
			return nil, c.errorOf(resp, ErrBadResponse, fmt.Errorf("item %d: %w", i, err))
		}
		out[i] = conv(w)
	}
	return out, nil
}

// OpenObligations implements [ports.OrderChecker] with GET
// /accounts/{accountId}/obligations.
func (cl *Client) OpenObligations(ctx context.Context, id ports.AccountID) ([]ports.Obligation, error) {
	return list(ctx, cl, id, "/obligations", func(w Obligation) ports.Obligation { return ports.Obligation(w) })
}

// UnusedRights implements [ports.BalanceChecker] with GET
// /accounts/{accountId}/rights.
func (cl *Client) UnusedRights(ctx context.Context, id ports.AccountID) ([]ports.Right, error) {
	return list(ctx, cl, id, "/rights", func(w Right) ports.Right { return ports.Right(w) })
}

// Authorizations implements [ports.AuthorizationStore] with GET
// /accounts/{accountId}/authorizations.
func (cl *Client) Authorizations(ctx context.Context, id ports.AccountID) ([]ports.Authorization, error) {
	return list(ctx, cl, id, "/authorizations", func(w Authorization) ports.Authorization { return ports.Authorization(w) })
}

// SubUsers implements [ports.SubUserStore] with GET
// /accounts/{accountId}/sub-users.
func (cl *Client) SubUsers(ctx context.Context, id ports.AccountID) ([]ports.SubUser, error) {
	return list(ctx, cl, id, "/sub-users", func(w SubUser) ports.SubUser { return ports.SubUser(w) })
}

// APIKeys implements [ports.APIKeyStore] with GET
// /accounts/{accountId}/api-keys.
func (cl *Client) APIKeys(ctx context.Context, id ports.AccountID) ([]ports.APIKey, error) {
	return list(ctx, cl, id, "/api-keys", func(w APIKey) ports.APIKey { return ports.APIKey(w) })
}

// DataHoldings implements [ports.DataInventory] with GET
// /accounts/{accountId}/data-holdings.
func (cl *Client) DataHoldings(ctx context.Context, id ports.AccountID) ([]ports.DataHolding, error) {
	return list(ctx, cl, id, "/data-holdings", func(w DataHolding) ports.DataHolding { return ports.DataHolding(w) })
}

// OpenCases implements [ports.ComplaintChecker] with GET
// /accounts/{accountId}/cases.
func (cl *Client) OpenCases(ctx context.Context, id ports.AccountID) ([]ports.Case, error) {
	return list(ctx, cl, id, "/cases", func(w Case) ports.Case { return ports.Case(w) })
}

// OpenMatters implements [ports.MatterChecker] with GET
// /accounts/{accountId}/matters.
func (cl *Client) OpenMatters(ctx context.Context, id ports.AccountID) ([]ports.Matter, error) {
	return list(ctx, cl, id, "/matters", func(w Matter) ports.Matter { return ports.Matter(w) })
}

// post returns the POST call of route at the escaped path, with key as
// its Idempotency-Key. Without a key it is refused: the host could not
// tell a retry from a new effect, so it could act twice.
func (cl *Client) post(route, path, key string) call {
	c := call{method: http.MethodPost, route: route, path: path, idempotencyKey: key, limit: cl.opt.MaxResponseBytes}
	if key == "" {
		c.refuse = "the idempotency key is empty"
	}
	return c
}

// postJSON runs the POST of route with body as JSON.
func (cl *Client) postJSON(ctx context.Context, route, key string, body any) error {
	c := cl.post(route, route, key)
	var err error
	if c.body, err = json.Marshal(body); err != nil {
		return fmt.Errorf("httpclient: %s: %w", c.endpoint(), err)
	}
	c.contentType = "application/json"
	_, err = cl.do(ctx, c)
	return err
}

// SendCode implements [ports.OTPSender] with POST /otp-messages. The host
// answers 202 when it accepts the message, and again 202 without a second
// delivery for a key it has seen.
func (cl *Client) SendCode(ctx context.Context, msg ports.OTPMessage) error {
	return cl.postJSON(ctx, "/otp-messages", msg.IdempotencyKey, OTPMessage{
		Phone: msg.Phone, Code: msg.Code, Locale: msg.Locale, ExpiresAt: msg.ExpiresAt,
	})
}

// Notify implements [ports.Notifier] with POST /notifications, idempotent
// by Notification.IdempotencyKey as SendCode is.
func (cl *Client) Notify(ctx context.Context, n ports.Notification) error {
	data := n.Data
	if data == nil {
		data = map[string]string{}
	}
	var files []Attachment
	for _, a := range n.Attachments {
		files = append(files, Attachment{Filename: a.Filename, ContentType: a.ContentType, Content: a.Content})
	}
	return cl.postJSON(ctx, "/notifications", n.IdempotencyKey, Notification{
		Channel: n.Channel, To: n.To, AccountID: n.Account, Template: n.Template, Data: data, Locale: n.Locale,
		Attachments: files,
	})
}

// CloseAccount implements [ports.AccountCloser] with POST
// /accounts/{accountId}/close and idempotencyKey as its Idempotency-Key.
// A 404 returns an error wrapping [ports.ErrNotFound].
func (cl *Client) CloseAccount(ctx context.Context, id ports.AccountID, idempotencyKey string) error {
	c := forAccount(cl.post("/accounts/{accountId}/close", accountPath(id, "/close"), idempotencyKey), id)
	resp, err := cl.do(ctx, c, http.StatusNotFound)
	if err != nil {
		return err
	}
	if resp.status == http.StatusNotFound {
		return c.errorOf(resp, ErrRejected, ports.ErrNotFound)
	}
	return nil
}

// documentCall returns the call of method on the document at key; the key
// travels as the query parameter "key", so it may hold any character.
func (cl *Client) documentCall(method, key string) call {
	c := call{method: method, route: "/documents", path: "/documents", query: url.Values{"key": {key}}, limit: cl.opt.MaxResponseBytes}
	if key == "" {
		c.refuse = "the document key is empty"
	}
	return c
}

// PutDocument implements [ports.DocumentStore] with PUT
// /documents?key=KEY, the blob as the body with contentType. A PUT
// replaces, so it is retried like a GET.
func (cl *Client) PutDocument(ctx context.Context, key, contentType string, data []byte) error {
	c := cl.documentCall(http.MethodPut, key)
	c.body, c.contentType = data, contentType
	if c.body == nil {
		c.body = []byte{}
	}
	_, err := cl.do(ctx, c)
	return err
}

// GetDocument implements [ports.DocumentStore] with GET /documents?key=KEY.
// A 404 returns an error wrapping [ports.ErrNotFound]; a blob larger than
// Options.MaxDocumentBytes fails with ErrBadResponse.
func (cl *Client) GetDocument(ctx context.Context, key string) ([]byte, error) {
	c := cl.documentCall(http.MethodGet, key)
	c.limit = cl.opt.MaxDocumentBytes
	resp, err := cl.do(ctx, c, http.StatusNotFound)
	if err != nil {
		return nil, err
	}
	if resp.status == http.StatusNotFound {
		return nil, c.errorOf(resp, ErrRejected, ports.ErrNotFound)
	}
	if resp.body == nil {
		return []byte{}, nil
	}
	return resp.body, nil
}

// DeleteDocument implements [ports.DocumentStore] with DELETE
// /documents?key=KEY. A 404 counts as deleted: a retry after a lost
// answer finds the blob gone.
func (cl *Client) DeleteDocument(ctx context.Context, key string) error {
	_, err := cl.do(ctx, cl.documentCall(http.MethodDelete, key), http.StatusNotFound)
	return err
}

// Holidays returns the host's time zone and its holidays from from to to
// (calendar dates, both included) from GET /calendar/holidays. A host
// passes them to cancellation.NewCalendar once at start-up, and again
// before the range runs out: IsBusinessDay cannot call a service.
func (cl *Client) Holidays(ctx context.Context, from, to time.Time) (*time.Location, []time.Time, error) {
	const route = "/calendar/holidays"
	c := cl.get(route, route, url.Values{"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}})
	var body Holidays
	resp, err := cl.getJSON(ctx, c, &body)
	if err != nil {
		return nil, nil, err
	}
	bad := func(cause error) error { return c.errorOf(resp, ErrBadResponse, cause) }
	loc, err := time.LoadLocation(body.TimeZone)
	if err != nil || body.TimeZone == "" {
		return nil, nil, bad(errors.New(`"time_zone" is not a known IANA time zone`))
	}
	days := make([]time.Time, 0, len(body.Dates))
	for _, d := range body.Dates {
		day, err := time.ParseInLocation(time.DateOnly, d, loc)
		if err != nil {
			return nil, nil, bad(errors.New(`a member of "dates" is not a date YYYY-MM-DD`))
		}
		days = append(days, day)
	}
	return loc, days, nil
}
