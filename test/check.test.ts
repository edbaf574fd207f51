/**
 * `vaultfill check`: the report (unit, on the in-memory backend) and the command (the built
 * CLI with the file backend). No value read from a backend may appear in any output.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Backend } from '../src/backends/types.js';
import { check, runCheck, type CheckResult } from '../src/check.js';
import type { CheckReport } from '../src/check-report.js';
import { VaultfillError } from '../src/errors.js';
import { createLogger } from '../src/log.js';
import { vaultfill } from './helpers/cli.js';
import { memoryBackend } from './helpers/memory.js';

// Distinctive values: any of them (or its base64) in an output is a leak.
const SECRETS = {
  'secret/data/app': { user: 'alice-7c1e', password: 'pw-XyZZy-42', notjson: 'plain-Quokka-text', json: '{"inner":"Wombat-99"}' },
  'secret/data/other': { key: 'other-Narwhal-5' },
  'secret/data/versioned': [{ token: 'old-Tok-111' }, { token: 'new-Tok-222' }],
};
const VALUES = ['alice-7c1e', 'pw-XyZZy-42', 'plain-Quokka-text', 'Wombat-99', 'other-Narwhal-5', 'old-Tok-111', 'new-Tok-222'];

const MIXED = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  user: <path:secret/data/app#user>
  password: <path:secret/data/app#password | base64encode>
  nope: <path:secret/data/app#nope>
  gone: <path:secret/data/missing#x>
  bad: <path:secret/data/app#notjson | jsonParse>
  typo: <path:secret/data/app#user | frobnicate>
  deep: <path:secret/data/app#json | jsonPath {.inner}>
  old: <path:secret/data/versioned#token#1>
---
kind: ConfigMap
metadata:
  name: skipped
  annotations:
    avp.kubernetes.io/ignore: "true"
data:
  a: <path:secret/data/whatever#x>
---
kind: ConfigMap
metadata:
  name: generic
  annotations:
    avp.kubernetes.io/path: secret/data/other
    avp.kubernetes.io/remove-missing: "true"
data:
  k: <key>
  m: <missing>
`;
const RESOLVING = 'kind: Secret\nmetadata:\n  name: ok\nstringData:\n  u: <path:secret/data/app#user>\n  o: <path:secret/data/other#key | base64encode>\n';
const BROKEN_YAML = 'kind: Secret\nmetadata: {name: x\nstringData: {a: <path:secret/data/app#user>\n';

const logger = () => createLogger(new PassThrough(), false);
const config = { kvVersion: 2, pathValidation: undefined, concurrency: 4 } as const;

function unit(text: string, backend: Backend | undefined, options: { pathValidation?: RegExp } = {}): Promise<CheckResult> {
  return check([{ name: 'stdin', text }], {
    config: { ...config, pathValidation: options.pathValidation },
    backend: backend ? async () => backend : undefined,
    allowEmpty: false,
    logger: logger(),
  });
}

function secretsFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-check-'));
  const file = path.join(dir, 'secrets.yaml');
  writeFileSync(
    file,
    'secrets:\n' +
      Object.entries(SECRETS)
        .map(([p, d]) => `  - path: ${p}\n    ${Array.isArray(d) ? `versions: ${JSON.stringify(d)}` : `data: ${JSON.stringify(d)}`}\n`)
        .join(''),
  );
  return file;
}

const fileEnv = (file: string) => ({ AVP_TYPE: 'file', AVP_SECRETS_FILE: file });

function assertNoValues(t: { false(v: boolean, m?: string): void }, output: string, what: string): void {
  for (const value of VALUES) {
    t.false(output.includes(value), `${what} contains the value ${value}`);
    t.false(output.includes(Buffer.from(value).toString('base64')), `${what} contains base64 of ${value}`);
  }
}

test('the report on mixed input: resolved, missing key, missing path, bad modifier, ignored, removed', async (t) => {
  const backend = memoryBackend(SECRETS);
  const { report, exitCode } = await unit(MIXED, backend);
  const by = (yamlPath: string) => report.placeholders.find((p) => p.yamlPath === yamlPath);
  t.deepEqual(
    report.placeholders.map((p) => [p.yamlPath, p.status, p.error?.code ?? null]),
    [
      ['stringData.user', 'resolved', null],
      ['stringData.password', 'resolved', null],
      ['stringData.nope', 'failed', 'KEY_NOT_FOUND'],
      ['stringData.gone', 'failed', 'SECRET_NOT_FOUND'],
      ['stringData.bad', 'failed', 'MODIFIER_FAILED'],
      ['stringData.typo', 'failed', 'UNKNOWN_MODIFIER'],
      ['stringData.deep', 'resolved', null],
      ['stringData.old', 'resolved', null],
      ['data.k', 'resolved', null],
      ['data.m', 'removed', null],
    ],
  );
  t.like(by('stringData.password'), {
    source: 'stdin', line: 7, column: 13, document: 1, resource: 'Secret/db',
    placeholder: '<path:secret/data/app#password | base64encode>', path: 'secret/data/app', key: 'password', version: null,
  });
  t.deepEqual(by('stringData.password')?.modifiers, ['base64encode']);
  t.deepEqual(by('stringData.deep')?.modifiers, ['jsonPath {.inner}']);
  t.like(by('stringData.old'), { version: 1 });
  t.like(by('data.k'), { document: 3, resource: 'ConfigMap/generic', placeholder: '<key>', path: 'secret/data/other', key: 'key' });
  t.like(by('stringData.typo'), { path: null, key: null, line: 11 });
  t.regex(by('stringData.nope')?.error?.message ?? '', /key "nope" not found in secret\/data\/app/);
  t.false(report.placeholders.some((p) => p.resource === 'ConfigMap/skipped'), 'placeholders of an ignored resource are not listed');
  t.like(report.summary, { placeholders: 10, secrets: 4, resolved: 5, failed: 4, unchecked: 0, removed: 1, ignored: 1, errors: 0 });
  t.deepEqual(report.errors, []);
  t.is(exitCode, 5);
  t.deepEqual(backend.reads.map((r) => r.path).sort(), ['secret/data/app', 'secret/data/missing', 'secret/data/other', 'secret/data/versioned']);
  assertNoValues(t, JSON.stringify(report), 'the report');
});

test('--offline: grammar and annotation checks only, no backend created', async (t) => {
  const result = await check([{ name: 'stdin', text: MIXED }], {
    config,
    backend: undefined,
    allowEmpty: false,
    logger: logger(),
  });
  t.deepEqual(result.report.placeholders.filter((p) => p.status !== 'unchecked').map((p) => p.error?.code), ['UNKNOWN_MODIFIER']);
  t.like(result.report.summary, { placeholders: 10, unchecked: 9, failed: 1, resolved: 0 });
  t.is(result.exitCode, 5);
  const clean = await unit(RESOLVING, undefined);
  t.is(clean.exitCode, 0, 'unchecked is not a failure');

  // The command, with a backend that fails if it is ever created: not when offline.
  const env = { AVP_TYPE: 'file', AVP_SECRETS_FILE: '/nonexistent/secrets.yaml' };
  const run = (offline: boolean) =>
    runCheck({ target: '-', stdin: Readable.from([RESOLVING]), env, configPath: undefined, secretName: undefined, secretsFile: undefined,
      disableTokenCache: true, allowEmpty: false, offline, json: true, tty: false, logger: logger() });
  const offline = await run(true);
  t.is(offline.exitCode, 0);
  const online = await run(false);
  t.is(online.exitCode, 2, 'contacting the backend would have failed on the missing secrets file');
});

test('AVP_PATH_VALIDATION and bad versions fail the placeholder, with what could be read of it', async (t) => {
  const { report, exitCode } = await unit('kind: X\na: <path:other/app#user>\nb: <path:secret/data/app#user#x>\n', memoryBackend(SECRETS), {
    pathValidation: /^secret\//u,
  });
  t.deepEqual(report.placeholders.map((p) => [p.status, p.error?.code, p.path, p.key, p.version]), [
    ['failed', 'PATH_VALIDATION', 'other/app', 'user', null],
    ['failed', 'INVALID_VERSION', 'secret/data/app', 'user', null],
  ]);
  t.is(exitCode, 5);
});

test('errors not tied to a placeholder go to errors[], with generate’s exit code', async (t) => {
  const { report, exitCode } = await unit(`${RESOLVING}---\n${BROKEN_YAML}`, memoryBackend(SECRETS));
  t.deepEqual(report.errors.map((e) => [e.code, e.source, e.document]), [['YAML_PARSE', 'stdin', 2]]);
  t.like(report.summary, { resolved: 2, failed: 0, errors: 1 });
  t.is(exitCode, 3);
  const empty = await unit('', memoryBackend(SECRETS));
  t.deepEqual(empty.report.errors.map((e) => e.code), ['EMPTY_INPUT']);
  t.is(empty.exitCode, 3);
});

test('a failure of the whole backend fails every placeholder with its code (exit 4)', async (t) => {
  const down: Backend = {
    requests: 0,
    read: async () => {
      throw new VaultfillError('BACKEND_UNREACHABLE', 'cannot reach Vault at http://127.0.0.1:1');
    },
  };
  const { report, exitCode } = await unit(RESOLVING, down);
  t.deepEqual(report.placeholders.map((p) => p.error?.code), ['BACKEND_UNREACHABLE', 'BACKEND_UNREACHABLE']);
  t.is(exitCode, 4);
});

test('text: a table with colour on a terminal, none with NO_COLOR, plain lines when piped', async (t) => {
  const file = secretsFile();
  const run = (tty: boolean, env: Record<string, string> = {}) =>
    runCheck({ target: '-', stdin: Readable.from([MIXED]), env: { ...fileEnv(file), ...env }, configPath: undefined, secretName: undefined,
      secretsFile: undefined, disableTokenCache: true, allowEmpty: false, offline: false, json: false, tty, logger: logger() });
  const ansi = /\u001b\[/;
  const terminal = await run(true);
  t.regex(terminal.text, /STATUS.*LOCATION.*DOC.*RESOURCE.*YAML PATH.*REFERENCE.*REASON/);
  t.regex(terminal.text, ansi);
  const noColor = await run(true, { NO_COLOR: '1' });
  t.notRegex(noColor.text, ansi);
  t.regex(noColor.text, /^STATUS +LOCATION/);
  const piped = await run(false);
  t.notRegex(piped.text, ansi);
  t.false(piped.text.includes('STATUS'));
  const lines = piped.text.trimEnd().split('\n');
  t.is(lines[0], 'resolved stdin:6:9 (document 1, Secret/db, stringData.user) secret/data/app#user');
  t.regex(piped.text, /^failed stdin:8:9 \(document 1, Secret\/db, stringData\.nope\) secret\/data\/app#nope: KEY_NOT_FOUND key "nope" not found/m);
  t.regex(piped.text, /^removed stdin:31:6 .* secret\/data\/other#missing: key missing/m);
  t.regex(lines.at(-1) ?? '', /^summary: 10 placeholders, 4 distinct secrets: 5 resolved, 4 failed, 0 unchecked, 1 removed; 1 ignored resource; 0 other errors; \d+ ms$/);
  for (const r of [terminal, noColor, piped]) {
    t.is(r.exitCode, 5);
    assertNoValues(t, r.text, 'text output');
  }
});

test('CLI: --output json has exactly the documented fields', async (t) => {
  const file = secretsFile();
  const r = await vaultfill(['check', '-', '--output', 'json'], { input: `${MIXED}---\n${BROKEN_YAML}`, env: fileEnv(file) });
  t.is(r.code, 3, r.stderr);
  t.is(r.stderr, '');
  const report = JSON.parse(r.stdout) as CheckReport;
  const keys = (o: object) => Object.keys(o).sort();
  t.deepEqual(keys(report), ['errors', 'placeholders', 'summary', 'version']);
  t.is(report.version, 1);
  const placeholderKeys = ['column', 'document', 'error', 'key', 'line', 'modifiers', 'path', 'placeholder', 'resource', 'source', 'status', 'version', 'yamlPath'];
  for (const p of report.placeholders) {
    t.deepEqual(keys(p), placeholderKeys);
    if (p.error) t.deepEqual(keys(p.error), ['code', 'message']);
    t.true(['resolved', 'failed', 'unchecked', 'removed'].includes(p.status));
  }
  t.deepEqual(keys(report.errors[0] ?? {}), ['code', 'column', 'document', 'line', 'message', 'resource', 'source', 'yamlPath']);
  t.deepEqual(keys(report.summary), ['errors', 'failed', 'ignored', 'ms', 'placeholders', 'removed', 'resolved', 'secrets', 'unchecked']);
  assertNoValues(t, r.stdout, 'JSON output');
});

test('CLI: exit codes are generate’s for the same input', async (t) => {
  const file = secretsFile();
  const cases: Array<[string, number]> = [
    [RESOLVING, 0],
    [MIXED, 5],
    [BROKEN_YAML, 3],
    ['', 3],
  ];
  for (const [input, code] of cases) {
    const checked = await vaultfill(['check', '-'], { input, env: fileEnv(file) });
    const generated = await vaultfill(['generate', '-'], { input, env: fileEnv(file) });
    t.is(checked.code, code, checked.stdout + checked.stderr);
    t.is(generated.code, code, generated.stderr);
  }
  const usage = await vaultfill(['check', '-', '-o', 'yaml'], { input: RESOLVING, env: fileEnv(file) });
  t.is(usage.code, 2);
  t.regex(usage.stderr, /error USAGE: --output takes text or json/);
  t.is((await vaultfill(['generate', '-', '--offline'], { input: RESOLVING, env: fileEnv(file) })).code, 2);
  const unset = await vaultfill(['check', '-'], { input: RESOLVING });
  t.is(unset.code, 2, 'no backend configured: a settings error');
  t.is((await vaultfill(['check', '-', '--offline'], { input: RESOLVING })).code, 0, 'offline needs no backend settings');
  const missing = await vaultfill(['check', 'no/such/dir.yaml', '-o', 'json'], { env: fileEnv(file) });
  t.is(missing.code, 3);
  t.deepEqual((JSON.parse(missing.stdout) as CheckReport).errors.map((e) => e.code), ['INPUT_READ']);
});

test('CLI: --offline never contacts Vault', async (t) => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":["permission denied"]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const env = { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'token', VAULT_TOKEN: 'test-token', VAULT_ADDR: `http://127.0.0.1:${port}`, HOME: tmpdir() };
  try {
    const offline = await vaultfill(['check', '-', '--offline', '--disable-token-cache', '--verbose'], { input: RESOLVING, env });
    t.is(offline.code, 0, offline.stderr);
    t.is(hits, 0);
    t.regex(offline.stderr, /0 backend request\(s\) \(offline\)/);
    t.regex(offline.stdout, /^unchecked stdin:5:6/m);
    const online = await vaultfill(['check', '-', '--disable-token-cache'], { input: RESOLVING, env });
    t.not(online.code, 0);
    t.true(hits > 0, 'the same command without --offline does reach the server');
  } finally {
    server.close();
  }
});

test('CLI: no value appears in check (text, JSON, verbose) or in generate --verbose stderr', async (t) => {
  const file = secretsFile();
  const inputs = [MIXED, RESOLVING, `${RESOLVING}---\n${BROKEN_YAML}`];
  for (const input of inputs) {
    for (const args of [['check', '-', '--verbose'], ['check', '-', '-o', 'json', '--verbose']]) {
      const r = await vaultfill(args, { input, env: fileEnv(file) });
      assertNoValues(t, r.stdout + r.stderr, `${args.join(' ')}`);
    }
    const g = await vaultfill(['generate', '-', '--verbose'], { input, env: fileEnv(file) });
    assertNoValues(t, g.stderr, 'generate --verbose stderr');
    t.regex(g.stderr, /\d+ document\(s\) read, .* \d+ placeholder\(s\), \d+ distinct secret\(s\), \d+ backend request\(s\); ms: read \d+, parse \d+, resolve \d+, write \d+, total \d+/);
  }
  const ok = await vaultfill(['generate', '-', '--verbose'], { input: RESOLVING, env: fileEnv(file) });
  t.is(ok.code, 0);
  t.true(ok.stdout.includes('alice-7c1e'), 'the scan would see a value: generate does write them to stdout');
});

test('a backend message that quotes a value read elsewhere is redacted in the report', async (t) => {
  const inner = memoryBackend(SECRETS);
  const leaky: Backend = {
    get requests() {
      return inner.requests;
    },
    read: async (request) => {
      if (request.path !== 'secret/data/leaky') return inner.read(request);
      await new Promise((r) => setTimeout(r, 20));
      throw new VaultfillError('BACKEND_ERROR', 'upstream said: pw-XyZZy-42 is wrong');
    },
  };
  const { report } = await unit('kind: X\na: <path:secret/data/app#password>\nb: <path:secret/data/leaky#k>\n', leaky);
  t.is(report.placeholders[1]?.error?.message, 'upstream said: [redacted] is wrong');
  assertNoValues(t, JSON.stringify(report), 'the report');
});
