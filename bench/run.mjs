#!/usr/bin/env node
// `npm run bench`: builds (via the npm script), generates the corpora, starts the real test
// Vault behind a counting proxy, seeds it, then times `vaultfill generate -` against the
// baselines and prints a table with the targets.
//
//   node bench/run.mjs [--runs N] [--only b1|b2] [--profile]
//
// Per corpus: 1 warm-up, then N (default 5) interleaved rounds of vaultfill / yaml round trip /
// cat, each under /usr/bin/time -f %M (peak RSS). Every vaultfill output is checked (parses, no
// placeholders left, canary values exact); any failure makes the exit code non-zero.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { denseCorpus, describe, realisticCorpus, secrets } from './corpus.mjs';
import {
  benchDir, binJs, classify, load, makeGuard, median, outDir, seedVault, startProxy, startVault, timedRun, vaultfillEnv,
} from './lib.mjs';
import { profileCorpora } from './profile.mjs';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const node = process.execPath;
const log = (...a) => console.error(...a);

log(`vaultfill bench: node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? '?'}), ${load()}`);

// Corpora ------------------------------------------------------------------------------------
const seedSecrets = secrets();
const corpora = [
  { id: 'B1', name: 'dense', make: () => denseCorpus({ seedSecrets }), ratioTarget: 0.5 },
  { id: 'B2', name: 'realistic', make: () => realisticCorpus({ seedSecrets }), ratioTarget: 0.1 },
].filter((c) => !opts.only || c.id.toLowerCase() === opts.only.toLowerCase());
for (const c of corpora) {
  Object.assign(c, c.make());
  c.file = path.join(outDir, `${c.id.toLowerCase()}.yaml`);
  c.bytes = Buffer.byteLength(c.text);
  writeFileSync(c.file, c.text);
  log(describe(c.id, c));
  delete c.text;
}

// Vault ----------------------------------------------------------------------------------------
log('starting the test Vault (builds it if needed)…');
const vault = await startVault();
const proxy = await startProxy(vault.address);
const t0 = performance.now();
await seedVault(vault, seedSecrets);
log(`Vault ${vault.address} (proxy ${proxy.address}); seeded ${seedSecrets.length} secrets in ${Math.round(performance.now() - t0)} ms`);
const env = vaultfillEnv({ AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'token', VAULT_ADDR: proxy.address, VAULT_TOKEN: vault.token });
// The binary is run as it is installed: its first lines start Node with the flags it ships with.
const vaultfillArgv = [binJs, 'generate', '-', '--disable-token-cache'];

let failed = false;
const fail = (msg) => {
  failed = true;
  log(`FAIL: ${msg}`);
};

// Runs ---------------------------------------------------------------------------------------
const results = [];
for (const c of corpora) {
  const guard = makeGuard(c);
  const out = path.join(outDir, `${c.id.toLowerCase()}.out.yaml`);
  const vf = { ms: [], cpu: [], rss: [], requests: [] };
  const yrt = { ms: [], cpu: [], rss: [], inproc: [] };
  const cat = { ms: [], rss: [] };
  const runVaultfill = async (record) => {
    proxy.reset();
    const r = await timedRun(vaultfillArgv, { stdin: c.file, stdout: out, env });
    const requests = classify(proxy.requests);
    if (r.code !== 0) fail(`${c.id}: vaultfill exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
    else {
      const problems = guard(out);
      if (problems.length) fail(`${c.id}: output check:\n  ${problems.slice(0, 10).join('\n  ')}`);
    }
    if (record) {
      vf.ms.push(r.ms);
      vf.cpu.push(r.cpuMs);
      vf.rss.push(r.rssKB);
      vf.requests.push(requests);
    }
  };
  const runYaml = async (record) => {
    const r = await timedRun([node, path.join(benchDir, 'yaml-roundtrip.mjs')], { stdin: c.file, stdout: path.join(outDir, `${c.id.toLowerCase()}.yaml-rt.yaml`) });
    if (r.code !== 0) fail(`${c.id}: yaml round trip exited ${r.code}: ${r.stderr.slice(0, 500)}`);
    if (record) {
      yrt.ms.push(r.ms);
      yrt.cpu.push(r.cpuMs);
      yrt.rss.push(r.rssKB);
      yrt.inproc.push(JSON.parse(r.stderr.trim().split('\n').pop()).ms);
    }
  };
  const runCat = async (record) => {
    const r = await timedRun(['cat'], { stdin: c.file, stdout: path.join(outDir, `${c.id.toLowerCase()}.cat.yaml`) });
    if (record) {
      cat.ms.push(r.ms);
      cat.rss.push(r.rssKB);
    }
  };
  log(`${c.id}: warm-up…  (${load()})`);
  await runVaultfill(false);
  await runYaml(false);
  await runCat(false);
  for (let i = 0; i < RUNS; i++) {
    await runVaultfill(true);
    await runYaml(true);
    await runCat(true);
    log(`${c.id}: round ${i + 1}/${RUNS}: vaultfill ${Math.round(vf.ms.at(-1))} ms, yaml ${Math.round(yrt.ms.at(-1))} ms, cat ${cat.ms.at(-1).toFixed(1)} ms  (${load()})`);
  }
  // Phase split from one extra --verbose run (not timed).
  proxy.reset();
  const verbose = await timedRun([...vaultfillArgv, '--verbose'], { stdin: c.file, stdout: out, env });
  const phases = /ms: (read \d+, parse \d+, resolve \d+, write \d+)/.exec(verbose.stderr)?.[1] ?? '?';
  const verboseProblems = verbose.code === 0 ? guard(out) : [`exit ${verbose.code}`];
  if (verboseProblems.length) fail(`${c.id}: --verbose run: ${verboseProblems[0]}`);
  results.push({ c, vf, yrt, cat, phases, load: load() });
}

// Version ------------------------------------------------------------------------------------
const version = [];
const versionCpu = [];
let versionRss = 0;
await timedRun([binJs, 'version'], {});
for (let i = 0; i < 10; i++) {
  const r = await timedRun([binJs, 'version'], {});
  version.push(r.ms);
  versionCpu.push(r.cpuMs);
  versionRss = Math.max(versionRss, r.rssKB);
}
const nodeEmpty = [];
for (let i = 0; i < 5; i++) nodeEmpty.push((await timedRun([node, '-e', '0'], {})).ms);

proxy.close();

// Table ----------------------------------------------------------------------------------------
const MB = 1e6;
const fmtMs = (xs) => `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;
const mark = (ok) => (ok ? 'PASS' : 'FAIL');
const rows = [];
const targets = [];
for (const { c, vf, yrt, cat, phases, load: l } of results) {
  const vMs = median(vf.ms);
  const yMs = median(yrt.ms);
  const peakMB = Math.max(...vf.rss) / 1024;
  const inputMB = c.bytes / MB;
  const req = vf.requests.at(-1);
  const reads = vf.requests.map((r) => r.reads);
  const readsOk = reads.every((n) => n === c.pairs.size);
  const ratio = vMs / yMs;
  const rssLimit = 3 * (c.bytes / 1024 / 1024) + 100; // MiB, like peakMB
  rows.push([
    `${c.id} ${c.name}`,
    `${inputMB.toFixed(2)} MB / ${c.documents} docs / ${c.placeholders} ph`,
    fmtMs(vf.ms),
    `${Math.round(median(vf.cpu))}`,
    (inputMB / (vMs / 1000)).toFixed(2),
    `${peakMB.toFixed(0)}`,
    `${req.reads} (+${req.total - req.reads} other) / ${c.pairs.size}`,
    fmtMs(yrt.ms),
    `${Math.round(median(yrt.cpu))}`,
    `${median(cat.ms).toFixed(1)}`,
    `${ratio.toFixed(2)} (cpu ${(median(vf.cpu) / median(yrt.cpu)).toFixed(2)})`,
  ]);
  targets.push(
    `${c.id}: Vault reads == distinct (path, version) pairs: ${reads.join(', ')} vs ${c.pairs.size} -> ${mark(readsOk)}` +
      (req.other.length ? `  (other requests per run: ${[...new Set(req.other)].join(', ')} x${req.other.length})` : ''),
    `${c.id}: wall <= ${c.ratioTarget} x yaml round trip: ${Math.round(vMs)} ms vs ${Math.round(c.ratioTarget * yMs)} ms (ratio ${ratio.toFixed(2)}) -> ${mark(ratio <= c.ratioTarget)}`,
    `${c.id}: peak RSS <= 3 x input + 100 MB: ${peakMB.toFixed(0)} MiB vs ${rssLimit.toFixed(0)} MiB -> ${mark(peakMB <= rssLimit)}`,
    `${c.id}: phases (one --verbose run, ms): ${phases}; yaml round trip in-process ${Math.round(median(yrt.inproc))} ms, peak RSS ${(Math.max(...yrt.rss) / 1024).toFixed(0)} MiB; load after: ${l}`,
  );
  if (!readsOk) failed = true;
}
const vMed = median(version);
targets.push(`version: median of 10 = ${vMed.toFixed(0)} ms (min ${Math.min(...version).toFixed(0)}, cpu ${Math.round(median(versionCpu))} ms, peak RSS ${(versionRss / 1024).toFixed(0)} MiB; bare \`node -e 0\` ${median(nodeEmpty).toFixed(0)} ms) < 150 ms -> ${mark(vMed < 150)}`);

const header = ['corpus', 'input', 'vaultfill wall ms med (min–max)', 'cpu ms', 'MB/s', 'peak RSS MiB', 'Vault reads / pairs', 'yaml rt wall ms med (min–max)', 'cpu ms', 'cat ms', 'vf/yaml wall'];
const table = [header, ...rows];
const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
const line = (r) => `| ${r.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
console.log(`\nvaultfill bench — node ${process.version}, ${os.cpus().length} CPU(s), ${RUNS} timed runs after 1 warm-up, ${load()}`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log('\nTargets:');
for (const t of targets) console.log(`  ${t}`);
console.log(`\noutput checks (parse, no placeholders left, canary values): ${failed ? 'FAILED (see stderr)' : 'all passed'}`);

if (opts.profile) {
  console.log('\nCPU profiles:');
  await profileCorpora(corpora, { env: vaultfillEnv({ AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'token', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token }) });
}

vault.stop();
process.exitCode = failed ? 1 : 0;
