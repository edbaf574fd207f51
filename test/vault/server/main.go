// Command vault-test-server runs a real, in-memory, unsealed HashiCorp Vault
// core (built from Vault's own Go module) over HTTP(S) on loopback, for
// vaultfill's test suite. It follows `vault server -dev` conventions:
//
//	VAULT_DEV_LISTEN_ADDRESS  listen address (default 127.0.0.1:8200; port 0 = any free port)
//	VAULT_DEV_ROOT_TOKEN_ID   root token id (default "root")
//	VAULT_DEV_TLS_DIR         if set: write ca.pem, server.pem, server-key.pem,
//	                          client.pem, client-key.pem there and serve HTTPS
//	VAULT_TEST_LOG_LEVEL      hclog level for stderr logging (default "error")
//	VAULT_TEST_EXIT_ON_STDIN_CLOSE  if set: also exit when stdin reaches EOF
//	                          (the test harness keeps a pipe open; dies with it)
//	VAULT_TEST_HA             if set: an HA cluster with a standby that redirects
//	                          instead (see ha.go)
//
// Once listening it prints exactly one JSON line to stdout:
//
//	{"address":"http://127.0.0.1:PORT","token":"root","unsealKeys":["..."]}
//
// Everything else goes to stderr. SIGINT/SIGTERM shut it down cleanly.
//
// Like argocd-vault-plugin's test helpers it is built on vault's exported test
// helpers (vault.TestCoreUnsealedWithConfig, http.TestServerWithListener).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	jwtauth "github.com/hashicorp/vault-plugin-auth-jwt"
	kubeauth "github.com/hashicorp/vault-plugin-auth-kubernetes"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/audit"
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/builtin/credential/userpass"
	"github.com/hashicorp/vault/helper/namespace"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/vault"
	testing "github.com/mitchellh/go-testing-interface"
)

type readyLine struct {
	Address    string   `json:"address"`
	Token      string   `json:"token"`
	UnsealKeys []string `json:"unsealKeys"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "vault-test-server: %v\n", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() (err error) {
	// vault's test helpers report failures through t.Fatal, which panics
	// with RuntimeT; turn that into an ordinary error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("vault test core failed: %v", r)
		}
	}()

	listenAddr := envOr("VAULT_DEV_LISTEN_ADDRESS", "127.0.0.1:8200")
	rootTokenID := envOr("VAULT_DEV_ROOT_TOKEN_ID", "root")
	tlsDir := os.Getenv("VAULT_DEV_TLS_DIR")

	level := hclog.LevelFromString(envOr("VAULT_TEST_LOG_LEVEL", "error"))
	if level == hclog.NoLevel {
		level = hclog.Error
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "vault",
		Level:  level,
		Output: os.Stderr,
	})
	quiet := level > hclog.Info

	// The test core's storage layer logs at trace level to whatever os.Stderr
	// is when it is created; unless asked to be verbose, give it /dev/null.
	realStderr := os.Stderr
	if quiet {
		if devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
			os.Stderr = devNull
			defer func() {
				os.Stderr = realStderr
				devNull.Close()
			}()
		}
	}
	if os.Getenv("VAULT_TEST_HA") != "" {
		return runHA(logger, quiet, realStderr, rootTokenID, tlsDir)
	}
	t := &testing.RuntimeT{}
	core, keys, initRoot := vault.TestCoreUnsealedWithConfig(t, coreConfig(logger))
	os.Stderr = realStderr
	defer func() {
		if shutdownErr := core.ShutdownWait(); shutdownErr != nil && err == nil {
			err = fmt.Errorf("shutdown: %w", shutdownErr)
		}
	}()

	ctx := namespace.RootContext(context.Background())
	token, err := setupDevLayout(ctx, core, initRoot, rootTokenID)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listenAddr, err)
	}
	scheme := "http"
	if tlsDir != "" {
		tlsConfig, err := writeTLSMaterial(tlsDir)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS setup in %s: %w", tlsDir, err)
		}
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	addr := scheme + "://" + ln.Addr().String()
	// Serves in a goroutine; the stdlib testing.TB argument is unused there.
	vaulthttp.TestServerWithListener(nil, ln, addr, core)
	defer ln.Close()

	unsealKeys := make([]string, len(keys))
	for i, k := range keys {
		unsealKeys[i] = base64.StdEncoding.EncodeToString(k)
	}
	line, err := json.Marshal(readyLine{Address: addr, Token: token, UnsealKeys: unsealKeys})
	if err != nil {
		return err
	}
	if _, err := os.Stdout.Write(append(line, '\n')); err != nil {
		return err
	}

	waitForShutdown()
	logger.Info("shutting down")
	if quiet {
		// Sealing on shutdown makes background jobs log spurious errors.
		logger.SetLevel(hclog.Off)
	}
	return nil
}

// coreConfig is the configuration every core starts with: the real KV plugin,
// the auth methods the tests use and the file audit device.
func coreConfig(logger hclog.Logger) *vault.CoreConfig {
	return &vault.CoreConfig{
		Logger: logger,
		LogicalBackends: map[string]logical.Factory{
			// The test core's default "kv" is the built-in passthrough
			// (no versions); use the real KV plugin (v1 and v2).
			"kv": kv.Factory,
		},
		CredentialBackends: map[string]logical.Factory{
			"approle":    approle.Factory,
			"userpass":   userpass.Factory,
			"kubernetes": kubeauth.Factory,
			"jwt":        jwtauth.Factory,
			"oidc":       jwtauth.Factory,
		},
		AuditBackends: map[string]audit.Factory{
			"file": audit.NewFileBackend,
		},
	}
}

// waitForShutdown returns on SIGINT/SIGTERM or, with VAULT_TEST_EXIT_ON_STDIN_CLOSE,
// when stdin closes.
func waitForShutdown() {
	// Never reset to the default action: a second SIGTERM during the cleanup (e.g. one to the
	// process group and one from the parent) would otherwise kill it halfway.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	stdinClosed := make(chan struct{})
	if os.Getenv("VAULT_TEST_EXIT_ON_STDIN_CLOSE") != "" {
		// The test harness holds our stdin open; when it dies, so do we.
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(stdinClosed)
		}()
	}
	select {
	case <-signals:
	case <-stdinClosed:
	}
}

// setupDevLayout makes the core look like `vault server -dev`: kv-v2 at
// secret/ and a root token with the requested id. It returns the root token.
func setupDevLayout(ctx context.Context, core *vault.Core, initRoot, rootTokenID string) (string, error) {
	do := func(op logical.Operation, path string, data map[string]interface{}, token string) (*logical.Response, error) {
		resp, err := core.HandleRequest(ctx, &logical.Request{
			Operation:   op,
			Path:        path,
			Data:        data,
			ClientToken: token,
		})
		if err == nil && resp != nil && resp.IsError() {
			err = resp.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", op, path, err)
		}
		return resp, nil
	}

	// The test core mounts secret/ as KV v1; replace it by KV v2.
	if _, err := do(logical.DeleteOperation, "sys/mounts/secret", nil, initRoot); err != nil {
		return "", err
	}
	if _, err := do(logical.UpdateOperation, "sys/mounts/secret", map[string]interface{}{
		"type":        "kv",
		"description": "key/value secret storage",
		"options":     map[string]string{"version": "2"},
	}, initRoot); err != nil {
		return "", err
	}

	token := initRoot
	if rootTokenID != initRoot {
		resp, err := do(logical.UpdateOperation, "auth/token/create", map[string]interface{}{
			"id":                rootTokenID,
			"policies":          []string{"root"},
			"no_parent":         true,
			"no_default_policy": true,
		}, initRoot)
		if err != nil {
			return "", fmt.Errorf("creating root token %q: %w", rootTokenID, err)
		}
		if resp == nil || resp.Auth == nil {
			return "", errors.New("creating root token: no auth in response")
		}
		token = resp.Auth.ClientToken
		if _, err := do(logical.UpdateOperation, "auth/token/revoke-self", nil, initRoot); err != nil {
			return "", err
		}
	}

	// A fresh KV v2 mount finishes its (empty) upgrade asynchronously;
	// don't report ready before it serves requests.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := do(logical.ReadOperation, "secret/config", nil, token)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("secret/ (kv-v2) not ready: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return token, nil
}

// writeTLSMaterial creates a CA, a server certificate for 127.0.0.1, localhost
// and vault.internal (a name only the tests' forward proxy resolves) and a client
// certificate in dir, and returns the server's TLS config.
func writeTLSMaterial(dir string) (*tls.Config, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	now := time.Now()
	serial := func() *big.Int {
		n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
		return n
	}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "vaultfill test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	issue := func(cn string, usage x509.ExtKeyUsage, ips []net.IP, dns []string) ([]byte, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(7 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
			DNSNames:     dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		return der, key, err
	}
	serverDER, serverKey, err := issue("localhost", x509.ExtKeyUsageServerAuth,
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, []string{"localhost", "vault.internal"})
	if err != nil {
		return nil, err
	}
	clientDER, clientKey, err := issue("vaultfill test client", x509.ExtKeyUsageClientAuth, nil, nil)
	if err != nil {
		return nil, err
	}

	writeCert := func(name string, der []byte) error {
		return os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	}
	writeKey := func(name string, key *ecdsa.PrivateKey) error {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	}
	for _, step := range []func() error{
		func() error { return writeCert("ca.pem", caDER) },
		func() error { return writeCert("server.pem", serverDER) },
		func() error { return writeKey("server-key.pem", serverKey) },
		func() error { return writeCert("client.pem", clientDER) },
		func() error { return writeKey("client-key.pem", clientKey) },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{
			Certificate: [][]byte{serverDER, caDER},
			PrivateKey:  serverKey,
		}},
		// Client certificates are accepted (and verified) when offered, never required.
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  pool,
		NextProtos: []string{"http/1.1"},
	}, nil
}
