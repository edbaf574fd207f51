/**
 * The oracle reads YAML as Argo CD does (gitops-engine SplitYAMLToString: apimachinery v0.37.0,
 * sigs.k8s.io/yaml v1.6.0 over go-yaml v2.4.4), and that is not YAML 1.2, which vaultfill's own
 * parser (eemeli/yaml, core schema) speaks. What these tests found, and what it means for quoting:
 *
 * - Plain scalars follow YAML 1.1 with go-yaml's own cuts. Booleans: y Y yes Yes YES n N no No NO
 *   true True TRUE false False FALSE on On ON off Off OFF (not yEs, tRUE). Numbers: 0x/0o/0b,
 *   a leading 0 is octal (017 = 15, but 08 = 8), `_` anywhere after the first digit (1_000, 0x_1F,
 *   1_), a leading +. Dates, times and sexagesimals (2001-12-14, 12:30:00) stay text.
 * - .inf, -.inf, .nan (any case) fail the whole stream: JSON has no infinity. -inf, +Inf, inf, nan
 *   are text. Integers beyond uint64 become floats (99999999999999999999 = 1e20), out-of-range
 *   floats and hex become text (1e400). So every value that is not meant as a number or boolean
 *   must be quoted when it matches any of these, not only when YAML 1.2 would read it otherwise.
 * - Keys are resolved too: `n:` is the key "false", `0x10:` is "16"; `~:` fails the stream.
 *   Duplicate keys do not fail: the last one wins. `<<` merges.
 * - Documents are split on lines that start with `---` before YAML sees them: anything but a
 *   comment after `---` (`--- |`, `--- a: 1`, `---x`) fails the stream, a `%YAML` directive
 *   (1.1 or 1.2) fails it, and after a `...` line the rest up to the next `---` is silently dropped.
 *   Empty and null documents are dropped. A stream that starts with `{` is read as JSON first.
 * - Double-quoted escapes: \u escapes decode, but no surrogate escape is accepted, not even a
 *   valid pair (use \U0001F600 or the character itself). Raw C0/C1 controls, DEL and U+FFFE fail
 *   the stream even inside quotes (escape them); raw U+2028/U+2029/U+0085 are line breaks to
 *   go-yaml: they break a plain or block scalar, and a raw U+0085 in double quotes folds to a
 *   space. CRLF reads like LF; a leading BOM is ignored.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { parse, parseAllDocuments } from 'yaml';
import { ensureK8sYamlBinary } from './build.mjs';
import { startK8sYamlReader, type K8sYamlAnswer, type K8sYamlReader } from '../helpers/k8s-yaml.js';

let k8s: K8sYamlReader | undefined;
test.before(async () => {
  k8s = await startK8sYamlReader();
});
test.after.always(() => k8s?.close());

function read(stream: string | Uint8Array): Promise<K8sYamlAnswer> {
  if (!k8s) throw new Error('the k8s-yaml reader did not start');
  return k8s.read(stream);
}

/** What Argo CD reads for `a: <plain>`: the value, or the error that fails the whole stream. */
async function k8sValue(plain: string): Promise<unknown> {
  const answer = await read(`a: ${plain}\n`);
  return 'error' in answer ? { error: answer.error } : (answer.documents[0] as { a: unknown }).a;
}

/** Reads each `a: <plain>` through the oracle and YAML 1.2, as {plain: value} tables for readable diffs. */
async function readings(plains: readonly string[]): Promise<{ k8s: Record<string, unknown>; yaml12: Record<string, unknown> }> {
  const values = await Promise.all(plains.map(k8sValue));
  return {
    k8s: Object.fromEntries(plains.map((p, i) => [p, values[i]])),
    yaml12: Object.fromEntries(plains.map((p) => [p, (parse(`a: ${p}\n`) as { a: unknown }).a])),
  };
}

function errorOf(answer: K8sYamlAnswer): string {
  if ('error' in answer) return answer.error;
  throw new Error(`expected an error, got ${JSON.stringify(answer.documents)}`);
}

test('reads the YAML 1.1 booleans, which YAML 1.2 reads as strings', async (t) => {
  const truths = ['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'];
  const lies = ['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'];
  const { k8s: got, yaml12 } = await readings([...truths, ...lies, 'yEs', 'oN', 'tRUE']);
  t.deepEqual(got, {
    ...Object.fromEntries(truths.map((p) => [p, true])),
    ...Object.fromEntries(lies.map((p) => [p, false])),
    yEs: 'yEs',
    oN: 'oN',
    tRUE: 'tRUE',
  });
  t.true(Object.values(yaml12).every((v) => typeof v === 'string'));
});

test('reads hex, octal, binary, underscored and signed numbers', async (t) => {
  const { k8s: got, yaml12 } = await readings(['0xDEADBEEF', '017', '08', '0o17', '0b101', '1_000', '0x_1F', '1_', '685_230.15', '+12', '1.0', '1e3', '0b2', '_1']);
  t.deepEqual(got, {
    '0xDEADBEEF': 3735928559,
    '017': 15,
    '08': 8,
    '0o17': 15,
    '0b101': 5,
    '1_000': 1000,
    '0x_1F': 31,
    '1_': 1,
    '685_230.15': 685230.15,
    '+12': 12,
    '1.0': 1,
    '1e3': 1000,
    '0b2': '0b2',
    _1: '_1',
  });
  // Where YAML 1.2 disagrees: vaultfill's parser alone would leave these unquoted as text.
  t.like(yaml12, { '017': 17, '0b101': '0b101', '1_000': '1_000', '0x_1F': '0x_1F', '1_': '1_' });
});

test('keeps dates, times and sexagesimal numbers as the text written', async (t) => {
  const { k8s: got } = await readings(['2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '12:30:00', '190:20:30', '1:20']);
  t.deepEqual(got, {
    '2001-12-14': '2001-12-14',
    '2001-12-14t21:59:43.10-05:00': '2001-12-14t21:59:43.10-05:00',
    '2001-12-14 21:59:43.10 -5': '2001-12-14 21:59:43.10 -5',
    '12:30:00': '12:30:00',
    '190:20:30': '190:20:30',
    '1:20': '1:20',
  });
});

test('fails the whole stream on .inf and .nan, and reads -inf and +Inf as text', async (t) => {
  for (const plain of ['.inf', '-.inf', '+.inf', '.Inf', '.INF', '.nan', '.NaN']) {
    t.regex(errorOf(await read(`a: ${plain}\nb: fine\n`)), /json: unsupported value: (\+Inf|-Inf|NaN)/, plain);
  }
  const { k8s: got, yaml12 } = await readings(['-inf', '+Inf', 'inf', 'nan', 'Infinity']);
  t.deepEqual(got, { '-inf': '-inf', '+Inf': '+Inf', inf: 'inf', nan: 'nan', Infinity: 'Infinity' });
  t.is((parse('a: .inf\n') as { a: unknown }).a, Infinity); // YAML 1.2 reads a number
  t.deepEqual(yaml12, got);
});

test('reads integers past 64 bits as floats, and numbers past float64 as text', async (t) => {
  const { k8s: got } = await readings(['9223372036854775808', '0xFFFFFFFFFFFFFFFF', '99999999999999999999', '0x10000000000000000', '1e400', '1e-400', '-0.0']);
  t.deepEqual(got, {
    '9223372036854775808': 2 ** 63, // exact in the oracle's JSON; JSON.parse rounds past 2^53
    '0xFFFFFFFFFFFFFFFF': 2 ** 64, // 18446744073709551615 in the JSON
    '99999999999999999999': 1e20,
    '0x10000000000000000': '0x10000000000000000',
    '1e400': '1e400',
    '1e-400': 0,
    '-0.0': -0,
  });
});

test('reads ~, null and the empty value as null, and keeps quoted scalars as strings', async (t) => {
  const { k8s: got } = await readings(['~', 'null', 'Null', 'NULL', '', 'nULL', '"quoted"', '"yes"', "'0xDEADBEEF'", '"1_000"', '"~"', "'.inf'"]);
  t.deepEqual(got, {
    '~': null,
    null: null,
    Null: null,
    NULL: null,
    '': null,
    nULL: 'nULL',
    '"quoted"': 'quoted',
    '"yes"': 'yes',
    "'0xDEADBEEF'": '0xDEADBEEF',
    '"1_000"': '1_000',
    '"~"': '~',
    "'.inf'": '.inf',
  });
});

test('resolves keys like values, keeps the last duplicate key and merges <<', async (t) => {
  t.deepEqual(await read('n: 1\nyes: 2\n0x10: 3\n1.50: 4\n'), { documents: [{ false: 1, true: 2, '16': 3, '1.5': 4 }] });
  t.deepEqual(await read('a: 1\na: 2\n'), { documents: [{ a: 2 }] });
  t.deepEqual(await read('<<: {a: 1}\nb: 2\n'), { documents: [{ a: 1, b: 2 }] });
  t.regex(errorOf(await read('~: x\n')), /unsupported map key/);
});

test('splits on --- lines and drops empty and null documents', async (t) => {
  t.deepEqual(await read('a: 1\n---\n---\n# only a comment\n---\nnull\n---\n~\n--- # comment\nb: 2\n'), { documents: [{ a: 1 }, { b: 2 }] });
  t.deepEqual(await read(''), { documents: [] });
  t.deepEqual(await read('---\n'), { documents: [] });
  t.deepEqual(await read('- 1\n---\njust text\n---\n42\n'), { documents: [[1], 'just text', 42] });
  // A --- at column 0 ends a block scalar; the rest is a new document (here the boolean y).
  t.deepEqual(await read('a: |\n  x\n---\n  y\n'), { documents: [{ a: 'x\n' }, true] });
});

test('fails on anything but a comment after ---, which YAML allows', async (t) => {
  for (const stream of ['--- |\n  text\n', '--- a: 1\n', '---x\na: 1\n', 'a: 1\n--- !!map\nb: 2\n']) {
    t.regex(errorOf(await read(stream)), /invalid Yaml document separator/, stream);
  }
});

test('drops what follows a ... line up to the next ---, without an error', async (t) => {
  t.deepEqual(await read('a: 1\n...\nb: 2\n'), { documents: [{ a: 1 }] });
  t.deepEqual(await read('a: 1\n...\n---\nb: 2\n'), { documents: [{ a: 1 }, { b: 2 }] });
  t.is(parseAllDocuments('a: 1\n...\nb: 2\n').length, 2); // YAML 1.2 reads both
  t.regex(errorOf(await read('...\n')), /did not find expected node content/);
});

test('fails on a %YAML directive, 1.1 and 1.2 alike', async (t) => {
  t.regex(errorOf(await read('%YAML 1.2\n---\na: 1\n')), /found incompatible YAML document/);
  // 1.1 is go-yaml's own version, but the --- split leaves the directive without its document.
  t.regex(errorOf(await read('%YAML 1.1\n---\na: 1\n')), /did not find expected <document start>/);
});

test('reads CRLF line endings like LF, and ignores a leading BOM', async (t) => {
  t.deepEqual(await read('a: 1\r\nb: "x\r\n  y"\r\nc: |\r\n  l1\r\n  l2\r\n---\r\nd: 2\r\n'), { documents: [{ a: 1, b: 'x y', c: 'l1\nl2\n' }, { d: 2 }] });
  t.deepEqual(await read('\uFEFFa: 1\n'), { documents: [{ a: 1 }] });
});

test('decodes \\u escapes but rejects every surrogate escape, even a valid pair', async (t) => {
  t.deepEqual(await read('a: "\\u003cpath:x\\u003e"\nb: "\\U0001F600"\nc: "\\x41\\N\\L\\e\\0"\n'), {
    documents: [{ a: '<path:x>', b: '😀', c: 'A\u0085\u2028\u001b\u0000' }],
  });
  for (const escape of ['\\ud800', '\\udfff', '\\ud83d\\ude00']) {
    t.regex(errorOf(await read(`a: "${escape}"\n`)), /found invalid Unicode character escape code/, escape);
  }
  t.is((parse('a: "\\ud83d\\ude00"\n') as { a: unknown }).a, '😀'); // YAML 1.2 (eemeli/yaml) pairs them
});

test('fails on raw control characters even inside quotes, and on invalid UTF-8', async (t) => {
  for (const raw of ['\u007f', '\u001b', '\u0080', '\uFFFE']) {
    t.regex(errorOf(await read(`a: "x${raw}y"\n`)), /control characters are not allowed/, JSON.stringify(raw));
  }
  t.deepEqual(await read('a: "tab\there"\n'), { documents: [{ a: 'tab\there' }] });
  t.regex(errorOf(await read(Buffer.from('a: \xff\xfe\n', 'latin1'))), /invalid leading UTF-8 octet/);
});

test('treats raw U+2028, U+2029 and U+0085 as line breaks', async (t) => {
  for (const raw of ['\u2028', '\u2029', '\u0085']) {
    t.regex(errorOf(await read(`a: x${raw}y\n`)), /could not find expected ':'/, JSON.stringify(raw));
  }
  t.regex(errorOf(await read('a: |\n  x\u2028y\n')), /could not find expected ':'/);
  t.deepEqual(await read('a: "x\u2028y"\nb: "x\u0085y"\n'), { documents: [{ a: 'x\u2028y', b: 'x y' }] });
});

test('reads a stream that starts with { as JSON, and no YAML after two JSON documents', async (t) => {
  t.deepEqual(await read('{"a": 1.0}\n---\nb: yes\n'), { documents: [{ a: 1 }, { b: true }] });
  t.regex(errorOf(await read('{"a": 1}\n{"b": 2}\n---\nc: 3\n')), /invalid character '-'/);
});

test('fails the whole stream on a syntax error in any document', async (t) => {
  t.regex(errorOf(await read('a: [\n')), /line 1: did not find expected node content/);
  t.regex(errorOf(await read('a: 1\n---\nb: [\n')), /did not find expected node content/);
  t.regex(errorOf(await read('a: 1\n  b: 2\n')), /mapping values are not allowed in this context/);
});

test('answers concurrent reads in order and keeps serving after errors', async (t) => {
  const streams = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? `a: [${i}\n` : `n: ${i}\n`));
  const answers = await Promise.all(streams.map(read));
  answers.forEach((answer, i) => {
    if (i % 3 === 0) t.true('error' in answer, streams[i]);
    else t.deepEqual(answer, { documents: [{ false: i }] });
  });
});

test('reads one stream from stdin without --serve', async (t) => {
  const run = spawnSync(await ensureK8sYamlBinary(), [], { input: 'a: on\n---\nb: <path:x>\n', encoding: 'utf8' });
  t.is(run.status, 0, run.stderr);
  t.deepEqual(JSON.parse(run.stdout), { documents: [{ a: true }, { b: '<path:x>' }] });
});

test('answers the reads sent before close, and rejects the ones after', async (t) => {
  const own = await startK8sYamlReader();
  const before = own.read('a: 1\n');
  await own.close();
  t.deepEqual(await before, { documents: [{ a: 1 }] });
  await t.throwsAsync(own.read('a: 1\n'), { message: /closed/ });
});
