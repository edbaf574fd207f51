// A git repository served over HTTP for Argo CD to pull from: git's own `git http-backend`
// (smart HTTP, read-only) behind node:http as its CGI host. The test writes files and commits
// in the working tree; Argo CD's repo-server fetches `url` like any remote.
//
//   const git = await startGitServer(dir);     // `git init` when dir is not a repository yet
//   await git.write({ 'app/cm.yaml': '…' });
//   const sha = await git.commit('first');
//   // Application: spec.source.repoURL = git.url, targetRevision: main
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

export interface GitServer {
  /** http://127.0.0.1:<port>/repo.git */
  readonly url: string;
  /** the working tree */
  readonly dir: string;
  /** writes files (paths relative to the working tree, parents made) */
  write(files: Readonly<Record<string, string>>): Promise<void>;
  /** `git add -A` and commits; resolves with the new commit's sha */
  commit(message: string): Promise<string>;
  /** requests served, e.g. "GET /repo.git/info/refs?service=git-upload-pack 200" */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

const run = promisify(execFile);
// Fixed identity and dates: the tests do not depend on the machine's git configuration.
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'vaultfill tests',
  GIT_AUTHOR_EMAIL: 'tests@vaultfill.invalid',
  GIT_COMMITTER_NAME: 'vaultfill tests',
  GIT_COMMITTER_EMAIL: 'tests@vaultfill.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

async function git(dir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV } });
    return stdout.trim();
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`git ${args.join(' ')} in ${dir}: ${e.stderr || e.message}`);
  }
}

/** Runs `git http-backend` for one request (RFC 3875 CGI) and relays its answer. */
function serveCgi(dir: string, req: http.IncomingMessage, res: http.ServerResponse, done: (status: number) => void): void {
  const url = new URL(req.url ?? '/', 'http://x');
  // /repo.git/<rest> → the working tree's .git/<rest>
  const rest = url.pathname.replace(/^\/repo\.git(?=\/|$)/, '/.git');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...GIT_ENV,
    GIT_PROJECT_ROOT: dir,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: rest,
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    SERVER_PROTOCOL: 'HTTP/1.1',
  };
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
  const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(cgi.stdin);
  cgi.stdin.on('error', () => {});
  let stderr = '';
  cgi.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let head = Buffer.alloc(0);
  let headersSent = false;
  let status = 200;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    headersSent = true;
    res.write(head.subarray(end + 4));
  });
  cgi.on('close', (code) => {
    if (!headersSent) {
      status = 500;
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.write(`git http-backend exited ${code}: ${stderr}`);
    }
    res.end();
    done(status);
  });
}

/** Serves the repository in `dir` (created with a `main` branch if needed) on 127.0.0.1. */
export async function startGitServer(dir: string): Promise<GitServer> {
  await fs.mkdir(dir, { recursive: true });
  if (!(await fs.stat(path.join(dir, '.git')).catch(() => undefined))) {
    await git(dir, ['init', '--quiet', '--initial-branch=main']);
  }
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    serveCgi(dir, req, res, (status) => requests.push(`${req.method} ${req.url} ${status}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/repo.git`,
    dir,
    requests,
    async write(files) {
      for (const [rel, text] of Object.entries(files)) {
        const file = path.join(dir, rel);
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, text);
      }
    },
    async commit(message) {
      await git(dir, ['add', '-A']);
      await git(dir, ['commit', '--quiet', '--allow-empty', '-m', message]);
      return git(dir, ['rev-parse', 'HEAD']);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
