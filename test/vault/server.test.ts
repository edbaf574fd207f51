// Proves the real-Vault test server (test/vault/server) behaves like
// `vault server -dev`: root token, kv-v2 at secret/, kv-v1 mounts, auth
// methods, file audit, seal/unseal, and TLS.
import test from 'ava';
import { generateKeyPairSync, sign } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sharedTestVault, startTestVault } from './harness.js';

test('root token works (auth/token/lookup-self)', async (t) => {
  const vault = await sharedTestVault();
  const res = await vault.request('GET', 'auth/token/lookup-self');
  t.is(res.status, 200, JSON.stringify(res.body));
  t.is(res.body.data.id, vault.token);
  t.deepEqual(res.body.data.policies, ['root']);
  const bad = await vault.request('GET', 'auth/token/lookup-self', undefined, 'not-a-token');
  t.is(bad.status, 403);
});

test('secret/ is KV v2 with versions', async (t) => {
  const vault = await sharedTestVault();
  const mounts = await vault.request('GET', 'sys/mounts');
  t.is(mounts.status, 200);
  t.is(mounts.body.data['secret/'].type, 'kv');
  t.is(mounts.body.data['secret/'].options.version, '2');

  const w1 = await vault.request('POST', 'secret/data/server-test/app', { data: { password: 'one' } });
  t.is(w1.status, 200, JSON.stringify(w1.body));
  t.is(w1.body.data.version, 1);
  const w2 = await vault.request('POST', 'secret/data/server-test/app', { data: { password: 'two', user: 'u' } });
  t.is(w2.body.data.version, 2);

  const latest = await vault.request('GET', 'secret/data/server-test/app');
  t.is(latest.status, 200);
  t.deepEqual(latest.body.data.data, { password: 'two', user: 'u' });
  t.is(latest.body.data.metadata.version, 2);

  const v1 = await vault.request('GET', 'secret/data/server-test/app?version=1');
  t.is(v1.status, 200);
  t.deepEqual(v1.body.data.data, { password: 'one' });
  t.is(v1.body.data.metadata.version, 1);

  const list = await vault.request('LIST', 'secret/metadata/server-test');
  t.deepEqual(list.body.data.keys, ['app']);
  const missing = await vault.request('GET', 'secret/data/server-test/nope');
  t.is(missing.status, 404);
});

test('a KV v1 mount can be enabled and read', async (t) => {
  const vault = await sharedTestVault();
  const mount = await vault.request('POST', 'sys/mounts/kv1', { type: 'kv', options: { version: '1' } });
  t.is(mount.status, 204, JSON.stringify(mount.body));
  const w = await vault.request('POST', 'kv1/app', { password: 'v1secret' });
  t.is(w.status, 204, JSON.stringify(w.body));
  const r = await vault.request('GET', 'kv1/app');
  t.is(r.status, 200);
  t.deepEqual(r.body.data, { password: 'v1secret' });
});

test('approle, userpass, kubernetes and jwt auth can be enabled and used', async (t) => {
  const vault = await sharedTestVault();
  for (const type of ['approle', 'userpass', 'kubernetes', 'jwt']) {
    const res = await vault.request('POST', `sys/auth/${type}`, { type });
    t.is(res.status, 204, `${type}: ${JSON.stringify(res.body)}`);
  }
  const auths = await vault.request('GET', 'sys/auth');
  for (const type of ['approle', 'userpass', 'kubernetes', 'jwt']) t.is(auths.body.data[`${type}/`]?.type, type);

  // policy that can read secret/
  t.is((await vault.request('PUT', 'sys/policies/acl/reader', { policy: 'path "secret/data/*" { capabilities = ["read"] }' })).status, 204);
  await vault.request('POST', 'secret/data/server-test/auth', { data: { k: 'v' } });

  // approle login
  t.is((await vault.request('POST', 'auth/approle/role/app', { token_policies: ['reader'] })).status, 204);
  const roleId = (await vault.request('GET', 'auth/approle/role/app/role-id')).body.data.role_id;
  const secretId = (await vault.request('POST', 'auth/approle/role/app/secret-id')).body.data.secret_id;
  const login = await vault.request('POST', 'auth/approle/login', { role_id: roleId, secret_id: secretId }, '');
  t.is(login.status, 200, JSON.stringify(login.body));
  const appToken: string = login.body.auth.client_token;
  const read = await vault.request('GET', 'secret/data/server-test/auth', undefined, appToken);
  t.deepEqual(read.body.data.data, { k: 'v' });
  const denied = await vault.request('GET', 'sys/mounts', undefined, appToken);
  t.is(denied.status, 403);

  // userpass login
  t.is((await vault.request('POST', 'auth/userpass/users/alice', { password: 'pw', token_policies: ['reader'] })).status, 204);
  const up = await vault.request('POST', 'auth/userpass/login/alice', { password: 'pw' }, '');
  t.is(up.status, 200, JSON.stringify(up.body));
  t.truthy(up.body.auth.client_token);

  // kubernetes: a real login against a fake TokenReview API on loopback
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const b64u = (v: Buffer | string) => Buffer.from(v).toString('base64url');
  const signJwt = (claims: Record<string, unknown>) => {
    const unsigned = `${b64u(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(unsigned), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${unsigned}.${b64u(sig)}`;
  };
  const now = Math.floor(Date.now() / 1000);
  const saJwt = signJwt({
    iss: 'https://kubernetes.default.svc.cluster.local',
    sub: 'system:serviceaccount:argocd:argocd-repo-server',
    aud: ['vault'],
    iat: now,
    exp: now + 300,
    'kubernetes.io': { namespace: 'argocd', serviceaccount: { name: 'argocd-repo-server', uid: 'sa-uid-1' } },
  });
  const reviews: string[] = [];
  const apiServer = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      const review = JSON.parse(raw);
      reviews.push(req.url ?? '');
      const ok = review.spec.token === saJwt;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        status: ok
          ? {
              authenticated: true,
              audiences: review.spec.audiences ?? [],
              user: { username: 'system:serviceaccount:argocd:argocd-repo-server', uid: 'sa-uid-1' },
            }
          : { authenticated: false },
      }));
    });
  });
  await new Promise<void>((resolve) => apiServer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => apiServer.close(() => resolve())));
  const apiPort = (apiServer.address() as AddressInfo).port;
  const k8s = await vault.request('POST', 'auth/kubernetes/config', {
    kubernetes_host: `http://127.0.0.1:${apiPort}`,
    disable_local_ca_jwt: true,
  });
  t.is(k8s.status, 204, JSON.stringify(k8s.body));
  const k8sRole = await vault.request('POST', 'auth/kubernetes/role/argocd', {
    bound_service_account_names: ['argocd-repo-server'],
    bound_service_account_namespaces: ['argocd'],
    token_policies: ['reader'],
  });
  t.is(k8sRole.status, 204, JSON.stringify(k8sRole.body));
  const k8sLogin = await vault.request('POST', 'auth/kubernetes/login', { role: 'argocd', jwt: saJwt }, '');
  t.is(k8sLogin.status, 200, JSON.stringify(k8sLogin.body));
  t.deepEqual(reviews, ['/apis/authentication.k8s.io/v1/tokenreviews']);
  const k8sRead = await vault.request('GET', 'secret/data/server-test/auth', undefined, k8sLogin.body.auth.client_token);
  t.deepEqual(k8sRead.body.data.data, { k: 'v' });

  // jwt: a real login with a token we sign ourselves
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  t.is((await vault.request('POST', 'auth/jwt/config', { jwt_validation_pubkeys: [pem] })).status, 204);
  const jwtRole = await vault.request('POST', 'auth/jwt/role/ci', {
    role_type: 'jwt',
    user_claim: 'sub',
    bound_audiences: ['vaultfill'],
    token_policies: ['reader'],
  });
  t.is(jwtRole.status, 204, JSON.stringify(jwtRole.body));
  const ciJwt = signJwt({ sub: 'ci-job', aud: 'vaultfill', iat: now, nbf: now - 5, exp: now + 300 });
  const jwtLogin = await vault.request('POST', 'auth/jwt/login', { role: 'ci', jwt: ciJwt }, '');
  t.is(jwtLogin.status, 200, JSON.stringify(jwtLogin.body));
  const jwtRead = await vault.request('GET', 'secret/data/server-test/auth', undefined, jwtLogin.body.auth.client_token);
  t.deepEqual(jwtRead.body.data.data, { k: 'v' });
});

test('file audit device can be enabled', async (t) => {
  // Its own server: while an audit device is being enabled, Vault fails the requests in flight
  // that it cannot audit ("internal error"), which would break the tests sharing a server.
  const vault = await startTestVault();
  t.teardown(() => vault.stop());
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vaultfill-audit-'));
  const file = path.join(dir, 'audit.log');
  try {
    const res = await vault.request('POST', 'sys/audit/file', { type: 'file', options: { file_path: file } });
    t.is(res.status, 204, JSON.stringify(res.body));
    await vault.request('GET', 'auth/token/lookup-self');
    const lines = (await fs.readFile(file, 'utf8')).trim().split('\n');
    t.true(lines.length >= 1);
    t.true(lines.some((l) => JSON.parse(l).request?.path === 'auth/token/lookup-self'));
    t.is((await vault.request('DELETE', 'sys/audit/file')).status, 204);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('seal, then unseal with the printed keys', async (t) => {
  const vault = await startTestVault({ env: { VAULT_DEV_ROOT_TOKEN_ID: 'my-root' } });
  t.teardown(() => vault.stop());
  t.is(vault.token, 'my-root');
  t.is((await vault.request('GET', 'auth/token/lookup-self')).status, 200);
  await vault.request('POST', 'secret/data/sealed', { data: { a: 'b' } });

  t.is((await vault.request('PUT', 'sys/seal')).status, 204);
  t.true((await vault.request('GET', 'sys/seal-status')).body.sealed);
  t.is((await vault.request('GET', 'secret/data/sealed')).status, 503);

  t.true(vault.unsealKeys.length > 0);
  let status: { sealed: boolean } | undefined;
  for (const key of vault.unsealKeys) status = (await vault.request('PUT', 'sys/unseal', { key })).body;
  t.false(status?.sealed);
  // kv-v2 comes back after unseal (may take a moment to finish mounting)
  let read = await vault.request('GET', 'secret/data/sealed');
  for (let i = 0; i < 100 && read.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    read = await vault.request('GET', 'secret/data/sealed');
  }
  t.deepEqual(read.body.data.data, { a: 'b' });
});

test('TLS mode serves HTTPS verified by the generated CA', async (t) => {
  const vault = await startTestVault({ tls: true });
  t.teardown(() => vault.stop());
  t.regex(vault.address, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.truthy(vault.caFile && vault.clientCert && vault.clientKey);
  const res = await vault.request('GET', 'sys/health');
  t.is(res.status, 200);
  t.false(res.body.sealed);

  const get = (options: https.RequestOptions) =>
    new Promise<number>((resolve, reject) => {
      https
        .get(`${vault.address}/v1/sys/health`, { agent: false, ...options }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        })
        .on('error', reject);
    });
  // Without the CA: rejected by the client.
  await t.throwsAsync(get({}), { message: /self[- ]signed|unable to verify|certificate/i });
  // With the CA, also checked against the DNS SAN localhost, and with the client certificate.
  const ca = readFileSync(vault.caFile!);
  t.is(await get({ ca }), 200);
  t.is(await get({ ca, servername: 'localhost' }), 200);
  t.is(
    await get({ ca, cert: readFileSync(vault.clientCert!), key: readFileSync(vault.clientKey!) }),
    200,
  );
});
