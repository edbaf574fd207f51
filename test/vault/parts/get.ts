// Plain node:http(s) as the client of the test parts: one GET, its whole answer.
import http from 'node:http';
import https from 'node:https';

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** The whole answer to a request already sent. */
export function collect(res: http.IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (body += d));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    res.on('error', reject);
  });
}

/** GET `url` (http or https, verified with `ca`), or `pathname` over a Unix socket; 15 s at most. */
export function get(target: { url: string; ca?: Buffer } | { socketPath: string; pathname: string }, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const shown = 'url' in target ? target.url : target.pathname;
    const req =
      'url' in target
        ? (target.url.startsWith('https:') ? https : http).get(target.url, { ca: 'ca' in target ? target.ca : undefined, headers, agent: false }, (res) => collect(res).then(resolve, reject))
        : http.get({ socketPath: target.socketPath, path: target.pathname, headers, agent: false }, (res) => collect(res).then(resolve, reject));
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`GET ${shown}: timed out`)));
  });
}
