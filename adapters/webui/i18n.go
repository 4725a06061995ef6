package webui

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

//go:embed locales/*.json
var localeFS embed.FS

// supported are the console's languages, the first the default; their
// catalogues are locales/<tag>.json and must hold the same keys.
var (
	supported = []language.Tag{language.English, language.MustParse("zh-CN")}
	langNames = []string{"English", "简体中文"}
	matcher   = language.NewMatcher(supported)
)

// catalogues holds every language's messages: the x/text catalogue that
// formats them, and the raw texts for reverse look-ups.
type catalogues struct {
	cat *catalog.Builder
	raw map[language.Tag]map[string]string
}

func loadCatalogues() (*catalogues, error) {
	c := &catalogues{cat: catalog.NewBuilder(catalog.Fallback(language.English)), raw: map[language.Tag]map[string]string{}}
	for _, t := range supported {
		b, err := localeFS.ReadFile("locales/" + t.String() + ".json")
		if err != nil {
			return nil, fmt.Errorf("webui: catalogue %s: %w", t, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("webui: catalogue %s: %w", t, err)
		}
		for k, v := range m {
			if err := c.cat.SetString(t, k, v); err != nil {
				return nil, fmt.Errorf("webui: catalogue %s key %s: %w", t, k, err)
			}
		}
		c.raw[t] = m
	}
	return c, nil
}

// localizer formats the messages of one language.
type localizer struct {
	tag language.Tag
	p   *message.Printer
	c   *catalogues
}

func (c *catalogues) localizer(t language.Tag) *localizer {
	return &localizer{tag: t, p: message.NewPrinter(t, message.Catalog(c.cat)), c: c}
}

// Lang is the BCP 47 tag of the page, for <html lang>.
func (l *localizer) Lang() string { return l.tag.String() }

// T formats the message of key with args (fmt verbs, as in the catalogue).
func (l *localizer) T(key string, args ...any) string {
	msg, ok := l.c.raw[l.tag][key]
	if !ok {
		return key // a missing key shows itself: the catalogue tests catch it
	}
	if !strings.Contains(msg, "%") {
		return msg
	}
	return l.p.Sprintf(key, args...)
}

// Has reports whether the catalogue has key.
func (l *localizer) Has(key string) bool { _, ok := l.c.raw[l.tag][key]; return ok }

// Time formats an instant in UTC in the language's style.
func (l *localizer) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(l.T("format.datetime"))
}

// Money formats an amount in minor units.
func (l *localizer) Money(m ports.Money) string {
	if m.Currency == "" && m.Amount == 0 {
		return ""
	}
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, a/100, a%100, m.Currency)
}

// Maybe translates key when the catalogue has it, else returns fallback.
func (l *localizer) Maybe(key, fallback string) string {
	if l.Has(key) {
		return l.T(key)
	}
	return fallback
}

// translated returns the text of key in this language when the English
// text of key, formatted with args, is english; else english itself. It
// translates the library's own words and leaves a host's own as they are.
func (l *localizer) translated(key, english string, args ...any) string {
	en, ok := l.c.raw[language.English][key]
	if !ok {
		return english
	}
	if !strings.Contains(en, "%") {
		args = nil
	}
	if message.NewPrinter(language.English, message.Catalog(l.c.cat)).Sprintf(key, args...) != english {
		return english
	}
	return l.T(key, args...)
}

// Summary is a finding's summary in this language.
func (l *localizer) Summary(f cancellation.Finding) string {
	if f.Error != "" || f.Code == cancellation.FindingCheckerUnavailable {
		return l.T("finding.error")
	}
	return l.translated("finding."+f.Rule+"."+string(f.Outcome), f.Summary, len(f.Items))
}

// Action is a remedy's action in this language.
func (l *localizer) Action(f cancellation.Finding) string {
	if f.Remedy == nil {
		return ""
	}
	return l.translated("remedy."+f.Rule, f.Remedy.Action)
}

// Where is where a remedy sends the customer, in this language.
func (l *localizer) Where(f cancellation.Finding) string {
	if f.Remedy == nil {
		return ""
	}
	return l.translated("where."+f.Rule, f.Remedy.Where)
}

// localize picks the page language: ?lang= (remembered in a cookie), the
// cookie, then Accept-Language.
func (h *Handler) localize(w http.ResponseWriter, r *http.Request) *localizer {
	var prefs []language.Tag
	if q := r.URL.Query().Get("lang"); q != "" {
		if t, err := language.Parse(q); err == nil {
			_, i, conf := matcher.Match(t)
			if conf != language.No {
				h.setCookie(w, r, LangCookie, supported[i].String(), 365*24*3600)
				return h.cat.localizer(supported[i])
			}
		}
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if t, err := language.Parse(c.Value); err == nil {
			prefs = append(prefs, t)
		}
	}
	if len(prefs) == 0 {
		prefs, _, _ = language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	}
	_, i, _ := matcher.Match(prefs...)
	return h.cat.localizer(supported[i])
}

// Match returns the console language closest to a BCP 47 tag ("zh",
// "zh-Hans-CN", "en-GB"): English when nothing is close.
func Match(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return supported[0].String()
	}
	_, i, _ := matcher.Match(t)
	return supported[i].String()
}

// Notification renders a notification of the workflow (ports.Notification
// templates "review_approved", "review_rejected", "cancelled",
// "withdrawn", "more_requested") as a subject and a body in the language of its Locale, for
// a Notifier that sends text. Reason codes are listed in that language.
func Notification(n ports.Notification) (subject, body string, err error) {
	c, err := defaultCatalogues()
	if err != nil {
		return "", "", err
	}
	l := c.localizer(supported[indexOf(Match(n.Locale))])
	key := "notify." + n.Template
	if !l.Has(key + ".subject") {
		return "", "", fmt.Errorf("webui: no notification template %q", n.Template)
	}
	var reasons []string
	for _, rc := range strings.Split(n.Data["reasons"], ",") {
		if rc = strings.TrimSpace(rc); rc != "" {
			reasons = append(reasons, l.Maybe("reason."+rc, rc))
		}
	}
	sep := l.T("list.separator")
	scheduled := ""
	if at := n.Data["scheduled_for"]; at != "" {
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			at = l.Time(t)
		}
		scheduled = l.T("notify.scheduled_for", at)
	}
	var docs []string
	for _, k := range strings.Split(n.Data["documents"], ",") {
		if k = strings.TrimSpace(k); k != "" {
			docs = append(docs, l.Maybe("kind."+k, k))
		}
	}
	body = l.T(key+".body", n.Data["request_id"], scheduled, strings.Join(reasons, sep), n.Data["note"], strings.Join(docs, sep))
	return l.T(key + ".subject"), body, nil
}

func indexOf(tag string) int {
	for i, t := range supported {
		if t.String() == tag {
			return i
		}
	}
	return 0
}

// defaultCatalogues loads the embedded catalogues once.
var defaultCatalogues = sync.OnceValues(loadCatalogues)

// keys returns the sorted keys of a language's catalogue (for tests).
func (c *catalogues) keys(t language.Tag) []string {
	out := make([]string, 0, len(c.raw[t]))
	for k := range c.raw[t] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Event names a history event in this language; a carried-out effect says
// which (a notification by its channel, the account closed, documents
// purged), read from the effect key "<request>/<what>[/<channel>]".
func (l *localizer) Event(e cancellation.Event) string {
	if e.Type == cancellation.EventEffectDone {
		parts := strings.Split(e.Data["effect"], "/")
		switch {
		case len(parts) == 2 && l.Has("event.effect."+parts[1]):
			return l.T("event.effect." + parts[1])
		case len(parts) == 3:
			return l.T("event.effect.notify", l.Maybe("notify."+parts[1]+".subject", parts[1]), l.Maybe("channel."+parts[2], parts[2]))
		}
	}
	return l.Maybe("event."+string(e.Type), string(e.Type))
}
