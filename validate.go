package cancellation

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/accountkit/cancellation/ports"
)

// MaxIDLength is the longest identifier the library accepts, in bytes:
// account ids (from a caller or from the AccountDirectory), request ids,
// reviewer ids and the refs of the items that rules report.
const MaxIDLength = 256

// MaxNoteLength is the longest free text staff write that the library
// accepts, in characters (Unicode code points, as
// utf8.RuneCountInString counts them): the note of Approve, Reject,
// AskForMore (MoreRequest.Note), StartStaffClosure
// (StaffClosureStart.Note), ApproveStaffClosure (StaffApproval.Note and
// StaffApproval.Justification) and DeclineStaffClosure. Such text is
// stored in the request and its history, and read with it on every
// read. Longer text is a ValidationError naming the field ("note" or
// "justification"), returned before anything is read or changed.
const MaxNoteLength = 2000

// checkText refuses text of more than max characters (code points) with
// a ValidationError naming field; it does not echo the text.
func checkText(field, text string, max int) error {
	if len(text) <= max { // never more characters than bytes
		return nil
	}
	if n := utf8.RuneCountInString(text); n > max {
		return invalid(field, fmt.Sprintf("it is %d characters long, more than %d", n, max))
	}
	return nil
}

// checkNote is checkText with MaxNoteLength.
func checkNote(field, text string) error { return checkText(field, text, MaxNoteLength) }

// CheckID reports whether id is acceptable as an identifier: not empty
// (nor only white space), at most MaxIDLength bytes, valid UTF-8 and free
// of NUL and other control characters. The error is a *ValidationError
// for field (errors.Is(err, ErrInvalidInput) is true); it describes the
// problem without echoing the id, which may be megabytes of anything.
//
// The Service checks every id it receives with it before any port or the
// Store is called; Store implementations use ValidID to answer a
// malformed id with ErrNotFound instead of a driver error.
func CheckID(field, id string) error {
	if p := idProblem(id); p != "" {
		return invalid(field, p)
	}
	return nil
}

// ValidID reports whether CheckID accepts id. A Store answers a lookup by
// an id it does not accept as it answers any unknown id: ErrNotFound (or
// no rows), without asking its database, since no such id can be stored.
func ValidID(id string) bool { return idProblem(id) == "" }

// idProblem says what is wrong with id, or "" when nothing is.
func idProblem(id string) string {
	if len(id) <= MaxIDLength && printableASCII(id) {
		return "" // the common case, in one pass over the bytes
	}
	return idChecks(id)
}

// idChecks is idProblem without its shortcut: each check in turn.
func idChecks(id string) string {
	switch {
	case strings.TrimSpace(id) == "":
		return "it is empty"
	case len(id) > MaxIDLength:
		return fmt.Sprintf("it is %d bytes long, more than %d", len(id), MaxIDLength)
	case !utf8.ValidString(id):
		return "it is not valid UTF-8"
	case strings.IndexByte(id, 0) >= 0:
		return "it contains a NUL byte"
	case strings.ContainsFunc(id, unicode.IsControl):
		return "it contains a control character"
	}
	return ""
}

// printableASCII reports whether id is printable ASCII (space to tilde)
// with a character other than a space: such an id passes every check of
// idProblem, which then needs no more than this one pass.
func printableASCII(id string) bool {
	seen := false
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c < ' ' || c > '~':
			return false
		case c != ' ':
			seen = true
		}
	}
	return seen
}

// checkAccountID checks an account id given by a caller.
func checkAccountID(id ports.AccountID) error { return CheckID("account", string(id)) }

// checkIDs checks the account and request ids of a customer operation.
func checkIDs(account ports.AccountID, id string) error {
	if err := checkAccountID(account); err != nil {
		return err
	}
	return CheckID("id", id)
}

// check is the one rule for a reviewer at every reviewer entry point
// (Queue, Review, ReviewDocument, Approve, Reject): an id that CheckID
// accepts (so never blank or white space only) and, when given, a valid
// own account id.
func (rv Reviewer) check() error {
	if err := CheckID("reviewer", rv.ID); err != nil {
		return err
	}
	if rv.Account != "" {
		return CheckID("reviewer account", string(rv.Account))
	}
	return nil
}

// checkDirectoryAccount checks the account the AccountDirectory returned
// for id: the same, well-formed id.
func checkDirectoryAccount(id ports.AccountID, acct ports.Account) error {
	if acct.ID != id {
		return invalid("account from the AccountDirectory", "its id differs from the id asked for")
	}
	return nil
}

// checkItemRefs checks the refs of the items a rule found, which come from
// a host port. An empty ref is allowed; a malformed one makes the rule
// fail (and so block, failing closed).
func checkItemRefs(items []Item) error {
	for i, it := range items {
		if it.Ref == "" {
			continue
		}
		if p := idProblem(it.Ref); p != "" {
			return invalid(fmt.Sprintf("items[%d].ref", i), p)
		}
	}
	return nil
}
