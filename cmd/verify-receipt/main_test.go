package main

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// fixture writes a receipt signed by a fresh key and the key's PEM into a
// temporary directory.
func fixture(t *testing.T) (dir, token string) {
	t.Helper()
	dir = t.TempDir()
	key := cancellation.ReceiptSigningKey{ID: "platform-2026", Key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))}
	at := time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)
	token, err := cancellation.SignReceipt(cancellation.Receipt{
		RequestID: "can_0123456789abcdef01234567", Account: "acct-1", Outcome: cancellation.StateCancelled, IssuedAt: at,
		Steps:       cancellation.ReceiptSteps{Started: at, Ended: at},
		HistoryHead: cancellation.ReceiptHead{Seq: 12, Hash: "abc"},
	}, key)
	require.NoError(t, err)
	pub, err := key.Public().PEM()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), pub, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "receipt.jws"), []byte(token+"\n"), 0o600))
	return dir, token
}

func runCmd(stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVerifyReceiptCommand_PrintsAValidReceiptAndExitsZero(t *testing.T) {
	t.Parallel()
	dir, token := fixture(t)
	code, out, _ := runCmd("", "-key", filepath.Join(dir, "key.pem"), filepath.Join(dir, "receipt.jws"))
	require.Equal(t, 0, code)
	require.Contains(t, out, `"valid": true`)
	require.Contains(t, out, `"key_id": "platform-2026"`)
	require.Contains(t, out, `"request_id": "can_0123456789abcdef01234567"`)

	// From standard input, with the id given on the command line.
	code, out, _ = runCmd(token, "-key", "platform-2026="+filepath.Join(dir, "key.pem"), "-")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"outcome": "cancelled"`)
}

func TestVerifyReceiptCommand_AlteredOrUnknownKeyExitsOne(t *testing.T) {
	t.Parallel()
	dir, token := fixture(t)
	key := filepath.Join(dir, "key.pem")
	parts := strings.Split(token, ".")
	altered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	code, out, errOut := runCmd(altered, "-key", key)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "NOT VALID")
	require.Contains(t, errOut, "signature")

	code, _, errOut = runCmd(token, "-key", "other-id="+key)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "unknown key")
}

func TestVerifyReceiptCommand_UsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	dir, token := fixture(t)
	code, _, errOut := runCmd(token)
	require.Equal(t, 2, code, "no key")
	require.Contains(t, errOut, "usage")
	code, _, _ = runCmd(token, "-key", filepath.Join(dir, "missing.pem"))
	require.Equal(t, 2, code)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("not a key"), 0o600))
	code, _, errOut = runCmd(token, "-key", filepath.Join(dir, "bad.pem"))
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "PEM")
}
