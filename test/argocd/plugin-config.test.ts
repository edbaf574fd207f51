/**
 * Every shipped plugin config decodes strictly against Argo CD v3.6.1's own PluginConfig type
 * (test/argocd/build/pluginconfig): a field Argo CD does not know would be dropped without a
 * word when the CMP server reads the file (`lockRepo` was one), so it fails here instead.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensurePluginConfigCheck } from './build.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const configs = ['plugin.yaml', 'cmp/plain/plugin.yaml', 'cmp/helm/plugin.yaml', 'cmp/kustomize/plugin.yaml'].map((f) => path.join(root, f));

async function check(files: string[]): Promise<{ code: number; out: string }> {
  const binary = await ensurePluginConfigCheck();
  try {
    const { stdout } = await promisify(execFile)(binary, files);
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '' };
  }
}

test('every shipped plugin config decodes strictly against Argo CD’s PluginConfig and passes its validation', async (t) => {
  t.timeout(20 * 60_000, 'the checker is built with Argo CD’s module on first use');
  const r = await check(configs);
  t.is(r.code, 0, r.out);
  t.deepEqual(r.out.trim().split('\n'), configs.map((f) => `${f}: ok`));
});

test('the check fails on a field Argo CD does not know, and on what Argo CD itself refuses', async (t) => {
  t.timeout(20 * 60_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-pluginconfig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const original = readFileSync(configs[0] as string, 'utf8');
  const unknown = path.join(dir, 'unknown.yaml');
  writeFileSync(unknown, original.replace(/^spec:\n/m, 'spec:\n  lockRepo: false\n'));
  const noCommand = path.join(dir, 'no-command.yaml');
  writeFileSync(noCommand, 'apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata: {name: x}\nspec:\n  generate: {command: []}\n');
  const r = await check([unknown, noCommand]);
  t.is(r.code, 1);
  t.regex(r.out, /unknown\.yaml: json: unknown field "lockRepo"/);
  t.regex(r.out, /no-command\.yaml: invalid plugin configuration file\. spec\.generate command should be non-empty/);
});
