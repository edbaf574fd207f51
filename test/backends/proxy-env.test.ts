/**
 * Which proxy a Vault request goes through, held to Go's own rules (golang.org/x/net/http/httpproxy,
 * built in test/oracle/httpproxy): what an operator's HTTPS_PROXY / HTTP_PROXY / NO_PROXY did for
 * argocd-vault-plugin, they do here. Named cases from real deployments, then random ones.
 */
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { parseProxy, proxyForUrl } from '../../src/backends/proxy-env.js';
import { ensureHttpProxyBinary } from '../oracle/build-httpproxy.mjs';

interface Case {
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly noProxy?: string;
  readonly cgi?: boolean;
  readonly url: string;
}

const SEED = Number(process.env.FC_SEED ?? 20261130);
const RUNS = Number(process.env.FC_RUNS ?? 40) * 25;

/** Go's answers for many cases in one run of the oracle: the proxy's URL, '' for none, or Go's error. */
async function go(cases: readonly Case[]): Promise<string[]> {
  const binary = await ensureHttpProxyBinary();
  const run = spawnSync(binary, { input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`oracle failed: ${run.stderr}`);
  return run.stdout.trim().split('\n').map((line) => {
    const answer = JSON.parse(line) as { proxy?: string; error?: string };
    return answer.error !== undefined ? `error: ${answer.error}` : (answer.proxy ?? '');
  });
}

/** Ours, written as Go writes a URL: scheme, credentials, host (a bare proxy is http://). */
function ours(c: Case): string {
  const env = { HTTP_PROXY: c.httpProxy, HTTPS_PROXY: c.httpsProxy, NO_PROXY: c.noProxy, REQUEST_METHOD: c.cgi ? 'GET' : undefined };
  const raw = proxyForUrl(new URL(c.url), env);
  if (raw === undefined) return '';
  const url = parseProxy(raw);
  if (!url) return 'unparsable';
  const userinfo = url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  return `${url.protocol}//${userinfo}${url.host}`;
}

const NAMED: Case[] = [
  // The usual cluster: an egress proxy, and the cluster's own names and ranges direct.
  { httpsProxy: 'http://proxy.corp:3128', noProxy: '.svc,.cluster.local,10.0.0.0/8,172.16.0.0/12', url: 'https://vault.vault.svc:8200/v1/x' },
  { httpsProxy: 'http://proxy.corp:3128', noProxy: '.svc,.cluster.local,10.0.0.0/8', url: 'https://10.96.4.2:8200/v1/x' },
  { httpsProxy: 'http://proxy.corp:3128', noProxy: '.svc,.cluster.local,10.0.0.0/8', url: 'https://vault.example.com/v1/x' },
  { httpsProxy: 'http://u:p%40ss@proxy.corp:3128', url: 'https://vault.example.com/v1/x' },
  { httpsProxy: 'proxy.corp:3128', url: 'https://vault.example.com/v1/x' },
  // Scheme-specific: an http Vault uses HTTP_PROXY only, an https one HTTPS_PROXY only.
  { httpProxy: 'http://p1:8080', url: 'https://vault.example.com/v1/x' },
  { httpProxy: 'http://p1:8080', httpsProxy: 'http://p2:8080', url: 'http://vault.example.com:8200/v1/x' },
  { httpProxy: 'http://p1:8080', cgi: false, url: 'http://vault.example.com/v1/x' },
  // Loopback never goes through a proxy; another 127/8 address, ::1 and localhost neither.
  { httpsProxy: 'http://p:1', url: 'https://127.0.0.1:8200/v1/x' },
  { httpsProxy: 'http://p:1', url: 'https://127.3.2.1:8200/v1/x' },
  { httpsProxy: 'http://p:1', url: 'https://[::1]:8200/v1/x' },
  { httpsProxy: 'http://p:1', url: 'https://localhost:8200/v1/x' },
  // Domains: a bare one covers itself and subdomains; a leading dot or *. only subdomains.
  { httpsProxy: 'http://p:1', noProxy: 'example.com', url: 'https://example.com/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: 'example.com', url: 'https://vault.example.com/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: 'example.com', url: 'https://notexample.com/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: '.example.com', url: 'https://example.com/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: '*.example.com', url: 'https://a.example.com/v1/x' },
  // Ports: an entry with a port matches only that port (the scheme's default when none is written).
  { httpsProxy: 'http://p:1', noProxy: 'vault.example.com:8200', url: 'https://vault.example.com:8200/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: 'vault.example.com:8200', url: 'https://vault.example.com/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: 'vault.example.com:443', url: 'https://vault.example.com/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: '10.1.2.3:8200', url: 'https://10.1.2.3:8200/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: '[fd00::1]:8200', url: 'https://[fd00::1]:8200/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: 'fd00::/8', url: 'https://[fd12::1]:8200/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: '*', url: 'https://vault.example.com/v1/x' },
  { httpsProxy: 'http://p:1', noProxy: ' , ,VAULT.Example.COM ', url: 'https://vault.example.com/v1/x' },
];

test("named cases: the same proxy as Go's ProxyFromEnvironment", async (t) => {
  const expected = await go(NAMED);
  for (const [i, c] of NAMED.entries()) t.is(ours(c), expected[i] as string, JSON.stringify(c));
});

const label = fc.constantFrom('vault', 'example', 'svc', 'corp', 'a', 'local', 'cluster');
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));
const ipv4 = fc.constantFrom('10.0.0.1', '10.9.8.7', '192.168.1.5', '172.16.3.4', '127.0.0.1', '8.8.8.8');
const ipv6 = fc.constantFrom('fd00::1', 'fd12:3456::9', '2001:db8::5', '::1');
const port = fc.constantFrom('', ':80', ':443', ':8200');
const entry = fc.oneof(
  fc.tuple(fc.constantFrom('', '.', '*.'), domain, port).map(([lead, d, p]) => `${lead}${d}${p}`),
  fc.tuple(ipv4, port).map(([ip, p]) => `${ip}${p}`),
  fc.tuple(ipv6, port).map(([ip, p]) => (p ? `[${ip}]${p}` : ip)),
  fc.constantFrom('10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12', 'fd00::/8', '2001:db8::/32', '10.9.8.7/32', '*', ':80', ''),
);
const host = fc.oneof(domain, ipv4, ipv6.map((ip) => `[${ip}]`), fc.constant('localhost'));
const proxy = fc.constantFrom('http://p:3128', 'p:3128', 'http://u:pw@p:8080', '');
const caseArb: fc.Arbitrary<Case> = fc.record({
  httpProxy: proxy,
  httpsProxy: proxy,
  noProxy: fc.array(entry, { maxLength: 4 }).chain((entries) => fc.constantFrom(',', ', ', ' ,').map((sep) => entries.join(sep))),
  cgi: fc.boolean(),
  url: fc.tuple(fc.constantFrom('http', 'https'), host, port).map(([scheme, h, p]) => `${scheme}://${h}${p}/v1/secret/data/x`),
});

test("random environments and addresses: the same proxy as Go's", async (t) => {
  const cases = fc.sample(caseArb, { seed: SEED, numRuns: RUNS });
  const expected = await go(cases);
  const wrong = cases.flatMap((c, i) => {
    const want = expected[i] as string;
    // Go refuses HTTP_PROXY under CGI with an error; there is no CGI here: no proxy either way.
    if (want.startsWith('error: refusing to use HTTP_PROXY')) return ours(c) === '' ? [] : [{ c, want, got: ours(c) }];
    return ours(c) === want ? [] : [{ c, want, got: ours(c) }];
  });
  t.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${cases.length} differ (seed ${SEED})`);
});
