/** A server on 127.0.0.1 standing for an address an attacker chose: it records every request it gets. */
import type { ExecutionContext } from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startCapture(t: ExecutionContext): Promise<{ readonly address: string; readonly seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return { address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
