package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports"
)

// A Service over a SQLite file: what it stores outlives the process (here,
// the Store), unlike memory.Store.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := "sqlite://" + filepath.Join(dir, "cancellation.db")
	ctx := context.Background()

	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	kit := memory.NewKit(time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC))
	kit.Platform.AddAccount(ports.Account{ID: "acct-1", Kind: ports.Personal, RecoveryPhone: "+15550100001", Email: "a@example.com"})
	cfg := kit.Config()
	cfg.Store = store
	svc, err := cancellation.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	r, err := svc.Start(ctx, "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	_ = store.Close()

	// Later, another process opens the same file.
	again, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer again.Close()
	active, err := again.ActiveFor(ctx, "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(active.ID() == r.ID(), active.State(), active.Version())
	// Output: true started 1
}
