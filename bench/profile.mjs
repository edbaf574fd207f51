#!/usr/bin/env node
// CPU profiles of `vaultfill generate -` per corpus, summarised from the .cpuprofile JSON.
//
//   node bench/profile.mjs [--only b1|b2]        (after a build; starts and seeds its own Vault)
//   node bench/profile.mjs --summarise FILE...   (just summarise existing .cpuprofile files)
//   npm run bench -- --profile                   (the driver calls profileCorpora at the end)
//
// Summary: top self-time functions, self time by category (module loading, yaml lexer/parser,
// compose, CST stringify, vaultfill code, HTTP, GC, …) and inclusive time of vaultfill's pipeline
// functions (readInput, documentsOf, scanDocument, collect, substitute, writeOut, roundTrip, …).
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SHORT = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/dist\//, 'dist/')
    .replace(/^node:internal\//, 'node:');

/**
 * The source module of a line of the bundle: esbuild puts a `// src/…` comment before each
 * module's code. A frame of dist/bin.cjs gets `src` (e.g. `src/manifest/line-scan.ts`).
 */
const modulesOf = new Map();
function sourceModule(f) {
  if (!/\/dist\/[^/]+\.cjs$/.test(f.url)) return undefined;
  let starts = modulesOf.get(f.url);
  if (!starts) {
    starts = [];
    readFileSync(fileURLToPath(f.url), 'utf8').split('\n').forEach((line, i) => {
      const m = /^\/\/ (src\/\S+\.ts)$/.exec(line);
      if (m) starts.push([i, m[1]]);
    });
    modulesOf.set(f.url, starts);
  }
  let found = '(bundle runtime)';
  for (const [line, name] of starts) if (line <= f.lineNumber) found = name;
  return found;
}

/** Self-time category of a frame. Order matters: first match wins. */
const CATEGORIES = [
  ['(garbage collector)', (f) => f.functionName === '(garbage collector)'],
  ['(idle: waiting on I/O / Vault)', (f) => f.functionName === '(idle)'],
  ['(program: V8/native, incl. compile)', (f) => f.functionName === '(program)'],
  ['yaml lexer', (f) => /yaml\/dist\/parse\/lexer/.test(f.url)],
  ['yaml CST parser', (f) => /yaml\/dist\/parse\/parser/.test(f.url)],
  ['yaml CST stringify/visit', (f) => /yaml\/dist\/parse\/cst/.test(f.url)],
  ['yaml compose (CST->nodes)', (f) => /yaml\/dist\/compose\//.test(f.url)],
  ['yaml nodes/doc/schema', (f) => /yaml\/dist\/(nodes|doc|schema)\//.test(f.url)],
  ['yaml stringify', (f) => /yaml\/dist\/stringify\//.test(f.url)],
  ['yaml other', (f) => /yaml\/dist\//.test(f.url)],
  ['vaultfill manifest/documents (split, serialize)', (f) => f.src === 'src/manifest/documents.ts' || f.src === 'src/manifest/edit.ts'],
  ['vaultfill manifest/line-scan', (f) => f.src === 'src/manifest/line-scan.ts' || f.src === 'src/manifest/yaml-path.ts'],
  ['vaultfill placeholder (collect, grammar, substitute)', (f) => f.src?.startsWith('src/placeholder/')],
  ['vaultfill backends (Vault client, HTTP)', (f) => f.src?.startsWith('src/backends/') || f.src?.startsWith('src/auth/')],
  ['vaultfill other (cli, generate, input, resolve)', (f) => f.src !== undefined],
  ['other node_modules', (f) => /node_modules/.test(f.url)],
  ['node module loading', (f) => /^node:internal\/modules\//.test(f.url)],
  ['node http/net/streams', (f) => /^node:(internal\/)?(http|_http|net|stream|streams|dns|tls|_tls)/.test(f.url) || /^node:internal\/(stream|streams|http|net)/.test(f.url)],
  ['node other', (f) => /^node:/.test(f.url)],
  ['native/other', () => true],
];

/** Functions whose inclusive time is shown: [name, source module]. */
const PIPELINE = [
  ['readInput', 'src/input/read.ts'],
  ['documentsOf', 'src/manifest/documents.ts'],
  ['scanDocument', 'src/manifest/line-scan.ts'],
  ['parseChunk', 'src/manifest/documents.ts'],
  ['collectScanned', 'src/placeholder/collect.ts'],
  ['collect', 'src/placeholder/collect.ts'],
  ['substitute', 'src/placeholder/substitute.ts'],
  ['serialize', 'src/manifest/documents.ts'],
  ['writeOut', 'src/generate.ts'],
  ['roundTrip', 'src/backends/http1.ts'],
];

export function summarise(file, { top = 12 } = {}) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Self time per node: the delta to the next sample is attributed to this sample's node.
  const self = new Map();
  const samples = prof.samples;
  const deltas = prof.timeDeltas;
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const dt = (deltas[i + 1] ?? 0) / 1000;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
    total += dt;
  }
  const frame = (n) => {
    const f = n.callFrame;
    if (!('src' in f)) f.src = sourceModule(f);
    return f;
  };
  const fnKey = (f) => `${f.functionName || '(anonymous)'} ${f.src ?? (f.url ? `${SHORT(f.url)}:${f.lineNumber + 1}` : '')}`.trim();

  const byFn = new Map();
  const byCat = new Map();
  for (const [id, ms] of self) {
    const f = frame(byId.get(id));
    byFn.set(fnKey(f), (byFn.get(fnKey(f)) ?? 0) + ms);
    const cat = CATEGORIES.find(([, test]) => test(f))[0];
    byCat.set(cat, (byCat.get(cat) ?? 0) + ms);
  }

  // Inclusive time: pipeline functions, and module loading (a modules frame on the stack
  // with no cli main below it, i.e. not main's synchronous start).
  const inclusive = new Map(PIPELINE.map(([name]) => [name, 0]));
  let loading = 0;
  const stackCache = new Map();
  const stackOf = (id) => {
    let s = stackCache.get(id);
    if (s) return s;
    s = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) s.push(frame(byId.get(cur)));
    stackCache.set(id, s);
    return s;
  };
  for (let i = 0; i < samples.length; i++) {
    const dt = (deltas[i + 1] ?? 0) / 1000;
    const stack = stackOf(samples[i]);
    for (const [name, src] of PIPELINE) if (stack.some((f) => f.functionName === name && f.src === src)) inclusive.set(name, inclusive.get(name) + dt);
    const inMain = stack.some((f) => f.functionName === 'main' && f.src === 'src/cli.ts');
    if (!inMain && stack.some((f) => /^node:internal\/modules\//.test(f.url))) loading += dt;
  }

  const pct = (ms) => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
  const lines = [];
  lines.push(`${path.basename(file)}: ${total.toFixed(0)} ms profiled, ${samples.length} samples`);
  lines.push('  top self time:');
  for (const [k, ms] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${pct(ms)} ${ms.toFixed(0).padStart(6)} ms  ${k}`);
  lines.push('  self time by category:');
  for (const [k, ms] of [...byCat].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= total * 0.005)) lines.push(`    ${pct(ms)} ${ms.toFixed(0).padStart(6)} ms  ${k}`);
  lines.push('  inclusive (on stack):');
  lines.push(`    ${pct(loading)} ${loading.toFixed(0).padStart(6)} ms  module loading (modules frames outside main)`);
  for (const [name, ms] of inclusive) lines.push(`    ${pct(ms)} ${ms.toFixed(0).padStart(6)} ms  ${name}`);
  return lines.join('\n');
}

/** Profiles vaultfill on each corpus ({ id, file }) with --cpu-prof and prints summaries. */
export async function profileCorpora(corpora, { env }) {
  const { binJs, outDir, timedRun, verifyOutput } = await import('./lib.mjs');
  const dir = path.join(outDir, 'prof');
  mkdirSync(dir, { recursive: true });
  for (const c of corpora) {
    const name = `${c.id.toLowerCase()}.cpuprofile`;
    rmSync(path.join(dir, name), { force: true });
    const argv = [process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`, '--cpu-prof-interval=250', binJs, 'generate', '-', '--disable-token-cache'];
    const out = path.join(outDir, `${c.id.toLowerCase()}.prof.out.yaml`);
    const r = await timedRun(argv, { stdin: c.file, stdout: out, env });
    if (r.code !== 0) throw new Error(`${c.id}: profiled run exited ${r.code}: ${r.stderr.slice(0, 1000)}`);
    const problems = c.canaries ? verifyOutput(readFileSync(out, 'utf8'), c) : [];
    console.log(`${c.id} (profiled run wall ${Math.round(r.ms)} ms, peak RSS ${(r.rssKB / 1024).toFixed(0)} MiB, output check: ${problems.length ? `FAILED: ${problems[0]}` : 'ok'})`);
    console.log(summarise(path.join(dir, name)));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { summarise: { type: 'boolean' }, only: { type: 'string' } } });
  if (values.summarise) {
    for (const f of positionals) console.log(summarise(f));
  } else {
    const { denseCorpus, realisticCorpus, secrets } = await import('./corpus.mjs');
    const { outDir, seedVault, startVault, vaultfillEnv } = await import('./lib.mjs');
    const { writeFileSync } = await import('node:fs');
    const s = secrets();
    const corpora = [
      { id: 'B1', ...denseCorpus({ seedSecrets: s }) },
      { id: 'B2', ...realisticCorpus({ seedSecrets: s }) },
    ].filter((c) => !values.only || c.id.toLowerCase() === values.only.toLowerCase());
    for (const c of corpora) {
      c.file = path.join(outDir, `${c.id.toLowerCase()}.yaml`);
      writeFileSync(c.file, c.text);
    }
    const vault = await startVault();
    await seedVault(vault, s);
    await profileCorpora(corpora, { env: vaultfillEnv({ AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'token', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token }) });
    vault.stop();
  }
}
