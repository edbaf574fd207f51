/** Hostile and unusual input through the built CLI: clear errors, or correct output, never a crash. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { bin, vaultfill } from '../helpers/cli.js';

const SECRET = 'seeded-secret-value-42';
const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-input-'));
const secretsFile = path.join(dir, 'secrets.yaml');
writeFileSync(secretsFile, `secrets:\n  - path: secret/data/app\n    data: {password: ${SECRET}, user: alice}\n`);
const env = { AVP_TYPE: 'file', AVP_SECRETS_FILE: secretsFile };
const PH = '<path:secret/data/app#password>';

const failsCleanly = async (t: import('ava').ExecutionContext, input: string | Buffer, code: number, pattern: RegExp): Promise<void> => {
  const r = await vaultfill(['generate', '-'], { input: input as string, env });
  t.is(r.code, code, r.stderr);
  t.is(r.stdout, '');
  t.regex(r.stderr, pattern);
  t.is(r.stderr.trim().split('\n').length, 1, 'one line');
  t.false(r.stderr.includes(SECRET));
  t.false(r.stderr.includes('    at '), 'no stack trace');
};

test('malformed YAML gives the parser message with line and column', (t) =>
  failsCleanly(t, `kind: Secret\nmetadata:\n  name: x\nstringData:\n  a: ${PH}\n   b: [unclosed\n`, 3, /^error YAML_PARSE at stdin:\d+:\d+ \(document 1\): /));

test('malformed JSON gives the parser message with line and column', (t) =>
  failsCleanly(t, `{"kind": "Secret", "stringData": {"a": "${PH}",, }}`, 3, /^error YAML_PARSE at stdin:1:\d+ \(document 1\): /));

test('invalid UTF-8 is an input error with the byte offset', (t) =>
  failsCleanly(t, Buffer.concat([Buffer.from(`kind: X\na: ${PH}\nb: `), Buffer.from([0xc3, 0x28])]) as unknown as string, 3, /INPUT_ENCODING at stdin:3: not UTF-8 text \(invalid byte at offset \d+\)/));

test('binary data is an input error', (t) =>
  failsCleanly(t, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]) as unknown as string, 3, /INPUT_ENCODING/));

test('deep nesting is a clear input error, not a crash', (t) =>
  failsCleanly(t, `kind: X\nb: ${'['.repeat(50_000)}"${PH}"${']'.repeat(50_000)}\n`, 3, /YAML_PARSE .*nested too deeply/));

test('duplicate keys are read as Kubernetes reads them: both values are resolved and the last one wins', async (t) => {
  // Once read by the line scanner, once by the full parser (the flow map sends it there).
  for (const extra of ['', 'f: {x: 1}\n']) {
    const input = `kind: X\nmetadata:\n  annotations:\n    avp.kubernetes.io/ignore: "true"\n    avp.kubernetes.io/ignore: "false"\na: ${PH}\na: 2\nb: 1\nb: ${PH}\n${extra}`;
    const r = await vaultfill(['generate', '-'], { input, env });
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, input.replaceAll(PH, SECRET));
  }
});

test('a placeholder under a custom tag is an error rather than reaching the cluster', (t) =>
  failsCleanly(t, `kind: X\na: !vault ${PH}\n`, 5, /PLACEHOLDER_SYNTAX .*tag !vault/));

test('empty input is an error, so a failed render never prunes an app', (t) => failsCleanly(t, '\n# nothing rendered\n---\n', 3, /EMPTY_INPUT/));

test('an alias expansion bomb is not expanded and finishes quickly', async (t) => {
  let bomb = `kind: X\nu: ${PH}\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n`;
  const names = 'abcdefghij';
  for (let i = 1; i < names.length; i++) bomb += `${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]\n`;
  const started = Date.now();
  const r = await vaultfill(['generate', '-'], { input: bomb, env });
  t.is(r.code, 0, r.stderr);
  t.true(Date.now() - started < 20_000);
  t.true(r.stdout.includes(`u: ${SECRET}`));
  t.true(r.stdout.length < bomb.length + 100, 'aliases are written back, not expanded');
});

test('merge keys, !!binary, BOM and Windows line endings are handled', async (t) => {
  const input = `\ufeffkind: X\r\nbase: &base\r\n  u: ${PH}\r\nm:\r\n  <<: *base\r\n  x: 1\r\nbin: !!binary aGVsbG8=\r\n---\r\nkind: Y\r\n`;
  const r = await vaultfill(['generate', '-'], { input, env });
  t.is(r.code, 0, r.stderr);
  const [x, y] = parseAllDocuments(r.stdout, { merge: true }).map((d) => d.toJS() as Record<string, unknown>);
  t.deepEqual(x?.['m'], { u: SECRET, x: 1 });
  t.deepEqual(y, { kind: 'Y' });
  t.true(r.stdout.includes('kind: Y\r\n'), 'untouched documents keep their line endings');
  t.false(r.stdout.includes('\ufeff'));
});

test('untouched documents around edited ones come out exact, in ASCII and in other text', async (t) => {
  const untouched = (note: string): string => `kind: ConfigMap\nmetadata:\n  name: c # ${note}\n`;
  const edited = `kind: Secret\nstringData:\n  p: ${PH}\n`;
  const filled = edited.replace(PH, SECRET);
  // Over 64 KB of untouched documents in a row: written as one piece, between batched ones.
  const many = Array.from({ length: 1500 }, (_, i) => untouched(`n${i}`)).join('---\n');
  for (const note of ['plain', 'café ☕ 雪']) {
    const input = `${untouched(note)}---\n${untouched('a')}--- # marker comment\n${edited}---\n${untouched(note)}---\n${untouched('b')}...\n---\n${edited}---\n${many}---\n${edited}---\n${untouched('c')}`;
    const r = await vaultfill(['generate', '-'], { input, env });
    t.is(r.code, 0, r.stderr);
    const expected = input.replaceAll(PH, SECRET);
    t.is(r.stdout, expected, note);
  }
});

test('a 50 MB input renders with bounded memory', async (t) => {
  const doc = (i: number): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  labels: {app: big}\ndata:\n  payload: "${'x'.repeat(400)}"\n`;
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < 50 * 1024 * 1024; i++) {
    const d = i % 100 === 0 ? `${doc(i)}  secret: ${PH}\n` : doc(i);
    parts.push(d);
    size += d.length + 4;
  }
  const file = path.join(dir, 'big.yaml');
  writeFileSync(file, parts.join('---\n'));
  const result = await new Promise<{ code: number | null; rss: number; out: number; err: string }>((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', process.execPath, bin, 'generate', file], { env: { ...env, PATH: process.env['PATH'] ?? '' } });
    let out = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.length));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, rss: Number(err.trim().split('\n').pop()) * 1024, out, err }));
  });
  t.is(result.code, 0, result.err);
  t.true(result.out >= size - parts.length * 4, `${result.out} bytes out`);
  const limit = 3 * size + 100 * 1024 * 1024;
  t.true(result.rss < limit, `peak RSS ${Math.round(result.rss / 2 ** 20)} MB over ${Math.round(limit / 2 ** 20)} MB`);
  t.log(`50 MB input: peak RSS ${Math.round(result.rss / 2 ** 20)} MB`);
});
