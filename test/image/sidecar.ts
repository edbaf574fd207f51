// Runs the vaultfill image the way examples/argocd/repo-server-patch.yaml runs it in the
// repo-server pod: the container's command, args, security context and volume mounts are read
// from the patch and turned into `docker run` flags, so the tests follow the patch users apply.
// Fields this translation does not know are refused, so the patch cannot drift away from what
// the tests exercise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { Engine } from './dockerd.mjs';
import { repoRoot } from './build.mjs';
import { pidAlive } from '../helpers/dir-lock.mjs';

export const patchFile = join(repoRoot, 'examples', 'argocd', 'repo-server-patch.yaml');

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface Pod {
  containers: Container[];
  volumes?: { name: string; emptyDir?: unknown; projected?: unknown }[];
}

export function patchPod(): Pod {
  const patch = YAML.parse(readFileSync(patchFile, 'utf8')) as { spec: { template: { spec: Pod } } };
  return patch.spec.template.spec;
}

export function patchContainer(name: string): Container {
  const container = patchPod().containers.find((c) => c.name === name);
  if (!container) throw new Error(`${patchFile} has no container ${name}`);
  return container;
}

/**
 * `docker run` flags for the patch's container `name`. `volumes` gives a host directory for each
 * volume the patch mounts but does not define (Argo CD's own var-files and plugins) and for
 * projected ones; an emptyDir becomes a tmpfs, writable by any user as an emptyDir is.
 */
export function sidecarRun(name: string, volumes: Readonly<Record<string, string>>): { flags: string[]; args: string[] } {
  const pod = patchPod();
  const container = patchContainer(name);
  const flags: string[] = [];
  const security = { ...container.securityContext };
  const take = (key: string) => {
    const value = security[key];
    delete security[key];
    return value;
  };
  const user = take('runAsUser');
  if (typeof user === 'number') flags.push('--user', String(user));
  take('runAsNonRoot'); // the image's own USER is checked by the tests
  if (take('allowPrivilegeEscalation') === false) flags.push('--security-opt', 'no-new-privileges');
  if (take('readOnlyRootFilesystem') === true) flags.push('--read-only');
  const capabilities = take('capabilities') as { drop?: string[]; add?: string[] } | undefined;
  for (const cap of capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  for (const cap of capabilities?.add ?? []) flags.push('--cap-add', cap);
  const seccomp = take('seccompProfile') as { type?: string } | undefined;
  if (seccomp && seccomp.type !== 'RuntimeDefault') throw new Error(`${name}: seccompProfile ${seccomp.type} is not translated`);
  if (Object.keys(security).length > 0) throw new Error(`${name}: securityContext ${Object.keys(security).join(', ')} not translated to docker run flags`);

  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.emptyDir !== undefined) {
      flags.push('--tmpfs', `${mount.mountPath}:rw,nosuid,nodev,exec,mode=1777`);
      continue;
    }
    const host = volumes[mount.name];
    if (!host) throw new Error(`${name}: volume ${mount.name} (${mount.mountPath}) needs a host directory`);
    flags.push('-v', `${host}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
  }
  // Kubernetes' command replaces the image's ENTRYPOINT; docker takes its first word as the
  // entrypoint and the rest in front of the args.
  const [entrypoint, ...commandArgs] = container.command ?? [];
  if (entrypoint) flags.push('--entrypoint', entrypoint);
  return { flags, args: [...commandArgs, ...(container.args ?? [])] };
}

export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running sidecar container: `exec` runs a command in it as its user, like the cmp-server does. */
export interface Sidecar {
  readonly name: string;
  exec(command: readonly string[], options?: { cwd?: string; env?: Readonly<Record<string, string>> }): Promise<ExecResult>;
  remove(): Promise<void>;
}

/**
 * Starts the patch's container `name` from `image`, detached, with its args. `extra` adds flags
 * (the network, the checkout under test, the sidecar's environment); `id` tells apart two
 * containers started from one spec.
 */
export async function startSidecar(engine: Engine, image: string, name: string, volumes: Readonly<Record<string, string>>, extra: readonly string[], id = name): Promise<Sidecar> {
  const containerName = `vaultfill-test-${id}-${process.pid}`;
  await engine.docker(['rm', '--force', containerName], { check: false });
  const { flags, args } = sidecarRun(name, volumes);
  await engine.docker(['run', '--detach', '--name', containerName, ...flags, ...extra, image, ...args]);
  return {
    name: containerName,
    exec: (command, options = {}) =>
      engine.docker(
        [
          'exec',
          ...(options.cwd ? ['--workdir', options.cwd] : []),
          ...Object.entries(options.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
          containerName,
          ...command,
        ],
        { check: false, timeoutMs: 120_000 },
      ),
    remove: async () => {
      await engine.docker(['rm', '--force', containerName], { check: false });
    },
  };
}

/** Removes sidecars left by test processes that died before their teardown (named …-<pid>). */
export async function removeStaleSidecars(engine: Engine): Promise<void> {
  const { stdout } = await engine.docker(['ps', '--all', '--filter', 'name=^vaultfill-test-', '--format', '{{.Names}}']);
  const stale = stdout.split('\n').filter((name) => {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    return pid > 0 && !pidAlive(pid);
  });
  if (stale.length > 0) await engine.docker(['rm', '--force', ...stale], { check: false });
}
