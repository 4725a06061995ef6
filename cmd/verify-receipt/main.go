// Command verify-receipt verifies a closing receipt of
// github.com/accountkit/cancellation offline, with the platform's
// published public keys, and prints what it states as JSON.
//
// Usage:
//
//	go run github.com/accountkit/cancellation/cmd/verify-receipt -key receipt-key.pem receipt.jws
//
// -key names a PEM file with an Ed25519 "PUBLIC KEY" block (as
// cancellation.ReceiptKey.PEM writes it, its id in a "Key-Id" header);
// write ID=FILE to give the id yourself. Repeat -key for the keys of
// earlier rotations. The receipt is read from the file named, or from
// standard input when the name is "-" or absent.
//
// The exit status is 0 for a receipt that verifies, 1 for one that does
// not (altered, malformed or signed by a key not given) and 2 for a usage
// error (no key, an unreadable file).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/accountkit/cancellation"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// keyFlags collects the -key arguments.
type keyFlags []string

func (k *keyFlags) String() string     { return strings.Join(*k, ",") }
func (k *keyFlags) Set(v string) error { *k = append(*k, v); return nil }

// run is the command: args without the program name. It returns the exit
// status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify-receipt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var keyArgs keyFlags
	fs.Var(&keyArgs, "key", "a PEM public key file, or ID=FILE (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(keyArgs) == 0 || fs.NArg() > 1 {
		fmt.Fprintln(stderr, "usage: verify-receipt -key receipt-key.pem [-key ID=old.pem] [receipt.jws|-]")
		return 2
	}
	var keys []cancellation.ReceiptKey
	for _, arg := range keyArgs {
		id, file, ok := strings.Cut(arg, "=")
		if !ok {
			id, file = "", arg
		}
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(stderr, "verify-receipt:", err)
			return 2
		}
		k, err := cancellation.ParseReceiptKeyPEM(b, id)
		if err != nil {
			fmt.Fprintf(stderr, "verify-receipt: %s: %v\n", file, err)
			return 2
		}
		keys = append(keys, k)
	}
	in := stdin
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(stderr, "verify-receipt:", err)
			return 2
		}
		defer f.Close()
		in = f
	}
	token, err := io.ReadAll(io.LimitReader(in, 1<<20))
	if err != nil {
		fmt.Fprintln(stderr, "verify-receipt:", err)
		return 2
	}
	rc, err := cancellation.VerifyReceipt(string(token), keys...)
	if err != nil {
		fmt.Fprintln(stderr, "verify-receipt: NOT VALID:", err)
		return 1
	}
	out := struct {
		Valid bool   `json:"valid"`
		KeyID string `json:"key_id"`
		cancellation.Receipt
	}{true, rc.KeyID, rc}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(stderr, "verify-receipt:", err)
		return 2
	}
	return 0
}
