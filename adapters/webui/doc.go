// Package webui is a web console for the cancellation workflow: the
// customer's wizard and the reviewer's desk, as server-rendered pages
// (html/template, assets embedded, no build step, no CDN) that work
// without JavaScript, in English and Simplified Chinese.
//
// Mount one Handler at the root of a site: the customer's wizard is under
// / and the reviewer's desk under /review/. The host authenticates with an
// Authenticator over its own sessions; the example server adapts the HTTP
// API's dev tokens to it (see DevToken and Options.DevAccounts).
//
// The wizard has one page per step with a progress indicator of the six
// steps: eligibility with every finding, its items and remedy; the notes
// in the page's language with the irreversibility acknowledgement, the
// attestations and one consent per finding that needs it (asked again when
// the items changed); the one-time code with the attempts left and the
// time a new code may be asked for; the documents, a refusal shown with
// its reason and measurements; submission; the status page with the due
// date, the history and withdrawal while allowed; and the final
// "cancelled" page. The desk lists the queue overdue first, shows a
// request with its eligibility snapshot, consents with their items,
// attestations, documents as images with their measured facts and the
// verified history, and approves or rejects with reason codes and a note.
//
// Languages are chosen by Accept-Language, switched with a link on every
// page and remembered in a cookie. Catalogues are locales/en.json and
// locales/zh-CN.json, formatted with golang.org/x/text/message; the
// library's own finding summaries, remedies and places are translated, a
// host's own words are shown as they are. Notification renders the
// workflow's notification templates in an account's language.
//
// Safety: forms are refused when posted from another origin
// (http.CrossOriginProtection), the Content-Security-Policy allows no
// inline script or style, cookies are HttpOnly and SameSite=Lax, and
// Secure unless the site is plain HTTP on a loopback address; uploads are
// bounded by Options.MaxUploadBytes as in the HTTP API.
package webui
