import test from 'ava';
import { findPlaceholders, type Found } from '../../src/placeholder/grammar.js';

const ok = (f: Found | undefined) => {
  if (!f || !('placeholder' in f)) throw new Error(`not a placeholder: ${JSON.stringify(f)}`);
  return f.placeholder;
};

test('reads path, key and version of inline placeholders', (t) => {
  const [a, b] = findPlaceholders('x <path:secret/data/app#user> y <path:kv/p#k#3>', 'path-only');
  t.like(ok(a), { path: 'secret/data/app', key: 'user', version: undefined, raw: '<path:secret/data/app#user>', start: 2 });
  t.like(ok(b), { path: 'kv/p', key: 'k', version: '3' });
});

test('path-only mode ignores angle brackets that are not path placeholders', (t) => {
  t.deepEqual(findPlaceholders('<b>bold</b> and <name>', 'path-only'), []);
});

test('generic mode reads any <key>, with free whitespace around names and pipes', (t) => {
  const [p] = findPlaceholders('<  data |jsonPath  {.deployment.replicas}|  jsonParse >', 'generic');
  const placeholder = ok(p);
  t.is(placeholder.key, 'data');
  t.is(placeholder.path, undefined);
  t.deepEqual(placeholder.modifiers.map((m) => m.name), ['jsonPath', 'jsonParse']);
});

test('a malformed inline placeholder is a syntax error naming the expected form', (t) => {
  const [f] = findPlaceholders('<path:secret/data/app>', 'path-only');
  t.true(f !== undefined && 'error' in f && f.error.code === 'PLACEHOLDER_SYNTAX');
  const [g] = findPlaceholders('<path:a#b#c#d>', 'path-only');
  t.true(g !== undefined && 'error' in g && g.error.message.includes('<path:PATH#KEY>'));
});

test('an unknown modifier or a bad argument is an error naming it', (t) => {
  const [a] = findPlaceholders('<path:a#b | nope>', 'path-only');
  t.true(a !== undefined && 'error' in a && a.error.code === 'UNKNOWN_MODIFIER' && a.error.message.includes('"nope"'));
  const [b] = findPlaceholders('<path:a#b | indent x>', 'path-only');
  t.true(b !== undefined && 'error' in b && b.error.code === 'MODIFIER_ARGUMENT' && b.error.message.includes('indent'));
  const [c] = findPlaceholders('<path:a#b | base64encode extra>', 'path-only');
  t.true(c !== undefined && 'error' in c && c.error.message.includes('base64encode takes no arguments'));
  const [d] = findPlaceholders('<path:a#b | jsonPath {.a>', 'path-only');
  t.true(d !== undefined && 'error' in d && d.error.code === 'MODIFIER_ARGUMENT');
});
