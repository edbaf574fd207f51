// The test cluster's keys and certificates, made with openssl the way kubeadm lays them out:
// one CA that signs the API server's serving certificate and the admin's client certificate
// (O=system:masters, so RBAC lets it do anything), and the service-account key pair the API
// server signs and checks tokens with. EC P-256 keys: generated in milliseconds, unlike RSA.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClusterPki {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  /** the service-account token signing key, and its public half for verification */
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

/** Names the serving certificate answers to: the loopback address and the in-cluster names. */
export const SERVER_NAMES = [
  'IP:127.0.0.1',
  'IP:10.0.0.1',
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed (is openssl installed?): ${e.stderr || e.message}`);
  }
}

/** Writes the PKI into `dir`, which must exist. */
export async function makePki(dir: string): Promise<ClusterPki> {
  const f = (name: string) => path.join(dir, name);
  // An empty config: no defaults from the system's openssl.cnf (which would mark every
  // certificate req -x509 makes as a CA); the extensions are all given below.
  await fs.writeFile(f('openssl.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n');
  const req = ['req', '-config', 'openssl.cnf', '-x509', '-days', '7', ...EC];
  await openssl(dir, [...req, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=vaultfill-test-cluster-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  const leaf = [...req, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment'];
  await Promise.all([
    openssl(dir, [...leaf, '-keyout', 'apiserver.key', '-out', 'apiserver.crt', '-subj', '/CN=kube-apiserver',
      '-addext', `subjectAltName=${SERVER_NAMES.join(',')}`, '-addext', 'extendedKeyUsage=serverAuth']),
    openssl(dir, [...leaf, '-keyout', 'admin.key', '-out', 'admin.crt', '-subj', '/O=system:masters/CN=vaultfill-test-admin',
      '-addext', 'extendedKeyUsage=clientAuth']),
    (async () => {
      await openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'sa.key']);
      await openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
    })(),
  ]);
  return {
    caCert: f('ca.crt'),
    caKey: f('ca.key'),
    serverCert: f('apiserver.crt'),
    serverKey: f('apiserver.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    serviceAccountKey: f('sa.key'),
    serviceAccountPub: f('sa.pub'),
  };
}

/** A kubeconfig for the admin at `server` (JSON is YAML, and needs no YAML writer). */
export async function writeKubeconfig(file: string, server: string, pki: ClusterPki): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority': pki.caCert } }],
    users: [{ name: 'admin', user: { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin', namespace: 'default' } }],
    'current-context': 'test',
  };
  await fs.writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
