// What bounds a config-management plugin's render in Argo CD v3.6.1, measured on the real parts:
// Argo CD's own argocd-cmp-server (run on the host here, with a shell plugin instead of the
// vaultfill image) behind the real repo-server and application-controller.
//
// The chain (file:line in argo-cd v3.6.1): the controller calls the repo-server with the
// deadline of its --repo-server-timeout-seconds (reposerver/apiclient/clientset.go:127-128,
// default 60, `controller.repo.server.timeout.seconds`); the repo-server passes the request's
// context on to the plugin's stream (reposerver/repository/repository.go:1800, 2508); the
// cmp-server runs the command under that deadline less 100 ms (cmpserver/plugin/plugin.go:40,
// 220, 87) and on expiry sends SIGTERM to the command's process group, SIGKILL 5 s later
// (plugin.go:116-128). ARGOCD_EXEC_TIMEOUT is read only by util/exec, which the cmp-server does
// not use for plugin commands.
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startArgoCD, type ArgoCD } from '../helpers/argocd.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { startCluster, type Cluster } from '../helpers/k8s-cluster.js';
import { makeTempDir, spawnManaged, waitUntil, type ManagedProcess } from '../helpers/processes.js';

const BUILD_WAIT_MS = 25 * 60_000;
const REPO_SERVER_TIMEOUT_S = 10;
const EXEC_TIMEOUT_S = 3;

let cluster: Cluster;
let argocd: ArgoCD;
let git: GitServer;
let markers: string;
let cmp: ManagedProcess;

// The command notes when it starts, then sleeps far past both timeouts in a subshell that notes
// when it is told to stop: the cmp-server SIGKILLs the command itself (exec.CommandContext) and, racing that,
// sends SIGTERM to the rest of its process group.
const PLUGIN = `apiVersion: argoproj.io/v1alpha1
kind: ConfigManagementPlugin
metadata:
  name: slow
spec:
  discover:
    fileName: .slow
  generate:
    command: [sh, -c]
    args:
      - |
        date +%s%3N > "$MARKERS/started"
        (trap 'date +%s%3N > "$MARKERS/terminated"; exit 143' TERM; sleep 60 & wait) &
        wait
        echo '{}'
`;

test.before(async (t) => {
  t.timeout(BUILD_WAIT_MS, 'building and starting the control plane and Argo CD');
  const dir = makeTempDir('cmp-timeout');
  const pluginSocketDir = path.join(dir, 'plugins');
  markers = path.join(dir, 'markers');
  for (const d of [pluginSocketDir, markers, path.join(dir, 'config'), path.join(dir, 'work')]) mkdirSync(d);
  writeFileSync(path.join(dir, 'config', 'plugin.yaml'), PLUGIN);
  cluster = await startCluster();
  argocd = await startArgoCD(cluster, { pluginSocketDir, repoServerTimeoutSeconds: REPO_SERVER_TIMEOUT_S });
  cmp = spawnManaged({
    name: 'argocd-cmp-server',
    command: argocd.cmpServerBinary,
    args: ['--config-dir-path', path.join(dir, 'config'), '--logformat', 'text'],
    logFile: path.join(dir, 'cmp-server.log'),
    env: {
      ...process.env,
      ARGOCD_PLUGINSOCKFILEPATH: pluginSocketDir,
      ARGOCD_CMP_WORKDIR: path.join(dir, 'work'),
      ARGOCD_EXEC_TIMEOUT: `${EXEC_TIMEOUT_S}s`,
      MARKERS: markers,
    },
  });
  await waitUntil('the cmp-server socket', async () => (existsSync(path.join(pluginSocketDir, 'slow.sock')) ? true : undefined), {
    timeoutMs: 30_000,
    watch: [cmp],
  });
  git = await startGitServer(path.join(dir, 'repo'));
  await cluster.kubectl(['create', 'namespace', 'slow']);
});

test.after.always(async () => {
  await git?.close();
  await cmp?.stop();
  await argocd?.close();
  await cluster?.close();
});

test('a plugin render is cut off at the controller’s repo-server timeout, not at ARGOCD_EXEC_TIMEOUT, and discovery takes an Application without a plugin section', async (t) => {
  t.timeout(3 * 60_000);
  argocd.logOnFailure(t);
  await git.write({ 'slow/.slow': '' });
  await git.commit('slow: a directory the plugin discovers');
  // No `plugin` section: Argo CD asks every plugin socket first (util/app/discovery/discovery.go:41).
  await argocd.applyApplication(
    JSON.stringify({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'slow', namespace: 'argocd' },
      spec: {
        project: 'default',
        source: { repoURL: git.url, targetRevision: 'main', path: 'slow' },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'slow' },
      },
    }),
  );
  const status = await argocd.waitForSync('slow', (s) => s.conditions.some((c) => c.type === 'ComparisonError'), 60_000);
  const error = status.conditions.find((c) => c.type === 'ComparisonError')?.message ?? '';
  // Both stops race at the deadline: exec.CommandContext SIGKILLs the command while the
  // cmp-server SIGTERMs its process group, so Argo CD reports whichever signal landed first.
  t.regex(error, /failed signal: (killed|terminated)/, error);

  const started = Number(readFileSync(path.join(markers, 'started'), 'utf8'));
  const terminated = Number(readFileSync(path.join(markers, 'terminated'), 'utf8'));
  const ranFor = (terminated - started) / 1000;
  t.log(`the plugin command ran ${ranFor.toFixed(1)} s (ARGOCD_EXEC_TIMEOUT=${EXEC_TIMEOUT_S}s, --repo-server-timeout-seconds=${REPO_SERVER_TIMEOUT_S})`);
  t.true(ranFor > EXEC_TIMEOUT_S + 2, `ran ${ranFor} s: ARGOCD_EXEC_TIMEOUT would have stopped it at ${EXEC_TIMEOUT_S} s`);
  t.true(ranFor <= REPO_SERVER_TIMEOUT_S, `ran ${ranFor} s, past the controller's ${REPO_SERVER_TIMEOUT_S} s deadline`);
});
