import test from 'ava';
import { VaultfillError } from '../../src/errors.js';
import { compileModifier } from '../../src/placeholder/modifiers.js';

const apply = (segment: string, value: unknown): unknown => compileModifier(segment).apply(value);

test('base64encode and base64decode round-trip text', (t) => {
  t.is(apply('base64encode', 'héllo'), 'aMOpbGxv');
  t.is(apply('base64decode', 'aMOpbGxv'), 'héllo');
});

test('jsonParse and yamlParse give typed values', (t) => {
  t.deepEqual(apply('jsonParse', '{"a":[1,2]}'), { a: [1, 2] });
  t.deepEqual(apply('yamlParse', '---\nkey1: secret1\nn: 2'), { key1: 'secret1', n: 2 });
});

test('jsonPath reads objects and JSON strings', (t) => {
  t.is(apply('jsonPath {.a.b}', { a: { b: 'x' } }), 'x');
  t.is(apply('jsonPath   {.a.b}', '{"a":{"b":"y"}}'), 'y');
});

test('sha256sum gives the hex digest', (t) => {
  t.is(apply('sha256sum', 'bar'), 'fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9');
});

test('indent follows argocd-vault-plugin: first line trimmed, later non-empty lines indented', (t) => {
  t.is(apply('indent 4', '  a\nb\n\n  c'), 'a\n    b\n    c');
});

test('default takes quoted or bare text and leaves present values alone', (t) => {
  t.is(compileModifier('default "two words"').fallback, 'two words');
  t.is(compileModifier("default 'x'").fallback, 'x');
  t.is(compileModifier('default bare').fallback, 'bare');
  t.is(apply('default "x"', 'present'), 'present');
  t.throws(() => compileModifier('default two words'), { instanceOf: VaultfillError, code: 'MODIFIER_ARGUMENT' } as never);
});

test('a modifier failure names the modifier and never quotes the value', (t) => {
  const secret = 'not-json-s3cr3t';
  const error = t.throws(() => apply('jsonParse', secret), { instanceOf: VaultfillError });
  t.is(error?.code, 'MODIFIER_FAILED');
  t.true(error?.message.includes('jsonParse'));
  t.false(error?.message.includes('s3cr3t'));
  const b64 = t.throws(() => apply('base64decode', 'not base64 s3cr3t!'), { instanceOf: VaultfillError });
  t.false(b64?.message.includes('s3cr3t'));
  // A value that is already an object (after jsonParse) is not text to parse, not "invalid YAML".
  t.is(t.throws(() => apply('yamlParse', { a: 1 }))?.message, 'yamlParse: expects a string, got object');
});

test('yamlParse reads tags and collection keys without a warning on stderr (yaml would quote the line)', async (t) => {
  const warnings: string[] = [];
  const listener = (w: Error): void => void warnings.push(w.message);
  process.on('warning', listener);
  try {
    t.deepEqual(apply('yamlParse', 'db:\n  user: app\n  password: !encrypted Hunter2\n'), { db: { user: 'app', password: 'Hunter2' } });
    apply('yamlParse', '? [a, b]\n: c\n');
    await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
  } finally {
    process.off('warning', listener);
  }
  t.deepEqual(warnings, []);
});
