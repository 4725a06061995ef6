// Package httpapi serves the cancellation workflow as a REST API: an
// http.Handler over a *cancellation.Service, on the standard library's
// ServeMux (Go 1.22 method patterns), that any router mounts at its root
// or under a prefix (http.StripPrefix). openapi.yaml, embedded as OpenAPI
// and served at /v1/openapi.yaml, documents every endpoint; package client
// is generated from it.
//
// Customer endpoints (the caller's own requests only; another account's
// id answers 404 exactly like an unknown one):
//
//	GET  /v1/notes                              the notes to read, with their version
//	GET  /v1/eligibility                        can I cancel? findings and remedies
//	POST /v1/cancellations                      step 1: 201, Location, ETag
//	GET  /v1/cancellations/active               the request in progress
//	GET  /v1/cancellations/{id}
//	POST /v1/cancellations/{id}/confirmation    step 2: notes version, acknowledgements, consents
//	POST /v1/cancellations/{id}/consents        consent again after the findings changed
//	POST /v1/cancellations/{id}/code            step 3: send a code to the phone on file (202)
//	POST /v1/cancellations/{id}/code/verify     step 3: {"code": "123456"}
//	POST /v1/cancellations/{id}/documents       step 4: multipart "kind" then "file", streamed
//	POST /v1/cancellations/{id}/submit          step 5
//	POST /v1/cancellations/{id}/withdraw
//	POST /v1/cancellations/{id}/data-export/waiver  waive the data export requested at confirmation
//	GET  /v1/cancellations/past?limit=20&cursor=C the caller's own ended requests, newest first
//	GET  /v1/cancellations/{id}/receipt         the signed closing receipt (application/jose); 404 no_receipt while open
//
// Reviewer endpoints:
//
//	GET  /v1/reviews?limit=50&cursor=C          the queue, overdue first; filters claims=unclaimed|mine,
//	                                            overdue=true, account_kind=personal|enterprise
//	GET  /v1/reviews/{id}                       history (verified), documents' facts, consents
//	GET  /v1/reviews/{id}/documents/{kind}      the image, Cache-Control: no-store
//	POST /v1/reviews/{id}/approve               {"note": "..."}: steps 5 and 6
//	POST /v1/reviews/{id}/reject                {"reasons": ["identity_mismatch"], "note": "..."}
//	POST /v1/reviews/{id}/return                ask the customer for more: reason codes, kinds to upload again, note for staff
//	POST /v1/reviews/{id}/erasure-extension     {"months": 2, "reason": "..."}: seniors extend the erasure deadline
//	GET  /v1/effects/stuck?limit=50&cursor=C    effects failing for AttentionAfter (reviewer role)
//	POST /v1/reviews/{id}/effects/retry         {"key": "..."}: retry now (admin role)
//	POST /v1/reviews/{id}/effects/give-up       {"key": "...", "reason": "..."}: never again (admin role);
//	                                            both answer 409 effect_refused with effect_state saying why
//	POST /v1/reviews/{id}/claim                 claim (or renew one's own): 409 claimed names the holder
//	POST /v1/reviews/{id}/claim/renew           extend one's claim
//	POST /v1/reviews/{id}/claim/release         release one's claim
//	POST /v1/reviews/{id}/claim/reassign        {"to": "rev-2"}: admins only
//
// Staff closures (roles checked by the Service):
//
//	GET  /v1/staff-closures                     closures awaiting approval (seniors)
//	POST /v1/staff-closures                     start one for an account (seniors)
//	POST /v1/staff-closures/{id}/evidence       add evidence: multipart, kind "evidence"
//	GET  /v1/staff-closures/{id}/evidence/{n}   read the n-th evidence document
//	POST /v1/staff-closures/{id}/approve        the second senior's approval; justification overrides blockers
//	POST /v1/staff-closures/{id}/decline        {"note": "..."}: decline, the customer is not told
//
// Organisation and back-office endpoints:
//
//	POST /v1/organizations/{org}/closures       {"members": [...]}: an admin of org (a customer principal) starts closing member accounts; each member's outcome, 429 quota_exceeded with retry_at over the quota
//	POST /v1/identifiers/recently-closed        {"identifier": "..."}: did it belong to a recently closed account? (staff the StaffDirectory knows; in the body, out of access logs)
//
// The host's Authenticator turns each request into a Principal (Customer
// or Staff); without one the answer is 401 with WWW-Authenticate.
//
// Errors are RFC 9457 problem details (application/problem+json, type
// ProblemTypeBase+code) with a stable code, mapped from the Service's
// errors in one table (problems, in problem.go): not_eligible (422, with
// the blocked findings and their remedies), consent_required (422, what
// to consent to), invalid_transition (409), validation_failed (422),
// not_found (404), code_locked and code_rate_limited (429 with
// Retry-After), claimed (409, with claimed_by and claimed_until) and
// claim_required (403), unavailable (503 with Retry-After: a port failed and
// nothing was decided), document_rejected (422 with document_problem),
// document_too_large and body_too_large (413), unsupported_media_type
// (415), and the others listed in openapi.yaml. A port's error text, a
// stack or another account's data never reach a response: what the table
// does not know is internal_error (500), its cause logged.
//
// Responses about one request carry its version as a strong ETag.
// Customer writes and reviewer decisions honour If-Match: a stale tag
// answers 412 precondition_failed and changes nothing. The tag is not
// compared by a separate read: it becomes the Service's precondition
// (cancellation.IfVersion), checked in the same optimistic-concurrency
// write as the change, so of two requests sending the same tag at once
// exactly one succeeds and the other answers 412.
//
// Every POST accepts an Idempotency-Key (draft-ietf-httpapi-idempotency-
// key-header) when the Store implements cancellation.IdempotencyStore:
// keys are scoped to the caller, the method, path and body are
// fingerprinted, a retry with the same body replays the first response
// (Idempotent-Replayed: true) without running the operation again, the
// same key with another body answers 422 idempotency_key_reused and a
// retry while the first request still runs 409 idempotency_key_in_use.
// 5xx, 412 and 429 answers are not kept, so their retries run. A
// multipart body is fingerprinted with its boundary left out, as clients
// draw a new boundary for each attempt of the same upload.
//
// JSON bodies (Options.MaxJSONBytes) and uploads (Options.MaxUploadBytes)
// are bounded separately; unknown members, trailing data, wrong content
// types and malformed multipart bodies are refused with a problem before
// anything changes.
package httpapi
