// `npm run loop:dev`: the loop's cluster and Argo CD in the foreground, to try things by hand.
// Prints where everything is, then runs until Ctrl-C (which stops every server and removes the
// temp directories). With a directory argument, that directory is also served as a git
// repository (committed files only) and its URL printed.
//
//   npm run loop:dev -- /path/to/repo
//   export KUBECONFIG=…   # as printed
//   kubectl apply -n argocd -f my-application.yaml
import { startArgoCD } from '../helpers/argocd.js';
import { startGitServer } from '../helpers/git-server.js';
import { startCluster } from '../helpers/k8s-cluster.js';

const started = Date.now();
const cluster = await startCluster();
const argocd = await startArgoCD(cluster);
const repo = process.argv[2];
const git = repo ? await startGitServer(repo) : undefined;
const lines = [
  `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  `KUBECONFIG=${cluster.kubeconfig}`,
  `API server: ${cluster.server}`,
  `repo-server: ${argocd.repoServerAddress} (plugin sockets in ${argocd.pluginSocketDir})`,
  `argocd-cmp-server: ${argocd.cmpServerBinary}`,
  ...(git ? [`git: ${git.url}`] : []),
  ...Object.entries({ ...cluster.logs, ...argocd.logs }).map(([name, file]) => `log ${name}: ${file}`),
];
process.stdout.write(`${lines.join('\n')}\n`);

const stop = async () => {
  await git?.close();
  await argocd.close();
  await cluster.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
setInterval(() => {}, 60_000); // the servers are unref'd: this keeps the process alive
