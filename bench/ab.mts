// Interleaved A/B of corpus B2 against the real test Vault: another build's bin.cjs ("before",
// e.g. a worktree of an older commit after `npm run build`) against this one's ("after"), and
// the ways of reaching Vault (issue 16). Prints the medians of wall time, CPU and peak RSS.
//
//   npx tsx bench/ab.mts --before ../wt-old/dist/bin.cjs [--runs 25] [--mode direct|envproxy|squid]
//
// direct:   straight to the test Vault.
// envproxy: HTTPS_PROXY / HTTP_PROXY / NO_PROXY set; the Vault is on loopback, so the proxy
//           decision runs and the connection is direct.
// squid:    this build only, direct against through Debian's squid (absolute URLs to an http
//           Vault named vault.internal, which only the proxy resolves).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { binJs, median, outDir, seedVault, startVault, timedRun, vaultfillEnv } from './lib.mjs';
import { realisticCorpus, secrets } from './corpus.mjs';
import { startForwardProxy } from '../test/helpers/forward-proxy.js';

const { values } = parseArgs({ options: { before: { type: 'string' }, runs: { type: 'string', default: '25' }, mode: { type: 'string', default: 'direct' } } });
const runs = Number(values.runs);
const mode = values.mode as string;
if (mode !== 'squid' && !values.before) throw new Error('--before <bin.cjs of the other build> is needed unless --mode squid');

const seeded = secrets();
const file = path.join(outDir, 'ab-b2.yaml');
writeFileSync(file, realisticCorpus({ seedSecrets: seeded }).text);
const vault = await startVault();
await seedVault(vault, seeded);

const builds: Record<string, string> = mode === 'squid' ? { direct: binJs, squid: binJs } : { before: values.before as string, after: binJs };
let routed: Record<string, string> = {};
const squid = mode === 'squid' ? await startForwardProxy({ hosts: { 'vault.internal': '127.0.0.1' } }) : undefined;
if (squid) routed = { VAULT_ADDR: `http://vault.internal:${new URL(vault.address).port}`, HTTP_PROXY: squid.url };
if (mode === 'envproxy') routed = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '.internal,10.0.0.0/8' };
const env = (name: string): Record<string, string> =>
  vaultfillEnv({ AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'token', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, ...(name === 'direct' ? {} : routed) });

const names = Object.keys(builds);
const results = new Map<string, Array<{ ms: number; cpuMs: number; rssKB: number }>>(names.map((n) => [n, []]));
for (let round = -1; round < runs; round++) {
  for (const name of round % 2 ? names : [...names].reverse()) {
    const r = await timedRun([process.execPath, builds[name] as string, 'generate', file], { env: env(name) });
    if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${r.stderr}`);
    if (round >= 0) results.get(name)?.push(r); // round -1 warms up
  }
}
for (const [name, rs] of results) {
  console.log(`${mode} ${name}: wall ${median(rs.map((r) => r.ms)).toFixed(0)} ms, cpu ${median(rs.map((r) => r.cpuMs)).toFixed(0)} ms, peak RSS ${median(rs.map((r) => r.rssKB / 1024)).toFixed(0)} MiB (median of ${rs.length})`);
}
await squid?.close();
process.exit(0);
