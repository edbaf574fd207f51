/**
 * Every value vaultfill writes reads back exactly as expected by Kubernetes' reader (the oracle),
 * YAML 1.2 core and YAML 1.1, through both of vaultfill's readers (line scanner and full parser),
 * in every position a placeholder can stand; and nothing around it changes.
 *
 * Each case is a document with one placeholder scalar (the placeholder whole, or inside a longer
 * string, or twice) and a hostile secret value (test/helpers/hostile-values.ts). The expected
 * reading is each reader's reading of the input with the expected value at the placeholder's
 * path (test/helpers/read-back.ts `expectation`); the two paths must write the same bytes.
 *
 * `npm test` runs a fixed seed and a bounded number of runs; `FC_SEED=<n> FC_RUNS=<n>` (or
 * `npm run test:property`) runs more.
 */
import test from 'ava';
import fc from 'fast-check';
import { curatedValues, hostileValue, type HostileValue } from '../helpers/hostile-values.js';
import { ThreeReaders, show, unrepresentable } from '../helpers/read-back.js';
import { POSITIONS, check, scannerReads, shapesOf, type Case, type Position } from './cases.js';

const SEED = Number(process.env.FC_SEED ?? 20261130);
/** Runs of each position's property (`npm test`: a few dozen; FC_RUNS for the long mode). */
const RUNS = Number(process.env.FC_RUNS ?? 40);

let readers: ThreeReaders | undefined;
test.before(async () => {
  readers = await ThreeReaders.start();
});
test.after.always(() => readers?.close());

async function checked(c: Case): Promise<string | undefined> {
  if (!readers) throw new Error('the k8s-yaml reader did not start');
  return check(c, readers, SEED);
}

async function inBatches<T>(items: readonly T[], size: number, each: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map((item, j) => each(item, i + j)));
}

/** A value Kubernetes can hold (the read-back tests) or cannot (the refusal tests). */
const representable = (v: HostileValue): boolean => unrepresentable(v.value) === undefined;

function position(name: string): Position {
  const found = POSITIONS.find((p) => p.name === name);
  if (!found) throw new Error(`no position ${name}`);
  return found;
}

/** Every failure in one line, then the first few in full. */
function failureReport(failures: readonly { line: string; detail: string }[], total: number): string {
  return `${failures.length} of ${total} cases fail:\n${failures.map((f) => `  - ${f.line}`).join('\n')}\n\n${failures.slice(0, 3).map((f) => f.detail).join('\n\n')}`;
}

interface Assertions {
  fail(message: string): void;
  pass(): void;
  log(...values: unknown[]): void;
}

async function sweep(t: Assertions, cases: readonly Case[]): Promise<void> {
  const scanned = cases.filter(scannerReads).length;
  t.log(`${cases.length} cases, ${scanned} of them read by the line scanner`);
  const failures: Array<{ line: string; detail: string }> = [];
  await inBatches(cases, 24, async (c) => {
    const detail = await checked(c);
    if (detail) failures.push({ line: `${c.position.name}, shape ${JSON.stringify(c.shape)}: ${c.value.label} ${show(c.value.value).slice(0, 80)}`, detail });
  });
  if (failures.length) t.fail(failureReport(failures, cases.length));
  else t.pass();
}

// The core positions: each with every curated value (shapes taken in turn).
const CORE = [
  'plain scalar', 'single-quoted scalar', 'double-quoted scalar', 'block sequence item', 'flow mapping in a flow sequence', 'annotation value',
  'ConfigMap data, plain', 'Secret data, base64', 'Secret stringData, plain', 'JSON Deployment, one line',
  'Deployment block scalar | at column 4, then nothing', 'Deployment block scalar |- at column 4, then nothing', 'ConfigMap block scalar > at column 4, then nothing',
];

for (const name of CORE) {
  const where = position(name);
  test(`every curated value Kubernetes can hold reads back right: ${name}`, async (t) => {
    const values = curatedValues().filter((v) => representable(v));
    // The whole scalar for every value, and one of the other shapes in turn.
    const [whole, ...others] = shapesOf(where) as [string, ...string[]];
    await sweep(t, values.flatMap((value, i) => [whole, others[i % others.length] as string].map((shape) => ({ position: where, value, shape, generic: false, lineEnds: 'lf' as const, finalNewline: true }))));
  });
}

// Every position in every variant, with a few ordinary values in turn: the variants that only
// matter in some positions (CRLF and no final newline after a block scalar) are not left to chance.
test('every position reads back right in every variant (generic <k>, LF/CRLF/mixed line ends, with and without a final newline)', async (t) => {
  const values: HostileValue[] = ['abc', 'two\nlines', 'yes', 7, ' lead', '<k>', { a: [1] }, 'it\'s: #'].map((value) => ({ value, label: 'ordinary' }));
  const cases: Case[] = [];
  for (const where of POSITIONS) {
    for (const generic of [false, true]) {
      for (const lineEnds of where.json ? (['lf'] as const) : (['lf', 'crlf', 'mixed'] as const)) {
        for (const finalNewline of [true, false]) {
          const shapes = shapesOf(where);
          const n = cases.length;
          const value = values[n % values.length] as HostileValue;
          cases.push({ position: where, value, shape: shapes[n % shapes.length] as string, generic, lineEnds, finalNewline });
        }
      }
    }
  }
  await sweep(t, cases);
  const scanned = cases.filter(scannerReads).length;
  if (scanned < cases.length / 10) t.fail(`the line scanner read only ${scanned} of ${cases.length} cases: the two paths were hardly compared`);
});

test('every curated value Kubernetes cannot hold is refused (VALUE_UNREPRESENTABLE, exit 5, no output), whole or inside a string', async (t) => {
  const values = curatedValues().filter((v) => !representable(v));
  const cases: Case[] = [];
  for (const name of CORE) {
    const where = position(name);
    for (const shape of shapesOf(where).slice(0, 2)) {
      for (const value of values) cases.push({ position: where, value, shape, generic: false, lineEnds: 'lf', finalNewline: true });
    }
  }
  await sweep(t, cases);
});

/** Positions grouped so that each test stays small: the block scalar variants share a test per header. */
const GROUPS = new Map<string, Position[]>();
for (const p of POSITIONS) {
  const header = /block scalar ([|>][^ ]*) at column/.exec(p.name)?.[1];
  const key = header ? `${p.name.split(' ')[0]} block scalars ${header}, at every indent and before every trailer` : p.name;
  GROUPS.set(key, [...(GROUPS.get(key) ?? []), p]);
}

function caseOf(positions: readonly Position[], values: fc.Arbitrary<HostileValue>): fc.Arbitrary<Case> {
  return fc.constantFrom(...positions).chain((where) =>
    fc.record({
      position: fc.constant(where),
      value: values,
      shape: fc.constantFrom(...shapesOf(where)),
      generic: fc.boolean(),
      lineEnds: where.json ? fc.constant<'lf'>('lf') : fc.constantFrom<'lf' | 'crlf' | 'mixed'>('lf', 'lf', 'crlf', 'mixed'),
      finalNewline: fc.boolean(),
    }),
  );
}

/** Each group draws from its own seed (FC_SEED plus its number), so groups of like positions do not draw like cases. */
async function property(t: Assertions, cases: fc.Arbitrary<Case>, numRuns: number, offset: number): Promise<void> {
  const result = await fc.check(
    fc.asyncProperty(cases, async (c) => {
      const problem = await checked(c);
      if (problem) throw new Error(problem);
    }),
    // Shrinking re-runs hundreds of cases; FC_SHRINK=1 asks for it.
    { seed: SEED + offset, numRuns, endOnFailure: !process.env.FC_SHRINK },
  );
  if (!result.failed) return t.pass();
  // fast-check's own report would print the case's document function; the error says it all.
  const error = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
  t.fail(`property failed after ${result.numRuns} runs (replay: FC_SEED=${SEED}, this test's seed ${result.seed}, fast-check path ${JSON.stringify(result.counterexamplePath)}${result.numShrinks ? `, shrunk ${result.numShrinks} times` : ''}):\n${error}`);
}

for (const [offset, [group, positions]] of [...GROUPS].entries()) {
  test(`any value Kubernetes can hold reads back right in any variant: ${group}`, async (t) => {
    await property(t, caseOf(positions, hostileValue.filter(representable)), positions.length > 1 ? RUNS * 2 : RUNS, offset);
  });
}

test('any value Kubernetes cannot hold is refused in every position and variant', async (t) => {
  await property(t, caseOf(POSITIONS, hostileValue.filter((v) => !representable(v))), RUNS * 5, GROUPS.size);
});
