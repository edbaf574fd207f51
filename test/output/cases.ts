/**
 * The cases of test/output/read-back.property.test.ts: every position a placeholder can stand in
 * (a document around the scalar's content, and the path to it), the shapes of the scalar around
 * the placeholder, and `check`, which runs one case both ways and reads everything three ways.
 */
import type { SecretData } from '../../src/backends/types.js';
import { splitDocuments } from '../../src/manifest/documents.js';
import { scanDocument } from '../../src/manifest/line-scan.js';
import type { HostileValue } from '../helpers/hostile-values.js';
import {
  READERS, deepEqual, errorSummary, expectation, generateBothWays, getAt, setAt, show,
  type Expectation, type Generated, type Key, type ReaderPath, type Readings, type ThreeReaders, type ValueContext,
} from '../helpers/read-back.js';

// ---------------------------------------------------------------------------------------------
// Positions: a document with the scalar's content `inner` written into it, and its path.

const PATH_PH = '<path:secret/data/v#k>';
const GENERIC_PH = '<k>';

export interface Position {
  readonly name: string;
  readonly context: ValueContext;
  /** The document around the scalar content `inner`; `generic` adds the avp.kubernetes.io/path annotation. */
  readonly doc: (inner: string, generic: boolean) => string;
  readonly path: readonly Key[];
  /** The scalar's content may span lines (block scalars): shapes with line breaks apply. */
  readonly block?: boolean;
  readonly json?: boolean;
}

const meta = (generic: boolean, annotations: readonly string[] = []): string => {
  const lines = [...(generic ? ['avp.kubernetes.io/path: secret/data/v'] : []), ...annotations];
  return `metadata:\n  name: vf-test\n${lines.length ? `  annotations:\n${lines.map((l) => `    ${l}\n`).join('')}` : ''}`;
};
const deployment = (body: string) => (inner: string, generic: boolean) => `apiVersion: apps/v1\nkind: Deployment\n${meta(generic)}spec:\n  before: 1\n${body.replace('INNER', inner)}  after: z\n`;
const configMap = (body: string) => (inner: string, generic: boolean) => `apiVersion: v1\nkind: ConfigMap\n${meta(generic)}data:\n  before: x\n${body.replace('INNER', inner)}  after: z\n`;
const secret = (body: string) => (inner: string, generic: boolean) => `apiVersion: v1\nkind: Secret\n${meta(generic)}type: Opaque\n${body.replace('INNER', inner)}`;
const quoteSingle = (s: string): string => s.replace(/'/g, "''");

/** A block scalar with `header` under `key` (at column 2), content at `indent`, then `trailer` lines. */
function blockDoc(kind: 'Deployment' | 'ConfigMap', header: string, indent: number, trailer: readonly string[], last: boolean, extra = 0) {
  return (inner: string, generic: boolean): string => {
    const lines = inner.split('\n').map((line, i) => (line ? ' '.repeat(indent + (i === 0 ? extra : 0)) + line : ''));
    const parent = kind === 'Deployment' ? 'spec' : 'data';
    const head = `apiVersion: v1\nkind: ${kind}\n${meta(generic)}${parent}:\n  before: x\n  value: ${header}\n`;
    return `${head}${lines.join('\n')}\n${trailer.map((l) => `${l}\n`).join('')}${last ? '' : '  after: z\n'}`;
  };
}

const TRAILERS: Record<string, readonly string[]> = {
  'nothing': [],
  'a comment at column 0': ['# a comment at column 0'],
  "a comment at the key's column": ['  # about the value'],
  'a comment between key and content': ['   # between'],
  'blank lines': ['', ''],
  'whitespace-only lines': [' ', '  ', ''],
  'a whitespace-only line deeper than the content': ['         '],
};

function blockPositions(): Position[] {
  const out: Position[] = [];
  const headers = ['|', '|-', '|+', '>', '>-', '>+'];
  for (const kind of ['Deployment', 'ConfigMap'] as const) {
    for (const header of headers) {
      for (const indent of [4, 6]) {
        for (const [trailerName, trailer] of Object.entries(TRAILERS)) {
          // Column 6 for the trailers whose reading depends on the content's column.
          if ((trailerName === 'a comment between key and content') !== (indent === 6) && !trailerName.startsWith('whitespace-only')) continue;
          for (const last of [false, true]) {
            out.push({
              name: `${kind} block scalar ${header} at column ${indent}, then ${trailerName}${last ? ', last in the document' : ''}`,
              context: kind === 'ConfigMap' ? 'strings' : 'typed',
              doc: blockDoc(kind, header, indent, trailer, last),
              path: [kind === 'Deployment' ? 'spec' : 'data', 'value'],
              block: true,
            });
          }
        }
      }
    }
  }
  for (const header of ['|2', '|2-', '>2', '|1+', '| # a comment on the header', '>- # c']) {
    const indicator = /\d/.exec(header)?.[0];
    // An indentation indicator fixes the content column (2 + n), so the first line may be deeper.
    const indent = indicator ? 2 + Number(indicator) : 4;
    out.push({ name: `Deployment block scalar ${header}`, context: 'typed', doc: blockDoc('Deployment', header, indent, [], false, indicator ? 2 : 0), path: ['spec', 'value'], block: true });
  }
  out.push({
    name: 'block scalar in a sequence item', context: 'typed', block: true, path: ['spec', 'args', 1],
    doc: (inner, generic) => deployment(`  args:\n  - a\n  - |-\n${inner.split('\n').map((l) => (l ? `    ${l}` : '')).join('\n')}\n  - z\n`)('', generic),
  });
  return out;
}

export const POSITIONS: Position[] = [
  { name: 'plain scalar', context: 'typed', doc: deployment('  value: INNER\n'), path: ['spec', 'value'] },
  { name: 'plain scalar with a comment after it', context: 'typed', doc: deployment('  value: INNER # a comment\n'), path: ['spec', 'value'] },
  { name: 'single-quoted scalar', context: 'typed', doc: (inner, g) => deployment(`  value: '${quoteSingle(inner)}'\n`)('', g), path: ['spec', 'value'] },
  { name: 'double-quoted scalar', context: 'typed', doc: deployment('  value: "INNER"\n'), path: ['spec', 'value'] },
  { name: 'double-quoted scalar with an escape', context: 'typed', doc: deployment('  value: "\\tINNER"\n'), path: ['spec', 'value'] },
  { name: 'plain scalar on two lines', context: 'typed', doc: deployment('  value: INNER\n    continued\n'), path: ['spec', 'value'] },
  { name: 'double-quoted scalar on two lines', context: 'typed', doc: deployment('  value: "INNER\n    continued"\n'), path: ['spec', 'value'] },
  { name: 'anchored plain scalar', context: 'typed', doc: deployment('  value: &anchor INNER\n'), path: ['spec', 'value'] },
  { name: 'block sequence item', context: 'typed', doc: deployment('  args:\n  - a\n  - INNER\n  - z\n'), path: ['spec', 'args', 1] },
  { name: 'indented block sequence item', context: 'typed', doc: deployment('  args:\n    - a\n    - INNER\n'), path: ['spec', 'args', 1] },
  { name: 'compact nested sequence item (- - x)', context: 'typed', doc: deployment('  matrix:\n  - - INNER\n    - b\n'), path: ['spec', 'matrix', 0, 0] },
  { name: 'value in a map in a sequence (env)', context: 'typed', doc: deployment('  containers:\n  - name: c\n    env:\n    - name: X\n      value: INNER\n    image: nginx\n'), path: ['spec', 'containers', 0, 'env', 0, 'value'] },
  { name: 'flow mapping in a flow sequence', context: 'typed', doc: deployment('  env: [{name: X, value: INNER}]\n'), path: ['spec', 'env', 0, 'value'] },
  { name: 'double-quoted in a flow mapping', context: 'typed', doc: deployment('  env: [{name: X, value: "INNER"}]\n'), path: ['spec', 'env', 0, 'value'] },
  { name: 'flow sequence', context: 'typed', doc: deployment("  args: [a, INNER, 'b']\n"), path: ['spec', 'args', 1] },
  { name: 'single-quoted in a flow sequence', context: 'typed', doc: (inner, g) => deployment(`  args: ['${quoteSingle(inner)}']\n`)('', g), path: ['spec', 'args', 0] },
  { name: 'flow sequence over several lines', context: 'typed', doc: deployment('  args: [\n    a,\n    INNER\n  ]\n'), path: ['spec', 'args', 1] },
  { name: 'flow mapping value at the end of a line', context: 'typed', doc: deployment('  limits: {cpu: 1, memory: INNER}\n'), path: ['spec', 'limits', 'memory'] },
  {
    name: 'annotation value', context: 'strings', path: ['metadata', 'annotations', 'x'],
    doc: (inner, generic) => `apiVersion: v1\nkind: Service\n${meta(generic, [`x: ${inner}`, 'y: after'])}spec:\n  a: 1\n`,
  },
  {
    name: 'double-quoted annotation value', context: 'strings', path: ['metadata', 'annotations', 'example.com/x'],
    doc: (inner, generic) => `apiVersion: v1\nkind: Service\n${meta(generic, [`"example.com/x": "${inner}"`])}spec:\n  a: 1\n`,
  },
  { name: 'ConfigMap data, plain', context: 'strings', doc: configMap('  value: INNER\n'), path: ['data', 'value'] },
  { name: 'ConfigMap data, single-quoted', context: 'strings', doc: (inner, g) => configMap(`  value: '${quoteSingle(inner)}'\n`)('', g), path: ['data', 'value'] },
  { name: 'ConfigMap data, double-quoted', context: 'strings', doc: configMap('  value: "INNER"\n'), path: ['data', 'value'] },
  { name: 'ConfigMap data, flow mapping', context: 'strings', doc: configMap('  flow: {a: INNER, b: c}\n'), path: ['data', 'flow', 'a'] },
  {
    name: 'ConfigMap annotation', context: 'strings', path: ['metadata', 'annotations', 'x'],
    doc: (inner, generic) => `apiVersion: v1\nkind: ConfigMap\n${meta(generic, [`x: ${inner}`])}data:\n  a: b\n`,
  },
  { name: 'Secret data, base64', context: 'base64', doc: secret('data:\n  before: YQ==\n  value: INNER\n  after: Yg==\n'), path: ['data', 'value'] },
  { name: 'Secret data, base64 double-quoted', context: 'base64', doc: secret('data:\n  value: "INNER"\n'), path: ['data', 'value'] },
  { name: 'Secret data, base64 single-quoted', context: 'base64', doc: secret("data:\n  value: 'INNER'\n"), path: ['data', 'value'] },
  { name: 'Secret data, base64 in a |- block', context: 'base64', doc: (inner, g) => secret(`data:\n  value: |-\n    ${inner}\n  after: Yg==\n`)('', g), path: ['data', 'value'] },
  { name: 'Secret data, base64 in a flow mapping', context: 'base64', doc: secret('data: {value: INNER, b: Yg==}\n'), path: ['data', 'value'] },
  { name: 'Secret stringData, plain', context: 'strings', doc: secret('stringData:\n  value: INNER\n  after: z\n'), path: ['stringData', 'value'] },
  { name: 'Secret stringData, double-quoted', context: 'strings', doc: secret('stringData:\n  value: "INNER"\n'), path: ['stringData', 'value'] },
  {
    name: 'Secret stringData, literal block', context: 'strings', block: true, path: ['stringData', 'value'],
    doc: (inner, g) => secret(`stringData:\n  value: |\n${inner.split('\n').map((l) => (l ? `    ${l}` : '')).join('\n')}\n  after: z\n`)('', g),
  },
  {
    name: 'JSON ConfigMap', context: 'strings', json: true, path: ['data', 'value'],
    doc: (inner, generic) => `{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n  "metadata": {\n    "name": "vf-test"${generic ? ',\n    "annotations": {"avp.kubernetes.io/path": "secret/data/v"}' : ''}\n  },\n  "data": {\n    "before": "x",\n    "value": ${JSON.stringify(inner)}\n  }\n}\n`,
  },
  {
    name: 'JSON Deployment, one line', context: 'typed', json: true, path: ['spec', 'args', 1],
    doc: (inner, generic) => `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"vf-test"${generic ? ',"annotations":{"avp.kubernetes.io/path":"secret/data/v"}' : ''}},"spec":{"replicas":1,"args":["a",${JSON.stringify(inner)}]}}\n`,
  },
  {
    name: 'JSON Secret data, base64', context: 'base64', json: true, path: ['data', 'value'],
    doc: (inner, generic) => `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"vf-test"${generic ? ',"annotations":{"avp.kubernetes.io/path":"secret/data/v"}' : ''}},"data":{"value":${JSON.stringify(inner)}}}\n`,
  },
  ...blockPositions(),
];

/** The scalar content around the placeholder `P`: whole, inside a longer string, twice; multi-line for blocks. */
const SHAPES = ['P', 'pre-P', 'P suffix', 'a P-P b'];
const BLOCK_SHAPES = ['P', 'P\nsecond line', 'first line\nP\nlast line', 'P\n  more indented', 'a\n\nP', '# not a comment\nP'];
const BASE64_SHAPES = ['P', 'user=P\n', 'a P b P'];

export function shapesOf(position: Position): readonly string[] {
  if (position.context === 'base64') return BASE64_SHAPES;
  return position.block ? BLOCK_SHAPES : SHAPES;
}

// ---------------------------------------------------------------------------------------------
// One case: build it, run it both ways, read everything three ways, compare.

export interface Case {
  readonly position: Position;
  readonly value: HostileValue;
  readonly shape: string;
  readonly generic: boolean;
  readonly lineEnds: 'lf' | 'crlf' | 'mixed';
  readonly finalNewline: boolean;
}

interface Built {
  readonly text: string;
  readonly placeholder: string;
  readonly secrets: Record<string, SecretData>;
}

export function build(c: Case): Built {
  // A stored null reads as a missing key (the `default` modifier's business): null comes from jsonParse.
  const isNull = c.value.value === null;
  const base = c.generic ? GENERIC_PH : PATH_PH;
  const placeholder = isNull ? base.replace('>', ' | jsonParse>') : base;
  let inner = c.shape.split('P').join(placeholder);
  if (c.position.context === 'base64') inner = Buffer.from(inner, 'utf8').toString('base64');
  let text = c.position.doc(inner, c.generic);
  if (c.lineEnds === 'crlf') text = text.replace(/\n/g, '\r\n');
  if (c.lineEnds === 'mixed') {
    let i = 0;
    text = text.replace(/\n/g, () => (i++ % 2 ? '\r\n' : '\n'));
  }
  if (!c.finalNewline) text = text.replace(/\r?\n$/, '');
  return { text, placeholder, secrets: { 'secret/data/v': { k: isNull ? 'null' : c.value.value } } };
}

export function describe(c: Case): string {
  const variant = [c.generic ? 'generic <k>' : '', c.lineEnds !== 'lf' ? c.lineEnds.toUpperCase() : '', c.finalNewline ? '' : 'no final newline'].filter(Boolean).join(', ');
  return `${c.position.name}${variant ? ` (${variant})` : ''}, shape ${JSON.stringify(c.shape)}`;
}

/** Undefined when the case holds; else a message that shows everything needed to replay it. */
export async function check(c: Case, readers: ThreeReaders, seed: number): Promise<string | undefined> {
  const { text, placeholder, secrets } = build(c);
  const path = [0, ...c.position.path];
  const input = await readers.read(text);
  // The case itself must be well made: every reader reads the input, and the same string at the path.
  const read = getAt((input.k8s as { documents?: unknown[] }).documents, path);
  for (const reader of READERS) {
    const reading = input[reader];
    if ('error' in reading || typeof getAt(reading.documents, path) !== 'string' || getAt(reading.documents, path) !== read) {
      throw new Error(`test bug: ${describe(c)}: the input does not read as one string at ${path.join('.')}: ${show(input)}\n${text}`);
    }
  }
  const expected = expectation(read as string, placeholder, c.value.value, c.position.context);
  const ran = await generateBothWays(text, secrets);
  const problems: string[] = [];
  const scanner = ran.scanner;
  const full = ran['full parser'];
  if (!deepEqual(errorSummary(scanner.errors), errorSummary(full.errors))) {
    problems.push(`the two paths report different errors:\n  scanner:     ${show(errorSummary(scanner.errors))}\n  full parser: ${show(errorSummary(full.errors))}`);
  }
  if (scanner.output !== full.output) problems.push(`the two paths write different bytes:\n  scanner:     ${show(scanner.output)}\n  full parser: ${show(full.output)}`);
  const readings: Partial<Record<ReaderPath, Readings>> = {};
  for (const [name, result] of [['scanner', scanner], ['full parser', full]] as const) {
    const problem = await checkPath(readers, result, expected, input, path, (r) => (readings[name] = r));
    if (problem) problems.push(`${name}: ${problem}`);
  }
  if (!problems.length) return undefined;
  const at = (r: Readings | undefined): string =>
    r ? READERS.map((reader) => `    ${reader.padEnd(6)} ${'error' in r[reader] ? `error: ${(r[reader] as { error: string }).error}` : show(getAt((r[reader] as { documents: unknown[] }).documents, path))}`).join('\n') : '    (no output)';
  return [
    `FC_SEED=${seed}: ${describe(c)}`,
    `value (${c.value.label}): ${show(c.value.value)}`,
    `placeholder's scalar read from the input: ${show(read)}`,
    `expected: ${'error' in expected ? `error ${expected.error} (${expected.why}), exit 5, no output` : show(expected.value)}`,
    ...problems,
    `readings at ${path.join('.')}, scanner path:`, at(readings.scanner),
    `readings at ${path.join('.')}, full-parser path:`, at(readings['full parser']),
    `input:  ${show(text)}`,
    `output: ${show(full.output || scanner.output)}`,
  ].join('\n');
}

async function checkPath(readers: ThreeReaders, result: Generated, expected: Expectation, input: Readings, path: readonly Key[], keep: (r: Readings) => void): Promise<string | undefined> {
  if ('error' in expected) {
    const codes = result.errors.map((e) => `${e.code}/${e.exitCode}`);
    if (result.output !== '' || !codes.length || codes.some((c) => c !== 'VALUE_UNREPRESENTABLE/5')) {
      return `expected only VALUE_UNREPRESENTABLE (exit 5) and no output; got errors ${show(codes)} and ${result.output ? 'output' : 'no output'}`;
    }
    return undefined;
  }
  if (result.errors.length) return `unexpected errors: ${show(errorSummary(result.errors))}`;
  const output = await readers.read(result.output);
  keep(output);
  const wrong: string[] = [];
  for (const reader of READERS) {
    const got = output[reader];
    const before = input[reader];
    if ('error' in got) {
      wrong.push(`${reader} cannot read the output: ${got.error}`);
      continue;
    }
    if ('error' in before) continue;
    const want = setAt(before.documents, path, expected.value);
    if (!deepEqual(got.documents, want)) {
      const value = getAt(got.documents, path);
      wrong.push(deepEqual(value, expected.value) ? `${reader} reads the value right but something around it changed: ${show(got.documents)} (expected ${show(want)})` : `${reader} reads ${show(value)}`);
    }
  }
  return wrong.length ? wrong.join('; ') : undefined;
}


/** Whether the line scanner reads the case's document (else both paths are the full parser's). */
export function scannerReads(c: Case): boolean {
  const [chunk] = splitDocuments({ name: 'stdin', text: build(c).text });
  return chunk !== undefined && scanDocument(chunk.text) !== undefined;
}
