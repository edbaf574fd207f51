/** `vaultfill refresh` on the command line: its options, and what it says before any round. */
import test from 'ava';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';
import { parseInterval } from '../../src/refresh/refresh.js';

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main({ argv, env, stdin: 0, stdout: new PassThrough(), stderr });
  return { code, stderr: err };
}

test('--interval takes a duration with ms, s, m or h (seconds when bare), from 100ms to 24h', (t) => {
  t.is(parseInterval('60s'), 60_000);
  t.is(parseInterval('1.5m'), 90_000);
  t.is(parseInterval('250ms'), 250);
  t.is(parseInterval('2h'), 7_200_000);
  t.is(parseInterval('30'), 30_000);
  for (const bad of ['', '5x', '-1s', '10ms', '25h', '1m30s']) t.is(parseInterval(bad), undefined, bad);
});

test('refresh refuses what is not its own, with a usage error', async (t) => {
  const bad = await run(['refresh', '--once', '--interval', 'soon']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^error USAGE: --interval takes a duration from 100ms to 24h, such as 30s or 5m, not "soon"/);
  t.regex((await run(['refresh', 'x'])).stderr, /refresh takes no arguments/);
  t.regex((await run(['refresh', '--secrets-file', 'f.yaml'])).stderr, /--secrets-file and --allow-empty are options of generate/);
  t.regex((await run(['generate', '--once', '-'])).stderr, /--once, --interval and --service-account-dir are options of refresh/);
});

test('refresh outside a pod, or with the file backend, is a settings error before any round', async (t) => {
  const outside = await run(['refresh', '--once'], { AVP_TYPE: 'vault', VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: 'x' });
  t.is(outside.code, 2);
  t.regex(outside.stderr, /^error CONFIG: cannot read Applications and records: KUBERNETES_SERVICE_HOST is not set; is this running in a pod\?/);
  const file = await run(['refresh', '--once'], { AVP_TYPE: 'file' });
  t.is(file.code, 2);
  t.regex(file.stderr, /error CONFIG: refresh reads Vault's KV metadata; AVP_TYPE is "file"/);
});
