import test from 'ava';
import { parse, parseAllDocuments } from 'yaml';
import { formatError } from '../src/errors.js';
import { memoryBackend, run } from './helpers/memory.js';

const secrets = {
  'secret/data/app': { user: 'alice', password: 's3cr3t-pw', replicas: 3, enabled: true, port: '8080', json: '{"a":{"b":"deep"}}' },
  'secret/data/versioned': [{ token: 'old-token' }, { token: 'new-token' }],
  'secret/data/other': { key: 'other-value' },
  'kv1/app': { user: 'v1-user' },
};

const docs = (text: string): unknown[] => parseAllDocuments(text).map((d) => d.toJS());

test('replaces an inline placeholder inside a longer string', async (t) => {
  const r = await run('apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  image: "repo/<path:secret/data/app#user>:1"\n', memoryBackend(secrets));
  t.deepEqual(r.errors, []);
  t.like(docs(r.output)[0], { spec: { image: 'repo/alice:1' } });
});

test('a whole-scalar placeholder keeps the value type; inside a string it is stringified', async (t) => {
  const r = await run(
    'kind: Deployment\nspec:\n  replicas: <path:secret/data/app#replicas>\n  on: <path:secret/data/app#enabled>\n  label: n-<path:secret/data/app#replicas>\n  port: <path:secret/data/app#port>\n',
    memoryBackend(secrets),
  );
  t.deepEqual(docs(r.output)[0], { kind: 'Deployment', spec: { replicas: 3, on: true, label: 'n-3', port: '8080' } });
});

test('a string value that looks like a number stays a string', async (t) => {
  const r = await run('kind: X\nport: "<path:secret/data/app#port>"\nplain: <path:secret/data/app#port>\n', memoryBackend(secrets));
  t.deepEqual(docs(r.output)[0], { kind: 'X', port: '8080', plain: '8080' });
});

test('jsonParse gives a typed object written as flow YAML', async (t) => {
  const r = await run('kind: X\nobj: <path:secret/data/app#json | jsonParse>\nleaf: <path:secret/data/app#json | jsonPath {.a.b}>\n', memoryBackend(secrets));
  t.deepEqual(r.errors, []);
  t.deepEqual(docs(r.output)[0], { kind: 'X', obj: { a: { b: 'deep' } }, leaf: 'deep' });
});

test('generic placeholders are replaced only in resources with the path annotation', async (t) => {
  const input = [
    'kind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    avp.kubernetes.io/path: secret/data/app\ndata:\n  user: <user>\n  n: <replicas>',
    'kind: ConfigMap\nmetadata:\n  name: b\ndata:\n  html: <b>bold</b>',
  ].join('\n---\n');
  const r = await run(input, memoryBackend(secrets));
  t.deepEqual(r.errors, []);
  const [a, b] = docs(r.output) as Array<{ data: Record<string, unknown> }>;
  t.deepEqual(a?.data, { user: 'alice', n: '3' }, 'ConfigMap values are stringified');
  t.deepEqual(b?.data, { html: '<b>bold</b>' });
});

test('a Secret value that is base64 of text with a placeholder is decoded, resolved and re-encoded', async (t) => {
  const encoded = Buffer.from('user=<path:secret/data/app#user>\n').toString('base64');
  const r = await run(`kind: Secret\nmetadata:\n  name: s\ndata:\n  env: ${encoded}\n  plain: ${Buffer.from('no placeholder').toString('base64')}\n`, memoryBackend(secrets));
  const doc = docs(r.output)[0] as { data: Record<string, string> };
  t.is(Buffer.from(doc.data['env'] ?? '', 'base64').toString(), 'user=alice\n');
  t.is(Buffer.from(doc.data['plain'] ?? '', 'base64').toString(), 'no placeholder');
});

test('an ignored resource is left untouched and not read', async (t) => {
  const backend = memoryBackend(secrets);
  const input = 'kind: Secret\nmetadata:\n  name: s\n  annotations:\n    avp.kubernetes.io/ignore: "True"\nstringData:\n  a: <path:secret/data/missing#x>\n';
  const r = await run(input, backend);
  t.deepEqual(r.errors, []);
  t.is(r.output, input);
  t.is(backend.reads.length, 0);
});

test('remove-missing drops keys whose placeholder is missing in a Secret', async (t) => {
  const r = await run(
    'kind: Secret\nmetadata:\n  name: s\n  annotations:\n    avp.kubernetes.io/path: secret/data/app\n    avp.kubernetes.io/remove-missing: "true"\nstringData:\n  # the user\n  gone: <nope>\n  user: <user>\n  also: x-<nope>\n',
    memoryBackend(secrets),
  );
  t.deepEqual(r.errors, []);
  t.deepEqual((docs(r.output)[0] as { stringData: unknown }).stringData, { user: 'alice' });
  t.true(r.output.includes('# the user'), 'the comment above the removed key is kept');
});

test('remove-missing on a kind other than Secret or ConfigMap is an error', async (t) => {
  const r = await run(
    'kind: Deployment\nmetadata:\n  name: d\n  annotations:\n    avp.kubernetes.io/path: secret/data/app\n    avp.kubernetes.io/remove-missing: "true"\nspec:\n  x: <user>\n',
    memoryBackend(secrets),
  );
  t.is(r.errors[0]?.code, 'ANNOTATION_INVALID');
  t.is(r.output, '');
});

test('secret-version applies to generic placeholders; an inline #version to its own placeholder', async (t) => {
  const r = await run(
    'kind: Secret\nmetadata:\n  name: s\n  annotations:\n    avp.kubernetes.io/path: secret/data/versioned\n    avp.kubernetes.io/secret-version: "1"\nstringData:\n  a: <token>\n  b: <path:secret/data/versioned#token>\n  c: <path:secret/data/versioned#token#2>\n  d: <path:secret/data/versioned#token#1>\n',
    memoryBackend(secrets),
  );
  t.deepEqual((docs(r.output)[0] as { stringData: unknown }).stringData, { a: 'old-token', b: 'new-token', c: 'new-token', d: 'old-token' });
});

test('kv-version 1 ignores versions, as argocd-vault-plugin does', async (t) => {
  const backend = memoryBackend(secrets);
  const r = await run(
    'kind: Secret\nmetadata:\n  name: s\n  annotations:\n    avp.kubernetes.io/kv-version: "1"\nstringData:\n  a: <path:kv1/app#user#version>\n',
    backend,
  );
  t.deepEqual(r.errors, []);
  t.deepEqual(backend.reads, [{ path: 'kv1/app', version: undefined, kvVersion: 1 }]);
});

test('each distinct secret is read once, however many placeholders use it', async (t) => {
  const backend = memoryBackend(secrets);
  const many = Array.from({ length: 50 }, (_, i) => `kind: ConfigMap\nmetadata:\n  name: c${i}\ndata:\n  u: <path:secret/data/app#user>\n  p: <path:secret/data/app#password>\n  o: <path:secret/data/other#key>\n`).join('---\n');
  const r = await run(many, backend);
  t.deepEqual(r.errors, []);
  t.is(backend.reads.length, 2);
});

test('no backend is created when there is nothing to resolve', async (t) => {
  let created = 0;
  const { generate } = await import('../src/generate.js');
  const { createLogger } = await import('../src/log.js');
  const { PassThrough } = await import('node:stream');
  const result = await generate([{ name: 'stdin', text: 'kind: ConfigMap\ndata:\n  a: "<b>x</b>"\n' }], {
    config: { kvVersion: 2, pathValidation: undefined, concurrency: 2 },
    backend: async () => {
      created++;
      return memoryBackend({});
    },
    allowEmpty: false,
    logger: createLogger(new PassThrough(), false),
  });
  t.deepEqual(result.errors, []);
  t.is(created, 0);
});

test('documents without placeholders come out byte for byte, in their order, with comments', async (t) => {
  const untouched = '# leading comment\napiVersion: v1\nkind:   Service   # odd spacing\nmetadata: {name: s}\nspec:\n    ports:\n    -   port: 80\n';
  const edited = 'kind: ConfigMap  # keep me\nmetadata:\n  name: c\ndata:\n  z: 1\n  # between\n  u: <path:secret/data/app#user>   # trailing\n  a: 2\n';
  const r = await run(`${untouched}---\n${edited}`, memoryBackend(secrets));
  t.is(r.output, `${untouched}---\n${edited.replace('<path:secret/data/app#user>', 'alice')}`);
});

test('the output is the input with only the placeholders changed: separators, their comments, `...`, directives and line endings kept', async (t) => {
  const edited = 'kind: X\na: <path:secret/data/app#user>\n';
  const filled = 'kind: X\na: alice\n';
  const cases: Array<[string, string]> = [
    [`kind: A\n---\nkind: B\n---\n${edited}---\nkind: C\n...\n---\nkind: D\n---\nkind: E\n`, `kind: A\n---\nkind: B\n---\n${filled}---\nkind: C\n...\n---\nkind: D\n---\nkind: E\n`],
    [`---\nkind: A\n--- # c\nkind: B\n...\n---\n${edited}--- !!map\nkind: C\n---\nkind: D`, `---\nkind: A\n--- # c\nkind: B\n...\n---\n${filled}--- !!map\nkind: C\n---\nkind: D`],
    [`kind: A\r\n---\r\nkind: B\r\n---  # x\r\n${edited}---\n\n---\nkind: C\n---\nkind: é\n`, `kind: A\r\n---\r\nkind: B\r\n---  # x\r\n${filled}---\n\n---\nkind: C\n---\nkind: é\n`],
    [`# only a comment\n---\n# Source: chart/a.yaml\n---\n${edited}# trailing\n...\n%YAML 1.2\n---\nkind: D\n`, `# only a comment\n---\n# Source: chart/a.yaml\n---\n${filled}# trailing\n...\n%YAML 1.2\n---\nkind: D\n`],
    [`%YAML 1.1\n---\n${edited}`, `%YAML 1.1\n---\n${filled}`],
    [`${edited.trimEnd()}`, `${filled.trimEnd()}`],
  ];
  for (const [input, expected] of cases) {
    const r = await run(input, memoryBackend(secrets));
    t.deepEqual(r.errors, [], JSON.stringify(input));
    t.is(r.output, expected, JSON.stringify(input));
  }
});

test('values read from the backend are never scanned for placeholders again', async (t) => {
  const backend = memoryBackend({ 'secret/data/x': { v: '<path:secret/data/app#user>' } });
  const r = await run('kind: X\na: <path:secret/data/x#v>\n', backend);
  t.deepEqual(docs(r.output)[0], { kind: 'X', a: '<path:secret/data/app#user>' });
  t.is(backend.reads.length, 1);
});

test('values with YAML syntax, document markers or newlines come out as literal data', async (t) => {
  const nasty = 'a: b\n---\nkind: Evil\n# x';
  const backend = memoryBackend({ 'secret/data/x': { v: nasty, w: "it's \"quoted\" #not-a-comment" } });
  const r = await run('kind: X\na: <path:secret/data/x#v>\nb: "<path:secret/data/x#w>"\nc: |\n  <path:secret/data/x#v>\nd:\n  - <path:secret/data/x#v>\n', backend);
  const all = docs(r.output);
  t.is(all.length, 1);
  t.deepEqual(all[0], { kind: 'X', a: nasty, b: "it's \"quoted\" #not-a-comment", c: `${nasty}\n`, d: [nasty] });
});

test('placeholders inside kind: List items follow each item’s annotations', async (t) => {
  const r = await run(
    'apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  metadata:\n    name: a\n    annotations:\n      avp.kubernetes.io/path: secret/data/app\n  data:\n    u: <user>\n- kind: ConfigMap\n  metadata:\n    name: b\n  data:\n    u: <user>\n    v: <path:secret/data/other#key>\n',
    memoryBackend(secrets),
  );
  t.deepEqual(r.errors, []);
  const list = docs(r.output)[0] as { items: Array<{ data: unknown }> };
  t.deepEqual(list.items.map((i) => i.data), [{ u: 'alice' }, { u: '<user>', v: 'other-value' }]);
});

test('the default modifier is used when the key is missing', async (t) => {
  const r = await run('kind: X\na: <path:secret/data/app#nope | default "fallback value">\nb: <path:secret/data/app#user | default "unused">\n', memoryBackend(secrets));
  t.deepEqual(docs(r.output)[0], { kind: 'X', a: 'fallback value', b: 'alice' });
});

test('every problem in every document is reported at once, with locations and no output', async (t) => {
  const input = [
    'kind: ConfigMap\nmetadata:\n  name: one\ndata:\n  a: <path:secret/data/app#missing-key>',
    'kind: ConfigMap\nmetadata:\n  name: two\ndata:\n  b: <path:secret/data/nowhere#k>\n  c: <path:secret/data/app#user | frobnicate>',
    'kind: ConfigMap\nmetadata: {name: three\ndata: {a: <path:secret/data/app#user>\n',
  ].join('\n---\n');
  const r = await run(input, memoryBackend(secrets));
  t.is(r.output, '');
  const lines = r.errors.map(formatError);
  t.is(r.errors.length, 4, lines.join('\n'));
  t.true(lines.some((l) => l.includes('KEY_NOT_FOUND') && l.includes('stdin:5:6') && l.includes('document 1') && l.includes('ConfigMap/one') && l.includes('data.a')), lines.join('\n'));
  // Lines are counted only when an error needs one, and not in document order: the parse errors
  // of documents 2 and 3 come first, then the resolve errors of documents 1 and 2.
  t.true(lines.some((l) => l.includes('SECRET_NOT_FOUND') && l.includes('stdin:11:6') && l.includes('document 2') && l.includes('<path:secret/data/nowhere#k>')));
  t.true(lines.some((l) => l.includes('UNKNOWN_MODIFIER') && l.includes('stdin:12:6') && l.includes('frobnicate')));
  t.true(lines.some((l) => l.includes('YAML_PARSE') && l.includes('stdin:16:1') && l.includes('document 3')));
});

test('errors never contain a secret value', async (t) => {
  const r = await run('kind: X\na: <path:secret/data/app#password | base64decode>\nb: <path:secret/data/app#password | jsonParse>\n', memoryBackend(secrets), { verbose: true });
  t.true(r.errors.length >= 1);
  for (const e of r.errors) t.false(formatError(e).includes('s3cr3t'), formatError(e));
  t.false(r.stderr.includes('s3cr3t'));
});

test('AVP_PATH_VALIDATION rejects a path that does not match, before any read', async (t) => {
  const backend = memoryBackend(secrets);
  const r = await run('kind: X\na: <path:secret/data/team-b/app#user>\nb: <path:secret/data/app#user>\n', backend, { pathValidation: /^secret\/data\/[a-z]+$/u });
  t.is(r.errors.length, 1);
  t.is(r.errors[0]?.code, 'PATH_VALIDATION');
  t.deepEqual(backend.reads.map((x) => x.path), ['secret/data/app']);
});

test('an input with no manifests is an error unless allowed', async (t) => {
  const r = await run('# only a comment\n---\n', memoryBackend(secrets));
  t.is(r.errors[0]?.code, 'EMPTY_INPUT');
  const allowed = await run('', memoryBackend(secrets), { allowEmpty: true });
  t.deepEqual(allowed.errors, []);
  t.is(allowed.output, '');
});

test('JSON documents are resolved and stay JSON', async (t) => {
  const r = await run('{\n  "kind": "Secret",\n  "data": {"A": "<path:secret/data/app#user>", "N": "<path:secret/data/app#replicas>"}\n}', memoryBackend(secrets));
  t.deepEqual(r.errors, []);
  t.deepEqual(JSON.parse(r.output.replace(/^---\n/, '')), { kind: 'Secret', data: { A: 'alice', N: 3 } });
});

test('a placeholder may span lines inside a folded scalar', async (t) => {
  const r = await run('kind: X\na: >-\n  <path:secret/data/app#json\n  | jsonPath\n  {.a.b}>\n', memoryBackend(secrets));
  t.deepEqual(r.errors, []);
  t.deepEqual(parse(r.output.replace(/^---\n/, '')), { kind: 'X', a: 'deep' });
});

test('paths with dot segments are rejected, so no client can resolve them outside the allowed prefix', async (t) => {
  const backend = memoryBackend(secrets);
  const r = await run('kind: X\na: <path:secret/data/app/../../sys/raw#k>\n---\nkind: Y\nmetadata:\n  annotations:\n    avp.kubernetes.io/path: secret/./data/app\nb: <user>\n', backend, {
    pathValidation: /^secret\/data\/app/u,
  });
  t.deepEqual(r.errors.map((e) => e.code), ['PLACEHOLDER_SYNTAX', 'PLACEHOLDER_SYNTAX']);
  t.is(backend.reads.length, 0);
});

test('a backend settings error is reported once, not once per placeholder', async (t) => {
  const { VaultfillError } = await import('../src/errors.js');
  const broken = { requests: 0, read: async () => { throw new VaultfillError('CONFIG', 'secrets file x.yaml must have a top-level "secrets:" list'); } };
  const r = await run(Array.from({ length: 5 }, (_, i) => `kind: X\nmetadata: {name: x${i}}\na: <path:secret/data/app#user>\nb: <path:secret/data/other#key>\n`).join('---\n'), broken);
  t.deepEqual(r.errors.map((e) => e.code), ['CONFIG']);
});

test('a broken placeholder does not hide the problems of another one in the same value', async (t) => {
  const r = await run('kind: X\na: <path:secret/data/app#nope>-<path:secret/data/app#user | frobnicate>\n', memoryBackend(secrets));
  t.deepEqual(r.errors.map((e) => e.code).sort(), ['KEY_NOT_FOUND', 'UNKNOWN_MODIFIER']);
  t.is(r.output, '');
});

// --- what the two readers must agree on, each run both ways -----------------------------
const bothReaders = async (input: string, backend = memoryBackend(secrets)): Promise<[Awaited<ReturnType<typeof run>>, Awaited<ReturnType<typeof run>>]> => [
  await run(input, backend),
  await run(input, backend, { fullParser: true }),
];

test('a placeholder written with JSON escapes (Helm toJson writes < as \\u003c) is found and resolved', async (t) => {
  const input = 'kind: Secret\nmetadata:\n  name: s\nstringData:\n  password: "\\u003cpath:secret/data/app#password\\u003e"\n  hex: "\\x3cpath:secret/data/app#user>"\n---\n{"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"u": "\\u003cpath:secret/data/app#user\\u003e"}}\n';
  for (const r of await bothReaders(input)) {
    t.deepEqual(r.errors, []);
    t.deepEqual(docs(r.output), [
      { kind: 'Secret', metadata: { name: 's' }, stringData: { password: 's3cr3t-pw', hex: 'alice' } },
      { kind: 'ConfigMap', metadata: { name: 'c' }, data: { u: 'alice' } },
    ]);
  }
});

test('the base64 of a short generic placeholder in an annotated Secret is resolved on both readers', async (t) => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  t.is(b64('<user>'), 'PHVzZXI+');
  const input = `kind: Secret\nmetadata:\n  name: s\n  annotations:\n    avp.kubernetes.io/path: secret/data/app\ndata:\n  a: ${b64('<user>')}\n  b: ${b64('<k>')}\n`;
  const backend = memoryBackend({ 'secret/data/app': { user: 'alice', k: 'v' } });
  for (const r of await bothReaders(input, backend)) {
    t.deepEqual(r.errors, []);
    t.deepEqual((docs(r.output)[0] as { data: unknown }).data, { a: b64('alice'), b: b64('v') });
  }
});

test('a placeholder in a mapping key is an error with its location, on both readers', async (t) => {
  for (const r of await bothReaders('kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  <path:secret/data/app#user>: x\n')) {
    t.is(r.output, '');
    t.deepEqual(r.errors.map(formatError), ['error PLACEHOLDER_SYNTAX at stdin:5:3 (document 1, ConfigMap/c, data["<path:secret/data/app#user>"]): a placeholder in a mapping key is not resolved; put it in a value']);
  }
});

test('avp.kubernetes.io annotations are strings, as Kubernetes requires: other YAML types are errors on both readers', async (t) => {
  const doc = (annotation: string): string => `kind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    ${annotation}\ndata:\n  u: <path:secret/data/app#user>\n`;
  for (const annotation of ['avp.kubernetes.io/ignore: 1.0', 'avp.kubernetes.io/kv-version: 2.0', 'avp.kubernetes.io/secret-version: 02', 'avp.kubernetes.io/path: null', 'avp.kubernetes.io/ignore: yes', 'avp.kubernetes.io/ignore: true']) {
    const [fast, full] = await bothReaders(doc(annotation));
    const name = annotation.split(':')[0] as string;
    t.deepEqual(fast.errors.map(formatError), full.errors.map(formatError), annotation);
    t.true(fast.errors.some((e) => e.code === 'ANNOTATION_INVALID' && e.message === `${name} must be a string; quote its value (e.g. ${name}: "…")`), annotation);
  }
  // Quoted, the same values are read as the strings they are.
  const [fast, full] = await bothReaders(doc('avp.kubernetes.io/ignore: "true"'));
  t.deepEqual([fast.errors, full.errors], [[], []]);
  t.is(fast.output, doc('avp.kubernetes.io/ignore: "true"'));
});

test('values that YAML readers would retype come out quoted; words no reader retypes stay plain', async (t) => {
  const values = { hex: '0xDEADBEEF', octal: '017', date: '2001-12-14', yes: 'yes', on: 'On', tilde: '~', inf: '-.inf', sexa: '190:20:30', word: 'alice-1.2', ws: '  ' };
  const backend = memoryBackend({ 'secret/data/v': values });
  const input = `kind: X\n${Object.keys(values).map((k) => `k-${k}: <path:secret/data/v#${k}>\nblock-${k}: |\n    <path:secret/data/v#${k}>\n`).join('')}`;
  for (const r of await bothReaders(input, backend)) {
    t.deepEqual(r.errors, []);
    const expected = Object.fromEntries(Object.entries(values).flatMap(([k, v]) => [[`k-${k}`, v], [`block-${k}`, `${v}\n`]]));
    // YAML 1.1 (Kubernetes' reader is 1.1-like) and 1.2 both read every value back as the string.
    t.deepEqual(parse(r.output), { kind: 'X', ...expected });
    t.deepEqual(parse(r.output, { version: '1.1' }), { kind: 'X', ...expected });
    t.regex(r.output, /^k-word: alice-1\.2$/m);
    t.regex(r.output, /^k-hex: "0xDEADBEEF"$/m);
  }
});

test('a multi-line value in a flow collection stays valid YAML; a block scalar keeps its indentation, so a comment after it stays outside', async (t) => {
  const backend = memoryBackend({ 'secret/data/v': { ml: 'line1\nline2', pw: 's3cr3t' } });
  const input = 'kind: X\nspec:\n  env: [{name: A, value: <path:secret/data/v#ml>}]\n  key: |\n      <path:secret/data/v#pw>\n    # a comment at a lesser indent\n  other: 1\n';
  for (const r of await bothReaders(input, backend)) {
    t.deepEqual(r.errors, []);
    t.deepEqual(parse(r.output), { kind: 'X', spec: { env: [{ name: 'A', value: 'line1\nline2' }], key: 's3cr3t\n', other: 1 } });
    t.true(r.output.includes('    # a comment at a lesser indent\n'));
  }
});

test('a value Kubernetes cannot hold (a lone surrogate) is an error naming the placeholder, never U+FFFD', async (t) => {
  const backend = memoryBackend({ 'secret/data/v': { bad: 'a\ud800b' } });
  for (const style of ['<path:secret/data/v#bad>', "'<path:secret/data/v#bad>'", '"x <path:secret/data/v#bad>"']) {
    for (const r of await bothReaders(`kind: X\na: ${style}\n`, backend)) {
      t.is(r.output, '');
      t.deepEqual(r.errors.map((e) => e.code), ['VALUE_UNREPRESENTABLE']);
      t.is(r.errors[0]?.location?.placeholder, '<path:secret/data/v#bad>');
    }
  }
});
