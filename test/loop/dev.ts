// `npm run loop:dev`: the whole real loop in the foreground, to try things by hand — the test
// cluster, Argo CD, the real test Vault with Kubernetes auth, the vaultfill image's three
// sidecars, and a git server holding examples/. Prints where everything is, then runs until
// Ctrl-C (which stops every server and container and removes the temp directories).
//
//   npm run loop:dev
//   export KUBECONFIG=…   # as printed
//   kubectl apply -n argocd -f <an Application with repoURL set to the printed git URL>
//   (edit and commit in the printed working tree; `git -C <tree> commit -am …`)
import { startLoop } from '../helpers/loop.js';

const started = Date.now();
const loop = await startLoop();
const { cluster, argocd, vault, proxy, git } = loop;
const lines = [
  `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  `KUBECONFIG=${cluster.kubeconfig}`,
  `API server: ${cluster.server}`,
  `Vault: ${vault.address} (root token ${vault.token}); the sidecars reach it through ${proxy.address}`,
  `repo-server: ${argocd.repoServerAddress} (plugin sockets in ${argocd.pluginSocketDir})`,
  `sidecars: ${loop.sidecars.map((s) => s.name).join(', ')} (DOCKER_HOST=${loop.engine.host})`,
  `git: ${git.url} (working tree ${git.dir}, examples/ committed)`,
  ...Object.entries({ ...cluster.logs, ...argocd.logs }).map(([name, file]) => `log ${name}: ${file}`),
];
process.stdout.write(`${lines.join('\n')}\n`);

const stop = async () => {
  await loop.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
setInterval(() => {}, 60_000); // the servers are unref'd: this keeps the process alive
