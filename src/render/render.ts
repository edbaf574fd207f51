/**
 * What `vaultfill helm` and `vaultfill kustomize` share: the Argo CD context they run in,
 * parameters read from PARAM_* variables, and a tool's output turned into the generate
 * pipeline's input.
 *
 * Order of a render: every argument and file checked, the checkout scanned for symlinks out of
 * it, and only then the tool started. A tool that fails decides the exit status and has said
 * why on stderr; vaultfill adds nothing (no EMPTY_INPUT after a failed `helm template`).
 */
import { realpathSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Env } from '../config.js';
import { VaultfillError, VaultfillErrors } from '../errors.js';
import { readInput, type Source } from '../input/read.js';
import type { Logger } from '../log.js';
import type { Argument } from './arguments.js';
import { checkCheckout, checkoutRoot } from './checkout.js';
import { findOnPath, runTool, toolEnvironment } from './run.js';

export interface RenderContext {
  readonly env: Env;
  /** The working directory: the Application's directory in the checkout. */
  readonly cwd: string;
  /** The tools' stderr goes here unchanged. */
  readonly stderr: Writable;
  readonly logger: Logger;
}

/** The manifests, or the exit status of a tool that failed (its stderr has been passed on). */
export type Rendered = Source[] | number;

export interface Place {
  /** The working directory, as a real path. */
  readonly cwd: string;
  /** The repository checkout (src/render/checkout.ts). */
  readonly root: string;
}

export function placeOf(context: RenderContext): Place {
  const cwd = realpathSync.native(context.cwd);
  const root = checkoutRoot(cwd, context.env.ARGOCD_APP_SOURCE_PATH);
  context.logger.debug(`render in ${cwd}, checkout root ${root}`);
  return { cwd, root };
}

/**
 * An array parameter's items: Argo CD passes `name: [a, b]` as PARAM_<NAME>_0, PARAM_<NAME>_1, …
 * (read until the first index that is not set, as the plugin scripts did).
 */
export function parameterItems(env: Env, parameter: string): Argument[] {
  const prefix = `PARAM_${parameter.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
  const items: Argument[] = [];
  for (let i = 0; env[`${prefix}${i}`] !== undefined; i++) {
    items.push({ value: env[`${prefix}${i}`] as string, where: `${parameter}[${i}]` });
  }
  return items;
}

/** Throws every error found so far, together. */
export function fail(errors: readonly VaultfillError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new VaultfillErrors(errors);
}

export function requireTool(name: string, env: Env): string {
  const file = findOnPath(name, env.PATH);
  if (!file) throw new VaultfillError('CONFIG', `${name} is not on PATH (${env.PATH ?? 'PATH is not set'})`);
  return file;
}

/**
 * Runs the tool once the checkout has passed its scan; its stdout becomes one source named
 * `name` (e.g. `helm template`), so error locations read `helm template:12:5`.
 */
export async function renderWith(context: RenderContext, place: Place, name: string, file: string, args: readonly string[]): Promise<Rendered> {
  fail(checkCheckout(place.root));
  context.logger.debug(`running ${file} ${args.map((a) => JSON.stringify(a)).join(' ')}`);
  const result = await runTool({ file, args, cwd: place.cwd, env: toolEnvironment(context.env), stderr: context.stderr });
  if (result.status !== 0) {
    context.logger.debug(`${name} exited with status ${result.status}`);
    return result.status;
  }
  try {
    const [source] = await readInput('-', once(result.stdout));
    return source ? [{ ...source, name }] : [];
  } catch (error) {
    if (error instanceof VaultfillError) throw error.at({ source: name });
    throw error;
  }
}

async function* once(bytes: Buffer): AsyncIterable<Buffer> {
  yield bytes;
}
