package ports

import (
	"fmt"
	"log/slog"
	"time"
)

// OTPMessage and Notification carry a one-time code, phone numbers, email
// addresses and template data (a reviewer's note). Both implement
// fmt.Formatter and slog.LogValuer over a view without them, so that an
// adapter that prints or logs a message reveals none of it.

// formatSafe prints safe for the verb: %v, %+v and %#v print its fields,
// %s its %v form and %q that form quoted; other verbs print as fmt prints
// a bad verb, without the value.
func formatSafe(f fmt.State, verb rune, safe any) {
	switch verb {
	case 'v':
		fmt.Fprintf(f, fmt.FormatString(f, verb), safe)
	case 's':
		fmt.Fprintf(f, "%v", safe)
	case 'q':
		fmt.Fprintf(f, "%q", fmt.Sprintf("%v", safe))
	default:
		fmt.Fprintf(f, "%%!%c(%T)", verb, safe)
	}
}

type otpMessageLog struct {
	Locale         string
	ExpiresAt      time.Time
	IdempotencyKey string
}

func (m OTPMessage) safe() otpMessageLog {
	return otpMessageLog{Locale: m.Locale, ExpiresAt: m.ExpiresAt, IdempotencyKey: m.IdempotencyKey}
}

// Format prints the message without its code and phone number.
func (m OTPMessage) Format(f fmt.State, verb rune) { formatSafe(f, verb, m.safe()) }

// LogValue logs the message without its code and phone number.
func (m OTPMessage) LogValue() slog.Value { return slog.AnyValue(m.safe()) }

type notificationLog struct {
	IdempotencyKey string
	Channel        Channel
	Account        AccountID
	Template       string
	Locale         string
}

func (n Notification) safe() notificationLog {
	return notificationLog{IdempotencyKey: n.IdempotencyKey, Channel: n.Channel, Account: n.Account, Template: n.Template, Locale: n.Locale}
}

// Format prints the notification without its address and data.
func (n Notification) Format(f fmt.State, verb rune) { formatSafe(f, verb, n.safe()) }

// LogValue logs the notification without its address and data.
func (n Notification) LogValue() slog.Value { return slog.AnyValue(n.safe()) }
