/**
 * The line scanner is a fast path: on every document it accepts, it must give exactly what the
 * full parser gives (same YAML, same errors); everything else it must decline.
 */
import test from 'ava';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { SecretData } from '../../src/backends/types.js';
import { formatError } from '../../src/errors.js';
import { parseChunk, splitDocuments } from '../../src/manifest/documents.js';
import { applyEdits, type TextEdit } from '../../src/manifest/edit.js';
import { scanDocument } from '../../src/manifest/line-scan.js';
import { collect, collectScanned, type Collected } from '../../src/placeholder/collect.js';
import { substitute } from '../../src/placeholder/substitute.js';
import { resolveSecrets } from '../../src/secrets/resolve.js';
import { memoryBackend } from '../helpers/memory.js';

const options = { kvVersion: 2 as const, pathValidation: undefined };

interface Outcome {
  readonly output: unknown[];
  readonly text: string;
  readonly errors: string[];
}

async function finish(found: Collected, serializeIt: () => string, secrets: Record<string, SecretData | SecretData[]>): Promise<Outcome> {
  const backend = memoryBackend(secrets);
  const results = await resolveSecrets(found.slots.flatMap((s) => s.references.map((r) => r.request)), async () => backend, 4);
  const errors = [...found.errors, ...substitute(found.slots, results)].map(formatError).sort();
  const text = serializeIt();
  return { text, errors, output: errors.length ? [] : parseAllDocuments(text, { merge: true }).map((d) => d.toJS()) };
}

/** Both paths on one document; `fast` is undefined when the scanner declines it. */
async function bothWays(text: string, secrets: Record<string, SecretData | SecretData[]>): Promise<{ fast: Outcome | undefined; full: Outcome }> {
  const [chunk] = splitDocuments({ name: 'stdin', text });
  if (!chunk) throw new Error('no document');
  const parsed = parseChunk(chunk);
  if (!('documents' in parsed)) throw new Error(`full parser failed: ${parsed.message}`);
  const fullEdits: TextEdit[] = [];
  const full = await finish(collect(parsed, fullEdits, options), () => applyEdits(chunk.text, fullEdits), secrets);
  const scanned = scanDocument(chunk.text);
  if (!scanned) return { fast: undefined, full };
  const edits: TextEdit[] = [];
  const fast = await finish(collectScanned(chunk, scanned, edits, options), () => applyEdits(chunk.text, edits), secrets);
  return { fast, full };
}

const secrets = {
  'secret/data/app': { user: 'alice', n: 3, on: true, obj: '{"a":[1,{"b":"c"}]}', num: '123', yes: 'yes', colon: 'a: b', hash: '#x', lead: ' lead', multi: 'one\ntwo', quote: "it's \"q\"", uni: 'héllo ✓', ctl: 'a\u0007b\u0085c' },
};
const sameBothWays = (name: string, text: string, secretsFor = secrets): void => {
  test(`the scanner agrees with the full parser: ${name}`, async (t) => {
    const { fast, full } = await bothWays(text, secretsFor);
    t.truthy(fast, 'the scanner should accept this document');
    t.deepEqual(fast?.errors, full.errors);
    t.deepEqual(fast?.output, full.output);
  });
};

const keys = Object.keys(secrets['secret/data/app']);
sameBothWays('every kind of value in plain, quoted and single-quoted scalars', `apiVersion: v1
kind: ConfigMap
metadata:
  name: c   # trailing comment
  labels: {app: x}
data:
${keys.map((k) => `  p-${k}: <path:secret/data/app#${k}>\n  d-${k}: "<path:secret/data/app#${k}>"\n  s-${k}: 'x <path:secret/data/app#${k}>'`).join('\n')}
`);
sameBothWays('typed values in maps and sequences, compact and indented', `kind: Deployment
metadata:
  name: d
spec:
  replicas: <path:secret/data/app#n>
  flags:
  - <path:secret/data/app#on>
  - "<path:secret/data/app#obj | jsonParse>"
  - - nested-<path:secret/data/app#user>
  template:
    spec:
      containers:
        - name: c
          image: "repo/<path:secret/data/app#user>:1"   # comment <b>
          env:
          - {name: A, value: plain}
          - name: B
            value: <path:secret/data/app#obj | jsonParse | jsonPath {.a[1].b}>
      empty:
      other: ~
`);
sameBothWays('generic placeholders, quoted keys and Windows line endings', 'kind: Secret\r\nmetadata:\r\n  name: s\r\n  annotations:\r\n    avp.kubernetes.io/path: "secret/data/app"\r\nstringData:\r\n  "tls.crt": <user>\r\n  \'odd key\': <n>\r\n  x: <b>text</b> <colon>\r\n');
sameBothWays('remove-missing drops whole lines and keeps comments', `kind: Secret
metadata:
  name: s
  annotations:
    avp.kubernetes.io/path: secret/data/app
    avp.kubernetes.io/remove-missing: "true"
stringData:
  # about a
  a: <nope>
  b: <user>
  c: x-<also-missing> # trailing
`);
sameBothWays('literal block scalars: chomping, blank lines, typed and multi-line values, remove-missing', `kind: ConfigMap
metadata:
  name: c
  annotations:
    avp.kubernetes.io/path: secret/data/app
    avp.kubernetes.io/remove-missing: "true"
data:
  clip: |
    # a config file
    user = <path:secret/data/app#user>

      indented = <path:secret/data/app#multi>
    end

  strip: |-
    <path:secret/data/app#n>
  keep: |+
    pw=<path:secret/data/app#quote>


  typed: |-
    <path:secret/data/app#obj | jsonParse>
  ctl: |
    <path:secret/data/app#ctl>
  gone: |
    <missing>
  list:
  - |
    item <path:secret/data/app#uni>
  - after
  last: 1
`);
sameBothWays('a literal block in a Secret', `kind: Secret
metadata:
  name: s
stringData:
  app.conf: |
    password=<path:secret/data/app#colon>
  b64: |-
    ${Buffer.from('<path:secret/data/app#user>').toString('base64')}
`);
sameBothWays('Secret base64 values', `kind: Secret
metadata:
  name: s
data:
  a: ${Buffer.from('u=<path:secret/data/app#user>\n').toString('base64')}
  b: ${Buffer.from('plain').toString('base64')}
  c: "${Buffer.from('<path:secret/data/app#multi>').toString('base64')}"
`);
sameBothWays('errors: missing keys, bad modifiers, syntax, path and annotations', `kind: Deployment
metadata:
  name: d
  annotations:
    avp.kubernetes.io/remove-missing: "true"
    avp.kubernetes.io/kv-version: "3"
spec:
  a: <path:secret/data/app#missing>
  b: <path:secret/data/nowhere#k>
  c: <path:secret/data/app#user | nope>
  d: <path:secret/data/app>
  e: <path:secret/data/app#user#x>
  f: <path:secret/data/../x#k>
`);

test('the scanner agrees with the full parser on the AVP fixtures and the examples', async (t) => {
  const dirs = [path.resolve('../shared/conformance/avp/input'), path.resolve('examples/plain')];
  let accepted = 0;
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f))) {
      for (const chunk of splitDocuments({ name: file, text: readFileSync(path.join(dir, file), 'utf8') })) {
        if (!chunk.candidate || !('documents' in parseChunk(chunk))) continue;
        const { fast, full } = await bothWays(chunk.text, { ...secrets, 'secret/testing': { name: 'n', 'secret-var-value': 'dg==' } });
        if (!fast) continue;
        accepted++;
        t.deepEqual(fast.errors, full.errors, `${file} #${chunk.index}`);
        t.deepEqual(fast.output, full.output, `${file} #${chunk.index}`);
      }
    }
  }
  t.true(accepted >= 10, `the scanner took ${accepted} documents`);
});

test('any secret value comes out the same through both paths', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: 'binary' }), fc.constantFrom('plain', 'double', 'single', 'seq', 'literal', 'literal-'), async (value, style) => {
      const ph = '<path:secret/data/v#k>';
      const lines: Record<string, string> = {
        plain: `a: ${ph}`, double: `a: "${ph}"`, single: `a: 'x${ph}'`, seq: `a:\n- ${ph}`, literal: `a: |\n  ${ph}`, 'literal-': `a: |-\n  ${ph}`,
      };
      const line = lines[style] as string;
      const { fast, full } = await bothWays(`kind: X\nmetadata:\n  name: p\n${line}\nz: 1\n`, { 'secret/data/v': { k: value } });
      t.truthy(fast);
      t.deepEqual(fast?.output, full.output);
      const doc = full.output[0] as { a: unknown };
      const expected = style === 'single' ? `x${value}` : style === 'literal' ? `${value}\n` : value;
      t.deepEqual(style === 'seq' ? (doc.a as unknown[])[0] : doc.a, expected);
    }),
    { numRuns: 300 },
  );
});

test('random manifests, with placeholders anywhere or nowhere in their parts: the scanner agrees with the full parser', async (t) => {
  // Block YAML as a renderer writes it, in both sequence styles, with some parts in flow style or
  // with a multi-line string, which the scanner passes over where they hold no placeholder.
  const ph = fc.constantFrom('<path:secret/data/app#user>', 'x-<path:secret/data/app#n>', '<path:secret/data/app#num>');
  const key = fc.constantFrom('a', 'b', 'c', 'image', 'name', 'spec', 'value', 'env');
  const leaf = fc.oneof(ph, fc.constantFrom('plain', 'two\nlines', '', 'a: b', '- x', '#c', 42, true, null));
  const { node } = fc.letrec<{ node: unknown }>((tie) => ({
    // No empty collections: `yaml` writes `key:` then `[]` below it, which it cannot read back.
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('node'), { minLength: 1, maxLength: 3 }), fc.dictionary(key, tie('node'), { minKeys: 1, maxKeys: 3 })),
  }));
  let compared = 0;
  await fc.assert(
    fc.asyncProperty(fc.dictionary(key, node, { minKeys: 1, maxKeys: 4 }), fc.boolean(), fc.boolean(), async (spec, indentSeq, flow) => {
      const text = stringify({ kind: 'X', metadata: { name: 'r' }, spec, tail: 'end' }, { indentSeq, collectionStyle: flow ? 'any' : 'block', lineWidth: 0 });
      const { fast, full } = await bothWays(text, secrets);
      if (!fast) return;
      if (text.includes('<path:')) compared++;
      t.deepEqual(fast.errors, full.errors, text);
      t.deepEqual(fast.output, full.output, text);
    }),
    { numRuns: 400 },
  );
  t.true(compared >= 100, `only ${compared} documents with placeholders were read by both`);
});

sameBothWays('a Deployment whose parts without placeholders are passed over: anchors, aliases, tags, flow collections and multi-line scalars in them', `kind: Deployment
metadata:
  name: d
spec:
  selector:
    matchLabels: &labels {app: d,
      tier: web}
  strategy:
    note: a plain scalar
      on two lines
    type: !!str RollingUpdate
  template:
    metadata:
      labels: *labels
    spec:
      containers:
      - name: app
        env:
        - name: USER
          value: <path:secret/data/app#user>
        resources:
          limits: {cpu: 1,
            memory: 1Gi}
          requests:
            ? cpu
            : 1
`);
sameBothWays('a sequence at its key\'s column, passed over up to the next key', `kind: X
spec:
  ports:
  - containerPort: 80
    name: http
  # a comment at the key's column
  - containerPort: 81
  image: <path:secret/data/app#user>
  more:
  -
    deep: 1
  last: <path:secret/data/app#n>
`);
const declines = (name: string, text: string): void => {
  test(`the scanner declines ${name}`, (t) => {
    t.is(scanDocument(text), undefined);
  });
};
declines('a placeholder in a folded block scalar', 'kind: X\na: >\n  <path:s#k>\n');
declines('a placeholder in a block scalar with an indentation indicator', 'kind: X\na: |2\n  <path:s#k>\n');
declines('a placeholder in a block scalar with a comment on its header', 'kind: X\na: | # c\n  <path:s#k>\n');
declines('a placeholder in a block scalar after a leading blank line', 'kind: X\na: |\n\n  <path:s#k>\n');
declines('a block scalar less indented after its first line', 'kind: X\na: |\n    x\n   <path:s#k>\n');
declines('a placeholder in a flow collection', 'kind: X\na: {b: <path:s#k>}\n');
declines('a multi-line plain scalar', 'kind: X\na: <path:s#k>\n  more\n');
declines('a multi-line quoted scalar', 'kind: X\na: "<path:s#k>\n  more"\n');
declines('escapes in double quotes', 'kind: X\na: "\\t<path:s#k>"\n');
declines('anchors, aliases and tags', 'kind: X\na: &x <path:s#k>\n');
declines('an alias', 'kind: X\nb: *x\n');
declines('a tag', 'kind: X\na: !t <path:s#k>\n');
declines('tabs', 'kind: X\na:\n\tb: <path:s#k>\n');
declines('a placeholder in a key', 'kind: X\n<path:s#k>: 1\n');
declines('a `<` written as an escape', 'kind: X\na: "\\u003cpath:s#k>"\n');
declines('an avp.kubernetes.io annotation that is not a plain word', 'kind: X\nmetadata:\n  annotations:\n    avp.kubernetes.io/kv-version: 2\na: <path:s#k>\n');
declines('kind: List', 'kind: List\nitems: []\n');
declines('JSON', '{"kind": "X", "a": "<path:s#k>"}\n');
declines('a missing kind', 'a: <path:s#k>\n');
declines('bad indentation', 'kind: X\nspec:\n    a: 1\n  b: <path:s#k>\n');
declines('a value that is not a plain scalar', 'kind: X\na: b: <path:s#k>\n');
declines('a complex key', 'kind: X\n? a\n: <path:s#k>\n');
declines('annotations as a flow map', 'kind: X\nmetadata:\n  annotations: {avp.kubernetes.io/ignore: "true"}\na: <path:s#k>\n');
declines('a second root mapping at a shallower indent', '  a: <path:s#k>\nkind: X\n');
declines('an alias on the way to a placeholder, to an anchor in a part passed over', 'kind: X\nspec:\n  base:\n    x: &a 1\n  b: *a\n  c: <path:s#k>\n');
