import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { APPLICATION_SETTINGS, SETTING_NAMES, WIDENABLE } from '../src/constants.js';
import { VaultfillErrors } from '../src/errors.js';
import { vaultfill } from './helpers/cli.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'vaultfill-config-'));

test('ARGOCD_ENV_X (for what an Application may set) beats X, which beats the config file, which beats the Secret', async (t) => {
  const dir = tmp();
  const file = path.join(dir, 'c.yaml');
  writeFileSync(file, 'AVP_KV_VERSION: "1"\nAVP_CONCURRENCY: "3"\nVAULT_ADDR: http://from-file\nAVP_AUTH_TYPE: approle\n');
  const config = await loadConfig({
    env: { ARGOCD_ENV_AVP_KV_VERSION: '2', ARGOCD_ENV_HELM_ARGS: '--set a=b', VAULT_ADDR: 'http://from-env', AVP_CONCURRENCY: '5', UNRELATED: 'x' },
    configPath: file,
    secretName: 'argocd:vaultfill',
    readSecret: async () => ({ AVP_AUTH_TYPE: 'userpass', AVP_ROLE_ID: 'from-secret' }),
  });
  t.is(config.setting('VAULT_ADDR'), 'http://from-env');
  t.is(config.concurrency, 5);
  t.is(config.kvVersion, 2, 'the Application chose KV v2 over the file');
  t.is(config.setting('AVP_AUTH_TYPE'), 'approle');
  t.is(config.setting('AVP_ROLE_ID'), 'from-secret');
  t.regex(config.provenance, /ARGOCD_ENV_ variables: AVP_KV_VERSION; environment: AVP_CONCURRENCY, VAULT_ADDR; config file .*c\.yaml: AVP_AUTH_TYPE, AVP_CONCURRENCY, AVP_KV_VERSION, VAULT_ADDR; Secret argocd\/vaultfill: AVP_AUTH_TYPE, AVP_ROLE_ID/);
  t.false(config.provenance.includes('from-'), 'provenance names settings, never values');
});

test('an Application may not set a sidecar setting: each is an error naming it and how an operator allows it', async (t) => {
  const sidecarOnly = ['VAULT_ADDR', 'VAULT_TOKEN', 'AVP_TYPE', 'AVP_SECRETS_FILE', 'AVP_AUTH_TYPE', 'AVP_K8S_TOKEN_PATH', 'AVP_ROLE_ID', 'AVP_SECRET_ID', 'AVP_USERNAME',
    'AVP_PASSWORD', 'AVP_GITHUB_TOKEN', 'VAULT_CACERT', 'VAULT_CAPATH', 'VAULT_CLIENT_CERT', 'VAULT_CLIENT_KEY', 'VAULT_SKIP_VERIFY', 'VAULT_TLS_SERVER_NAME',
    'AVP_PATH_VALIDATION', 'AVP_CONCURRENCY', 'VAULT_CLIENT_TIMEOUT', 'AVP_APP_SETTINGS', 'AVP_NON_KV_MOUNTS',
    // Where requests go: an Application choosing these could send the sidecar's token elsewhere.
    'VAULT_AGENT_ADDR', 'VAULT_PROXY_ADDR', 'VAULT_HTTP_PROXY', 'VAULT_MAX_RETRIES', 'AVP_RECORD'];
  t.deepEqual([...SETTING_NAMES].filter((n) => !sidecarOnly.includes(n) && !APPLICATION_SETTINGS.includes(n as never) && !WIDENABLE.includes(n as never)), [], 'every setting is in one of the three lists');
  for (const name of sidecarOnly) {
    const error = await t.throwsAsync(loadConfig({ env: { [`ARGOCD_ENV_${name}`]: 'x', [name]: name === 'AVP_APP_SETTINGS' ? '' : 'operator' } }), { instanceOf: VaultfillErrors }, name);
    t.is(error?.errors[0]?.code, 'CONFIG');
    t.regex(error?.errors[0]?.message ?? '', new RegExp(`^ARGOCD_ENV_${name}: an Application may not set ${name}; .*no setting lets an Application choose it`));
  }
  for (const name of ['AVP_K8S_ROLE', 'AVP_K8S_MOUNT_PATH', 'AVP_MOUNT_PATH', 'VAULT_NAMESPACE']) {
    const error = await t.throwsAsync(loadConfig({ env: { [`ARGOCD_ENV_${name}`]: 'team-a' } }), { instanceOf: VaultfillErrors }, name);
    t.regex(error?.errors[0]?.message ?? '', new RegExp(`adding ${name} to AVP_APP_SETTINGS`));
    // The operator widens the list (from the sidecar's env, a -c file or the -s Secret); the Application's value then wins.
    const widened = await loadConfig({ env: { [`ARGOCD_ENV_${name}`]: 'team-a', [name]: 'default', AVP_APP_SETTINGS: `${name}, VAULT_NAMESPACE` } });
    t.is(widened.setting(name as 'AVP_K8S_ROLE'), 'team-a');
  }
  const fromSecret = await loadConfig({ env: { ARGOCD_ENV_AVP_K8S_ROLE: 'team-b' }, secretName: 'vaultfill', readSecret: async () => ({ AVP_APP_SETTINGS: 'AVP_K8S_ROLE' }) });
  t.is(fromSecret.setting('AVP_K8S_ROLE'), 'team-b');
  // An Application cannot widen its own list, and the operator cannot hand out the address or credentials.
  await t.throwsAsync(loadConfig({ env: { ARGOCD_ENV_AVP_APP_SETTINGS: 'AVP_K8S_ROLE', ARGOCD_ENV_AVP_K8S_ROLE: 'x' } }), { instanceOf: VaultfillErrors });
  const refused = await t.throwsAsync(loadConfig({ env: { AVP_APP_SETTINGS: 'VAULT_ADDR' } }), { instanceOf: VaultfillErrors });
  t.regex(refused?.errors[0]?.message ?? '', /AVP_APP_SETTINGS lists VAULT_ADDR, which Applications may never set/);
});

test('config files may be JSON or dotenv lines', async (t) => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'c.json'), '{"AVP_TYPE": "file", "AVP_SECRETS_FILE": "/s.yaml"}');
  writeFileSync(path.join(dir, 'c.env'), '# comment\nexport AVP_TYPE=vault\nVAULT_ADDR="http://v:8200"\n');
  const json = await loadConfig({ env: {}, configPath: path.join(dir, 'c.json') });
  t.is(json.type, 'file');
  t.is(json.secretsFile, '/s.yaml');
  const dotenv = await loadConfig({ env: {}, configPath: path.join(dir, 'c.env') });
  t.is(dotenv.type, 'vault');
  t.is(dotenv.setting('VAULT_ADDR'), 'http://v:8200');
});

test('invalid settings are reported together', async (t) => {
  const error = await t.throwsAsync(loadConfig({ env: { AVP_TYPE: 'aws', AVP_KV_VERSION: '3', AVP_PATH_VALIDATION: '(', AVP_CONCURRENCY: '0' } }), { instanceOf: VaultfillErrors });
  t.deepEqual(error?.errors.map((e) => e.message.split(' ')[0]), ['AVP_TYPE', 'AVP_KV_VERSION', 'AVP_PATH_VALIDATION', 'AVP_CONCURRENCY']);
});

test('-s reads settings from a Kubernetes Secret through the in-cluster API', async (t) => {
  const dir = tmp();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'ca.crt')], { stdio: 'ignore' });
  writeFileSync(path.join(dir, 'token'), 'sa-token-123');
  writeFileSync(path.join(dir, 'secrets.yaml'), 'secrets:\n  - path: secret/data/app\n    data: {user: from-secret-backend}\n');
  const seen: string[] = [];
  const api = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'ca.crt')) }, (req, res) => {
    seen.push(`${req.url} ${req.headers.authorization}`);
    if (req.url !== '/api/v1/namespaces/argocd/secrets/vaultfill-config') {
      res.writeHead(404).end('{}');
      return;
    }
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Secret', data: { AVP_TYPE: b64('file'), AVP_SECRETS_FILE: b64(path.join(dir, 'secrets.yaml')) } }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  t.teardown(() => api.close());
  const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String((api.address() as AddressInfo).port), AVP_K8S_TOKEN_PATH: path.join(dir, 'token') };
  const r = await vaultfill(['generate', '-', '-s', 'vaultfill-config'], { input: 'kind: X\na: <path:secret/data/app#user>\n', env });
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes('from-secret-backend'));
  t.deepEqual(seen, ['/api/v1/namespaces/argocd/secrets/vaultfill-config Bearer sa-token-123']);
  const missing = await vaultfill(['generate', '-', '-s', 'other:nope'], { input: 'kind: X\n', env });
  t.is(missing.code, 2);
  t.regex(missing.stderr, /Secret other\/nope \(--secret-name\) not found/);
});

test('AVP_PATH_VALIDATION is Go (RE2) syntax, as argocd-vault-plugin reads it, matched anywhere like MatchString', async (t) => {
  const accepts = async (pattern: string, path: string): Promise<boolean | undefined> =>
    (await loadConfig({ env: { AVP_PATH_VALIDATION: pattern } })).pathValidation?.test(path);
  t.true(await accepts('(?i)^SECRET/DATA/apps/', 'secret/data/apps/web'));
  t.true(await accepts('\\Asecret/data/apps/[a-z]+\\z', 'secret/data/apps/web'));
  t.false(await accepts('\\Asecret/data/apps/[a-z]+\\z', 'secret/data/apps/web/x'));
  t.true(await accepts('^secret/data/(?P<team>[a-z]+)/', 'secret/data/team/app'));
  t.true(await accepts('\\pL+/app$', 'sécret/app'));
  t.true(await accepts('data/apps', 'secret/data/apps/x'), 'unanchored, as Go matches');
  const error = await t.throwsAsync(loadConfig({ env: { AVP_PATH_VALIDATION: '^secret/(?!sys)' } }), { instanceOf: VaultfillErrors });
  t.regex(error?.errors[0]?.message ?? '', /AVP_PATH_VALIDATION is not a Go \(RE2\) regular expression: .*`\(\?!`/);
});
