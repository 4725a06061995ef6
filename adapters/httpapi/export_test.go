package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
)

// TestDataExportChoiceAtConfirmationAndWaiverOverHTTP requests the data
// export in the confirmation body, sees closing wait for it after
// approval, and waives it with POST .../data-export/waiver: the account is
// closed and the request says the export was waived.
func TestDataExportChoiceAtConfirmationAndWaiverOverHTTP(t *testing.T) {
	t.Parallel()
	var x *memory.Exporter
	e := newEnv(t, func(c *cancellation.Config, _ *httpapi.Options) {
		x = memory.NewExporter(c.Clock)
		c.Exporter = x
	})
	x.SetFailure(errors.New("export service down"))
	acct := memory.AccountEligible
	id := e.start(tokEligible).ID
	conf := e.confirmation(acct)
	r := e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", tokEligible, conf)
	e.requireProblemCode(r, http.StatusUnprocessableEntity)
	conf.DataExport = cancellation.ExportRequested
	r = e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", tokEligible, conf)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var v struct {
		State      cancellation.State       `json:"state"`
		DataExport *cancellation.DataExport `json:"data_export"`
	}
	r.json(t, &v)
	require.Equal(t, cancellation.ExportRequested, v.DataExport.Choice)

	require.Equal(t, http.StatusAccepted, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code", tokEligible, nil).Status)
	code, _ := e.kit.OTP.LastCode("+15550100001")
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code/verify", tokEligible, map[string]string{"code": code}).Status)
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/submit", tokEligible, nil).Status)
	req, err := e.svc.Approve(context.Background(), cancellation.Reviewer{ID: "rev-ada"}, id, "")
	require.NoError(t, err)
	require.Equal(t, cancellation.StateApproved, req.State(), "closing waits for the export")

	r = e.do(http.MethodPost, "/v1/cancellations/"+id+"/data-export/waiver", tokEligible, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	r.json(t, &v)
	require.Equal(t, cancellation.StateCancelled, v.State)
	require.Equal(t, cancellation.ExportWaived, v.DataExport.Choice)
	r = e.do(http.MethodPost, "/v1/cancellations/"+id+"/data-export/waiver", tokEligible, nil)
	require.Equal(t, http.StatusConflict, r.Status, "nothing waits any more: body %s", r.Body)
}

// requireProblemCode checks a problem's status.
func (e *env) requireProblemCode(r resp, status int) {
	e.t.Helper()
	require.Equal(e.t, status, r.Status, "body: %s", r.Body)
}
