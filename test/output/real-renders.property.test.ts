/**
 * Real renders (test/corpus: Helm charts and Kustomize bases as their tools print them) with
 * placeholders injected at random string scalars — a whole plain or quoted scalar replaced, or a
 * placeholder put at the start or end of a string (a block scalar's first or last line; in a
 * Secret's data, inside the base64-decoded text) — resolved to random hostile values. Held:
 * the scanner path and the full-parser path write the same bytes and report the same errors,
 * and Kubernetes' reader reads the output as it reads the input with exactly those values in
 * exactly those places, and everything else unchanged.
 *
 * Documents and sites are sampled with a seeded generator (FC_SEED); FC_RUNS scales the trials.
 */
import test from 'ava';
import fc from 'fast-check';
import { parseAllDocuments, isMap, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import { hostileValue, type HostileValue } from '../helpers/hostile-values.js';
import {
  ThreeReaders, deepEqual, errorSummary, expectation, generateBothWays, getAt, setAt, show, unrepresentable,
  type Expectation, type Key, type ValueContext,
} from '../helpers/read-back.js';
import { realRenders, type RealRender } from '../helpers/real-renders.js';

const SEED = Number(process.env.FC_SEED ?? 20261130);
/** Trials per render: 2 in `npm test`. */
const TRIALS = Math.max(1, Math.round(Number(process.env.FC_RUNS ?? 40) / 20));
const DOCS_PER_TRIAL = 4;
const SITES_PER_DOC = 3;
const BUILD_WAIT_MS = 20 * 60_000; // a cold corpus may build helm first (.ci/run builds it before the tests)

let readers: ThreeReaders | undefined;
test.before(async () => {
  readers = await ThreeReaders.start();
});
test.after.always(() => readers?.close());

/** mulberry32: a small seeded generator for choosing documents and sites. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Site {
  /** The document's index among those Kubernetes' reader keeps (non-empty, non-null). */
  readonly doc: number;
  readonly path: readonly Key[];
  readonly node: Scalar;
  readonly kind: string | undefined;
}

/** The string scalars of a render a placeholder may go in: values (not keys), untagged, unanchored, not kind/apiVersion. */
const siteCache = new Map<string, Site[][]>();
function sitesOf(text: string): Site[][] {
  const cached = siteCache.get(text);
  if (cached) return cached;
  const out: Site[][] = [];
  siteCache.set(text, out);
  let kept = 0;
  for (const doc of parseAllDocuments(text)) {
    if (doc.toJS() === null) continue;
    const sites: Site[] = [];
    const kindNode = isMap(doc.contents) ? doc.contents.get('kind', true) : undefined;
    const kind = isScalar(kindNode) && typeof kindNode.value === 'string' ? kindNode.value : undefined;
    const walk = (node: unknown, path: Key[]): void => {
      if (isMap(node)) {
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const key = String(pair.key.value);
          if (path.length === 0 && (key === 'kind' || key === 'apiVersion')) continue;
          walk(pair.value, [...path, key]);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => walk(item, [...path, i]));
      } else if (isScalar(node) && typeof node.value === 'string' && !node.tag && !node.anchor && node.range) {
        sites.push({ doc: kept, path, node, kind });
      }
    };
    walk(doc.contents as Node | null, []);
    out.push(sites);
    kept++;
  }
  return out;
}

interface Injection {
  readonly site: Site;
  readonly placeholder: string;
  readonly value: HostileValue;
  readonly context: ValueContext;
  /** The scalar's new source text. */
  readonly text: string;
  readonly how: string;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Puts `placeholder` into the scalar's source: whole, or at the start or end of its text. Undefined when the site does not fit. */
function inject(source: string, site: Site, placeholder: string, rnd: () => number): { text: string; how: string; context: ValueContext } | undefined {
  const { node } = site;
  // Kubernetes holds only strings there, and vaultfill writes every value as text (README "Types").
  const [first, second] = site.path;
  const strings = site.kind === 'ConfigMap' || (site.kind === 'Secret' && first === 'stringData') || (first === 'metadata' && (second === 'annotations' || second === 'labels'));
  const context: ValueContext = strings ? 'strings' : 'typed';
  const atEnd = rnd() < 0.5;
  if (site.kind === 'Secret' && site.path[0] === 'data') {
    // Base64 of text: the placeholder goes into the decoded text.
    const value = String(node.value);
    const decoded = Buffer.from(value, 'base64');
    if (!B64.test(value) || decoded.toString('base64') !== value || decoded.toString('utf8').includes('\ufffd') || node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL') return undefined;
    const text = decoded.toString('utf8');
    const encoded = Buffer.from(atEnd ? text + placeholder : placeholder + text, 'utf8').toString('base64');
    return { text: source.replace(value, encoded), how: `base64, at the ${atEnd ? 'end' : 'start'}`, context: 'base64' };
  }
  switch (node.type) {
    case 'PLAIN':
      if (rnd() < 0.4) return { text: placeholder, how: 'plain, whole', context };
      return { text: atEnd ? source + placeholder : placeholder + source, how: `plain, at the ${atEnd ? 'end' : 'start'}`, context };
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE': {
      const q = source[0] as string;
      if (rnd() < 0.4) return { text: `${q}${placeholder}${q}`, how: `${node.type}, whole`, context };
      return { text: atEnd ? source.slice(0, -1) + placeholder + q : q + placeholder + source.slice(1), how: `${node.type}, at the ${atEnd ? 'end' : 'start'}`, context };
    }
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED': {
      // After the indentation of the first content line, or at the end of the last one.
      const lines = source.split('\n');
      const content = lines.map((l, i) => (i > 0 && l.trim() ? i : -1)).filter((i) => i > 0);
      const at = atEnd ? content[content.length - 1] : content[0];
      if (at === undefined) return undefined;
      const line = lines[at] as string;
      const indent = line.length - line.trimStart().length;
      lines[at] = atEnd ? line.replace(/(\r?)$/, `${placeholder}$1`) : line.slice(0, indent) + placeholder + line.slice(indent);
      return { text: lines.join('\n'), how: `${node.type}, on its ${atEnd ? 'last' : 'first'} line`, context };
    }
    default:
      return undefined;
  }
}

interface Trial {
  readonly text: string;
  readonly injections: readonly Injection[];
  readonly secrets: Record<string, Record<string, unknown>>;
}

function trial(render: RealRender, seed: number): Trial {
  const rnd = random(seed);
  const docs = sitesOf(render.text).map((sites, i) => ({ sites, i })).filter((d) => d.sites.length);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(DOCS_PER_TRIAL, docs.length)) chosen.add((docs[Math.floor(rnd() * docs.length)] as { i: number }).i);
  const values = fc.sample(hostileValue.filter((v) => unrepresentable(v.value) === undefined), { seed, numRuns: DOCS_PER_TRIAL * SITES_PER_DOC });
  const injections: Injection[] = [];
  const data: Record<string, unknown> = {};
  for (const d of docs) {
    if (!chosen.has(d.i)) continue;
    const picked = new Set<Site>();
    for (let n = 0; n < SITES_PER_DOC * 3 && picked.size < SITES_PER_DOC; n++) picked.add(d.sites[Math.floor(rnd() * d.sites.length)] as Site);
    for (const site of picked) {
      const value = values[injections.length % values.length] as HostileValue;
      const key = `k${injections.length}`;
      // A stored null reads as a missing key; null comes from jsonParse.
      const placeholder = value.value === null ? `<path:secret/data/r#${key} | jsonParse>` : `<path:secret/data/r#${key}>`;
      const [start, end] = site.node.range as [number, number, number];
      const done = inject(render.text.slice(start, end), site, placeholder, rnd);
      if (!done) continue;
      data[key] = value.value === null ? 'null' : value.value;
      injections.push({ site, placeholder, value, context: done.context, text: done.text, how: done.how });
    }
  }
  // Edits from the end, so earlier ranges stay where they are.
  let text = render.text;
  for (const inj of [...injections].sort((a, b) => (b.site.node.range?.[0] ?? 0) - (a.site.node.range?.[0] ?? 0))) {
    const [start, end] = inj.site.node.range as [number, number, number];
    text = text.slice(0, start) + inj.text + text.slice(end);
  }
  return { text, injections, secrets: { 'secret/data/r': data } };
}

async function holds(render: RealRender, seed: number): Promise<{ problems: string[]; injected: number }> {
  if (!readers) throw new Error('the k8s-yaml reader did not start');
  const { text, injections, secrets } = trial(render, seed);
  if (!injections.length) return { problems: [`${render.name}: no site took a placeholder`], injected: 0 };
  const input = await readers.readK8s(text);
  if ('error' in input) return { problems: [`test bug: ${render.name}: Kubernetes' reader cannot read the input with placeholders: ${input.error}`], injected: injections.length };
  const problems: string[] = [];
  let want: unknown = input.documents;
  const expected: Array<{ inj: Injection; expect: Expectation; read: unknown }> = [];
  for (const inj of injections) {
    const path = [inj.site.doc, ...inj.site.path];
    const read = getAt(input.documents, path);
    const holdsIt = typeof read === 'string' && (inj.context === 'base64' ? Buffer.from(read, 'base64').toString('utf8') : read).includes(inj.placeholder);
    if (typeof read !== 'string' || !holdsIt) {
      problems.push(`test bug: ${inj.how} at ${path.join('.')} reads ${show(read)}, without ${inj.placeholder}`);
      continue;
    }
    const expect = expectation(read, inj.placeholder, inj.value.value, inj.context);
    expected.push({ inj, expect, read });
    if ('value' in expect) want = setAt(want, path, expect.value);
  }
  const ran = await generateBothWays(text, secrets);
  const scanner = ran.scanner;
  const full = ran['full parser'];
  const where = `${render.name}, FC_SEED=${seed}`;
  if (!deepEqual(errorSummary(scanner.errors), errorSummary(full.errors))) problems.push(`${where}: the two paths report different errors: ${show(errorSummary(scanner.errors))} vs ${show(errorSummary(full.errors))}`);
  if (scanner.output !== full.output) {
    let i = 0;
    while (scanner.output[i] === full.output[i]) i++;
    problems.push(`${where}: the two paths write different bytes from offset ${i}: scanner ${show(scanner.output.slice(Math.max(0, i - 60), i + 60))}, full parser ${show(full.output.slice(Math.max(0, i - 60), i + 60))}`);
  }
  if (full.errors.length) problems.push(`${where}: unexpected errors: ${show(errorSummary(full.errors))}`);
  else {
    const output = await readers.readK8s(full.output);
    if ('error' in output) problems.push(`${where}: Kubernetes' reader cannot read the output: ${output.error}`);
    else if (!deepEqual(output.documents, want)) {
      for (const { inj, expect, read } of expected) {
        const path = [inj.site.doc, ...inj.site.path];
        const got = getAt(output.documents, path);
        if ('value' in expect && !deepEqual(got, expect.value)) {
          problems.push(`${where}: ${inj.how} at ${path.join('.')}: value (${inj.value.label}) ${show(inj.value.value)}; input read ${show(read)}; expected ${show(expect.value)}, Kubernetes reads ${show(got)}`);
        }
      }
      const before = problems.length;
      (output.documents as unknown[]).forEach((doc, i) => {
        const w = (want as unknown[])[i];
        if (!deepEqual(doc, w) && problems.length === before) problems.push(`${where}: document ${i} changed beyond the placeholders: ${show(doc)} (expected ${show(w)})`);
      });
      if ((output.documents as unknown[]).length !== (want as unknown[]).length) problems.push(`${where}: ${(output.documents as unknown[]).length} documents out, ${(want as unknown[]).length} expected`);
    }
  }
  return { problems, injected: injections.length };
}

const renders = realRenders();
renders.catch(() => undefined); // reported by the test

test('placeholders injected into real renders read back as Kubernetes reads the input with their values, and both paths agree', async (t) => {
  t.timeout(BUILD_WAIT_MS, 'building the corpus of real renders');
  const corpus = await renders;
  t.true(corpus.length >= 14, `${corpus.length} renders`);
  const problems: string[] = [];
  let injected = 0;
  for (const [r, render] of corpus.entries()) {
    await Promise.all(Array.from({ length: TRIALS }, async (_, i) => {
      const seed = SEED + r * 1000 + i;
      const result = await holds(render, seed);
      injected += result.injected;
      problems.push(...result.problems);
    }));
  }
  t.log(`${corpus.length} renders × ${TRIALS} trials, ${injected} placeholders`);
  if (problems.length) t.fail(`${problems.length} problems:\n${problems.slice(0, 20).join('\n')}`);
  else t.true(injected > 100, `only ${injected} placeholders injected`);
});
