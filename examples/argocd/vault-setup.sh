#!/usr/bin/env bash
# Prepares Vault for the vaultfill sidecars in Argo CD (see README.md, "Install in Argo CD"):
# Kubernetes auth, a read-only policy, the `argocd` role, the refresher's metadata-only role,
# and the example secrets.
#
# Run with a Vault token that may change auth methods and policies:
#   export VAULT_ADDR=https://vault.example.com:8200 VAULT_TOKEN=...
#   KUBERNETES_HOST=https://<api-server>:6443 ./examples/argocd/vault-setup.sh
#
# Environment:
#   KUBERNETES_HOST      API server URL as Vault reaches it
#                        (default https://kubernetes.default.svc: Vault runs in the cluster)
#   TOKEN_REVIEWER_JWT   only when Vault runs outside the cluster: a token allowed to call
#   KUBERNETES_CA_CERT   TokenReview (serviceaccount.yaml), and the cluster's CA (PEM)
#   ARGOCD_NAMESPACE     namespace of Argo CD (default argocd)
#   SEED_EXAMPLES        1 (default) writes the example secrets of examples/secrets.yaml
set -euo pipefail

: "${VAULT_ADDR:?set VAULT_ADDR}"
KUBERNETES_HOST="${KUBERNETES_HOST:-https://kubernetes.default.svc}"
ARGOCD_NAMESPACE="${ARGOCD_NAMESPACE:-argocd}"
SEED_EXAMPLES="${SEED_EXAMPLES:-1}"

# 1. A KV v2 engine at secret/ (the dev server has one already).
if ! vault secrets list -format=json | grep -q '"secret/"'; then
  vault secrets enable -path=secret -version=2 kv
fi

# 2. Kubernetes auth.
if ! vault auth list -format=json | grep -q '"kubernetes/"'; then
  vault auth enable kubernetes
fi
config=(kubernetes_host="$KUBERNETES_HOST")
if [ -n "${TOKEN_REVIEWER_JWT:-}" ]; then config+=(token_reviewer_jwt="$TOKEN_REVIEWER_JWT"); fi
if [ -n "${KUBERNETES_CA_CERT:-}" ]; then config+=(kubernetes_ca_cert="$KUBERNETES_CA_CERT"); fi
vault write auth/kubernetes/config "${config[@]}"

# 3. What Argo CD may read: the data of secret/demo/* and nothing else. KV v2 keeps data
#    under secret/data/…, which is also the path written in the placeholders.
vault policy write argocd-vaultfill - <<'HCL'
path "secret/data/demo/*" {
  capabilities = ["read"]
}
HCL

# 4. The role the sidecars log in with (AVP_K8S_ROLE=argocd): the repo-server's service
#    account, with a token projected for the audience "vault" (repo-server-patch.yaml).
vault write auth/kubernetes/role/argocd \
  bound_service_account_names=argocd-repo-server \
  bound_service_account_namespaces="$ARGOCD_NAMESPACE" \
  audience=vault \
  token_policies=argocd-vaultfill \
  token_ttl=15m \
  token_max_ttl=1h

# 5. The example secrets (examples/secrets.yaml holds the same values for offline runs).
#    JSON on stdin keeps numbers numbers: `vault kv put … replicas=2` would store "2".
if [ "$SEED_EXAMPLES" = 1 ]; then
  vault kv put -mount=secret demo/db - <<'JSON'
{"username": "demo_app", "password": "correct-horse-battery-staple", "host": "postgres.demo.svc.cluster.local", "port": 5432}
JSON
  vault kv put -mount=secret demo/app - <<'JSON'
{"api-key": "ak_test_51HqLyjWDarjtT1zdp7dc", "replicas": 2, "log-level": "debug", "settings": "{\"features\":{\"search\":true,\"beta\":false},\"timeoutSeconds\":30}"}
JSON
  # Two versions, oldest first: placeholders without #version read the latest.
  vault kv put -mount=secret demo/session - <<'JSON'
{"signing-key": "previous-signing-key-v1"}
JSON
  vault kv put -mount=secret demo/session - <<'JSON'
{"signing-key": "current-signing-key-v2"}
JSON
fi

# 6. The refresher (refresher.yaml, README "Rotation"): KV v2 metadata of the same paths, and
#    nothing of their data. Metadata holds version numbers and times, never a value.
vault policy write vaultfill-refresher - <<'HCL'
path "secret/metadata/demo/*" {
  capabilities = ["read"]
}
HCL
vault write auth/kubernetes/role/vaultfill-refresher \
  bound_service_account_names=vaultfill-refresher \
  bound_service_account_namespaces="$ARGOCD_NAMESPACE" \
  audience=vault \
  token_policies=vaultfill-refresher \
  token_ttl=15m \
  token_max_ttl=1h

echo "vault-setup: Kubernetes auth roles 'argocd' and 'vaultfill-refresher', policies 'argocd-vaultfill' and 'vaultfill-refresher' are ready" >&2
