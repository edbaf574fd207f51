/**
 * Which forward proxy, if any, carries a request to Vault: the rules of Go's
 * golang.org/x/net/http/httpproxy, which Vault's client (and so argocd-vault-plugin) uses, so an
 * operator's HTTPS_PROXY / HTTP_PROXY / NO_PROXY mean here what they meant there:
 *
 * - the upper-case name wins over the lower-case one; `https:` requests use only HTTPS_PROXY,
 *   `http:` ones only HTTP_PROXY (ignored under CGI, when REQUEST_METHOD is set); no ALL_PROXY;
 * - a proxy written without a scheme is `http://`;
 * - `localhost` and loopback IPs never go through a proxy;
 * - NO_PROXY is a comma list: `*`; IPs and CIDRs (`10.0.0.0/8`, `::1`), with an optional port;
 *   `example.com` (itself and its subdomains), `.example.com` and `*.example.com` (subdomains
 *   only), each with an optional `:port`.
 *
 * Checked against Go's own package in test/backends/proxy-env.test.ts (the oracle). Node's
 * BlockList does the CIDR and IP matching.
 */
import { BlockList, isIP } from 'node:net';

type Env = Readonly<Record<string, string | undefined>>;

interface DomainRule {
  readonly suffix: string;
  readonly self: boolean;
  readonly port: string;
}

interface IpRule {
  readonly list: BlockList;
  readonly port: string;
}

/** The proxy's URL as written, or undefined for a direct connection. */
export function proxyForUrl(target: URL, env: Env): string | undefined {
  const scheme = target.protocol.slice(0, -1);
  const raw = scheme === 'https' ? pick(env, 'HTTPS_PROXY') : scheme === 'http' && !env['REQUEST_METHOD'] ? pick(env, 'HTTP_PROXY') : '';
  if (!raw) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (scheme === 'https' ? '443' : '80');
  return useProxy(host, port, pick(env, 'NO_PROXY')) ? raw : undefined;
}

/** As Go: a proxy that does not parse with a scheme and host is tried again as `http://…`. */
export function parseProxy(raw: string): URL | undefined {
  try {
    const url = new URL(raw);
    if (/^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) && url.host) return url;
  } catch {
    // below
  }
  try {
    return new URL(`http://${raw}`);
  } catch {
    return undefined;
  }
}

function pick(env: Env, name: string): string {
  return env[name] || env[name.toLowerCase()] || '';
}

function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const family = isIP(host);
  if (family && isLoopback(host, family)) return false;
  const ips: IpRule[] = [];
  const domains: DomainRule[] = [];
  for (const entry of noProxy.split(',')) {
    const p = entry.trim().toLowerCase();
    if (!p) continue;
    if (p === '*') return false;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(p);
    if (cidr) {
      const base = cidr[1] as string;
      const bits = Number(cidr[2]);
      const kind = isIP(base);
      if (kind && bits <= (kind === 4 ? 32 : 128)) {
        const list = new BlockList();
        list.addSubnet(base, bits, kind === 4 ? 'ipv4' : 'ipv6');
        ips.push({ list, port: '' });
      }
      continue;
    }
    let entryHost = p;
    let entryPort = '';
    const hostPort = /^(\[[^\]]*\]|[^:]*):(\d*)$/.exec(p);
    if (hostPort) {
      entryHost = hostPort[1] as string;
      entryPort = hostPort[2] as string;
      if (!entryHost) continue;
      entryHost = entryHost.replace(/^\[(.*)\]$/, '$1');
    }
    const ipKind = isIP(entryHost);
    if (ipKind) {
      const list = new BlockList();
      list.addAddress(entryHost, ipKind === 4 ? 'ipv4' : 'ipv6');
      ips.push({ list, port: entryPort });
      continue;
    }
    if (!entryHost) continue;
    if (entryHost.startsWith('*.')) entryHost = entryHost.slice(1);
    const self = !entryHost.startsWith('.');
    domains.push({ suffix: self ? `.${entryHost}` : entryHost, self, port: entryPort });
  }
  if (family) {
    for (const rule of ips) if (rule.list.check(host, family === 4 ? 'ipv4' : 'ipv6') && (!rule.port || rule.port === port)) return false;
  }
  for (const rule of domains) {
    if (host.endsWith(rule.suffix) || (rule.self && host === rule.suffix.slice(1))) {
      if (!rule.port || rule.port === port) return false;
    }
  }
  return true;
}

function isLoopback(host: string, family: number): boolean {
  if (family === 4) return host.startsWith('127.');
  const list = new BlockList();
  list.addAddress('::1', 'ipv6');
  list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
  return list.check(host, 'ipv6');
}
