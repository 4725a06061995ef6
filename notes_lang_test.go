package cancellation_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// TestConfirmAcceptsTheVersionOfAnyLanguageOffered: a customer who read
// the Chinese notes is not refused as stale, the event records the version
// read, and a version no language has is still refused.
func TestConfirmAcceptsTheVersionOfAnyLanguageOffered(t *testing.T) {
	f := setup(t)
	zh := f.svc.NotesTranslations()
	require.Len(t, zh, 1)
	require.Equal(t, "zh-CN", zh[0].Language)
	require.Len(t, zh[0].Items, len(f.svc.Notes().Items), "one translated note per note")
	require.NotEqual(t, f.svc.Notes().Version, zh[0].Version, "each language has its own version")

	f.personal("zh-reader")
	r := f.start("zh-reader")
	c := f.fullConfirmation("zh-reader")
	c.NotesVersion = "sha256:0000000000000000"
	_, err := f.svc.Confirm(f.ctx, "zh-reader", r.ID(), c)
	require.ErrorIs(t, err, cancellation.ErrStaleNotes)

	c.NotesVersion = zh[0].Version
	r, err = f.svc.Confirm(f.ctx, "zh-reader", r.ID(), c)
	require.NoError(t, err)
	require.Equal(t, cancellation.StateConfirmed, r.State())
	h := f.history(r.ID())
	require.Equal(t, zh[0].Version, h[len(h)-1].Data["notes_version"])
}

// TestHostNotesWithoutTranslationsOfferOnlyThemselves: a host that brings
// its own notes is not given the library's Chinese text for them.
func TestHostNotesWithoutTranslationsOfferOnlyThemselves(t *testing.T) {
	own := cancellation.NewNotes("Title", "Intro", "one")
	f := setup(t, func(c *cancellation.Config) { c.Notes = &own })
	require.Empty(t, f.svc.NotesTranslations())
	f.personal("own-notes")
	r := f.start("own-notes")
	c := f.fullConfirmation("own-notes")
	c.NotesVersion = cancellation.DefaultTranslations()[0].Version
	_, err := f.svc.Confirm(f.ctx, "own-notes", r.ID(), c)
	require.ErrorIs(t, err, cancellation.ErrStaleNotes)
}
