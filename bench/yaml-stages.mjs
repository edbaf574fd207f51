#!/usr/bin/env node
// What the `yaml` stages cost on a corpus's candidate documents, in one process, and what
// keeping every parsed document alive (as vaultfill does until the write) adds:
//
//   node bench/yaml-stages.mjs bench/out/b1.yaml
//
// Each stage runs in a fresh child process so heaps do not mix. Stages: regex (find <path:…>),
// lex, CST parse (dropped / kept), Parser+Composer with keepSourceTokens (dropped / kept).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const STAGES = ['regex', 'lex', 'cst-drop', 'cst-keep', 'compose-drop', 'compose-keep'];

if (process.argv[2] === '--stage') {
  const { Composer, Lexer, LineCounter, Parser } = await import('yaml');
  const [, , , stage, file] = process.argv;
  const CANDIDATE = /<path:|avp\.kubernetes\.io\/path|\bkind["']?[ \t]*:[ \t]*["']?Secret\b/;
  const chunks = readFileSync(file, 'utf8').split(/^---\n/m).filter(Boolean).filter((c) => CANDIDATE.test(c));
  const keep = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const chunk of chunks) {
    if (stage === 'regex') keep.push(chunk.match(/<path:[^>\n]*>/g)?.length ?? 0);
    else if (stage === 'lex') {
      let n = 0;
      for (const _ of new Lexer().lex(chunk)) n++;
      keep.push(n);
    } else if (stage.startsWith('cst')) {
      const tokens = [...new Parser().parse(chunk)];
      if (stage === 'cst-keep') keep.push(tokens);
    } else {
      const lines = new LineCounter();
      const composer = new Composer({ keepSourceTokens: true, uniqueKeys: true });
      const tokens = [];
      const docs = [];
      for (const t of new Parser(lines.addNewLine).parse(chunk)) {
        tokens.push(t);
        docs.push(...composer.next(t));
      }
      docs.push(...composer.end());
      if (stage === 'compose-keep') keep.push({ tokens, docs, lines });
    }
  }
  const cpu = process.cpuUsage(c0);
  console.log(JSON.stringify({ stage, candidates: chunks.length, wall: Math.round(performance.now() - t0), cpu: Math.round((cpu.user + cpu.system) / 1000), rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }));
} else {
  const file = process.argv[2] ?? 'bench/out/b1.yaml';
  console.log(`${file}: candidate documents only (vaultfill's CANDIDATE test); ms in-process, RSS at end`);
  const runs = Object.fromEntries(STAGES.map((s) => [s, []]));
  for (let i = 0; i < 3; i++) {
    for (const stage of STAGES) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--stage', stage, file], { encoding: 'utf8' });
      runs[stage].push(JSON.parse(r.stdout));
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  for (const stage of STAGES) {
    const rs = runs[stage];
    console.log(`  ${stage.padEnd(13)} wall ${String(med(rs.map((r) => r.wall))).padStart(5)} ms  cpu ${String(med(rs.map((r) => r.cpu))).padStart(5)} ms  rss ${med(rs.map((r) => r.rssMiB))} MiB  (${rs[0].candidates} docs, median of 3)`);
  }
}
