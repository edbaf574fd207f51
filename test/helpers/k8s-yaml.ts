/**
 * Asks Kubernetes' own YAML reader how it reads a stream: the Go program in test/oracle/k8s-yaml
 * reads it exactly as Argo CD's CMP server reads a plugin's output (YAML 1.1 through go-yaml v2,
 * then JSON). Tests hold vaultfill's output to it instead of to a hand-kept list of YAML rules.
 *
 *   const k8s = await startK8sYamlReader();
 *   t.teardown(() => k8s.close());            // or test.after.always
 *   await k8s.read('a: 0xDEADBEEF\n');        // { documents: [{ a: 3735928559 }] }
 *
 * One process serves every read (a property test may send thousands): requests are written
 * as they come and the server answers them in order, one line each.
 */
import { spawn } from 'node:child_process';
import { ensureK8sYamlBinary } from '../oracle/build.mjs';

export type K8sYamlAnswer = { readonly documents: unknown[] } | { readonly error: string };

export interface K8sYamlReader {
  /**
   * The documents Argo CD would see in `stream` (empty and null documents dropped), each as
   * JSON.parse reads the reader's JSON, or the error that would fail the sync. A string is sent
   * as UTF-8 (a lone surrogate becomes U+FFFD, as in any Node writer); bytes are sent as they
   * are, so a test can hand it invalid UTF-8. Integers past 2^53 lose precision in JSON.parse.
   */
  read(stream: string | Uint8Array): Promise<K8sYamlAnswer>;
  /** Ends the server once it has answered the reads already sent; later reads are rejected. */
  close(): Promise<void>;
}

const STDERR_KEEP = 16 * 1024;
// main.go's maxRequest: a larger request would end the server.
const MAX_REQUEST = 256 << 20;

interface Waiting {
  resolve(answer: K8sYamlAnswer): void;
  reject(err: Error): void;
}

function toAnswer(line: string): K8sYamlAnswer {
  const parsed: unknown = JSON.parse(line);
  if (typeof parsed === 'object' && parsed !== null) {
    if ('error' in parsed && typeof parsed.error === 'string') return { error: parsed.error };
    if ('documents' in parsed && Array.isArray(parsed.documents)) return { documents: parsed.documents as unknown[] };
  }
  throw new Error(`k8s-yaml answered something that is neither documents nor an error: ${line}`);
}

export async function startK8sYamlReader(): Promise<K8sYamlReader> {
  const binary = await ensureK8sYamlBinary();
  const child = spawn(binary, ['--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: Waiting[] = [];
  let failure: Error | undefined;
  let closed = false;
  let stdout = '';
  let stderr = '';

  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.splice(0)) w.reject(failure);
  };

  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    // JSON lines: the encoder escapes every newline inside strings, so '\n' ends an answer.
    for (let end = stdout.indexOf('\n'); end >= 0; end = stdout.indexOf('\n')) {
      const line = stdout.slice(0, end);
      stdout = stdout.slice(end + 1);
      const w = waiting.shift();
      if (!w) return fail(new Error(`k8s-yaml answered a question nobody asked: ${line}`));
      try {
        w.resolve(toAnswer(line));
      } catch (err) {
        w.reject(err as Error);
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  // stdin errors (EPIPE after a crash) are reported on 'close', with the server's stderr.
  child.stdin.on('error', () => {});
  child.on('error', (err) => fail(new Error(`cannot run ${binary}: ${err.message}`)));
  const exited = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      const why = `k8s-yaml exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`;
      fail(new Error(closed && code === 0 ? 'k8s-yaml reader is closed' : why));
      resolve();
    });
  });

  return {
    read(stream) {
      if (closed) return Promise.reject(new Error('k8s-yaml reader is closed'));
      if (failure) return Promise.reject(failure);
      const body = typeof stream === 'string' ? Buffer.from(stream, 'utf8') : Buffer.from(stream);
      if (body.length > MAX_REQUEST) return Promise.reject(new Error(`a stream of ${body.length} bytes is more than k8s-yaml takes (${MAX_REQUEST})`));
      const size = Buffer.alloc(4);
      size.writeUInt32BE(body.length);
      return new Promise<K8sYamlAnswer>((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(Buffer.concat([size, body]));
      });
    },
    async close() {
      if (closed) return exited;
      closed = true;
      child.stdin.end(); // the server answers what it has read, then ends at EOF
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
