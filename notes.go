package cancellation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Notes is the text a customer reads before confirming (seed step 2). Its
// Version is a hash of the text, recorded with the confirmation as
// evidence of what was shown.
type Notes struct {
	// Language is the BCP 47 tag of the text ("en", "zh-CN"); empty
	// means English. It is not part of Version, which hashes the text.
	Language string `json:"language,omitempty"`
	Version  string `json:"version"`
	Title    string `json:"title"`
	Intro    string `json:"intro"`
	Items    []Note `json:"items"`
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
	n := NewNotes(
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
	n.Language = "en"
	return n
}

// DefaultTranslations returns the library's translations of DefaultNotes:
// Simplified Chinese (zh-CN), each with its own version.
func DefaultTranslations() []Notes {
	zh := NewNotes(
		"注销账号前请阅读",
		"账号注销是不可恢复的操作：账号一经注销便无法找回。"+
			"申请前请备份账号下的所有内容，以免您的资产、资源和信息受到影响。",
		"账号下没有未完成的订单或服务，没有未付或未结清的账单，也没有法律规定须履行的其他义务。",
		"账号中未使用的权益（现金余额、礼品卡、代金券、云资源）在申请时即被放弃，之后无法再使用。",
		"您已解除账号与第三方网站、应用及其他账号的绑定并撤销所有外部授权，或确定保留它们不会损害您或第三方。",
		"您已删除账号的所有协作者、子用户和消息接收人（在“用户管理”中）。",
		"您已删除账号的所有 API 密钥（在“API 密钥管理”中）。",
		"您已迁移并备份账号下的所有数据和信息，或放弃保留和找回它们的任何权利。",
		"您申请注销不是为了逃避正在进行或预期发生的投诉、纠纷或诉讼，也不是为了逃避主管部门或法律的监管。",
		"账号未涉及任何投诉或举报。",
		"您已处理可能影响您权益的其他事项。",
	)
	zh.Language = "zh-CN"
	return []Notes{zh}
}

// NotesTranslations returns the notes in the other languages the Service
// offers (Config.NotesTranslations), each with its own version.
func (s *Service) NotesTranslations() []Notes {
	out := make([]Notes, len(s.notesIn))
	for i, n := range s.notesIn {
		n.Items = slices.Clone(n.Items)
		out[i] = n
	}
	return out
}

// notesTranslations picks the translations a Service offers.
func notesTranslations(cfg Config) []Notes {
	if cfg.Notes == nil && cfg.NotesTranslations == nil {
		return DefaultTranslations()
	}
	out := make([]Notes, 0, len(cfg.NotesTranslations))
	for _, n := range cfg.NotesTranslations {
		n.Items = slices.Clone(n.Items)
		out = append(out, n)
	}
	return out
}

// notesVersion returns the notes, in any language offered, whose version
// is v; the main notes when none has it (Confirm then refuses as stale).
func (s *Service) notesVersion(v string) Notes {
	for _, n := range s.notesIn {
		if n.Version == v {
			return n
		}
	}
	return s.notes
}
