// Proves the real Vault Proxy (test/helpers/vault-proxy.ts: HashiCorp Vault's own `vault proxy`,
// and `vault agent`) on its own, with plain node:http as the client: AppRole auto-auth against
// the test Vault, and a secret read over the Unix socket with no token of the client's own.
import test from 'ava';
import { startVaultProxy } from '../../helpers/vault-proxy.js';
import { sharedTestVault, startTestVault, type TestVault } from '../harness.js';
import { get } from './get.js';

/** An AppRole `name` whose tokens may read secret/data/*; resolves with its credentials. */
async function readerAppRole(vault: TestVault, name: string): Promise<{ roleId: string; secretId: string }> {
  const mounts = await vault.request('GET', 'sys/auth');
  if (!mounts.body.data['approle/']) {
    const enabled = await vault.request('POST', 'sys/auth/approle', { type: 'approle' });
    if (enabled.status !== 204 && enabled.status !== 400) throw new Error(JSON.stringify(enabled.body));
  }
  await vault.request('PUT', `sys/policies/acl/${name}`, { policy: 'path "secret/data/*" { capabilities = ["read"] }' });
  await vault.request('POST', `auth/approle/role/${name}`, { token_policies: [name], token_ttl: '10m' });
  const roleId = (await vault.request('GET', `auth/approle/role/${name}/role-id`)).body.data.role_id as string;
  const secretId = (await vault.request('POST', `auth/approle/role/${name}/secret-id`)).body.data.secret_id as string;
  return { roleId, secretId };
}

for (const mode of ['proxy', 'agent'] as const) {
  test(`vault ${mode} reads a secret over its Unix socket with its auto-auth token`, async (t) => {
    const vault = await sharedTestVault();
    const { roleId, secretId } = await readerAppRole(vault, `parts-${mode}`);
    await vault.request('POST', `secret/data/vault-${mode}`, { data: { password: `through-vault-${mode}` } });

    const proxy = await startVaultProxy({ vaultAddress: vault.address, roleId, secretId, mode, tcp: true });
    t.teardown(() => proxy.close());
    proxy.logOnFailure(t);
    t.is(proxy.address, `unix://${proxy.socketPath}`);

    // No X-Vault-Token: the proxy adds the token it got by AppRole.
    const secret = await get({ socketPath: proxy.socketPath, pathname: `/v1/secret/data/vault-${mode}` });
    t.is(secret.status, 200, secret.body);
    t.is(JSON.parse(secret.body).data.data.password, `through-vault-${mode}`);
    const self = await get({ socketPath: proxy.socketPath, pathname: '/v1/auth/token/lookup-self' });
    t.deepEqual(JSON.parse(self.body).data.policies, ['default', `parts-${mode}`]);

    // The policy is the AppRole's, not root's.
    await vault.request('POST', 'sys/mounts/parts-other', { type: 'kv', options: { version: '2' } });
    t.is((await get({ socketPath: proxy.socketPath, pathname: '/v1/parts-other/data/x' })).status, 403);

    // The optional TCP listener serves the same way.
    t.is((await get({ url: `${proxy.tcpAddress}/v1/secret/data/vault-${mode}` })).status, 200);
  });
}

test('vault proxy reaches an https Vault, verified with its CA', async (t) => {
  const vault = await startTestVault({ tls: true });
  t.teardown(() => vault.stop());
  const { roleId, secretId } = await readerAppRole(vault, 'parts-tls');
  await vault.request('POST', 'secret/data/vault-proxy-tls', { data: { password: 'over-tls' } });

  const proxy = await startVaultProxy({ vaultAddress: vault.address, caCert: vault.caFile, roleId, secretId });
  t.teardown(() => proxy.close());
  proxy.logOnFailure(t);
  const secret = await get({ socketPath: proxy.socketPath, pathname: '/v1/secret/data/vault-proxy-tls' });
  t.is(secret.status, 200, secret.body);
  t.is(JSON.parse(secret.body).data.data.password, 'over-tls');
});
