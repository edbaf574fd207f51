// Command vault is HashiCorp Vault's own CLI, built from Vault's Go module at the version the
// test server uses (go.mod), for the parts of the test suite that run Vault's client-side
// programs: `vault proxy` and `vault agent` (auto-auth, caching, a Unix-socket listener in
// front of the test Vault). It is Vault's main.go, word for word; nothing here is vaultfill's.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
