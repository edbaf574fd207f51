/**
 * The Vault HTTP client against raw node:net servers written here: framing, keep-alive,
 * stale sockets, malformed answers, limits, and the exact bytes it sends. TLS settings are
 * covered against the real test Vault in vault.test.ts; here only SNI and socket reuse.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAX_BODY, ResponseParser } from '../../src/backends/http1.js';
import { createVaultHttp, type VaultHttp, type VaultHttpOptions } from '../../src/backends/vault-http.js';
import { VaultfillError } from '../../src/errors.js';
import { root } from '../helpers/cli.js';

interface Captured {
  /** Request head as sent, CRLFs included, without the blank line. */
  readonly head: string;
  readonly body: Buffer;
  /** 1-based number of the connection it came on. */
  readonly connection: number;
}

interface RawServer {
  readonly address: string;
  readonly requests: Captured[];
  /** Connections accepted so far. */
  connections: number;
  /** Connections the client closed (or that closed otherwise) so far. */
  closed: number;
}

type Respond = (socket: net.Socket, request: Captured, index: number) => void;

/** A server that hands each complete request (head + Content-Length body) to `respond`. */
async function rawServer(t: ExecutionContext, respond: Respond, host = '127.0.0.1', socketPath?: string): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const state: RawServer = { address: '', requests: [], connections: 0, closed: 0 };
  const server = net.createServer((socket) => {
    const connection = ++state.connections;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      state.closed++;
    });
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end + 2);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const request = { head, body: buf.subarray(end + 4, end + 4 + length), connection };
        buf = buf.subarray(end + 4 + length);
        const index = state.requests.push(request) - 1;
        respond(socket, request, index);
      }
    });
  });
  if (socketPath) {
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    (state as { address: string }).address = `unix://${socketPath}`;
  } else {
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as net.AddressInfo;
    (state as { address: string }).address = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}

function client(address: string, extra: Partial<VaultHttpOptions> = {}): VaultHttp {
  return createVaultHttp({
    address, namespace: undefined, caCert: undefined, caPath: undefined, clientCert: undefined, clientKey: undefined,
    skipVerify: false, tlsServerName: undefined, timeoutMs: 5000, retries: 0, redact: () => undefined, ...extra,
  });
}

/** A complete JSON answer with Content-Length. */
function answer(body: unknown, { status = 200, headers = '' } = {}): string {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${headers}\r\n${text}`;
}

const ok = (n: number): Respond => (socket) => socket.write(answer({ n }));
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (up to 5 s) for something the server sees a moment after the client acted. */
async function eventually(condition: () => boolean): Promise<boolean> {
  for (const deadline = Date.now() + 5000; !condition() && Date.now() < deadline; ) await pause(5);
  return condition();
}

/** Writes the pieces as separate TCP segments (a pause between writes, no Nagle). */
async function trickle(socket: net.Socket, pieces: ReadonlyArray<string | Buffer>): Promise<void> {
  socket.setNoDelay(true);
  for (const piece of pieces) {
    if (socket.destroyed) return;
    socket.write(piece);
    await pause(3);
  }
}

async function rejection(t: ExecutionContext, promise: Promise<unknown>): Promise<VaultfillError> {
  const error = await t.throwsAsync(promise);
  if (!(error instanceof VaultfillError)) throw new Error(`expected a VaultfillError, got ${String(error)}`);
  return error;
}

test('reads a Content-Length body, decoding UTF-8 split across writes', async (t) => {
  const text = JSON.stringify({ data: { v: 'grüße 🔐' } });
  const bytes = Buffer.from(text);
  const split = bytes.indexOf(Buffer.from('🔐')) + 2; // in the middle of the 4-byte character
  const server = await rawServer(t, (socket) => {
    void trickle(socket, [`HTTP/1.1 200 OK\r\nContent-Length: ${bytes.length}\r\n\r\n`, bytes.subarray(0, split), bytes.subarray(split)]);
  });
  const r = await client(server.address).request('GET', 'secret/data/a');
  t.is(r.status, 200);
  t.deepEqual(r.body, { data: { v: 'grüße 🔐' } });
});

test('reads a chunked body split across many writes, with extensions and trailers, then reuses the socket', async (t) => {
  const body = JSON.stringify({ data: { v: 'chunked-value', pad: 'x'.repeat(300) } });
  const first = body.slice(0, 10);
  const second = body.slice(10);
  const server = await rawServer(t, (socket, _request, index) => {
    if (index > 0) return void socket.write(answer({ again: true }));
    const size = Buffer.byteLength(second).toString(16);
    void trickle(socket, [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      first.length.toString(16), ';name=value\r\n', first, '\r\n', // a chunk header split mid-line
      size.slice(0, 1), size.slice(1), '\r', '\n', second.slice(0, 100), second.slice(100), '\r\n',
      '0;last\r\nX-Trailer: t1\r\n', 'X-Other: t2\r\n', '\r\n',
    ]);
  });
  const http = client(server.address);
  const r = await http.request('GET', 'secret/data/a');
  t.deepEqual(r.body, JSON.parse(body));
  t.deepEqual((await http.request('GET', 'secret/data/b')).body, { again: true }, 'the trailers were consumed exactly');
  t.is(server.connections, 1);
});

test('reads a body until the connection closes when no length is given; the socket is not reused', async (t) => {
  const server = await rawServer(t, (socket, _request, index) => {
    void trickle(socket, ['HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n', '{"data":', `{"n":${index}}}`]).then(() => socket.end());
  });
  const http = client(server.address);
  t.deepEqual((await http.request('GET', 'a')).body, { data: { n: 0 } });
  t.deepEqual((await http.request('GET', 'b')).body, { data: { n: 1 } });
  t.is(server.connections, 2);
});

test('Connection: close, HTTP/1.0 and bytes after the answer each make the next request use a new connection', async (t) => {
  const answers = [
    answer({ n: 0 }, { headers: 'Connection: close\r\n' }),
    `HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\n{"n":1}`,
    `${answer({ n: 2 })}HTTP/1.1 200 OK\r\n`, // an answer nobody asked for
    answer({ n: 3 }, { headers: 'Keep-Alive: timeout=1\r\n' }), // too short to reuse safely
    answer({ n: 4 }),
  ];
  // The server never closes: a client that reused these sockets would wait for nothing.
  const server = await rawServer(t, (socket, _request, index) => socket.write(answers[index] ?? answer({ n: index })));
  const http = client(server.address, { timeoutMs: 2000 });
  for (let n = 0; n < answers.length; n++) t.deepEqual((await http.request('GET', `p${n}`)).body, { n });
  t.deepEqual(server.requests.map((r) => r.connection), [1, 2, 3, 4, 5]);
});

test('sequential requests reuse one kept-alive connection; idle sockets are taken newest first', async (t) => {
  const server = await rawServer(t, ok(0));
  const http = client(server.address);
  for (let i = 0; i < 10; i++) t.is((await http.request('GET', `s${i}`)).status, 200);
  t.is(server.connections, 1);

  const second = await rawServer(t, (socket, request, index) => {
    // Of the two parallel requests, the one on connection 2 is answered last.
    if (index < 2) setTimeout(() => socket.write(answer({ n: index })), request.connection === 2 ? 50 : 0);
    else socket.write(answer({ n: index }));
  });
  const other = client(second.address);
  await Promise.all([other.request('GET', 'a'), other.request('GET', 'b')]);
  await other.request('GET', 'c');
  t.is(second.connections, 2);
  t.is(second.requests[2]?.connection, 2, 'the most recently idle socket is used');
  t.is(other.sent, 3);
});

test('a Keep-Alive timeout hint retires an idle socket a second before the server would', async (t) => {
  const server = await rawServer(t, (socket, _request, index) => socket.write(answer({ n: index }, { headers: 'Keep-Alive: timeout=3, max=100\r\n' })));
  const http = client(server.address);
  await http.request('GET', 'a');
  await http.request('GET', 'b');
  await pause(2100);
  await http.request('GET', 'c');
  t.deepEqual(server.requests.map((r) => r.connection), [1, 1, 2]);
});

test('a socket the server closed while idle is replaced without an error', async (t) => {
  const server = await rawServer(t, (socket) => {
    socket.write(answer({ ok: true }));
    setTimeout(() => socket.end(), 10);
  });
  const http = client(server.address);
  await http.request('GET', 'a');
  // Once the server has seen the client's side close too, the client has seen the server's.
  t.true(await eventually(() => server.closed === 1));
  t.deepEqual((await http.request('GET', 'b')).body, { ok: true });
  t.deepEqual(server.requests.map((r) => r.connection), [1, 2]);
});

test('a reused socket that closes before any byte of the answer is retried once on a new socket, outside `retries`', async (t) => {
  // The race the idle check cannot see: the server's close crosses the request on the wire.
  const server = await rawServer(t, (socket, _request, index) => {
    if (index === 1) socket.destroy();
    else socket.write(answer({ ok: true }));
  });
  const http = client(server.address, { retries: 0 });
  await http.request('POST', 'auth/x/login', { body: { a: 1 } });
  t.deepEqual((await http.request('POST', 'auth/x/login', { body: { a: 2 } })).body, { ok: true }, 'with retries: 0');
  t.deepEqual(server.requests.map((r) => [r.connection, r.body.toString()]), [[1, '{"a":1}'], [1, '{"a":2}'], [2, '{"a":2}']]);
  t.is(http.sent, 3);
});

test('a new socket closed before an answer, and a reused one closed mid-answer, are errors: never sent twice', async (t) => {
  const fresh = await rawServer(t, (socket) => socket.destroy());
  const e1 = await rejection(t, client(fresh.address).request('GET', 'a'));
  t.is(e1.code, 'BACKEND_UNREACHABLE');
  t.regex(e1.message, /ECONNRESET/);
  t.is(fresh.requests.length, 1);

  const partial = await rawServer(t, (socket, _request, index) => {
    if (index === 0) socket.write(answer({ ok: true }));
    else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"par');
  });
  const http = client(partial.address);
  await http.request('POST', 'auth/x/login', { body: {} });
  const e2 = await rejection(t, http.request('POST', 'auth/x/login', { body: {} }));
  t.is(e2.code, 'BACKEND_UNREACHABLE');
  t.is(partial.requests.length, 2, 'the POST that may have been processed is not sent again');
});

test('1xx interim answers are skipped', async (t) => {
  const server = await rawServer(t, (socket) => {
    void trickle(socket, ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n', answer({ final: true }, { status: 201 })]);
  });
  const http = client(server.address);
  const r = await http.request('POST', 'x', { body: {} });
  t.is(r.status, 201);
  t.deepEqual(r.body, { final: true });
});

test('204 has no body and the socket is reused; a folded header and duplicates are accepted', async (t) => {
  const server = await rawServer(t, (socket, _request, index) => {
    if (index === 0) socket.write('HTTP/1.1 204 No Content\r\nX-Long: a\r\n  b\r\nCache-Control: no-store\r\nCache-Control: private\r\n\r\n');
    else socket.write(answer({ n: index }, { headers: 'Content-Length: 7\r\n' }));
  });
  const http = client(server.address, { timeoutMs: 2000 });
  const r = await http.request('PUT', 'sys/policy/x', { body: { policy: '' } });
  t.is(r.status, 204);
  t.is(r.body, undefined);
  t.deepEqual((await http.request('GET', 'y')).body, { n: 1 }, 'a repeated, equal Content-Length is one length');
  t.is(server.connections, 1);
});

test('malformed answers are clear errors at once, not hangs', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['HTLP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}', /unexpected status line "HTLP\/1\.1 200 OK"/],
    ['SSH-2.0-OpenSSH_9.6\r\n', /unexpected status line/],
    ['HTTP/1.1 2000 OK\r\n\r\n', /unexpected status line/],
    ['HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n', /invalid header line/],
    ['HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /invalid header line/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', /invalid Content-Length/],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid Content-Length/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', /chunk data longer than its size/],
    [`HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(17 * 1024)}`, /head longer than 16 KiB/],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /101/],
    ['HTTP/1.1 200 OK\nContent-Length: 2\n\n{}', /CR, LF or NUL inside a line/],
    ['HTTP/1.1 200 OK\r\nX: a\nb\r\n', /CR, LF or NUL inside a line/],
    ['HTTP/1.1 200 OK\r\nX: a\nb\r\nContent-Length: 2\r\n\r\n{}', /CR, LF or NUL inside a line/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\n{}', /CR, LF or NUL inside a line/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;2\r', /invalid chunk size/],
  ];
  for (const [bytes, reason] of cases) {
    const server = await rawServer(t, (socket) => socket.write(bytes)); // and never closes
    const error = await rejection(t, client(server.address, { timeoutMs: 3000 }).request('GET', 'a'));
    t.is(error.code, 'BACKEND_ERROR', `${bytes}: ${error.message}`); // a hang would be BACKEND_TIMEOUT
    t.regex(error.message, /sent a malformed HTTP response/);
    t.regex(error.message, reason);
    t.true(await eventually(() => server.closed === 1), 'the socket is closed, not pooled');
  }
});

test('a 2xx answer whose body is not JSON is a backend error, never "no secret here"; other statuses keep their number', async (t) => {
  const page = '<html>Sign in to the network</html>';
  const server = await rawServer(t, (socket, _request, index) =>
    socket.write(`HTTP/1.1 ${index === 0 ? '200 OK' : '502 Bad Gateway'}\r\nContent-Length: ${page.length}\r\n\r\n${page}`));
  const http = client(server.address);
  const error = await rejection(t, http.request('GET', 'secret/data/app'));
  t.is(error.code, 'BACKEND_ERROR');
  t.regex(error.message, /HTTP 200 to GET \/v1\/secret\/data\/app with a body that is not JSON/);
  t.is((await http.request('GET', 'secret/data/app')).status, 502);
});

// Serial: the file's other tests (64 MiB answers) can stall this process longer than the 0.3 s timeout.
test.serial('an answer slower than the timeout is BACKEND_TIMEOUT; the socket is dropped and the next request works', async (t) => {
  const server = await rawServer(t, (socket, _request, index) => {
    if (index === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"ha'); // half an answer, then silence
    else socket.write(answer({ n: index }));
  });
  const http = client(server.address, { timeoutMs: 300, retries: 3 });
  const error = await rejection(t, http.request('GET', 'slow'));
  t.is(error.code, 'BACKEND_TIMEOUT');
  t.regex(error.message, /did not answer within 0\.3 s/);
  t.is(server.requests.length, 1, 'a timeout is not retried');
  t.true(await eventually(() => server.closed === 1), 'the half-read socket was destroyed');
  t.deepEqual((await http.request('GET', 'next')).body, { n: 1 });
  t.is(server.connections, 2);
});

test('a header value with CR, LF or NUL is refused before anything is sent', async (t) => {
  const server = await rawServer(t, ok(0));
  const http = client(server.address);
  for (const token of ['t\r\nX-Injected: 1', 't\nx', 't\0']) {
    const error = await rejection(t, http.request('GET', 'a', { token }));
    t.is(error.code, 'CONFIG');
    t.false(error.message.includes('Injected'), 'the token is not echoed');
  }
  const namespace = t.throws(() => client(server.address, { namespace: 'team\r\nX-Injected: 1' }));
  t.true(namespace instanceof VaultfillError && namespace.code === 'CONFIG');
  await pause(50);
  t.is(server.connections, 0);
});

test('an answer over the size cap is an error, whether announced, chunked or streamed', async (t) => {
  const announced = await rawServer(t, (socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n`));
  t.regex((await rejection(t, client(announced.address).request('GET', 'a'))).message, /larger than 64 MiB/);
  const chunked = await rawServer(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n'));
  t.regex((await rejection(t, client(chunked.address).request('GET', 'a'))).message, /larger than 64 MiB/);
  const streamed = await rawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    let left = MAX_BODY / mib.length + 1;
    const more = (): void => {
      while (left > 0 && !socket.destroyed) {
        left--;
        if (!socket.write(mib)) return void socket.once('drain', more);
      }
    };
    more();
  });
  const error = await rejection(t, client(streamed.address, { timeoutMs: 20_000 }).request('GET', 'a'));
  t.is(error.code, 'BACKEND_ERROR');
  t.regex(error.message, /larger than 64 MiB/);
});

test('the bytes on the wire: request line, Host, headers, body', async (t) => {
  const server = await rawServer(t, ok(0));
  const port = new URL(server.address).port;
  const http = client(server.address, { namespace: 'team-a/' });
  await http.request('GET', '/secret/data/a b/ü%2F?version=2', { token: 'hvs.tok' });
  await http.request('POST', 'auth/approle/login', { body: { role_id: 'r', note: 'é' } });
  await http.request('PUT', 'sys/x');
  t.deepEqual(server.requests.map((r) => r.head), [
    `GET /v1/secret/data/a%20b/%C3%BC%2F?version=2 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: application/json\r\nX-Vault-Namespace: team-a/\r\nX-Vault-Token: hvs.tok\r\nConnection: keep-alive\r\n`,
    `POST /v1/auth/approle/login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: application/json\r\nX-Vault-Namespace: team-a/\r\nContent-Type: application/json\r\nContent-Length: 27\r\nConnection: keep-alive\r\n`,
    `PUT /v1/sys/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: application/json\r\nX-Vault-Namespace: team-a/\r\nContent-Length: 0\r\nConnection: keep-alive\r\n`,
  ]);
  t.is(server.requests[1]?.body.toString('utf8'), '{"role_id":"r","note":"é"}');
  t.is(server.requests[1]?.body.length, 27, 'Content-Length counts bytes, not characters');

  const withAuth = client(server.address.replace('//', '//us%20er:p%40ss@'));
  await withAuth.request('GET', 'a');
  t.regex(server.requests[3]?.head ?? '', new RegExp(`\r\nAuthorization: Basic ${Buffer.from('us er:p@ss').toString('base64')}\r\n`));
});

test('an IPv6 address is bracketed in Host', async (t) => {
  // Needs the IPv6 loopback (::1), which this project's machines and CI have.
  const server = await rawServer(t, ok(0), '::1');
  const r = await client(server.address).request('GET', 'a');
  t.is(r.status, 200);
  t.regex(server.requests[0]?.head ?? '', new RegExp(`\r\nHost: \\[::1\\]:${new URL(server.address).port}\r\n`));
});

test('429 and 5xx are retried honouring Retry-After; a sealed 503 is not', async (t) => {
  const server = await rawServer(t, (socket, _request, index) => {
    if (index === 0) socket.write(answer({ errors: [] }, { status: 429, headers: 'Retry-After: 0\r\n' }));
    else if (index === 1) socket.write(answer({ errors: ['boom'] }, { status: 502 }));
    else if (index === 2) socket.write(answer({ n: 2 }));
    else socket.write(answer({ errors: ['Vault is sealed'] }, { status: 503 }));
  });
  const http = client(server.address, { retries: 3 });
  t.deepEqual((await http.request('GET', 'a')).body, { n: 2 });
  t.is((await rejection(t, http.request('GET', 'b'))).code, 'BACKEND_SEALED');
  t.is(http.sent, 4);
});

test('the process exits while kept-alive sockets are idle', async (t) => {
  const server = await rawServer(t, ok(0)); // keeps every connection open
  const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-http-'));
  const script = path.join(dir, 'idle.mjs');
  const source = pathToFileURL(path.join(root, 'src/backends/vault-http.ts')).href;
  writeFileSync(script, `
    import { createVaultHttp } from ${JSON.stringify(source)};
    const http = createVaultHttp({ address: ${JSON.stringify(server.address)}, timeoutMs: 5000, retries: 0, skipVerify: false });
    const rs = await Promise.all([http.request('GET', 'a'), http.request('GET', 'b')]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // time for a closed socket to show at the server
    console.log(rs.map((r) => r.status).join(','));
    setTimeout(() => {}, 700); // the last thing that holds the process
  `);
  let openWhenDone: number | undefined;
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx/esm', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      openWhenDone ??= server.connections - server.closed;
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000); // a hang ends as code null
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout.trim(), '200,200');
  t.is(server.connections, 2);
  t.is(openWhenDone, 2, 'both sockets were kept alive after the requests');
  t.true(await eventually(() => server.closed === 2), 'and closed when the process ended');
});

test('over TLS: SNI is the host name or VAULT_TLS_SERVER_NAME, never an IP; sockets are reused and new ones resume the session', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  // openssl is installed by .ci/run.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=vault.test',
    '-addext', 'subjectAltName=DNS:vault.test,DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const seen: Array<{ sni: string | false | null; resumed: boolean }> = [];
  const sockets = new Set<tls.TLSSocket>();
  let closed = 0;
  const server = tls.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => closed++);
    seen.push({ sni: socket.servername, resumed: socket.isSessionReused() });
    const first = seen.length === 1;
    socket.on('error', () => {});
    socket.on('data', () => {
      socket.write(answer({ ok: true }));
      if (first) setTimeout(() => socket.end(), 10); // the first connection goes away after one answer
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const { port } = server.address() as net.AddressInfo;
  const byName = client(`https://localhost:${port}`, { caCert: cert });
  await byName.request('GET', 'a');
  t.true(await eventually(() => closed === 1));
  for (const p of ['b', 'c', 'd']) t.is((await byName.request('GET', p)).status, 200);
  await client(`https://127.0.0.1:${port}`, { caCert: cert }).request('GET', 'a');
  await client(`https://127.0.0.1:${port}`, { caCert: cert, tlsServerName: 'vault.test' }).request('GET', 'a');
  t.deepEqual(seen, [
    { sni: 'localhost', resumed: false },
    { sni: 'localhost', resumed: true },
    { sni: false, resumed: false },
    { sni: 'vault.test', resumed: false },
  ]);
  const wrongName = await rejection(t, client(`https://127.0.0.1:${port}`, { caCert: cert, tlsServerName: 'other.test' }).request('GET', 'a'));
  t.regex(wrongName.message, /TLS with Vault .* failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
});

test('the parser gives the same answer for every split of the bytes', (t) => {
  const responses: Array<[string, number, string]> = [
    [answer({ v: 'grüße 🔐' }), 200, JSON.stringify({ v: 'grüße 🔐' })],
    ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;a=b\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n', 200, 'abc0123456789abcdef'],
    ['HTTP/1.1 204 No Content\r\nX-Folded: a\r\n b\r\n\r\n', 204, ''],
  ];
  for (const [text, status, body] of responses) {
    const bytes = Buffer.from(text);
    const feeds: Buffer[][] = [[bytes], Array.from(bytes, (b) => Buffer.from([b]))];
    for (let i = 1; i < bytes.length; i++) feeds.push([bytes.subarray(0, i), bytes.subarray(i)]);
    for (const feed of feeds) {
      const parser = new ResponseParser('GET');
      const done = feed.map((piece) => parser.push(piece));
      t.deepEqual(done, feed.map((_, i) => i === feed.length - 1), 'complete at the last byte, not before');
      t.is(parser.status, status);
      t.is(parser.body().toString('utf8'), body);
      t.true(parser.keepAlive);
    }
  }
});

test("VAULT_ADDR's path is kept: every request goes under it, as with Vault's client", async (t) => {
  const server = await rawServer(t, ok(1));
  await client(`${server.address}/gateway/vault/`).request('GET', 'secret/data/app');
  await client(`${server.address}/gateway/vault`).request('GET', 'secret/data/app');
  t.deepEqual(server.requests.map((r) => r.head.split('\r\n')[0]), ['GET /gateway/vault/v1/secret/data/app HTTP/1.1', 'GET /gateway/vault/v1/secret/data/app HTTP/1.1']);
});

test('unix:// addresses (a Vault Agent or Vault Proxy listener) are spoken to as plain HTTP over the socket', async (t) => {
  const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'vaultfill-sock-')), 'agent.sock');
  const server = await rawServer(t, ok(7), '', socketPath);
  const http = client(`unix://${socketPath}`);
  t.deepEqual((await http.request('GET', 'secret/data/app')).body, { n: 7 });
  await http.request('GET', 'secret/data/other');
  t.is(server.requests[0]?.head.split('\r\n').slice(0, 2).join('|'), 'GET /v1/secret/data/app HTTP/1.1|Host: localhost');
  t.is(server.connections, 1, 'the socket is kept alive');
  const missing = await rejection(t, client(`unix://${socketPath}.gone`).request('GET', 'a'));
  t.is(missing.code, 'BACKEND_UNREACHABLE');
  t.regex(missing.message, /cannot reach Vault at unix:\/\/.*agent\.sock\.gone \(ENOENT\)/);
  t.is((await rejection(t, Promise.resolve().then(() => client('unix://')))).code, 'CONFIG');
});

test('a redirect (an HA standby sending clients to the active node) is followed with the method, body and token', async (t) => {
  const active = await rawServer(t, ok(2));
  const standby = await rawServer(t, (socket, request) => {
    const target = request.head.split(' ')[1];
    socket.write(answer({}, { status: 307, headers: `Location: ${active.address}${target}\r\n` }));
  });
  const http = client(standby.address);
  const response = await http.request('POST', 'auth/approle/login', { token: 'tok-1', body: { role_id: 'r' } });
  t.deepEqual(response.body, { n: 2 });
  const followed = active.requests[0];
  t.is(followed?.head.split('\r\n')[0], 'POST /v1/auth/approle/login HTTP/1.1');
  t.regex(followed?.head ?? '', /\r\nX-Vault-Token: tok-1\r\n/);
  t.regex(followed?.head ?? '', new RegExp(`\r\nHost: ${active.address.slice('http://'.length)}\r\n`));
  t.is(followed?.body.toString(), '{"role_id":"r"}');
  t.is(http.sent, 2, 'both requests counted');
  // A relative Location (Go's ServeMux cleaning a `//` path) goes back to the same server.
  const cleaning = await rawServer(t, (socket, request) => {
    if (request.head.startsWith('GET /v1/secret//x ')) socket.write(answer({}, { status: 301, headers: 'Location: /v1/secret/x\r\n' }));
    else socket.write(answer({ path: request.head.split(' ')[1] }));
  });
  t.deepEqual((await client(cleaning.address).request('GET', 'secret//x')).body, { path: '/v1/secret/x' });
});

test('redirects are bounded, need a Location, and never go from https to plain http', async (t) => {
  const loop = await rawServer(t, (socket) => socket.write(answer({}, { status: 307, headers: 'Location: /v1/again\r\n' })));
  const tooMany = await rejection(t, client(loop.address).request('GET', 'secret/data/a'));
  t.is(tooMany.code, 'BACKEND_ERROR');
  t.regex(tooMany.message, /HTTP 307 to GET \/v1\/secret\/data\/a after 3 redirects/);
  t.is(loop.requests.length, 4, 'the first request and three redirects');
  const nowhere = await rawServer(t, (socket) => socket.write(answer({}, { status: 302 })));
  t.regex((await rejection(t, client(nowhere.address).request('GET', 'a'))).message, /HTTP 302 to GET \/v1\/a without a usable Location/);

  const plain = await rawServer(t, ok(0));
  const { port, cert } = await tlsRedirector(t, `${plain.address}/v1/a`);
  const downgrade = await rejection(t, client(`https://127.0.0.1:${port}`, { caCert: cert, tlsServerName: 'vault.test' }).request('GET', 'a', { token: 'tok-2' }));
  t.is(downgrade.code, 'BACKEND_ERROR');
  t.regex(downgrade.message, /redirecting to plain http at 127\.0\.0\.1:\d+; refused/);
  t.is(plain.requests.length, 0, 'nothing, and no token, sent in clear');
});

/** A TLS server (self-signed for vault.test) that redirects every request to `location`. */
async function tlsRedirector(t: ExecutionContext, location: string): Promise<{ port: number; cert: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=vault.test',
    '-addext', 'subjectAltName=DNS:vault.test'], { stdio: 'ignore' });
  const server = tls.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(answer({}, { status: 307, headers: `Location: ${location}\r\nConnection: close\r\n` })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, cert };
}

test('through a plain-http proxy: the request names the whole URL and carries Proxy-Authorization; a 407 says to check the credentials, never showing them', async (t) => {
  const proxy = await rawServer(t, (socket, request) => {
    if (/\r\nProxy-Authorization: Basic dXNlcjpwQHNz\r\n/.test(request.head)) socket.write(answer({ via: 'proxy' }));
    else socket.write(answer({}, { status: 407, headers: 'Proxy-Authenticate: Basic realm="corp"\r\n' }));
  });
  const port = proxy.address.split(':')[2];
  const redacted: unknown[] = [];
  const env = { HTTP_PROXY: `http://user:p%40ss@127.0.0.1:${port}` };
  const response = await client('http://vault.internal:8200/prefix', { env, redact: (v) => redacted.push(v) }).request('GET', 'secret/data/a', { token: 't' });
  t.deepEqual(response.body, { via: 'proxy' });
  t.is(proxy.requests[0]?.head.split('\r\n')[0], 'GET http://vault.internal:8200/prefix/v1/secret/data/a HTTP/1.1');
  t.regex(proxy.requests[0]?.head ?? '', /\r\nHost: vault\.internal:8200\r\n/);
  t.true(redacted.includes('p@ss'), 'the proxy password is registered for redaction');

  const wrong = await rejection(t, client('http://vault.internal:8200', { env: { HTTP_PROXY: `http://user:nope@127.0.0.1:${port}` } }).request('GET', 'a'));
  t.is(wrong.code, 'BACKEND_UNREACHABLE');
  t.regex(wrong.message, new RegExp(`proxy http://127\\.0\\.0\\.1:${port} answered HTTP 407`));
  t.notRegex(wrong.message, /nope|user/);
  // NO_PROXY, and loopback, go direct: the proxy sees nothing more.
  const direct = await rawServer(t, ok(3));
  t.deepEqual((await client(direct.address, { env: { HTTP_PROXY: `http://127.0.0.1:${port}` } }).request('GET', 'a')).body, { n: 3 });
  t.is(proxy.requests.length, 2);
  // VAULT_PROXY_ADDR sends everything through the proxy, loopback and NO_PROXY included.
  const forced = await rejection(t, client(direct.address, { proxy: { setting: 'VAULT_PROXY_ADDR', value: `127.0.0.1:${port}` }, env: { NO_PROXY: '*' } }).request('GET', 'a'));
  t.regex(forced.message, /407/);
  t.is(proxy.requests.length, 3);
  const socks = await rejection(t, Promise.resolve().then(() => client('http://v:1', { proxy: { setting: 'VAULT_HTTP_PROXY', value: 'socks5://p:1080' } })));
  t.is(socks.code, 'CONFIG');
  t.regex(socks.message, /VAULT_HTTP_PROXY names a socks5:\/\/ proxy/);
});

test('an https Vault through a proxy goes through a CONNECT tunnel; a refused tunnel is a clear error', async (t) => {
  const seen: string[] = [];
  const proxy = net.createServer((socket) => {
    socket.once('data', (data: Buffer) => {
      seen.push(data.toString('latin1'));
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const port = (proxy.address() as net.AddressInfo).port;
  const env = { HTTPS_PROXY: `http://u:secretpw@127.0.0.1:${port}` };
  const refused = await rejection(t, client('https://vault.internal:8200', { env }).request('GET', 'secret/data/a', { token: 'tok-3' }));
  t.is(refused.code, 'BACKEND_UNREACHABLE');
  t.regex(refused.message, new RegExp(`Vault at https://vault.internal:8200 through the proxy http://127\\.0\\.0\\.1:${port}: the proxy answered HTTP 403 Forbidden to CONNECT vault\\.internal:8200`));
  t.notRegex(refused.message, /secretpw/);
  t.regex(seen[0] ?? '', /^CONNECT vault\.internal:8200 HTTP\/1\.1\r\n/);
  t.regex(seen[0] ?? '', /\r\nProxy-Authorization: Basic dTpzZWNyZXRwdw==\r\n/);
  t.notRegex(seen[0] ?? '', /tok-3/, 'the token never reaches the proxy');
});
