package webui_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/webui"
)

// TestNotesPageOffersTheDataExportAndRecordsTheChoice: with an exporter
// the notes page asks whether to export the customer's data first; the
// form is refused without an answer, and the answer is recorded.
func TestNotesPageOffersTheDataExportAndRecordsTheChoice(t *testing.T) {
	c := newConsole(t, func(cfg *cancellation.Config, _ *webui.Options) { cfg.Exporter = memory.NewExporter(cfg.Clock) })
	cust := c.as(customerToken(memory.AccountEligible))
	p := cust.post("/start", nil)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `name="data_export" value="requested"`)
	require.Contains(t, p.body, "an export of my data")
	id := requestID(t, p.url)
	form := confirmForm(p)
	bad := cust.post("/requests/"+id+"/notes", form)
	require.Equal(t, "/requests/"+id+"/notes", bad.url, "no answer: the notes page again")
	form.Set("data_export", "requested")
	ok := cust.post("/requests/"+id+"/notes", form)
	require.Equal(t, "/requests/"+id+"/code", ok.url, ok.body)
	r, err := c.svc.Get(t.Context(), memory.AccountEligible, id)
	require.NoError(t, err)
	require.Equal(t, cancellation.ExportRequested, r.DataExport().Choice)

	plain := newConsole(t).as(customerToken(memory.AccountEligible)).post("/start", nil)
	require.NotContains(t, plain.body, `name="data_export"`, "nothing is offered without an exporter")
}
