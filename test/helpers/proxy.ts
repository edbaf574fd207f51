/**
 * A loopback HTTP proxy in front of the real test Vault: it records every request (to count
 * Vault requests) and can inject faults (status codes, delays, dropped connections).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type Fault = (req: Recorded, index: number) => { status: number; body?: unknown; headers?: Record<string, string> } | 'drop' | { delayMs: number } | undefined;

export interface Proxy {
  readonly address: string;
  readonly requests: Recorded[];
  fault: Fault | undefined;
  /** Requests whose path starts with `/v1/<prefix>`. */
  count(prefix: string, method?: string): number;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  const requests: Recorded[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const proxy: Proxy = {
    address: '',
    requests,
    fault: undefined,
    count: (prefix, method) => requests.filter((r) => r.path.startsWith(`/v1/${prefix}`) && (!method || r.method === method)).length,
    close: () => new Promise((resolve) => {
      closed = true;
      timers.forEach(clearTimeout);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    const record = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    const index = requests.push(record) - 1;
    const fault = proxy.fault?.(record, index);
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, { 'Content-Type': 'application/json', ...fault.headers });
      res.end(JSON.stringify(fault.body ?? { errors: [] }));
      return;
    }
    const forward = (): void => {
      if (closed) {
        res.destroy();
        return;
      }
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    };
    if (fault && 'delayMs' in fault) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        forward();
      }, fault.delayMs);
      timers.add(timer);
    }
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { address: string }).address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
