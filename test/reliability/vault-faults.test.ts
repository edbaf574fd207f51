/**
 * Vault faults through a fault-injecting proxy in front of the real test Vault. Each failure:
 * non-zero exit, empty stdout, one clear line, and no seeded secret value on stderr.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { vaultfill, type CliResult } from '../helpers/cli.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { sharedTestVault, startTestVault, type TestVault } from '../vault/harness.js';

const SECRET = 'fault-secret-value-7731';
const uniq = (): string => randomUUID().slice(0, 8);

async function seeded(vault: TestVault): Promise<string> {
  const id = uniq();
  await vault.request('POST', `secret/data/${id}/a`, { data: { v: SECRET } });
  await vault.request('POST', `secret/data/${id}/b`, { data: { v: `${SECRET}-b` } });
  return id;
}

const input = (id: string): string => `kind: X\na: <path:secret/data/${id}/a#v>\nb: <path:secret/data/${id}/b#v>\n`;

async function through(t: import('ava').ExecutionContext, vault: TestVault): Promise<Proxy> {
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  return proxy;
}

function failedCleanly(t: import('ava').ExecutionContext, r: CliResult, code: number, pattern: RegExp): void {
  t.is(r.code, code, r.stderr);
  t.is(r.stdout, '');
  t.regex(r.stderr, pattern);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.false(r.stderr.includes(SECRET));
}

const env = (address: string, token: string, extra: Record<string, string> = {}): Record<string, string> => ({
  AVP_TYPE: 'vault', VAULT_ADDR: address, VAULT_TOKEN: token, ...extra,
});

test('429 and 5xx are retried, honouring Retry-After, then succeed', async (t) => {
  const vault = await sharedTestVault();
  const id = await seeded(vault);
  const proxy = await through(t, vault);
  let failures = 0;
  proxy.fault = (req) => {
    if (!req.path.startsWith(`/v1/secret/data/${id}/a`) || failures >= 3) return undefined;
    failures++;
    return failures === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : failures === 2 ? { status: 502 } : 'drop';
  };
  const started = Date.now();
  const r = await vaultfill(['generate', '-'], { input: input(id), env: env(proxy.address, vault.token) });
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes(SECRET));
  t.is(proxy.count(`secret/data/${id}/a`), 4, '1 try + 3 retries');
  t.true(Date.now() - started >= 1000, 'waited for Retry-After');
});

test('persistent 5xx fails after 3 retries with the status and path', async (t) => {
  const vault = await sharedTestVault();
  const id = await seeded(vault);
  const proxy = await through(t, vault);
  proxy.fault = (req) => (req.path.startsWith(`/v1/secret/data/${id}/b`) ? { status: 500, body: { errors: ['internal error'] } } : undefined);
  const r = await vaultfill(['generate', '-'], { input: input(id), env: env(proxy.address, vault.token) });
  failedCleanly(t, r, 4, new RegExp(`BACKEND_ERROR: .*HTTP 500 reading secret/data/${id}/b: internal error`));
  t.is(proxy.count(`secret/data/${id}/b`), 4);
});

test('a Vault slower than the timeout fails with a timeout error', async (t) => {
  const vault = await sharedTestVault();
  const id = await seeded(vault);
  const proxy = await through(t, vault);
  proxy.fault = (req) => (req.path.startsWith('/v1/secret/data/') ? { delayMs: 3000 } : undefined);
  const r = await vaultfill(['generate', '-'], { input: input(id), env: env(proxy.address, vault.token, { VAULT_CLIENT_TIMEOUT: '0.5' }) });
  failedCleanly(t, r, 4, /BACKEND_TIMEOUT: .*did not answer within 0\.5 s/);
});

test('Vault stopped in the middle of a run: nothing is written', async (t) => {
  const vault = await startTestVault();
  t.teardown(() => vault.stop());
  const id = await seeded(vault);
  const proxy = await through(t, vault);
  let stopping: Promise<void> | undefined;
  proxy.fault = (req) => {
    if (!req.path.startsWith(`/v1/secret/data/${id}/b`)) return undefined;
    stopping ??= vault.stop();
    return { delayMs: 3000 }; // forwarded after the server is gone

  };
  const r = await vaultfill(['generate', '-'], { input: input(id), env: env(proxy.address, vault.token) });
  failedCleanly(t, r, 4, /BACKEND_UNREACHABLE/);
});

test('an unreachable Vault and a sealed one are distinct one-line errors', async (t) => {
  const unreachable = await vaultfill(['generate', '-'], { input: input('x'), env: env('http://127.0.0.1:9', 't') });
  failedCleanly(t, unreachable, 4, /BACKEND_UNREACHABLE: .*127\.0\.0\.1:9/);
  const vault = await sharedTestVault();
  const proxy = await through(t, vault);
  proxy.fault = () => ({ status: 503, body: { errors: ['Vault is sealed'] } });
  const sealed = await vaultfill(['generate', '-'], { input: input('x'), env: env(proxy.address, vault.token) });
  failedCleanly(t, sealed, 4, /BACKEND_SEALED/);
  t.is(proxy.requests.length, 1, 'a sealed Vault is not retried');
});

async function approle(vault: TestVault, ttl: string): Promise<{ env: Record<string, string>; id: string }> {
  const id = uniq();
  await vault.request('POST', `sys/auth/ar-${id}`, { type: 'approle' });
  await vault.request('PUT', `sys/policies/acl/ar-${id}`, { policy: `path "secret/data/${id}/*" { capabilities = ["read"] }` });
  await vault.request('POST', `auth/ar-${id}/role/r`, { token_policies: [`ar-${id}`], token_ttl: ttl, token_max_ttl: ttl });
  const roleId = (await vault.request('GET', `auth/ar-${id}/role/r/role-id`)).body.data.role_id as string;
  const secretId = (await vault.request('POST', `auth/ar-${id}/role/r/secret-id`)).body.data.secret_id as string;
  await vault.request('POST', `secret/data/${id}/a`, { data: { v: SECRET } });
  await vault.request('POST', `secret/data/${id}/b`, { data: { v: SECRET } });
  return { id, env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'approle', AVP_ROLE_ID: roleId, AVP_SECRET_ID: secretId, AVP_MOUNT_PATH: `ar-${id}` } };
}

test('a token that expires between runs is not reused: the next run logs in', async (t) => {
  const vault = await sharedTestVault();
  const { id, env: auth } = await approle(vault, '30s');
  const proxy = await through(t, vault);
  const cache = mkdtempSync(path.join(tmpdir(), 'vaultfill-cache-'));
  const run = () => vaultfill(['generate', '-'], { input: input(id), env: { ...auth, VAULT_ADDR: proxy.address, XDG_CACHE_HOME: cache } });
  t.is((await run()).code, 0);
  t.is((await run()).code, 0);
  t.is(proxy.count(`auth/ar-${id}/login`), 2, 'a token with less than a minute left is not reused');
});

test('a token revoked mid-run gets one fresh login and the run succeeds', async (t) => {
  const vault = await sharedTestVault();
  const { id, env: auth } = await approle(vault, '1h');
  const proxy = await through(t, vault);
  let revoked = false;
  proxy.fault = (req) => {
    if (revoked || !req.path.startsWith(`/v1/secret/data/${id}/b`)) return undefined;
    revoked = true;
    return { status: 403, body: { errors: ['permission denied'] } };
  };
  const r = await vaultfill(['generate', '-'], { input: input(id), env: { ...auth, VAULT_ADDR: proxy.address, XDG_CACHE_HOME: mkdtempSync(path.join(tmpdir(), 'c-')) } });
  t.is(r.code, 0, r.stderr);
  t.is(proxy.count(`auth/ar-${id}/login`), 2);
});

test('10 parallel runs sharing one token cache log in once and leave a private cache', async (t) => {
  const vault = await sharedTestVault();
  const { id, env: auth } = await approle(vault, '1h');
  const proxy = await through(t, vault);
  const cache = mkdtempSync(path.join(tmpdir(), 'vaultfill-cache-'));
  const runs = await Promise.all(
    Array.from({ length: 10 }, () => vaultfill(['generate', '-'], { input: input(id), env: { ...auth, VAULT_ADDR: proxy.address, XDG_CACHE_HOME: cache } })),
  );
  for (const r of runs) {
    t.is(r.code, 0, r.stderr);
    t.true(r.stdout.includes(SECRET));
  }
  t.is(proxy.count(`auth/ar-${id}/login`), 1);
  const dir = path.join(cache, 'vaultfill');
  t.is(statSync(dir).mode & 0o777, 0o700);
  const files = readdirSync(dir);
  t.deepEqual(files.filter((f) => !f.endsWith('.json')), [], 'no temporary or lock files left');
  for (const f of files) t.is(statSync(path.join(dir, f)).mode & 0o777, 0o600);
});

test('URL-encoded and dot-segment paths never read outside AVP_PATH_VALIDATION', async (t) => {
  const vault = await sharedTestVault();
  const id = await seeded(vault);
  const proxy = await through(t, vault);
  const validation = `^secret/data/${id}/`;
  const tricks = [`secret/data/${id}/%2e%2e/%2e%2e/sys/mounts`, `secret/data/${id}/../../sys/mounts`, `secret/data/${id}/a%2f..%2f..%2fb`];
  for (const trick of tricks) {
    const r = await vaultfill(['generate', '-'], { input: `kind: X\na: <path:${trick}#v>\n`, env: env(proxy.address, vault.token, { AVP_PATH_VALIDATION: validation }) });
    t.not(r.code, 0, trick);
    t.is(r.stdout, '');
  }
  const outside = proxy.requests.filter((req) => !req.path.startsWith(`/v1/secret/data/${id}/`) && !req.path.startsWith('/v1/sys/internal/ui/mounts/'));
  t.deepEqual(outside, []);
  // What Vault sees: each segment decoded once. No segment may climb out of the prefix.
  for (const req of proxy.requests) {
    const segments = (req.path.split('?')[0] ?? '').split('/').map(decodeURIComponent);
    t.false(segments.some((seg) => seg === '..' || seg === '.' || seg.includes('/')), req.path);
  }
});

test('a token that may not look up mounts falls back to AVP_KV_VERSION without logging in again', async (t) => {
  const vault = await sharedTestVault();
  const { id, env: auth } = await approle(vault, '1h');
  const proxy = await through(t, vault);
  proxy.fault = (req) => (req.path.startsWith('/v1/sys/internal/ui/mounts/') ? { status: 403, body: { errors: ['permission denied'] } } : undefined);
  const cache = mkdtempSync(path.join(tmpdir(), 'vaultfill-cache-'));
  const run = () => vaultfill(['generate', '-'], { input: input(id), env: { ...auth, VAULT_ADDR: proxy.address, XDG_CACHE_HOME: cache } });
  t.is((await run()).code, 0);
  const second = await run();
  t.is(second.code, 0, second.stderr);
  t.true(second.stdout.includes(SECRET));
  t.is(proxy.count(`auth/ar-${id}/login`), 1, 'the cached token is kept');
});
