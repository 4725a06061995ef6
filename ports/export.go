package ports

//go:generate go tool mockgen -typed -destination=mocks/export.go -package=mocks . DataExporter

import (
	"context"
	"time"
)

// ExportRef is where a prepared export of a customer's data can be
// downloaded, and until when.
type ExportRef struct {
	// URL is the download link sent to the customer. It should be
	// unguessable and expire; the library keeps it only until the message
	// carrying it is delivered.
	URL string
	// ExpiresAt is when the link stops working (zero: the host did not
	// say).
	ExpiresAt time.Time
}

// DataExporter prepares an export of everything the platform holds of a
// customer's account in a portable form (GDPR Art. 20), before the account
// is closed.
//
// PrepareExport returns once the export is ready to download. It must be
// idempotent by idempotencyKey: a retry after a failure or a crash, with
// the same key, returns the same export (or a fresh link to it) rather
// than preparing another. Any error is retried with backoff; closing waits
// meanwhile. It must be safe for concurrent use.
type DataExporter interface {
	PrepareExport(ctx context.Context, account AccountID, idempotencyKey string) (ExportRef, error)
}
