// Shared bench plumbing: the real test Vault, seeding, a counting proxy, timed child runs and
// the output correctness guard. Plain ESM; nothing here imports src/.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, isMap, isScalar, isSeq } from 'yaml';
import { ensureVaultBinary } from '../test/vault/build.mjs';
import { MOUNT } from './corpus.mjs';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const root = path.dirname(benchDir);
export const outDir = path.join(benchDir, 'out');
export const binJs = path.join(root, 'dist', 'bin.cjs');
mkdirSync(outDir, { recursive: true });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const load = () => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average:\s*/, 'load ');
  } catch {
    return 'load ?';
  }
};

// ---------------------------------------------------------------------------------------------
// Vault
// ---------------------------------------------------------------------------------------------

/** Starts the real test Vault (in-memory, kv-v2 at secret/); resolves { address, token, stop }. */
export async function startVault() {
  const binary = await ensureVaultBinary();
  const child = spawn(binary, [], {
    env: { ...process.env, VAULT_DEV_LISTEN_ADDRESS: '127.0.0.1:0', VAULT_TEST_EXIT_ON_STDIN_CLOSE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-8192);
  });
  child.stdin.on('error', () => {});
  process.on('exit', () => child.kill('SIGKILL'));
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`vault not ready in 60s\n${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`vault exited (${code})\n${stderr}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, nl)));
      } catch (e) {
        reject(e);
      }
    });
  });
  return {
    address: ready.address,
    token: ready.token,
    pid: child.pid,
    stop: () => {
      child.kill('SIGTERM');
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

export function vaultRequest(vault, method, p, body) {
  const url = new URL(`/v1/${p}`, vault.address);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'X-Vault-Token': vault.token, ...(payload ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode >= 300) reject(new Error(`${method} ${p}: HTTP ${res.statusCode} ${text}`));
        else resolve(text ? JSON.parse(text) : null);
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Writes every version of every secret (KV v2 at secret/), 16 at a time. */
export async function seedVault(vault, secrets) {
  let next = 0;
  const worker = async () => {
    while (next < secrets.length) {
      const s = secrets[next++];
      for (const data of s.versions) await vaultRequest(vault, 'POST', `${MOUNT}/data/${s.name}`, { data });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  // Spot check: the latest version of the last secret is readable.
  const last = secrets[secrets.length - 1];
  const got = await vaultRequest(vault, 'GET', `${MOUNT}/data/${last.name}`);
  if (got?.data?.data?.token !== last.versions[last.versions.length - 1].token) throw new Error('seeding failed');
}

// ---------------------------------------------------------------------------------------------
// Counting proxy
// ---------------------------------------------------------------------------------------------

/**
 * A counting proxy in front of Vault that records `METHOD path` of every request. It relays
 * bytes at the TCP level and only reads the request heads going upstream (skipping bodies by
 * Content-Length), so it costs the 2-core machine almost nothing: a node:http proxy took ~1 ms
 * of CPU per request, which the timed run then competed with.
 */
export async function startProxy(target) {
  const upstream = new URL(target);
  const state = { requests: [] };
  const server = net.createServer((client) => {
    const vault = net.connect({ host: upstream.hostname, port: Number(upstream.port) });
    client.setNoDelay(true);
    vault.setNoDelay(true);
    let pending = Buffer.alloc(0);
    let body = 0; // request body bytes still to skip
    client.on('data', (data) => {
      vault.write(data);
      pending = pending.length ? Buffer.concat([pending, data]) : data;
      for (;;) {
        if (body) {
          const n = Math.min(body, pending.length);
          body -= n;
          pending = pending.subarray(n);
          if (body) break;
        }
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = pending.toString('latin1', 0, end);
        const [method, url] = head.slice(0, head.indexOf('\r\n') >>> 0).split(' ');
        state.requests.push(`${method} ${url}`);
        body = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        pending = pending.subarray(end + 4);
      }
    });
    vault.pipe(client);
    client.on('end', () => vault.end());
    client.on('error', () => vault.destroy());
    vault.on('error', () => client.destroy());
    vault.on('close', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    address: `http://127.0.0.1:${server.address().port}`,
    reset: () => {
      state.requests = [];
    },
    get requests() {
      return state.requests;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** Splits recorded requests into secret reads (GET /v1/secret/data/…) and the rest. */
export function classify(requests) {
  const reads = requests.filter((r) => r.startsWith(`GET /v1/${MOUNT}/data/`));
  const distinct = new Set(reads).size;
  const other = requests.filter((r) => !r.startsWith(`GET /v1/${MOUNT}/data/`));
  return { total: requests.length, reads: reads.length, distinctReads: distinct, other };
}

// ---------------------------------------------------------------------------------------------
// Timed runs
// ---------------------------------------------------------------------------------------------

/**
 * Runs `argv` under /usr/bin/time with stdin from a file and stdout to a file. Resolves
 * { ms, cpuMs, rssKB, code, stderr }: ms is wall clock from spawn to exit (measured here),
 * cpuMs user+sys CPU time (10 ms resolution; steadier than wall on a loaded machine).
 */
export function timedRun(argv, { stdin, stdout, env = process.env }) {
  const inFd = openSync(stdin ?? '/dev/null', 'r');
  const outFd = openSync(stdout ?? '/dev/null', 'w');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'BENCH_TIME=%M %U %S', ...argv], { stdio: [inFd, outFd, 'pipe'], env });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      closeSync(inFd);
      closeSync(outFd);
      const m = /BENCH_TIME=(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      resolve({
        ms,
        cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : NaN,
        rssKB: m ? Number(m[1]) : NaN,
        code,
        stderr: stderr.replace(/(?:Command exited with non-zero status \d+\n)?BENCH_TIME=.*\s*$/, ''),
      });
    });
  });
}

/** An environment for vaultfill with no inherited AVP/Vault/Argo settings. */
export function vaultfillEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AVP_|VAULT_|ARGOCD_ENV_|NODE_OPTIONS$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, XDG_CACHE_HOME: path.join(outDir, 'cache'), ...extra };
}

// ---------------------------------------------------------------------------------------------
// Correctness guard
// ---------------------------------------------------------------------------------------------

const GENERIC_LEFT = /<(?:username|password|token|cert|config|port)(?:\s*\|[^>]*)?>/;

/**
 * Checks a vaultfill output: every document parses, the document count is unchanged, no
 * `<path:` (plain or base64-encoded in Secret data) and no generic placeholder is left, and the
 * canary resources hold exactly the expected values. Returns a list of problems (empty = ok).
 */
export function verifyOutput(text, corpus) {
  const problems = [];
  if (text.includes('<path:')) problems.push('output contains "<path:"');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  if (list.length !== corpus.documents) problems.push(`expected ${corpus.documents} documents, got ${list.length}`);
  let checkedCanaries = 0;
  for (const [i, doc] of list.entries()) {
    if (doc.errors.length) {
      problems.push(`document ${i + 1}: ${doc.errors[0].message.split('\n')[0]}`);
      continue;
    }
    const js = doc.toJS();
    if (!js || typeof js !== 'object') continue;
    const annotated = Boolean(js.metadata?.annotations?.['avp.kubernetes.io/path']);
    const strings = [];
    collectStrings(doc.contents, strings);
    for (const s of strings) {
      if (annotated && GENERIC_LEFT.test(s)) problems.push(`document ${i + 1}: generic placeholder left: ${s.slice(0, 60)}`);
    }
    if (js.kind === 'Secret' && js.data && typeof js.data === 'object') {
      for (const [k, v] of Object.entries(js.data)) {
        const decoded = Buffer.from(String(v), 'base64').toString('utf8');
        if (decoded.includes('<path:') || GENERIC_LEFT.test(decoded)) problems.push(`document ${i + 1}: Secret data.${k} still holds a placeholder`);
      }
    }
    const canary = corpus.canaries[js.metadata?.name];
    if (canary) {
      checkedCanaries++;
      for (const [k, want] of Object.entries(canary.data)) {
        let got = js.data?.[k] ?? js.stringData?.[k];
        if (canary.kind === 'Secret' && js.data?.[k] !== undefined) got = Buffer.from(String(got), 'base64').toString('utf8');
        if (got !== want) problems.push(`canary ${js.metadata.name}.${k}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      }
    }
    if (problems.length > 20) break;
  }
  if (checkedCanaries !== Object.keys(corpus.canaries).length) {
    problems.push(`found ${checkedCanaries} of ${Object.keys(corpus.canaries).length} canary resources`);
  }
  return problems;
}

function collectStrings(node, out) {
  if (isMap(node)) for (const p of node.items) collectStrings(p.value, out);
  else if (isSeq(node)) for (const item of node.items) collectStrings(item, out);
  else if (isScalar(node) && typeof node.value === 'string') out.push(node.value);
}

export const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/**
 * Guard with memo: the first output of a corpus is verified fully; later outputs must be
 * byte-identical to a verified one (or are verified fully themselves).
 */
export function makeGuard(corpus) {
  const good = new Set();
  return (file) => {
    const text = readFileSync(file, 'utf8');
    const hash = sha256(text);
    if (good.has(hash)) return [];
    const problems = verifyOutput(text, corpus);
    if (!problems.length) good.add(hash);
    return problems;
  };
}
