/** The Vault backend and auth methods against the real test Vault (test/vault/server). */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { vaultfill } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { sharedTestVault, startTestVault, type TestVault } from '../vault/harness.js';

const uniq = (): string => randomUUID().slice(0, 8);
const docs = (text: string): unknown[] => parseAllDocuments(text).map((d) => d.toJS());
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;
const noCache = (): string => mkdtempSync(path.join(tmpdir(), 'vaultfill-cache-'));

async function seed(vault: TestVault, apiPath: string, data: Record<string, unknown>): Promise<void> {
  const body = apiPath.startsWith('secret/') ? { data } : data;
  const r = await vault.request('POST', apiPath, body);
  if (r.status >= 300) throw new Error(`seeding ${apiPath}: ${r.status} ${JSON.stringify(r.body)}`);
}

async function policyToken(vault: TestVault, policy: string): Promise<string> {
  const name = `p-${uniq()}`;
  await vault.request('PUT', `sys/policies/acl/${name}`, { policy });
  const r = await vault.request('POST', 'auth/token/create', { policies: [name], ttl: '1h' });
  return r.body.auth.client_token as string;
}

test('token auth reads KV v2 paths with and without /data/, once per distinct secret', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await seed(vault, `secret/data/${id}/app`, { user: 'alice', password: 'pw-vault-1', replicas: 3 });
  await seed(vault, `secret/data/${id}/other`, { key: 'other-vault-value' });
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  const input = Array.from({ length: 20 }, (_, i) =>
    `kind: ConfigMap\nmetadata:\n  name: c${i}\ndata:\n  u: <path:secret/data/${id}/app#user>\n  p: <path:secret/${id}/app#password>\n  o: <path:secret/data/${id}/other#key>\n`).join('---\n') +
    `---\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: <path:secret/data/${id}/app#replicas>\n`;
  const r = await vaultfill(['generate', '-'], { input, env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'token', VAULT_ADDR: proxy.address, VAULT_TOKEN: vault.token } });
  t.is(r.code, 0, r.stderr);
  const all = docs(r.stdout) as Array<{ data?: Record<string, string>; spec?: { replicas: number } }>;
  t.deepEqual(all[0]?.data, { u: 'alice', p: 'pw-vault-1', o: 'other-vault-value' });
  t.is(all[20]?.spec?.replicas, 3);
  t.is(proxy.count(`secret/data/${id}/app`, 'GET'), 1, 'one read for app, whichever way the path was written');
  t.is(proxy.count(`secret/data/${id}/other`, 'GET'), 1);
  t.is(proxy.count('sys/internal/ui/mounts/'), 1, 'the mount is detected once');
});

test('KV v1 mounts and KV v2 versions are read as asked', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await vault.request('POST', `sys/mounts/kv1-${id}`, { type: 'kv', options: { version: '1' } });
  await seed(vault, `kv1-${id}/app`, { user: 'v1-user' });
  await seed(vault, `secret/data/${id}/v`, { token: 'first' });
  await seed(vault, `secret/data/${id}/v`, { token: 'second' });
  const input = `kind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:kv1-${id}/app#user>\n  b: <path:secret/data/${id}/v#token#1>\n  c: <path:secret/data/${id}/v#token>\n`;
  const r = await vaultfill(['generate', '-'], { input, env: { AVP_TYPE: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token } });
  t.is(r.code, 0, r.stderr);
  t.deepEqual((docs(r.stdout)[0] as { stringData: unknown }).stringData, { a: 'v1-user', b: 'first', c: 'second' });
});

test('a deleted version and a missing path are clear errors naming the path', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await seed(vault, `secret/data/${id}/gone`, { k: 'deleted-value-xyz' });
  await vault.request('DELETE', `secret/data/${id}/gone`);
  const input = `kind: X\na: <path:secret/data/${id}/gone#k>\nb: <path:secret/data/${id}/never#k>\n`;
  const r = await vaultfill(['generate', '-'], { input, env: { AVP_TYPE: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token } });
  t.is(r.code, 5);
  t.is(r.stdout, '');
  t.regex(r.stderr, new RegExp(`VERSION_DELETED.*secret/data/${id}/gone.*deleted`));
  t.regex(r.stderr, new RegExp(`SECRET_NOT_FOUND.*secret/data/${id}/never`));
  t.false(r.stderr.includes('deleted-value-xyz'));
});

test('permission denied names the path and leaks nothing', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await seed(vault, `secret/data/${id}/allowed`, { k: 'ok-value' });
  await seed(vault, `secret/data/${id}/forbidden`, { k: 'forbidden-value' });
  const token = await policyToken(vault, `path "secret/data/${id}/allowed" { capabilities = ["read"] }`);
  const input = `kind: X\na: <path:secret/data/${id}/allowed#k>\nb: <path:secret/data/${id}/forbidden#k>\n`;
  const r = await vaultfill(['generate', '-'], { input, env: { AVP_TYPE: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: token } });
  t.is(r.code, 5);
  t.is(r.stdout, '');
  t.regex(r.stderr, new RegExp(`PERMISSION_DENIED.*secret/data/${id}/forbidden`));
  t.false(r.stderr.includes('ok-value'));
  t.false(r.stderr.includes('forbidden-value'));
});

test('approle login, then a second run reuses the cached token without logging in', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await vault.request('POST', `sys/auth/approle-${id}`, { type: 'approle' });
  await vault.request('PUT', `sys/policies/acl/read-${id}`, { policy: `path "secret/data/${id}/*" { capabilities = ["read"] }\npath "sys/internal/ui/mounts/*" { capabilities = ["read"] }` });
  await vault.request('POST', `auth/approle-${id}/role/argocd`, { token_policies: [`read-${id}`], token_ttl: '1h' });
  const roleId = (await vault.request('GET', `auth/approle-${id}/role/argocd/role-id`)).body.data.role_id as string;
  const secretId = (await vault.request('POST', `auth/approle-${id}/role/argocd/secret-id`)).body.data.secret_id as string;
  await seed(vault, `secret/data/${id}/app`, { user: 'approle-user' });
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  const cache = noCache();
  const env = { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'approle', AVP_ROLE_ID: roleId, AVP_SECRET_ID: secretId, AVP_MOUNT_PATH: `auth/approle-${id}`, VAULT_ADDR: proxy.address, XDG_CACHE_HOME: cache };
  const input = `kind: X\na: <path:secret/data/${id}/app#user>\n`;
  const first = await vaultfill(['generate', '-'], { input, env });
  t.is(first.code, 0, first.stderr);
  t.true(first.stdout.includes('approle-user'));
  const second = await vaultfill(['generate', '-'], { input, env });
  t.is(second.code, 0, second.stderr);
  t.is(proxy.count(`auth/approle-${id}/login`, 'POST'), 1, 'the second run did not log in');

  const dir = path.join(cache, 'vaultfill');
  t.is(statSync(dir).mode & 0o777, 0o700);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  t.is(files.length, 1);
  t.is(statSync(path.join(dir, files[0] ?? '')).mode & 0o777, 0o600);

  // Revoke the cached token: the next run gets a 403, logs in once more and succeeds.
  const cachedToken = (JSON.parse((await import('node:fs')).readFileSync(path.join(dir, files[0] ?? ''), 'utf8')) as { token: string }).token;
  await vault.request('POST', 'auth/token/revoke', { token: cachedToken });
  const third = await vaultfill(['generate', '-'], { input, env });
  t.is(third.code, 0, third.stderr);
  t.is(proxy.count(`auth/approle-${id}/login`, 'POST'), 2, 'one fresh login after the 403');
  t.false(third.stderr.includes(cachedToken));
  const fourth = await vaultfill(['generate', '-', '--disable-token-cache'], { input, env });
  t.is(fourth.code, 0, fourth.stderr);
  t.is(proxy.count(`auth/approle-${id}/login`, 'POST'), 3, '--disable-token-cache logs in');
});

test('a corrupted token-cache entry is dropped and a lock left by a killed login is taken over at once', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await vault.request('POST', `sys/auth/cc-${id}`, { type: 'userpass' });
  await vault.request('PUT', `sys/policies/acl/cc-${id}`, { policy: `path "secret/data/${id}/*" { capabilities = ["read"] }` });
  await vault.request('POST', `auth/cc-${id}/users/u`, { password: 'pw', token_policies: [`cc-${id}`] });
  await seed(vault, `secret/data/${id}/app`, { user: 'cached-user' });
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  const cache = noCache();
  const env = { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'userpass', AVP_USERNAME: 'u', AVP_PASSWORD: 'pw', AVP_MOUNT_PATH: `cc-${id}`, VAULT_ADDR: proxy.address, XDG_CACHE_HOME: cache };
  const input = `kind: X\na: <path:secret/data/${id}/app#user>\n`;
  t.is((await vaultfill(['generate', '-'], { input, env })).code, 0);
  const dir = path.join(cache, 'vaultfill');
  const [entry = ''] = readdirSync(dir).filter((f) => f.endsWith('.json'));
  // A token with a control character cannot be sent in a header: before, every later run failed.
  writeFileSync(path.join(dir, entry), JSON.stringify({ token: 'hvs.bad\u0007token', expiresAt: null }));
  const afterCorruption = await vaultfill(['generate', '-'], { input, env });
  t.is(afterCorruption.code, 0, afterCorruption.stderr);
  t.true(afterCorruption.stdout.includes('cached-user'));
  t.is(proxy.count(`auth/cc-${id}/login`, 'POST'), 2, 'the unusable entry was replaced by a fresh login');
  t.true(TOKEN_SHAPE.test((JSON.parse(readFileSync(path.join(dir, entry), 'utf8')) as { token: string }).token));

  // A lock whose holder died mid-login (a pid no process has): before, the next run waited 15 s.
  writeFileSync(path.join(dir, entry), '');
  writeFileSync(path.join(dir, entry.replace(/\.json$/, '.lock')), '2147483646');
  const started = Date.now();
  const afterKill = await vaultfill(['generate', '-'], { input, env });
  t.is(afterKill.code, 0, afterKill.stderr);
  t.true(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  t.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.lock')), []);
});

test('placeholders read only KV mounts: the sidecar’s own token, sys/, identity/ and cubbyhole are refused unless the operator allows them', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await seed(vault, `secret/data/${id}/app`, { user: 'kv-user' });
  // A token with only a KV read policy (plus Vault's default policy, which allows lookup-self and cubbyhole).
  const token = await policyToken(vault, `path "secret/data/${id}/*" { capabilities = ["read"] }`);
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  const env = { AVP_TYPE: 'vault', VAULT_ADDR: proxy.address, VAULT_TOKEN: token };
  const input = [
    'kind: ConfigMap\nmetadata:\n  name: steal\n  annotations:\n    avp.kubernetes.io/kv-version: "1"\ndata:\n  token: <path:auth/token/lookup-self#id>\n',
    'kind: ConfigMap\nmetadata:\n  name: others\ndata:\n  a: <path:cubbyhole/x#k>\n  b: <path:identity/entity/name/x#id>\n  c: <path:sys/mounts#secret/>\n',
    `kind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  u: <path:secret/data/${id}/app#user>\n`,
  ].join('---\n');
  const r = await vaultfill(['generate', '-'], { input, env });
  t.is(r.code, 5, r.stderr);
  t.is(r.stdout, '');
  t.regex(r.stderr, /MOUNT_NOT_ALLOWED .*ConfigMap\/steal.*auth\/token\/lookup-self is on a token mount \(auth\/token\/\), not a KV secrets engine; .*AVP_NON_KV_MOUNTS/);
  t.regex(r.stderr, /MOUNT_NOT_ALLOWED .*cubbyhole\/x is on a cubbyhole mount/);
  t.regex(r.stderr, /MOUNT_NOT_ALLOWED .*identity\/entity\/name\/x is on a identity mount|MOUNT_NOT_ALLOWED .*identity\/entity\/name\/x is under auth\//);
  t.regex(r.stderr, /MOUNT_NOT_ALLOWED .*sys\/mounts (is on a system mount|is under auth\/)/);
  t.false(r.stderr.includes(token));
  t.deepEqual(proxy.requests.filter((q) => /^\/v1\/(auth|cubbyhole|identity|sys\/mounts)/.test(q.path)).map((q) => q.path), [], 'none of them was read');

  // Mount detection refused (a proxy answers 403 for it): the same paths are refused by prefix.
  proxy.fault = (q) => (q.path.startsWith('/v1/sys/internal/ui/mounts/') ? { status: 403, body: { errors: ['permission denied'] } } : undefined);
  const blind = await vaultfill(['generate', '-'], { input, env });
  t.is(blind.code, 5);
  t.regex(blind.stderr, /MOUNT_NOT_ALLOWED .*auth\/token\/lookup-self is under auth\/, sys\/, identity\/, cubbyhole\//);
  proxy.fault = undefined;

  // The operator allows a non-KV path: it is read like KV v1.
  await vault.request('POST', 'cubbyhole/x', { k: 'cubby-value' }, token);
  const allowed = await vaultfill(['generate', '-'], { input: 'kind: X\na: <path:cubbyhole/x#k>\n', env: { ...env, AVP_NON_KV_MOUNTS: 'cubbyhole' } });
  t.is(allowed.code, 0, allowed.stderr);
  t.true(allowed.stdout.includes('cubby-value'));
});

test('userpass login reads with the user’s policy; a wrong password is an auth error', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await vault.request('POST', `sys/auth/up-${id}`, { type: 'userpass' });
  await vault.request('PUT', `sys/policies/acl/up-${id}`, { policy: `path "secret/data/${id}/*" { capabilities = ["read"] }` });
  await vault.request('POST', `auth/up-${id}/users/argo`, { password: 'correct horse', token_policies: [`up-${id}`] });
  await seed(vault, `secret/data/${id}/app`, { user: 'userpass-user' });
  const base = { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'userpass', AVP_USERNAME: 'argo', AVP_MOUNT_PATH: `up-${id}`, VAULT_ADDR: vault.address, XDG_CACHE_HOME: noCache() };
  const input = `kind: X\na: <path:secret/data/${id}/app#user>\n`;
  const ok = await vaultfill(['generate', '-'], { input, env: { ...base, AVP_PASSWORD: 'correct horse' } });
  t.is(ok.code, 0, ok.stderr);
  t.true(ok.stdout.includes('userpass-user'));
  const bad = await vaultfill(['generate', '-'], { input, env: { ...base, AVP_PASSWORD: 'wrong', XDG_CACHE_HOME: noCache() } });
  t.is(bad.code, 4);
  t.regex(bad.stderr, /AUTH_FAILED.*userpass login/);
  t.false(bad.stderr.includes('wrong'), 'the password is not echoed');
});

test('kubernetes auth logs in with the service-account JWT via a TokenReview endpoint', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  const reviews: unknown[] = [];
  const api = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      reviews.push(JSON.parse(body || '{}'));
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview',
        status: { authenticated: true, user: { username: 'system:serviceaccount:argocd:argocd-repo-server', uid: 'uid-1', groups: ['system:serviceaccounts'] } },
      }));
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  t.teardown(() => api.close());
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: 'kubernetes/serviceaccount', sub: 'system:serviceaccount:argocd:argocd-repo-server', 'kubernetes.io/serviceaccount/namespace': 'argocd', 'kubernetes.io/serviceaccount/service-account.name': 'argocd-repo-server', 'kubernetes.io/serviceaccount/service-account.uid': 'uid-1' })}.c2ln`;
  const tokenFile = path.join(noCache(), 'token');
  writeFileSync(tokenFile, jwt);
  await vault.request('POST', `sys/auth/k8s-${id}`, { type: 'kubernetes' });
  const cfg = await vault.request('POST', `auth/k8s-${id}/config`, { kubernetes_host: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, disable_local_ca_jwt: true, token_reviewer_jwt: jwt });
  t.true(cfg.status < 300, JSON.stringify(cfg.body));
  await vault.request('PUT', `sys/policies/acl/k8s-${id}`, { policy: `path "secret/data/${id}/*" { capabilities = ["read"] }` });
  const role = await vault.request('POST', `auth/k8s-${id}/role/argocd`, { bound_service_account_names: ['argocd-repo-server'], bound_service_account_namespaces: ['argocd'], token_policies: [`k8s-${id}`], audience: '' });
  t.true(role.status < 300, JSON.stringify(role.body));
  await seed(vault, `secret/data/${id}/app`, { user: 'k8s-user' });
  const r = await vaultfill(['generate', '-'], {
    input: `kind: X\na: <path:secret/data/${id}/app#user>\n`,
    env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'k8s', AVP_K8S_ROLE: 'argocd', AVP_K8S_MOUNT_PATH: `auth/k8s-${id}`, AVP_K8S_TOKEN_PATH: tokenFile, VAULT_ADDR: vault.address, XDG_CACHE_HOME: noCache() },
  });
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes('k8s-user'));
  t.true(reviews.length >= 1, 'Vault asked the TokenReview endpoint');
  t.false(r.stderr.includes(jwt));
});

test('a sealed Vault is a distinct error (exit 4)', async (t) => {
  const vault = await startTestVault();
  t.teardown(() => vault.stop());
  const sealed = await vault.request('PUT', 'sys/seal');
  t.true(sealed.status < 300);
  const r = await vaultfill(['generate', '-'], { input: 'kind: X\na: <path:secret/data/x#y>\n', env: { AVP_TYPE: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token } });
  t.is(r.code, 4);
  t.regex(r.stderr, /BACKEND_SEALED.*sealed/);
  t.is(r.stdout, '');
});

test('TLS: VAULT_CACERT verifies the server; without it the error says what to set', async (t) => {
  const vault = await startTestVault({ tls: true });
  t.teardown(() => vault.stop());
  await seed(vault, 'secret/data/tls', { v: 'over-tls' });
  const input = 'kind: X\na: <path:secret/data/tls#v>\n';
  const env = { AVP_TYPE: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token };
  const ok = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_CACERT: vault.caFile ?? '' } });
  t.is(ok.code, 0, ok.stderr);
  t.true(ok.stdout.includes('over-tls'));
  const bad = await vaultfill(['generate', '-'], { input, env });
  t.is(bad.code, 4);
  t.regex(bad.stderr, /TLS .* failed .*VAULT_CACERT/);
  const skipped = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_SKIP_VERIFY: 'true' } });
  t.is(skipped.code, 0, skipped.stderr);
  const notSkipped = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_SKIP_VERIFY: 'false' } });
  t.is(notSkipped.code, 4, 'VAULT_SKIP_VERIFY=false keeps verification on');
  const caDir = noCache();
  writeFileSync(path.join(caDir, 'vault-ca.pem'), readFileSync(vault.caFile ?? ''));
  const capath = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_CAPATH: caDir } });
  t.is(capath.code, 0, capath.stderr);
  const withClientCert = await vaultfill(['generate', '-'], {
    input,
    env: { ...env, VAULT_CACERT: vault.caFile ?? '', VAULT_CLIENT_CERT: vault.clientCert ?? '', VAULT_CLIENT_KEY: vault.clientKey ?? '', VAULT_TLS_SERVER_NAME: 'localhost' },
  });
  t.is(withClientCert.code, 0, withClientCert.stderr);
  const wrongName = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_CACERT: vault.caFile ?? '', VAULT_TLS_SERVER_NAME: 'vault.example.org' } });
  t.is(wrongName.code, 4);
  t.regex(wrongName.stderr, /TLS .* failed/);
  const missingCert = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_CACERT: vault.caFile ?? '', VAULT_CLIENT_CERT: '/nonexistent/cert.pem' } });
  t.is(missingCert.code, 2);
  t.regex(missingCert.stderr, /VAULT_CLIENT_CERT: cannot read \/nonexistent\/cert\.pem/);
});

test('an unreachable Vault is a distinct error (exit 4) naming the address', async (t) => {
  const r = await vaultfill(['generate', '-'], { input: 'kind: X\na: <path:secret/data/x#y>\n', env: { AVP_TYPE: 'vault', VAULT_ADDR: 'http://127.0.0.1:9', VAULT_TOKEN: 't' } });
  t.is(r.code, 4);
  t.regex(r.stderr, /BACKEND_UNREACHABLE.*127\.0\.0\.1:9/);
  t.is(r.stderr.trim().split('\n').length, 1, 'reported once, not per placeholder');
});

test('missing Vault settings are listed together with the sources consulted', async (t) => {
  const r = await vaultfill(['generate', '-'], { input: 'kind: X\na: <path:secret/data/x#y>\n', env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'approle', VAULT_ADDR: 'http://127.0.0.1:9', HOME: noCache() } });
  t.is(r.code, 2);
  t.regex(r.stderr, /missing setting AVP_ROLE_ID, AVP_SECRET_ID for AVP_AUTH_TYPE=approle/);
  t.regex(r.stderr, /ARGOCD_ENV_ variables: none; environment: AVP_AUTH_TYPE, AVP_TYPE, VAULT_ADDR/);
});

test('VAULT_NAMESPACE is sent as X-Vault-Namespace on every request', async (t) => {
  const vault = await sharedTestVault();
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  // The open-source test Vault has no namespaces: the proxy answers, and records what was sent.
  proxy.fault = (req) => (req.path.startsWith('/v1/secret/') ? { status: 200, body: { data: { data: { k: 'ns-value' }, metadata: {} } } } : { status: 403, body: { errors: ['permission denied'] } });
  const r = await vaultfill(['generate', '-'], { input: 'kind: X\na: <path:secret/data/ns#k>\n', env: { AVP_TYPE: 'vault', VAULT_ADDR: proxy.address, VAULT_TOKEN: 't', VAULT_NAMESPACE: 'team-a/' } });
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes('ns-value'));
  t.true(proxy.requests.length >= 2);
  for (const req of proxy.requests) t.is(req.headers['x-vault-namespace'], 'team-a/');
});

test('without VAULT_TOKEN the token auth reads ~/.vault-token, as the vault CLI does', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await seed(vault, `secret/data/${id}/app`, { user: 'from-token-file' });
  const home = noCache();
  writeFileSync(path.join(home, '.vault-token'), `${vault.token}\n`);
  const r = await vaultfill(['generate', '-'], { input: `kind: X\na: <path:secret/data/${id}/app#user>\n`, env: { AVP_TYPE: 'vault', VAULT_ADDR: vault.address, HOME: home } });
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes('from-token-file'));
});

test('github login posts the token to auth/github/login and uses the client token it gets', async (t) => {
  const seen: Array<{ url: string; body: string; token: string | undefined }> = [];
  const fake = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ url: `${req.method} ${req.url}`, body, token: req.headers['x-vault-token'] as string | undefined });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (req.url === '/v1/auth/github/login') res.end(JSON.stringify({ auth: { client_token: 'gh-client-token', lease_duration: 3600 } }));
      else if (req.url?.startsWith('/v1/sys/internal/ui/mounts/')) res.end(JSON.stringify({ data: { path: 'secret/', type: 'kv', options: { version: '2' } } }));
      else res.end(JSON.stringify({ data: { data: { k: 'gh-value' }, metadata: {} } }));
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  t.teardown(() => fake.close());
  const r = await vaultfill(['generate', '-'], {
    input: 'kind: X\na: <path:secret/data/gh#k>\n',
    env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'github', AVP_GITHUB_TOKEN: 'ghp_personal', VAULT_ADDR: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, XDG_CACHE_HOME: noCache() },
  });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(seen[0], { url: 'POST /v1/auth/github/login', body: '{"token":"ghp_personal"}', token: undefined });
  t.true(seen.slice(1).every((s) => s.token === 'gh-client-token'));
  t.false(r.stderr.includes('ghp_personal'));
});

test('Vault error texts are shown with the run’s credentials and tokens redacted, on stderr and in check’s report', async (t) => {
  // A Vault (or a plugin behind it) whose errors echo what it was sent.
  const fake = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url?.includes('/login')) res.writeHead(400).end(JSON.stringify({ errors: [`invalid credentials ${body}`] }));
      else res.writeHead(400).end(JSON.stringify({ errors: [`backend failed for token ${String(req.headers['x-vault-token'])}`] }));
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  t.teardown(() => fake.close());
  const address = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  const dir = noCache();
  const jwtFile = path.join(dir, 'jwt');
  writeFileSync(jwtFile, 'eyJhbGciOiJSUzI1NiJ9.sidecar-jwt-canary.sig\n');
  const input = 'kind: X\na: <path:secret/data/app#k>\n';
  const cases: Array<[Record<string, string>, string[]]> = [
    [{ AVP_AUTH_TYPE: 'approle', AVP_ROLE_ID: 'role-id-canary', AVP_SECRET_ID: 'secret-id-canary' }, ['role-id-canary', 'secret-id-canary']],
    [{ AVP_AUTH_TYPE: 'k8s', AVP_K8S_ROLE: 'argocd', AVP_K8S_TOKEN_PATH: jwtFile }, ['sidecar-jwt-canary']],
    [{ AVP_AUTH_TYPE: 'userpass', AVP_USERNAME: 'u', AVP_PASSWORD: 'password-canary' }, ['password-canary']],
    [{ VAULT_TOKEN: 'hvs.token-canary' }, ['hvs.token-canary']],
  ];
  for (const [auth, canaries] of cases) {
    const env = { AVP_TYPE: 'vault', VAULT_ADDR: address, XDG_CACHE_HOME: dir, AVP_KV_VERSION: '1', ...auth };
    const r = await vaultfill(['generate', '-'], { input, env });
    t.is(r.code, 4, r.stderr);
    t.regex(r.stderr, /\[redacted\]/);
    const report = await vaultfill(['check', '-o', 'json', '-'], { input, env });
    for (const canary of canaries) {
      t.false(r.stderr.includes(canary), `${canary} on stderr: ${r.stderr}`);
      t.false(report.stdout.includes(canary) || report.stderr.includes(canary), canary);
    }
    t.regex(report.stdout, /\[redacted\]/);
  }
});

test('no home and no XDG_CACHE_HOME: no token cache, noted under --verbose, never a failure', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await vault.request('POST', `sys/auth/nohome-${id}`, { type: 'userpass' });
  await vault.request('PUT', `sys/policies/acl/nohome-${id}`, { policy: `path "secret/data/${id}/*" { capabilities = ["read"] }` });
  await vault.request('POST', `auth/nohome-${id}/users/u`, { password: 'pw', token_policies: [`nohome-${id}`] });
  await seed(vault, `secret/data/${id}/app`, { user: 'homeless' });
  const r = await vaultfill(['generate', '-', '--verbose'], {
    input: `kind: X\na: <path:secret/data/${id}/app#user>\n`,
    env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'userpass', AVP_USERNAME: 'u', AVP_PASSWORD: 'pw', AVP_MOUNT_PATH: `nohome-${id}`, VAULT_ADDR: vault.address },
  });
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes('homeless'));
  t.regex(r.stderr, /token cache off/);
  t.false(r.stderr.includes('homeless'));
  // A file where the cache directory should be: unusable even for root.
  const notADirectory = path.join(noCache(), 'file');
  writeFileSync(notADirectory, '');
  const unwritable = await vaultfill(['generate', '-', '--verbose'], {
    input: `kind: X\na: <path:secret/data/${id}/app#user>\n`,
    env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'userpass', AVP_USERNAME: 'u', AVP_PASSWORD: 'pw', AVP_MOUNT_PATH: `nohome-${id}`, VAULT_ADDR: vault.address, XDG_CACHE_HOME: notADirectory },
  });
  t.is(unwritable.code, 0, unwritable.stderr);
  t.regex(unwritable.stderr, /token cache off: cannot use/);
  // Node's recursive mkdir never returns under /proc: the cache must not hang a sync.
  const proc = await vaultfill(['generate', '-', '--verbose'], {
    input: `kind: X\na: <path:secret/data/${id}/app#user>\n`,
    env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'userpass', AVP_USERNAME: 'u', AVP_PASSWORD: 'pw', AVP_MOUNT_PATH: `nohome-${id}`, VAULT_ADDR: vault.address, XDG_CACHE_HOME: '/proc/vaultfill-cache' },
  });
  t.is(proc.code, 0, proc.stderr);
});

test('VAULT_AGENT_ADDR wins over VAULT_ADDR, as in Vault’s client; VAULT_MAX_RETRIES sets the retries', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await seed(vault, `secret/data/${id}/app`, { user: 'agent-user' });
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  const input = `kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  u: <path:secret/data/${id}/app#user>\n`;
  const env = { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'token', VAULT_TOKEN: vault.token, XDG_CACHE_HOME: noCache() };
  const viaAgent = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_ADDR: 'http://127.0.0.1:9', VAULT_AGENT_ADDR: proxy.address } });
  t.is(viaAgent.code, 0, viaAgent.stderr);
  t.regex(viaAgent.stdout, /u: agent-user/);

  proxy.fault = (req) => (req.path.includes(`${id}/app`) ? { status: 502 } : undefined);
  const attempts = async (retries: string): Promise<number> => {
    const before = proxy.count(`secret/data/${id}/app`);
    const r = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_ADDR: proxy.address, VAULT_MAX_RETRIES: retries } });
    t.is(r.code, 4, r.stderr);
    return proxy.count(`secret/data/${id}/app`) - before;
  };
  t.is(await attempts('0'), 1, 'no retries');
  t.is(await attempts('1'), 2, 'one retry');
  t.is(await attempts('-1'), 1, 'negative: no retries, as Vault reads it');
  const bad = await vaultfill(['generate', '-'], { input, env: { ...env, VAULT_ADDR: proxy.address, VAULT_MAX_RETRIES: 'lots' } });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /VAULT_MAX_RETRIES must be a whole number/);
});

test('a path with `//`, which Vault answers with a redirect to the cleaned path, is read after following it', async (t) => {
  const vault = await sharedTestVault();
  const id = uniq();
  await seed(vault, `secret/data/${id}/app`, { user: 'clean-user' });
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  const input = `kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  u: <path:secret/data//${id}/app#user>\n`;
  const r = await vaultfill(['generate', '-'], { input, env: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'token', VAULT_TOKEN: vault.token, VAULT_ADDR: proxy.address } });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /u: clean-user/);
  t.true(proxy.requests.some((q) => q.path === `/v1/secret/data//${id}/app`), 'asked as written');
  t.true(proxy.requests.some((q) => q.path === `/v1/secret/data/${id}/app`), 'then at the cleaned path');
});
