/**
 * vaultfill reaching the real test Vault the ways deployments do, through real parts: Debian's
 * squid as a forward proxy (CONNECT for https, absolute URLs for http, Basic credentials, a name
 * only the proxy resolves: vault.internal), Vault's own `vault proxy` with AppRole auto-auth on a
 * Unix socket, a two-node HA Vault whose standby redirects, and Debian's nginx routing a path
 * prefix. No secret value and no credential in any stderr.
 */
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { vaultfill } from '../helpers/cli.js';
import { startForwardProxy } from '../helpers/forward-proxy.js';
import { startPrefixProxy } from '../helpers/reverse-proxy.js';
import { startVaultProxy } from '../helpers/vault-proxy.js';
import { sharedTestVault, startTestVault, startTestVaultHA, type TestVault } from '../vault/harness.js';

const uniq = (): string => randomUUID().slice(0, 8);
const home = (): string => mkdtempSync(path.join(tmpdir(), 'vaultfill-home-'));

async function seed(vault: TestVault, id: string, value: string): Promise<string> {
  const r = await vault.request('POST', `secret/data/${id}/app`, { data: { password: value } });
  if (r.status >= 300) throw new Error(`seeding: ${r.status}`);
  return `kind: Secret\napiVersion: v1\nmetadata:\n  name: s\nstringData:\n  password: <path:secret/data/${id}/app#password>\n`;
}

/** The run's environment: nothing inherited that routes requests (the machine's own proxies). */
function env(extra: Record<string, string>): Record<string, string> {
  return { AVP_TYPE: 'vault', HOME: home(), XDG_CACHE_HOME: home(), HTTPS_PROXY: '', HTTP_PROXY: '', NO_PROXY: '', https_proxy: '', http_proxy: '', no_proxy: '', ...extra };
}

function clean(t: ExecutionContext, stderr: string, ...secrets: string[]): void {
  for (const s of secrets) t.false(stderr.includes(s), `stderr shows ${s.slice(0, 3)}…`);
}

test('an https Vault through squid: a CONNECT tunnel with the proxy credentials; wrong ones are a clear error; NO_PROXY and an Application cannot change the route', async (t) => {
  const vault = await startTestVault({ tls: true });
  t.teardown(() => vault.stop());
  const squid = await startForwardProxy({ auth: { user: 'vf', password: 'pr0xy-Pw' }, hosts: { 'vault.internal': '127.0.0.1' } });
  t.teardown(() => squid.close());
  squid.logOnFailure(t);
  const id = uniq();
  const input = await seed(vault, id, 'tunnelled-Secret-1');
  const port = new URL(vault.address).port;
  const base = { VAULT_ADDR: `https://vault.internal:${port}`, VAULT_CACERT: vault.caFile as string, VAULT_TOKEN: vault.token };

  const ok = await vaultfill(['generate', '-', '--verbose'], { input, env: env({ ...base, HTTPS_PROXY: squid.url, NO_PROXY: '.svc,10.0.0.0/8' }) });
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /password: tunnelled-Secret-1/);
  t.regex(ok.stderr, new RegExp(`reaching Vault at https://vault\\.internal:${port} through the proxy http://127\\.0\\.0\\.1:${squid.port} \\(HTTPS_PROXY, CONNECT tunnel\\)`));
  clean(t, ok.stderr, 'tunnelled-Secret-1', 'pr0xy-Pw');
  const tunnels = squid.requests().filter((r) => r.method === 'CONNECT' && r.status === 200);
  t.true(tunnels.length >= 1 && tunnels.every((r) => r.host === `vault.internal:${port}` && r.user === 'vf'), JSON.stringify(squid.requests()));

  const wrong = await vaultfill(['generate', '-'], { input, env: env({ ...base, HTTPS_PROXY: squid.url.replace('pr0xy-Pw', 'wrong-Pw') }) });
  t.is(wrong.code, 4);
  t.regex(wrong.stderr, /the proxy answered HTTP 407 .*CONNECT vault\.internal:\d+; check the credentials in the proxy's URL/);
  clean(t, wrong.stderr, 'wrong-Pw');
  t.is(wrong.stdout, '');

  // NO_PROXY sends it direct, where vault.internal resolves nowhere: the proxy sees nothing more.
  const seen = squid.requests().length;
  const direct = await vaultfill(['generate', '-'], { input, env: env({ ...base, HTTPS_PROXY: squid.url, NO_PROXY: 'internal' }) });
  t.is(direct.code, 4);
  t.regex(direct.stderr, /cannot reach Vault at https:\/\/vault\.internal:\d+ \(ENOTFOUND\)/);
  // An Application's plugin env arrives as ARGOCD_ENV_…: it names no proxy.
  const fromApp = await vaultfill(['generate', '-'], { input, env: env({ ...base, ARGOCD_ENV_HTTPS_PROXY: squid.url }) });
  t.is(fromApp.code, 4);
  t.regex(fromApp.stderr, /ENOTFOUND/);
  t.is(squid.requests().length, seen);
});

test('an http Vault through squid: absolute URLs via HTTP_PROXY; loopback goes direct unless VAULT_PROXY_ADDR says otherwise', async (t) => {
  const vault = await sharedTestVault();
  const squid = await startForwardProxy({ hosts: { 'vault.internal': '127.0.0.1' } });
  t.teardown(() => squid.close());
  squid.logOnFailure(t);
  const id = uniq();
  const input = await seed(vault, id, 'plain-Secret-2');
  const port = new URL(vault.address).port;
  const r = await vaultfill(['generate', '-'], { input, env: env({ VAULT_ADDR: `http://vault.internal:${port}`, VAULT_TOKEN: vault.token, HTTP_PROXY: squid.url }) });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /password: plain-Secret-2/);
  t.true(squid.requests().some((q) => q.method === 'GET' && q.url === `http://vault.internal:${port}/v1/secret/data/${id}/app`), JSON.stringify(squid.requests()));

  const before = squid.requests().length;
  const loopback = await vaultfill(['generate', '-'], { input, env: env({ VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, HTTP_PROXY: squid.url }) });
  t.is(loopback.code, 0, loopback.stderr);
  t.is(squid.requests().length, before, 'loopback never goes through HTTP_PROXY');
  const forced = await vaultfill(['generate', '-'], { input, env: env({ VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, VAULT_PROXY_ADDR: squid.url, NO_PROXY: '*' }) });
  t.is(forced.code, 0, forced.stderr);
  t.true(squid.requests().slice(before).some((q) => q.url === `${vault.address}/v1/secret/data/${id}/app`), 'VAULT_PROXY_ADDR takes everything through the proxy');
});

test("Vault's own Vault Proxy with AppRole auto-auth on a Unix socket: vaultfill reads through it with no token of its own", async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  const input = await seed(vault, id, 'agent-Secret-3');
  const policy = `p-${id}`;
  await vault.request('PUT', `sys/policies/acl/${policy}`, { policy: `path "secret/data/${id}/*" { capabilities = ["read"] }` });
  await vault.request('POST', 'sys/auth/approle', { type: 'approle' }).catch(() => undefined);
  await vault.request('POST', `auth/approle/role/agent-${id}`, { token_policies: [policy] });
  const roleId = (await vault.request('GET', `auth/approle/role/agent-${id}/role-id`)).body.data.role_id as string;
  const secretId = (await vault.request('POST', `auth/approle/role/agent-${id}/secret-id`)).body.data.secret_id as string;
  const agent = await startVaultProxy({ vaultAddress: vault.address, roleId, secretId });
  t.teardown(() => agent.close());
  agent.logOnFailure(t);

  const r = await vaultfill(['generate', '-', '--verbose'], { input, env: env({ VAULT_AGENT_ADDR: agent.address, VAULT_ADDR: 'http://127.0.0.1:9' }) });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /password: agent-Secret-3/);
  t.regex(r.stderr, /over the Unix socket .*\.sock/);
  clean(t, r.stderr, 'agent-Secret-3', secretId);
  // Straight to Vault the same run has no token to send.
  const alone = await vaultfill(['generate', '-'], { input, env: env({ VAULT_ADDR: vault.address }) });
  t.is(alone.code, 2);
  t.regex(alone.stderr, /missing setting VAULT_TOKEN/);
});

test('an HA standby answering 307: vaultfill follows it to the active node, for a login and for reads', async (t) => {
  const ha = await startTestVaultHA();
  t.teardown(() => ha.stop());
  const id = uniq();
  const input = await seed(ha, id, 'ha-Secret-4');
  await ha.request('POST', 'sys/auth/approle', { type: 'approle' }).catch(() => undefined);
  await ha.request('PUT', `sys/policies/acl/ha-${id}`, { policy: `path "secret/data/${id}/*" { capabilities = ["read"] }` });
  await ha.request('POST', `auth/approle/role/ha-${id}`, { token_policies: [`ha-${id}`] });
  const roleId = (await ha.request('GET', `auth/approle/role/ha-${id}/role-id`)).body.data.role_id as string;
  const secretId = (await ha.request('POST', `auth/approle/role/ha-${id}/secret-id`)).body.data.secret_id as string;
  const r = await vaultfill(['generate', '-', '--verbose'], {
    input,
    env: env({ VAULT_ADDR: ha.standby, VAULT_CACERT: ha.caFile, AVP_AUTH_TYPE: 'approle', AVP_ROLE_ID: roleId, AVP_SECRET_ID: secretId }),
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /password: ha-Secret-4/);
  t.regex(r.stderr, new RegExp(`following HTTP 307 for POST /v1/auth/approle/login to ${ha.active.replace(/[.]/g, '\\.')}`));
  clean(t, r.stderr, 'ha-Secret-4', secretId);
});

test("VAULT_ADDR with a path: requests go under it, through nginx routing /vault/ to Vault", async (t) => {
  const vault = await sharedTestVault();
  const nginx = await startPrefixProxy({ upstream: vault.address, prefix: '/vault/' });
  t.teardown(() => nginx.close());
  nginx.logOnFailure(t);
  const id = uniq();
  const input = await seed(vault, id, 'prefix-Secret-5');
  const r = await vaultfill(['generate', '-'], { input, env: env({ VAULT_ADDR: nginx.address, VAULT_TOKEN: vault.token }) });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /password: prefix-Secret-5/);
  const seen = nginx.requests();
  t.true(seen.length >= 2 && seen.every((q) => q.uri.startsWith('/vault/v1/') && q.status === 200), JSON.stringify(seen));
});
