package webui

import (
	"net/http"
	"net/url"

	"github.com/accountkit/cancellation"
)

// stuckView is the data of the stuck-effects page.
type stuckView struct {
	Effects []cancellation.StuckEffect
	Next    string
}

// stuck shows the effects that keep failing, with forms for an admin to
// retry or give up each (the Service refuses others with ErrForbidden).
func (h *Handler) stuck(d *desk) {
	page, err := h.svc.StuckEffects(ctx(d.r), d.rv, cancellation.StuckOptions{After: d.r.URL.Query().Get("after")})
	if err != nil {
		h.deskFail(d, "", err)
		return
	}
	v := stuckView{Effects: page.Effects}
	if page.Next != "" {
		v.Next = "/review/effects?" + url.Values{"after": {page.Next}}.Encode()
	}
	d.p.Title = d.l.T("stuck.title")
	d.p.Data = v
	h.render(d.w, http.StatusOK, "stuck", d.p)
}

// effectAction posts an admin's retry (giveUp false) or give-up of the
// effect named by the form, then returns to the stuck-effects page.
func (h *Handler) effectAction(giveUp bool) func(d *desk) {
	return func(d *desk) {
		d.r.Body = http.MaxBytesReader(d.w, d.r.Body, 64<<10)
		if err := d.r.ParseForm(); err != nil {
			h.deskFail(d, "", badForm(err))
			return
		}
		id, key := d.r.PostFormValue("request"), d.r.PostFormValue("key")
		var err error
		if giveUp {
			_, err = h.svc.GiveUpEffect(ctx(d.r), d.rv, id, key, formText(d.r, "reason"))
		} else {
			_, err = h.svc.RetryEffect(ctx(d.r), d.rv, id, key)
		}
		if err != nil {
			h.deskFail(d, "", err)
			return
		}
		http.Redirect(d.w, d.r, "/review/effects", http.StatusSeeOther)
	}
}
