// Proves the HA test Vault (startTestVaultHA, test/vault/server/ha.go) on its own, with plain
// node:https as the client: the standby redirects a read to the active node with 307 and the
// same path, and the active node serves it.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { startTestVaultHA } from '../harness.js';
import { get } from './get.js';

test('the standby answers 307 to the active node, which serves the secret', async (t) => {
  const vault = await startTestVaultHA();
  t.teardown(() => vault.stop());
  t.regex(vault.active, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.regex(vault.standby, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.not(vault.active, vault.standby);
  const ca = readFileSync(vault.caFile);

  const write = await vault.request('POST', 'secret/data/ha-test', { data: { password: 'from-the-active-node' } });
  t.is(write.status, 200, JSON.stringify(write.body));

  // Health is answered by each node itself: the standby says so (429 unless ?standbyok).
  const standbyHealth = await get({ url: `${vault.standby}/v1/sys/health`, ca });
  t.is(standbyHealth.status, 429, standbyHealth.body);
  t.true(JSON.parse(standbyHealth.body).standby);
  t.is((await get({ url: `${vault.active}/v1/sys/health`, ca })).status, 200);

  const headers = { 'X-Vault-Token': vault.token };
  const redirected = await get({ url: `${vault.standby}/v1/secret/data/ha-test?version=1`, ca }, headers);
  t.is(redirected.status, 307, redirected.body);
  const location = String(redirected.headers.location);
  t.is(location, `${vault.active}/v1/secret/data/ha-test?version=1`);

  const followed = await get({ url: location, ca }, headers);
  t.is(followed.status, 200, followed.body);
  t.is(JSON.parse(followed.body).data.data.password, 'from-the-active-node');
});
