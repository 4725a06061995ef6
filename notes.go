package cancellation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Notes is the text a customer reads before confirming (seed step 2). Its
// Version is a hash of the text, recorded with the confirmation as
// evidence of what was shown.
type Notes struct {
	Version string `json:"version"`
	Title   string `json:"title"`
	Intro   string `json:"intro"`
	Items   []Note `json:"items"`
}

// Note is one numbered note.
type Note struct {
	Number int    `json:"number"`
	Text   string `json:"text"`
}

// NewNotes builds Notes from a title, an introduction and the numbered
// items, computing the version hash. Hosts use it for their own wording or
// translation; the version changes whenever the text does.
func NewNotes(title, intro string, items ...string) Notes {
	n := Notes{Title: title, Intro: intro}
	h := sha256.New()
	fmt.Fprintf(h, "%q\n%q\n", title, intro)
	for i, t := range items {
		n.Items = append(n.Items, Note{Number: i + 1, Text: t})
		fmt.Fprintf(h, "%d %q\n", i+1, t)
	}
	n.Version = "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
	return n
}

// String renders the notes as plain text.
func (n Notes) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n\n", n.Title, n.Intro)
	for _, it := range n.Items {
		fmt.Fprintf(&b, "%d. %s\n", it.Number, it.Text)
	}
	return b.String()
}

// DefaultNotes returns the library's English notes, one per precondition
// of the seed, in the library's own words.
func DefaultNotes() Notes {
	return NewNotes(
		"Before you cancel your account",
		"Cancelling an account is permanent: a cancelled account cannot be restored. "+
			"Back up everything under the account before you apply, so that your assets, "+
			"resources and information are not affected.",
		"You have no unfinished orders or services, no unpaid or unsettled bills, and no other obligations the law requires you to fulfil.",
		"Any unused rights left in the account (cash balance, gift cards, vouchers, cloud resources) are forfeited when you apply: you can no longer use them.",
		"You have unbound the account from third-party websites, apps and other accounts and revoked every external authorization, or you are sure that keeping them harms neither you nor the third parties.",
		"You have deleted all collaborators, sub-users and message recipients of the account (in User Management).",
		"You have deleted all API keys of the account (in API Key Management).",
		"You have migrated and backed up all data and information under the account, or you give up any right to keep or retrieve it.",
		"You are not applying in order to avoid complaints, disputes or lawsuits that are under way or expected, nor to avoid supervision by the authorities or the law.",
		"The account is not involved in any complaint or report.",
		"You have dealt with any other matter that may affect your rights.",
	)
}
