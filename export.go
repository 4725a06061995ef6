package cancellation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Data export before closing (GDPR Art. 20). With Config.Exporter the notes
// step offers an export of the customer's data: Confirmation.DataExport
// requests or waives it. When requested, the export is prepared and its
// link sent to the customer by an effect (EffectDataExport), retried like
// every effect; the account is not closed until that effect is done or the
// customer waives the export (Service.WaiveDataExport). The request
// records which (Request.DataExport).

// ExportChoice is the customer's answer to the offer of a data export.
type ExportChoice string

// Export choices.
const (
	// ExportNotOffered: the Service has no DataExporter; nothing is
	// offered and nothing waits.
	ExportNotOffered ExportChoice = ""
	// ExportRequested: the customer wants the export before closing.
	ExportRequested ExportChoice = "requested"
	// ExportWaived: the customer declined the export, at confirmation or
	// later.
	ExportWaived ExportChoice = "waived"
)

// EffectDataExport prepares the customer's data export through
// Config.Exporter and sends its link to the customer.
const EffectDataExport EffectKind = "data_export"

// Events of the data export.
const (
	EventDataExportDelivered EventType = "data_export_delivered"
	EventDataExportWaived    EventType = "data_export_waived"
)

// TemplateDataExport: the customer's data export is ready. Data:
// DataRequestID, DataExportURL, and DataExportExpiresAt when the link
// expires.
const TemplateDataExport = "data_export_ready"

// Keys of ports.Notification.Data for TemplateDataExport.
const (
	// DataExportURL is the export's download link.
	DataExportURL = "export_url"
	// DataExportExpiresAt is when the link expires, RFC 3339.
	DataExportExpiresAt = "export_expires_at"
)

// DataExport is what the request records of the data export: the choice,
// when it was made, and when the export's link was delivered or the
// export waived. The zero value means no export was offered.
type DataExport struct {
	// Choice is ExportRequested until the customer waives it (then
	// ExportWaived); a delivered export stays ExportRequested with
	// DeliveredAt set.
	Choice      ExportChoice `json:"choice,omitempty"`
	RequestedAt time.Time    `json:"requested_at,omitzero"`
	DeliveredAt time.Time    `json:"delivered_at,omitzero"`
	WaivedAt    time.Time    `json:"waived_at,omitzero"`
}

// Delivered reports whether the export's link was delivered.
func (d DataExport) Delivered() bool { return !d.DeliveredAt.IsZero() }

// pending reports whether closing waits for the export.
func (d *DataExport) pending() bool {
	return d != nil && d.Choice == ExportRequested && d.DeliveredAt.IsZero()
}

// OffersDataExport reports whether the notes step offers a data export
// (the Service has a Config.Exporter): Confirmation.DataExport must then
// answer it.
func (s *Service) OffersDataExport() bool { return s.cfg.Exporter != nil }

// DataExport returns what the request records of the data export (the
// zero DataExport when none was offered).
func (r *Request) DataExport() DataExport {
	if r.d.Export == nil {
		return DataExport{}
	}
	return *r.d.Export
}

// effectWaits reports whether effect e must wait: closing the account
// waits for a requested export.
func (r *Request) effectWaits(e Effect) bool {
	return e.Kind == EffectCloseAccount && r.d.Export.pending()
}

// checkExportChoice checks the confirmation's choice against the Service:
// with an exporter the customer must choose; without one there is nothing
// to choose.
func (s *Service) checkExportChoice(c Confirmation) error {
	switch {
	case s.cfg.Exporter == nil && c.DataExport != ExportNotOffered:
		return invalid("data_export", "no data export is offered (the Service has no DataExporter)")
	case s.cfg.Exporter != nil && c.DataExport == ExportNotOffered:
		return &ConsentRequiredError{Missing: []string{"data_export"}}
	case c.DataExport != ExportNotOffered && c.DataExport != ExportRequested && c.DataExport != ExportWaived:
		return invalid("data_export", fmt.Sprintf("is %q: want %q or %q", c.DataExport, ExportRequested, ExportWaived))
	}
	return nil
}

// recordExportChoice records the confirmation's export choice and, for a
// requested export, the effect that prepares and delivers it.
func (r *Request) recordExportChoice(ec effectCtx, c ExportChoice) {
	switch c {
	case ExportRequested:
		r.d.Export = &DataExport{Choice: c, RequestedAt: ec.now}
		r.addEffect(Effect{Key: r.d.ID + "/data_export", Kind: EffectDataExport}, ec.owner, ec.lease)
	case ExportWaived:
		r.d.Export = &DataExport{Choice: c, WaivedAt: ec.now}
	}
}

// waiveExport records the customer's waiver of a requested export that
// was not delivered yet; closing, if it waited, proceeds.
func (r *Request) waiveExport(ec effectCtx) error {
	switch {
	case r.d.State.Terminal():
		return r.refuse("waive the data export of", "", "the request is final")
	case !r.d.Export.pending():
		return r.refuse("waive the data export of", "", "no requested export is waiting")
	}
	r.d.Export.Choice, r.d.Export.WaivedAt = ExportWaived, ec.now
	if e := r.effect(r.d.ID + "/data_export"); e != nil && !e.Done() {
		e.DoneAt, e.LastError, e.LeaseOwner, e.LeaseUntil = ec.now, "waived by the customer", "", time.Time{}
	}
	r.record(ec.now, Actor{Kind: ActorCustomer, ID: string(r.d.Account)}, EventDataExportWaived, nil)
	r.releaseClose(ec)
	return nil
}

// exportDelivered records the delivery of the export's link; closing, if
// it waited, proceeds.
func (r *Request) exportDelivered(ec effectCtx) {
	if !r.d.Export.pending() {
		return
	}
	r.d.Export.DeliveredAt = ec.now
	r.record(ec.now, systemActor, EventDataExportDelivered, nil)
	r.releaseClose(ec)
}

// releaseClose claims a close effect that waited for the export, so that
// the change that ended the wait carries it out (or, deferred, the runner).
func (r *Request) releaseClose(ec effectCtx) {
	if e := r.effect(r.d.ID + "/close_account"); e != nil && !e.Done() {
		e.LeaseOwner, e.LeaseUntil, e.NextAttemptAt = ec.owner, ec.lease, time.Time{}
	}
}

// WaiveDataExport records that the customer no longer wants the data
// export they requested at confirmation: an account whose closing waited
// for it is closed now. It fails with ErrInvalidTransition when no
// requested export is waiting (none was requested, it was delivered or
// waived already, or the request is final). It never returns a request
// with an error.
func (s *Service) WaiveDataExport(ctx context.Context, account ports.AccountID, id string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpWaiveDataExport)(&err)
	return s.mutate(ctx, customer(account), id, func(r *Request, ec effectCtx) error {
		return r.waiveExport(ec)
	})
}

// exportData prepares the export and sends its link to the customer, by
// email (by SMS when the account has no email). The contact is read now,
// not stored in the effect, and the link is not stored at all.
func (s *Service) exportData(ctx context.Context, r *Request, e Effect) error {
	if s.cfg.Exporter == nil {
		return errors.New("no DataExporter is configured: the export waits for one")
	}
	acct, err := s.anyAccount(ctx, r.Account())
	if err != nil {
		return err
	}
	ref, err := s.cfg.Exporter.PrepareExport(ctx, r.Account(), e.Key)
	if err != nil {
		return fmt.Errorf("preparing the export: %w", err)
	}
	if ref.URL == "" {
		return errors.New("the DataExporter returned no URL")
	}
	n := ports.Notification{
		IdempotencyKey: e.Key + "/notify", Channel: ports.ChannelEmail, To: acct.Email,
		Account: r.Account(), Template: TemplateDataExport, Locale: acct.Locale,
		Data: map[string]string{DataRequestID: r.ID(), DataExportURL: ref.URL},
	}
	if !ref.ExpiresAt.IsZero() {
		n.Data[DataExportExpiresAt] = ref.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if acct.Email == "" {
		n.Channel, n.To = ports.ChannelSMS, acct.RecoveryPhone
	}
	if n.To == "" {
		return errors.New("the account has no email or phone to send the export's link to")
	}
	if err := s.cfg.Notifier.Notify(ctx, n); err != nil {
		return fmt.Errorf("sending the export's link: %w", err)
	}
	return nil
}
