import test from 'ava';
import { compileJsonPath, jsonPath, JsonPathError } from '../../src/placeholder/jsonpath.js';

// Expected outputs were produced by k8s.io/client-go v0.37 util/jsonpath (AllowMissingKeys(false),
// data decoded by encoding/json), except where a title says vaultfill differs on purpose.

const avpData = {
  service: { enableTLS: true, ports: [80, 8080] },
  deployment: { replicas: 2, image: { name: 'json-test', tag: 'latest' } },
};

const throwsJsonPath = (fn: () => unknown, includes: string): JsonPathError => {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof JsonPathError)) throw new Error(`expected a JsonPathError, got ${String(caught)}`);
  if (!caught.message.includes(includes)) throw new Error(`"${caught.message}" does not mention "${includes}"`);
  return caught;
};

test('reads scalars from nested objects the way AVP fixtures do', (t) => {
  t.is(jsonPath('{.deployment.replicas}', avpData), '2');
  t.is(jsonPath('{.deployment.image.name}', avpData), 'json-test');
  t.is(jsonPath('{.service.enableTLS}', avpData), 'true');
  t.is(jsonPath('{.credentials.user}', { credentials: { user: 'test-user', pass: 'x' } }), 'test-user');
});

test('builds the ports list of the AVP modifiers fixture from a folded template', (t) => {
  const template =
    `{'['} {range .service.ports[0:-1:1]} {'{"protocol":"TCP",'} {'"port":'}{@} {',"targetPort":'}{@} {'},'} {end} ` +
    `{'{"protocol":"TCP",'} {'"port":'}{.service.ports[-1]} {',"targetPort":'}{.service.ports[-1]} {'}]'}`;
  const out = jsonPath(template, avpData);
  t.is(out, '[  {"protocol":"TCP", "port":80 ,"targetPort":80 },  {"protocol":"TCP", "port":8080 ,"targetPort":8080 }]');
  t.deepEqual(JSON.parse(out), [
    { protocol: 'TCP', port: 80, targetPort: 80 },
    { protocol: 'TCP', port: 8080, targetPort: 8080 },
  ]);
});

test('joins the results of one expression with single spaces', (t) => {
  t.is(jsonPath('{.items[*].name}', { items: [{ name: 'a' }, { name: 'b' }] }), 'a b');
  t.is(jsonPath('{.a[*]}', { a: ['x y', 'z'] }), 'x y z');
});

test('concatenates separate expressions and copies text outside braces', (t) => {
  t.is(jsonPath('{.a}{.b}', { a: 1, b: 'x' }), '1x');
  t.is(jsonPath('a={.a}, b={.b}}', { a: 1, b: 'x' }), 'a=1, b=x}');
  t.is(jsonPath('plain text', {}), 'plain text');
  t.is(jsonPath('', {}), '');
});

test('prints maps as compact JSON with sorted keys and arrays as JSON', (t) => {
  t.is(jsonPath('{.a}', { a: { z: 1, b: [1, 2] } }), '{"b":[1,2],"z":1}');
  t.is(jsonPath('{.a}', { a: { z: 1, b: [1, 2], é: 3, B: null } }), '{"B":null,"b":[1,2],"z":1,"é":3}');
  t.is(jsonPath('{.service}', avpData), '{"enableTLS":true,"ports":[80,8080]}');
  t.is(jsonPath('{.a}', { a: [] }), '[]');
  t.is(jsonPath('{@}', { a: 1 }), '{"a":1}');
  t.is(jsonPath('{}', { a: 1 }), '{"a":1}');
});

test('escapes strings inside JSON output like Go encoding/json', (t) => {
  t.is(jsonPath('{.a}', { a: [{ k: '<v>&' }, '\n\t\u0001\u2028'] }), '[{"k":"\\u003cv\\u003e\\u0026"},"\\n\\t\\u0001\\u2028"]');
});

test('prints numbers like Go prints a float64', (t) => {
  t.is(jsonPath('{.x[*]}', { x: [80, 1.5, -2.5, 123456, 0.0001] }), '80 1.5 -2.5 123456 0.0001');
  t.is(jsonPath('{.x[*]}', { x: [1000000, 1e-7, 0.00001, 123456789012] }), '1e+06 1e-07 1e-05 1.23456789012e+11');
  t.is(jsonPath('{.x}', { x: [1000000, 1e-7, 1e21] }), '[1000000,1e-7,1e+21]');
});

test('prints null as null and an empty string as nothing', (t) => {
  t.is(jsonPath('{.a}', { a: null }), 'null');
  t.is(jsonPath('{.a[*]}', { a: [null, true, 'x', {}] }), 'null true x {}');
  t.is(jsonPath('{.a}', { a: '' }), '');
});

test('treats $ and @ as the current value', (t) => {
  t.is(jsonPath('{$.a}', { a: 1 }), '1');
  t.is(jsonPath('{@.a}', { a: 1 }), '1');
  t.is(jsonPath('{$[0]}', [5]), '5');
  t.is(jsonPath('{@}', 'str'), 'str');
});

test('reads bracketed keys, with single quotes as a path like client-go', (t) => {
  t.is(jsonPath("{['a']}", { a: 1 }), '1');
  t.is(jsonPath("{['a.b']}", { a: { b: 2 } }), '2');
  t.is(jsonPath("{.a['x','y'].z}", { a: { x: { z: 1 }, y: { z: 2 } } }), '1 2');
});

test('reads double-quoted bracketed keys literally, where client-go refuses them', (t) => {
  t.is(jsonPath('{["a.b"]}', { 'a.b': 1 }), '1');
  t.is(jsonPath('{.a["x,y","z"]}', { a: { 'x,y': 1, z: 2 } }), '1 2');
});

test('reads keys with escaped dots, slashes and dashes', (t) => {
  t.is(jsonPath('{.tls\\.crt}', { 'tls.crt': 'c' }), 'c');
  t.is(jsonPath('{.kubernetes\\.io/name}', { 'kubernetes.io/name': 'n' }), 'n');
  t.is(jsonPath('{.a-b}', { 'a-b': 1 }), '1');
  t.is(jsonPath('{.1}', { 1: 'one' }), 'one');
});

test('indexes arrays from the front and from the back', (t) => {
  t.is(jsonPath('{.a[0]}', { a: [1, 2, 3] }), '1');
  t.is(jsonPath('{.a[-1]}', { a: [1, 2, 3] }), '3');
  t.is(jsonPath('{.a[0][1]}', { a: [[1, 2]] }), '2');
  t.is(jsonPath('{.a[]}', { a: [1, 2] }), '1');
});

test('slices arrays with start, end and step', (t) => {
  const data = { a: [1, 2, 3, 4] };
  t.is(jsonPath('{.a[0:-1:1]}', data), '1 2 3');
  t.is(jsonPath('{.a[0:3:2]}', data), '1 3');
  t.is(jsonPath('{.a[1::2]}', data), '2 4');
  t.is(jsonPath('{.a[-2:]}', data), '3 4');
  t.is(jsonPath('{.a[:-1]}', data), '1 2 3');
  t.is(jsonPath('{.a[:]}', data), '1 2 3 4');
  t.is(jsonPath('{.a[1:1]}', data), '');
  t.is(jsonPath('{.a[4:]}', data), '');
});

test('skips empty arrays without dropping the other inputs, as kubernetes master does', (t) => {
  t.is(jsonPath('{[*][*]}', [[], ['second']]), 'second');
  t.is(jsonPath('{[*][0:-1]}', [['first'], ['second', 'third']]), 'second');
  t.is(jsonPath('{.a[0]}', { a: null }), '');
});

test('expands wildcards over arrays and object values', (t) => {
  t.is(jsonPath('{.a[*]}', { a: [1, 2] }), '1 2');
  t.is(jsonPath('{.a.*}', { a: { z: 1, b: [2] } }), '1 [2]');
  t.is(jsonPath('{.*}', { a: 1 }), '1');
  t.is(jsonPath('{.a[*].b}', { a: [] }), '');
});

test('finds keys at any depth with recursive descent', (t) => {
  const data = { name: 'r', items: [{ name: 'a' }, { meta: { name: 'b' } }] };
  t.is(jsonPath('{..name}', data), 'r a b');
  t.is(jsonPath('{..a}', { a: { a: 'x' }, b: ['y', { a: 3 }] }), '{"a":"x"} x 3');
  t.is(jsonPath('{...*}', { a: [1, 2] }), '[1,2] 1 2');
});

test('takes unions of indices, slices, keys and wildcards', (t) => {
  t.is(jsonPath('{.a[0,1]}', { a: [1, 2, 3] }), '1 2');
  t.is(jsonPath('{.a[0,-1]}', { a: [1, 2, 3] }), '1 3');
  t.is(jsonPath('{.a[0:1,2:3]}', { a: [1, 2, 3] }), '1 3');
  t.is(jsonPath('{.a[*,0]}', { a: [1, 2] }), '1 2 1');
  t.is(jsonPath("{.a['x','y']}", { a: { x: 1, y: 2 } }), '1 2');
  t.is(jsonPath('{.a[x,y]}', { a: { x: 1, y: 2 } }), '1 2');
});

test('filters array elements by string equality and inequality', (t) => {
  const data = { a: [{ x: 'a', n: 1 }, { x: 'b', n: 2 }, { x: 'a b', n: 3 }] };
  t.is(jsonPath('{.a[?(@.x == "b")].n}', data), '2');
  t.is(jsonPath("{.a[?(@.x=='a b')].n}", data), '3');
  t.is(jsonPath("{.a[?(@.x != 'b')].n}", data), '1 3');
  t.is(jsonPath("{.a[?(@.x > 'a')].n}", data), '2 3');
  t.is(jsonPath('{.a[?(@.x == "a)b")].n}', { a: [{ x: 'a)b', n: 1 }] }), '1');
});

test('filters array elements by number, boolean and another field', (t) => {
  const data = { a: [{ x: 1, y: 1 }, { x: 2, y: 0 }, { x: 3, y: 3 }] };
  t.is(jsonPath('{.a[?(@.x >= 2.0)].x}', data), '2 3');
  t.is(jsonPath('{.a[?(@.x == @.y)].x}', data), '1 3');
  t.is(jsonPath('{.a[?(@.ok == true)].x}', { a: [{ ok: true, x: 1 }, { ok: false, x: 2 }] }), '1');
  t.is(jsonPath('{.a[?(@.b[0] == 1.0)].y}', { a: [{ b: [1], y: 1 }, { b: [2], y: 2 }] }), '1');
});

test('compares numbers by value against integer literals, where client-go reports incompatible types', (t) => {
  const data = { a: [{ price: 5 }, { price: 12 }, { price: 9.5 }] };
  t.is(jsonPath('{.a[?(@.price < 10)].price}', data), '5 9.5');
  t.is(jsonPath('{.a[?(@ > 1)]}', { a: [1, 2, 3] }), '2 3');
});

test('keeps elements where a key exists, even when its value is null', (t) => {
  const data = { a: [{ x: 1 }, { y: 2 }, { x: null }] };
  t.is(jsonPath('{.a[?(@.x)].x}', data), '1 null');
  t.is(jsonPath('{.a[*][?(@.x)].x}', { a: [[{ x: 1 }, { y: 2 }], [{ x: 3 }]] }), '1 3');
});

test('skips elements that lack a compared key, where client-go reports it missing', (t) => {
  t.is(jsonPath('{.a[?(@.x == "y")].n}', { a: [{ x: 'y', n: 1 }, { n: 2 }] }), '1');
});

test('rejects comparisons between different types', (t) => {
  throwsJsonPath(() => jsonPath('{.a[?(@.x == 1)]}', { a: [{ x: '1' }] }), 'incompatible types for comparison');
  throwsJsonPath(() => jsonPath('{.a[?(@.x < true)]}', { a: [{ x: true }] }), 'invalid type for comparison');
  throwsJsonPath(() => jsonPath('{.a[?(@.x == "1")]}', { a: [{ x: null }] }), 'invalid type for comparison');
  t.pass();
});

test('ranges over the results of an expression', (t) => {
  t.is(jsonPath('{range .a[*]}{@},{end}', { a: [1, 2] }), '1,2,');
  t.is(jsonPath('{range .a}{@}{end}', { a: [1, 2] }), '[1,2]');
  t.is(jsonPath('{range.a[*]}{@}{end}', { a: [1, 2] }), '12');
  t.is(jsonPath('{range .a[*]}{@}{end}{range .a[*]}{@}{end}', { a: [1, 2] }), '1212');
  t.is(jsonPath('{range}{.a}{end}', { a: 1 }), '1');
});

test('reads fields relative to the element inside a range and relative to the root after it', (t) => {
  const data = { a: [{ b: 1 }, { b: 2 }], b: 9 };
  t.is(jsonPath('{range .a[*]}{.b}{$.b};{end}{.b}', data), '11;22;9');
});

test('nests ranges', (t) => {
  const data = { a: [{ n: 'x', m: [1, 2] }, { n: 'y', m: [] }] };
  t.is(jsonPath('{range .a[*]}{.n}:{range .m[*]}{@},{end};{end}', data), 'x:1,2,;y:;');
});

test('produces nothing for a range over nothing, where client-go reports the body field missing', (t) => {
  t.is(jsonPath('{range .a[*]}{.x}{end}', { a: [] }), '');
  t.is(jsonPath('{range .a[*]}{"lit"}{end}', { a: [] }), '');
});

test('runs the rest of the template again after a range that has no end, like client-go', (t) => {
  t.is(jsonPath('{range .a[*]}<{@}>', { a: [1, 2] }), '<1><2><{"a":[1,2]}>');
});

test('prints quoted literals with Go escapes in either quote style', (t) => {
  t.is(jsonPath("{'['}", {}), '[');
  t.is(jsonPath("{'a\\nb'}", {}), 'a\nb');
  t.is(jsonPath('{"a\\tb\\x41\\u00e9\\101"}', {}), 'a\tbAéA');
  t.is(jsonPath("{'\\U0001F600\\'\"'}", {}), '😀\'"');
  t.is(jsonPath("{'{\"protocol\":\"TCP\",'}", {}), '{"protocol":"TCP",');
  t.is(jsonPath("{.a 'b'}", { a: 1 }), 'b');
});

test('prints number and boolean literals', (t) => {
  t.is(jsonPath('{5}{1.5}{true}{-3}{1000000}{1000000.0}', {}), '51.5true-310000001e+06');
});

test('allows spaces around tokens inside braces and brackets', (t) => {
  t.is(jsonPath('{ .a }', { a: 1 }), '1');
  t.is(jsonPath('{ range .a[*] }{ @ }{ end }', { a: [1, 2] }), '12');
  t.is(jsonPath('{ .a [ 0 ] }', { a: [1] }), '1');
});

test('reports a missing key by name, with the expression and its column', (t) => {
  const e = throwsJsonPath(() => jsonPath('{.missing}', { other: 'secret-value' }), 'missing is not found');
  t.is(e.code, 'JSONPATH');
  t.is(e.column, 3);
  t.true(e.message.includes('{.missing}'));
  t.false(e.message.includes('secret-value'));
  throwsJsonPath(() => jsonPath('{.a.b}', { a: null }), 'b is not found');
  throwsJsonPath(() => jsonPath('{.a[*].b}', { a: [{ c: 1 }] }), 'b is not found');
  throwsJsonPath(() => jsonPath("{'b' .a}", { a: 1 }), 'a is not found');
});

test('reports indices out of bounds like client-go', (t) => {
  throwsJsonPath(() => jsonPath('{.a[5]}', { a: [1, 2] }), 'array index out of bounds: index 5, length 2');
  throwsJsonPath(() => jsonPath('{.a[1:5]}', { a: [1, 2] }), 'array index out of bounds: index 4, length 2');
  throwsJsonPath(() => jsonPath('{.a[-3]}', { a: [1, 2] }), 'array index out of bounds: index -1, length 2');
  throwsJsonPath(() => jsonPath('{.a[0]}', { a: [] }), 'array index out of bounds: index 0, length 0');
  throwsJsonPath(() => jsonPath('{.a[2:1]}', { a: [1, 2, 3] }), 'starting index 2 is greater than ending index 1');
  t.pass();
});

test('reports indexing and filtering of non-arrays by type, never by value', (t) => {
  const e = throwsJsonPath(() => jsonPath('{.a[0]}', { a: { k: 'secret-value' } }), 'map[string]interface {} is not array or slice');
  t.false(e.message.includes('secret-value'));
  throwsJsonPath(() => jsonPath('{.a[0]}', { a: 'secret-value' }), 'string is not array or slice');
  const f = throwsJsonPath(() => jsonPath('{.a[?(@.x)]}', { a: { k: 'secret-value' } }), 'cannot be filtered');
  t.false(f.message.includes('secret-value'));
  throwsJsonPath(() => jsonPath('{.a[?(@.x)]}', { a: null }), 'cannot be filtered');
});

test('fails to compile malformed templates, naming the column', (t) => {
  t.is(throwsJsonPath(() => compileJsonPath('{.a'), 'unclosed action').column, 4);
  t.is(throwsJsonPath(() => compileJsonPath('x{'), 'unclosed action').column, 3);
  t.is(throwsJsonPath(() => compileJsonPath("{'abc"), 'unterminated quoted string').column, 2);
  throwsJsonPath(() => compileJsonPath('{.a\n}'), 'unclosed action');
  throwsJsonPath(() => compileJsonPath('{.a[0}'), 'unterminated array');
  throwsJsonPath(() => compileJsonPath('{.a[1.5]}'), 'invalid array index 1.5');
  throwsJsonPath(() => compileJsonPath('{.a[::0]}'), 'step must be > 0');
  throwsJsonPath(() => compileJsonPath('{.a[99999999999999999999]}'), 'is not a number');
  throwsJsonPath(() => compileJsonPath('{.a[?(@.x=1)]}'), 'unrecognized filter operator =');
  throwsJsonPath(() => compileJsonPath('{.a[?(@.x == null)]}'), 'unrecognized identifier null');
  throwsJsonPath(() => compileJsonPath('{foo}'), 'unrecognized identifier foo');
  throwsJsonPath(() => compileJsonPath('{.a b}'), 'unrecognized identifier b');
  throwsJsonPath(() => compileJsonPath('{*}'), 'unrecognized character');
  throwsJsonPath(() => compileJsonPath('{....a}'), 'invalid multiple recursive descent');
  throwsJsonPath(() => compileJsonPath("{'\\q'}"), 'invalid escape');
  throwsJsonPath(() => compileJsonPath("{'\\ud800'}"), 'invalid escape');
  throwsJsonPath(() => compileJsonPath('{1.2.3}'), 'cannot parse number 1.2.3');
});

test('fails to compile an end outside a range and a range keyword in the wrong place', (t) => {
  t.is(throwsJsonPath(() => compileJsonPath('{end}'), 'not in range, nothing to end').column, 1);
  throwsJsonPath(() => compileJsonPath('{range .a}{end}{end}'), 'not in range, nothing to end');
  throwsJsonPath(() => compileJsonPath('{.a range}'), 'unexpected range');
});

test('evaluates one compiled template against many data values', (t) => {
  const compiled = compileJsonPath('{.a[*].b}');
  t.is(compiled.template, '{.a[*].b}');
  t.is(compiled.evaluate({ a: [{ b: 1 }, { b: 2 }] }), '1 2');
  t.is(compiled.evaluate({ a: [{ b: 'x' }] }), 'x');
  throwsJsonPath(() => compiled.evaluate({ a: [{ c: 1 }] }), 'b is not found');
  t.is(compiled.evaluate({ a: [{ b: 3 }] }), '3');
});
