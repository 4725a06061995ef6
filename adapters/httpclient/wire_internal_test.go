package httpclient

import (
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// TestRequiredMembersMatchContract holds the members the Client requires
// of each answer equal to the required members of host-openapi.yaml, so
// that neither can change without the other.
func TestRequiredMembersMatchContract(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	require.NoError(t, err)
	for name, body := range map[string]wireBody{
		"Account": Account{}, "Obligation": Obligation{}, "Right": Right{}, "Authorization": Authorization{},
		"SubUser": SubUser{}, "APIKey": APIKey{}, "DataHolding": DataHolding{}, "Case": Case{},
		"Matter": Matter{}, "Holidays": Holidays{},
	} {
		schema := doc.Components.Schemas[name]
		require.NotNil(t, schema, name)
		require.ElementsMatch(t, schema.Value.Required, body.requiredMembers(), name)
		// Every member the schema knows is one the wire type reads.
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		var members map[string]any
		require.NoError(t, json.Unmarshal(raw, &members))
		for prop := range schema.Value.Properties {
			require.Contains(t, members, prop, "%s.%s", name, prop)
		}
		require.Len(t, members, len(schema.Value.Properties), name)
	}
	list := doc.Paths.Value("/accounts/{accountId}/matters").Get.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
	require.ElementsMatch(t, list.Required, List[Matter]{}.requiredMembers())
}
