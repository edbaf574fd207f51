// HA mode (VAULT_TEST_HA=1): Vault's own test cluster helpers
// (vault.NewTestCluster, what Vault's HA tests use) start two cores on one
// in-memory storage with an in-memory HA lock (physInmem.NewInmemHA, the
// helpers' default when no PhysicalFactory is given). Core 0 becomes active,
// core 1 a standby. Each core serves HTTPS on its own 127.0.0.1 port with a
// certificate from the cluster's own CA.
//
// Request forwarding is off: every request gets the header
// X-Vault-No-Request-Forwarding (http.NoRequestForwardingHeaderName), so the
// standby answers what it cannot serve itself with Vault's respondStandby:
// 307, Location = the active node's address + the same path and query. (Vault
// has no server-side switch for it; a client may send that header, and the
// active node ignores it.) VAULT_DEV_LISTEN_ADDRESS is not used here.
//
// The CA is ours (haCA), not the helpers' own: theirs has the subject of the
// nodes' certificates (CN=localhost), so OpenSSL, and with it Node.js, takes
// each node's certificate for a self-signed one and refuses it.
//
// VAULT_DEV_TLS_DIR, when set, is the cluster's directory (its CA is written
// there as ca_cert.pem); otherwise a temp dir, removed at shutdown. The ready
// line adds active, standby and caFile to the single server's:
//
//	{"address":"https://127.0.0.1:A","active":"https://127.0.0.1:A",
//	 "standby":"https://127.0.0.1:S","caFile":"/…/ca_cert.pem","token":"root","unsealKeys":["..."]}
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/helper/namespace"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/vault"
	testing "github.com/mitchellh/go-testing-interface"
)

type haReadyLine struct {
	Address    string   `json:"address"`
	Active     string   `json:"active"`
	Standby    string   `json:"standby"`
	CAFile     string   `json:"caFile"`
	Token      string   `json:"token"`
	UnsealKeys []string `json:"unsealKeys"`
}

// withoutForwarding is Vault's HTTP handler with request forwarding turned off
// for every request.
var withoutForwarding = vaulthttp.HandlerFunc(func(props *vault.HandlerProperties) http.Handler {
	handler := vaulthttp.Handler.Handler(props)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set(vaulthttp.NoRequestForwardingHeaderName, "true")
		handler.ServeHTTP(w, r)
	})
})

// haCA makes the cluster's CA: a certificate (DER) and its key.
func haCA() ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vaultfill test HA CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	return der, key, err
}

func runHA(logger hclog.Logger, quiet bool, realStderr *os.File, rootTokenID, dir string) error {
	caCert, caKey, err := haCA()
	if err != nil {
		return err
	}
	t := &testing.RuntimeT{}
	base := coreConfig(logger)
	base.ClusterName = "vaultfill-test"
	cluster := vault.NewTestCluster(t, base, &vault.TestClusterOptions{
		HandlerFunc: withoutForwarding,
		NumCores:    2,
		Logger:      logger,
		TempDir:     dir,
		CACert:      caCert,
		CAKey:       caKey,
		// The helpers mount secret/ with this version; setupDevLayout replaces it anyway.
		KVVersion: "2",
	})
	os.Stderr = realStderr
	defer func() {
		if quiet {
			logger.SetLevel(hclog.Off)
		}
		cluster.Cleanup()
	}()

	active, standby := cluster.Cores[0], cluster.Cores[1]
	if isStandby, err := active.Core.Standby(); err != nil || isStandby {
		return fmt.Errorf("core 0 is not the active node (standby=%v, err=%v)", isStandby, err)
	}
	if isStandby, err := standby.Core.Standby(); err != nil || !isStandby {
		return fmt.Errorf("core 1 is not a standby (standby=%v, err=%v)", isStandby, err)
	}

	ctx := namespace.RootContext(context.Background())
	token, err := setupDevLayout(ctx, active.Core, cluster.RootToken, rootTokenID)
	if err != nil {
		return err
	}

	address := func(c *vault.TestClusterCore) string {
		return fmt.Sprintf("https://127.0.0.1:%d", c.Listeners[0].Address.Port)
	}
	unsealKeys := make([]string, len(cluster.BarrierKeys))
	for i, k := range cluster.BarrierKeys {
		unsealKeys[i] = base64.StdEncoding.EncodeToString(k)
	}
	line, err := json.Marshal(haReadyLine{
		Address:    address(active),
		Active:     address(active),
		Standby:    address(standby),
		CAFile:     cluster.CACertPEMFile,
		Token:      token,
		UnsealKeys: unsealKeys,
	})
	if err != nil {
		return err
	}
	if _, err := os.Stdout.Write(append(line, '\n')); err != nil {
		return err
	}

	waitForShutdown()
	logger.Info("shutting down")
	return nil
}
