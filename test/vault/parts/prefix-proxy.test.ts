// Proves the prefix-routing reverse proxy (test/helpers/reverse-proxy.ts, Debian's nginx) on its
// own, with plain node:http as the client: /vault/v1/… reaches the test Vault's /v1/…, anything
// outside the prefix is nginx's 404, and the access log says which is which.
import test from 'ava';
import { startPrefixProxy } from '../../helpers/reverse-proxy.js';
import { waitUntil } from '../../helpers/processes.js';
import { sharedTestVault } from '../harness.js';
import { get } from './get.js';

test('/vault/v1/… reaches Vault and paths outside the prefix are 404', async (t) => {
  const vault = await sharedTestVault();
  const gw = await startPrefixProxy({ upstream: vault.address, prefix: '/vault/' });
  t.teardown(() => gw.close());
  gw.logOnFailure(t);
  t.regex(gw.address, /^http:\/\/127\.0\.0\.1:\d+\/vault\/$/);

  const health = await get({ url: new URL('v1/sys/health', gw.address).href });
  t.is(health.status, 200, health.body);
  t.false(JSON.parse(health.body).sealed);

  await vault.request('POST', 'secret/data/prefix-proxy', { data: { password: 'behind-nginx' } });
  const secret = await get({ url: new URL('v1/secret/data/prefix-proxy', gw.address).href }, { 'X-Vault-Token': vault.token });
  t.is(secret.status, 200, secret.body);
  t.is(JSON.parse(secret.body).data.data.password, 'behind-nginx');

  const origin = new URL(gw.address).origin;
  const outside = await get({ url: `${origin}/v1/sys/health` });
  t.is(outside.status, 404);
  t.regex(outside.body, /nginx/);

  const port = new URL(vault.address).port;
  const entries = await waitUntil('three access-log lines', async () => (gw.requests().length >= 3 ? gw.requests() : undefined), { timeoutMs: 5_000 });
  t.deepEqual(entries, [
    { method: 'GET', uri: '/vault/v1/sys/health', status: 200, upstream: `127.0.0.1:${port}`, upstreamStatus: 200, hadToken: false },
    { method: 'GET', uri: '/vault/v1/secret/data/prefix-proxy', status: 200, upstream: `127.0.0.1:${port}`, upstreamStatus: 200, hadToken: true },
    { method: 'GET', uri: '/v1/sys/health', status: 404, hadToken: false },
  ]);
});

test('a prefix without its slashes is refused before nginx starts', async (t) => {
  await t.throwsAsync(startPrefixProxy({ upstream: 'http://127.0.0.1:1', prefix: '/vault' }), { message: /slashes at both ends/ });
  await t.throwsAsync(startPrefixProxy({ upstream: 'http://127.0.0.1:1/v1', prefix: '/vault/' }), { message: /without a path/ });
});
