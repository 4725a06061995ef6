package webui

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// TestEveryKeyExistsInEveryLanguage fails when a key is in one catalogue
// and not in the other, or when a message's arguments differ.
func TestEveryKeyExistsInEveryLanguage(t *testing.T) {
	c, err := loadCatalogues()
	require.NoError(t, err)
	en, zh := c.keys(supported[0]), c.keys(supported[1])
	require.Equal(t, en, zh, "the English and zh-CN catalogues must hold the same keys")
	verbs := regexp.MustCompile(`%(\[\d\])?[a-z]`)
	for _, k := range en {
		require.ElementsMatch(t, verbs.FindAllString(c.raw[supported[0]][k], -1), verbs.FindAllString(c.raw[supported[1]][k], -1),
			"key %s: both languages take the same arguments", k)
		require.NotEmpty(t, c.raw[supported[1]][k], "key %s", k)
	}
}

// TestCataloguesDifferByKeySetAreCaught shows the check above can fail: a
// catalogue with an extra key differs.
func TestCataloguesDifferByKeySetAreCaught(t *testing.T) {
	c, err := loadCatalogues()
	require.NoError(t, err)
	c.raw[supported[1]]["only.in.chinese"] = "仅中文"
	require.NotEqual(t, c.keys(supported[0]), c.keys(supported[1]))
}

// TestEveryKeyUsedIsInTheCatalogue reads the templates and the Go code for
// the keys they use, with every value of the keys they build (states,
// events, reasons, document kinds, problems), and finds each in the
// catalogue.
func TestEveryKeyUsedIsInTheCatalogue(t *testing.T) {
	c, err := loadCatalogues()
	require.NoError(t, err)
	used := map[string]bool{}
	lit := regexp.MustCompile(`(?:\.T|\.Maybe|withStep\(\d\)\.Title = c\.l\.T) ?\(?"([a-z_.0-9]+)"`)
	add := func(text string) {
		for _, m := range lit.FindAllStringSubmatch(text, -1) {
			if !strings.HasSuffix(m[1], ".") {
				used[m[1]] = true
			}
		}
	}
	require.NoError(t, fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		add(string(b))
		return err
	}))
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range gofiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		add(string(b))
	}
	for _, s := range cancellation.States {
		used["state."+string(s)], used["status.explain."+string(s)] = true, true
	}
	for _, r := range cancellation.ReasonCodes {
		used["reason."+string(r)] = true
	}
	for _, k := range []cancellation.DocumentKind{cancellation.DocumentPassport, cancellation.DocumentDriversLicence, cancellation.DocumentBusinessLicence} {
		used["kind."+string(k)] = true
	}
	for _, o := range []cancellation.Outcome{cancellation.OutcomePass, cancellation.OutcomeNeedsConsent, cancellation.OutcomeBlocked} {
		used["outcome."+string(o)] = true
	}
	for _, k := range []ports.AccountKind{ports.Personal, ports.Enterprise} {
		used["account."+string(k)] = true
	}
	for _, e := range []cancellation.EventType{cancellation.EventStarted, cancellation.EventConfirmed, cancellation.EventCodeSent, cancellation.EventPhoneVerified,
		cancellation.EventDocumentUploaded, cancellation.EventSubmitted, cancellation.EventApproved, cancellation.EventCancelled, cancellation.EventRejected, cancellation.EventWithdrawn} {
		used["event."+string(e)] = true
	}
	for _, p := range []cancellation.DocumentProblem{cancellation.DocumentEmpty, cancellation.DocumentTooLarge, cancellation.DocumentUnsupportedFormat,
		cancellation.DocumentTooManyPixels, cancellation.DocumentCorrupt, cancellation.DocumentTooSmall, cancellation.DocumentBlank, cancellation.DocumentNotColour} {
		used["problem.document."+string(p)] = true
	}
	for i := 1; i <= 6; i++ {
		used["step."+string(rune('0'+i))] = true
	}
	require.Greater(t, len(used), 150, "the scan found the keys")
	for k := range used {
		_, ok := c.raw[supported[0]][k]
		require.True(t, ok, "key %q is used but not in the catalogue", k)
	}
}

// TestEveryFindingSummaryAndRemedyIsTranslated evaluates every default rule
// with items and checks that zh-CN shows its own words for the summary,
// the remedy and the place, never the library's English.
func TestEveryFindingSummaryAndRemedyIsTranslated(t *testing.T) {
	c, err := loadCatalogues()
	require.NoError(t, err)
	zh := c.localizer(supported[1])
	en := c.localizer(supported[0])
	rules := cancellation.DefaultRules(fakeCheckers())
	for _, r := range rules {
		f, err := r.Check(t.Context(), ports.Account{ID: "a"})
		require.NoError(t, err)
		f.Rule = r.Name()
		require.NotEqual(t, cancellation.OutcomePass, f.Outcome, r.Name())
		require.Equal(t, f.Summary, en.Summary(f), "the English catalogue has the library's words for %s", r.Name())
		require.NotEqual(t, f.Summary, zh.Summary(f), "zh-CN summary of %s", r.Name())
		require.Regexp(t, `\p{Han}`, zh.Summary(f), r.Name())
		if f.Remedy != nil && f.Remedy.Action != "" {
			require.Regexp(t, `\p{Han}`, zh.Action(f), r.Name())
			require.Regexp(t, `\p{Han}`, zh.Where(f), r.Name())
		}
	}
	// A host's own words are shown as they are.
	own := cancellation.Finding{Rule: cancellation.RuleAPIKeys, Outcome: cancellation.OutcomeBlocked, Summary: "host words",
		Remedy: &cancellation.Remedy{Action: "host action", Where: "Host Console"}}
	require.Equal(t, "host words", zh.Summary(own))
	require.Equal(t, "host action", zh.Action(own))
	require.Equal(t, "Host Console", zh.Where(own))
}
