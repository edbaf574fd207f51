// Proves the real forward proxy (test/helpers/forward-proxy.ts, Debian's squid) on its own, with
// plain node:http / node:tls as the client: plain requests and CONNECT tunnels reach names only
// the proxy resolves, the test Vault answers over TLS through a tunnel, and credentials are
// demanded when configured.
import test from 'ava';
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import tls from 'node:tls';
import { startForwardProxy, type ForwardProxy } from '../../helpers/forward-proxy.js';
import { waitUntil } from '../../helpers/processes.js';
import { startTestVault } from '../harness.js';
import { collect, type Answer } from './get.js';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** GET an absolute http:// URL through the proxy, the way HTTP_PROXY clients do. */
function getViaProxy(proxy: ForwardProxy, url: string, proxyAuthorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: new URL(url).host };
    if (proxyAuthorization) headers['Proxy-Authorization'] = proxyAuthorization;
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'GET', path: url, headers, agent: false }, (res) => {
      collect(res).then(resolve, reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`GET ${url} via the proxy: timed out`)));
    req.end();
  });
}

/** CONNECT host:port through the proxy; resolves with the proxy's status and the tunnel. */
function connect(proxy: ForwardProxy, target: string, proxyAuthorization?: string): Promise<{ status: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: target };
    if (proxyAuthorization) headers['Proxy-Authorization'] = proxyAuthorization;
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: target, headers, agent: false });
    req.on('connect', (res: http.IncomingMessage, socket: net.Socket) => resolve({ status: res.statusCode ?? 0, socket }));
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`CONNECT ${target}: timed out`)));
    req.end();
  });
}

/** One HTTPS GET over an established tunnel, verifying the server as `servername` against `ca`. */
function getOverTunnel(socket: net.Socket, servername: string, ca: Buffer, pathname: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, servername, ca });
    secure.once('error', reject);
    const req = http.request({ createConnection: () => secure, host: servername, path: pathname, method: 'GET', headers: { Host: servername, ...headers } }, (res) => {
      collect(res).then((answer) => {
        secure.end();
        resolve(answer);
      }, reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`GET ${pathname} over the tunnel: timed out`)));
    req.end();
  });
}

async function listeningServer(handler: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('the client cannot resolve the proxy-only names itself', async (t) => {
  await t.throwsAsync(dns.lookup('vault.internal'));
});

test('a plain GET reaches a server by a name only the proxy resolves, and is logged', async (t) => {
  const upstream = await listeningServer((req, res) => res.end(`host=${req.headers.host} path=${req.url}`));
  t.teardown(() => upstream.close());
  const proxy = await startForwardProxy({ hosts: { 'upstream.internal': '127.0.0.1' } });
  t.teardown(() => proxy.close());
  proxy.logOnFailure(t);
  t.regex(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const url = `http://upstream.internal:${upstream.port}/hello?x=1`;
  const answer = await getViaProxy(proxy, url);
  t.is(answer.status, 200);
  t.is(answer.body, `host=upstream.internal:${upstream.port} path=/hello?x=1`);
  const [entry] = await waitUntil('the access-log line', async () => (proxy.requests().length ? proxy.requests() : undefined), { timeoutMs: 5_000 });
  t.like(entry, { method: 'GET', url, host: `upstream.internal:${upstream.port}`, status: 200 });
});

test('a CONNECT tunnel carries TLS to the test Vault, verified as vault.internal', async (t) => {
  const vault = await startTestVault({ tls: true });
  t.teardown(() => vault.stop());
  const proxy = await startForwardProxy({ hosts: { 'vault.internal': '127.0.0.1' } });
  t.teardown(() => proxy.close());
  proxy.logOnFailure(t);
  await vault.request('POST', 'secret/data/forward-proxy', { data: { password: 'through-squid' } });

  const vaultPort = new URL(vault.address).port;
  const target = `vault.internal:${vaultPort}`;
  const tunnel = await connect(proxy, target);
  t.is(tunnel.status, 200);
  const ca = readFileSync(vault.caFile!);
  const health = await getOverTunnel(tunnel.socket, 'vault.internal', ca, '/v1/sys/health');
  t.is(health.status, 200, health.body);
  t.false(JSON.parse(health.body).sealed);

  const second = await connect(proxy, target);
  const secret = await getOverTunnel(second.socket, 'vault.internal', ca, '/v1/secret/data/forward-proxy', { 'X-Vault-Token': vault.token });
  t.is(secret.status, 200, secret.body);
  t.is(JSON.parse(secret.body).data.data.password, 'through-squid');

  // A tunnel is logged when it closes.
  const connects = await waitUntil(
    'two CONNECT lines',
    async () => {
      const found = proxy.requests().filter((r) => r.method === 'CONNECT');
      return found.length >= 2 ? found : undefined;
    },
    { timeoutMs: 10_000 },
  );
  for (const entry of connects) t.like(entry, { url: target, host: target, status: 200, result: 'TCP_TUNNEL' });
});

test('with credentials configured, the proxy answers 407 without them and 200 with them', async (t) => {
  const upstream = await listeningServer((_req, res) => res.end('ok'));
  t.teardown(() => upstream.close());
  const auth = { user: 'vaultfill', password: 'p@ss:word/1' };
  const proxy = await startForwardProxy({ auth, hosts: { 'upstream.internal': '127.0.0.1' } });
  t.teardown(() => proxy.close());
  proxy.logOnFailure(t);
  t.is(proxy.url, `http://vaultfill:${encodeURIComponent(auth.password)}@127.0.0.1:${proxy.port}`);
  // The URL's credentials are what a client would send.
  const fromUrl = new URL(proxy.url);
  t.is(decodeURIComponent(fromUrl.password), auth.password);

  const url = `http://upstream.internal:${upstream.port}/`;
  const denied = await getViaProxy(proxy, url);
  t.is(denied.status, 407);
  t.regex(String(denied.headers['proxy-authenticate']), /^Basic realm="vaultfill test proxy"/);
  t.is((await getViaProxy(proxy, url, basic('vaultfill', 'wrong'))).status, 407);
  const allowed = await getViaProxy(proxy, url, basic(decodeURIComponent(fromUrl.username), decodeURIComponent(fromUrl.password)));
  t.is(allowed.status, 200);
  t.is(allowed.body, 'ok');

  const tunnelDenied = await connect(proxy, `upstream.internal:${upstream.port}`);
  t.is(tunnelDenied.status, 407);
  tunnelDenied.socket.destroy();
  const tunnel = await connect(proxy, `upstream.internal:${upstream.port}`, basic(auth.user, auth.password));
  t.is(tunnel.status, 200);
  tunnel.socket.destroy();

  const entries = await waitUntil(
    'five access-log lines',
    async () => (proxy.requests().length >= 5 ? proxy.requests() : undefined),
    { timeoutMs: 10_000 },
  );
  t.deepEqual(
    entries.map((e) => [e.method, e.status, e.user ?? '-']),
    [
      ['GET', 407, '-'],
      ['GET', 407, 'vaultfill'],
      ['GET', 200, 'vaultfill'],
      ['CONNECT', 407, '-'],
      ['CONNECT', 200, 'vaultfill'],
    ],
  );
});
