/**
 * The repository checkout a render may read, and the checks that keep it there.
 *
 * Argo CD's CMP server extracts the repository into a fresh directory and runs the plugin in
 * `<checkout>/<app path>` (cmpserver/plugin/plugin.go: `appPath := filepath.Clean(
 * filepath.Join(workDir, metadata.AppRelPath))`, then `cmd.Dir = path`); ARGOCD_APP_SOURCE_PATH
 * is the Application's `spec.source.path`, relative to the repository root
 * (reposerver/repository/repository.go, newEnv). So the checkout root is the working directory
 * with that path taken off its end. When the path is not the end of the working directory (a
 * run outside Argo CD, or a checkout trimmed to the manifest-generate-paths root), the root is
 * the working directory itself: stricter, never wider.
 *
 * Argo CD refuses out-of-bounds symlinks before the plugin sees the files (the repo-server's
 * CheckOutOfBoundsSymlinks, unless --allow-oob-symlinks; the CMP server's untar), but helm's
 * chart loader follows symlinks, so a link out of the checkout would read sidecar files. The
 * scan here repeats that check, cheaply (one readdir per directory, a realpath per link).
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { VaultfillError } from '../errors.js';
import { quote, type FileReference } from './arguments.js';

const realpath = realpathSync.native;

/** The checkout root for a render run in `cwd` (a real path) with ARGOCD_APP_SOURCE_PATH = `sourcePath`. */
export function checkoutRoot(cwd: string, sourcePath: string | undefined): string {
  if (!sourcePath || path.posix.isAbsolute(sourcePath)) return cwd;
  const relative = path.posix.normalize(sourcePath).replace(/\/+$/, '');
  if (relative === '.' || relative === '' || relative === '..' || relative.startsWith('../')) return cwd;
  const tail = `/${relative}`;
  if (!cwd.endsWith(tail)) return cwd;
  const root = cwd.slice(0, -tail.length);
  return root === '' ? cwd : root;
}

/** Whether `file` (a real path) is `root` or below it. */
export function inside(file: string, root: string): boolean {
  return file === root || file.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/**
 * Why a file named by an argument may not be read, or undefined when it may: it must be a path
 * relative to the working directory, exist, and resolve (after symlinks) inside the checkout.
 */
export function fileProblem(file: string, cwd: string, root: string): string | undefined {
  if (file.trim() === '') return 'names no file';
  // helm reads standard input for "-" (surrounding spaces ignored) and fetches URLs.
  if (file.trim() === '-') return 'would read standard input; name a file in the repository';
  if (/[\u0000-\u001f\u007f]/.test(file)) return 'contains control characters';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(file)) return 'is a URL; name a file in the repository';
  if (path.isAbsolute(file)) return 'must be relative to the chart directory, inside the repository';
  let real: string;
  try {
    // Joined as text, not path.resolve()d: `link/../x` must mean what the kernel makes of it.
    real = realpath(`${cwd}/${file}`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist in the repository';
    if (code === 'ELOOP') return 'is a symbolic link loop';
    return `cannot be read (${code ?? 'error'})`;
  }
  if (!inside(real, root)) return 'resolves outside the repository checkout';
  if (!statSync(real).isFile()) return 'is not a file';
  return undefined;
}

/** RENDER_ARGUMENT errors for every file reference that may not be read. */
export function checkFiles(files: readonly FileReference[], cwd: string, root: string): VaultfillError[] {
  const errors: VaultfillError[] = [];
  for (const file of files) {
    const problem = fileProblem(file.path, cwd, root);
    if (problem) {
      errors.push(new VaultfillError('RENDER_ARGUMENT', `${file.where} ${quote(file.path)} is not allowed: the --${file.flag} file ${problem}`));
    }
  }
  return errors;
}

const REPORTED = 5;

/**
 * Symlinks under `root` that lead outside it, as paths relative to root (at most a few). The
 * root's `.git` is git's own, as in Argo CD's scan. A link whose target does not exist is judged
 * by where its text points, the way Argo CD judges every link.
 */
export function escapingSymlinks(root: string): string[] {
  const found: string[] = [];
  const pending = [root];
  while (pending.length > 0 && found.length < REPORTED) {
    const dir = pending.pop() as string;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!(dir === root && entry.name === '.git')) pending.push(full);
      } else if (entry.isSymbolicLink() && !linkStaysInside(full, root)) {
        found.push(path.relative(root, full));
        if (found.length >= REPORTED) break;
      }
    }
  }
  return found.sort();
}

function linkStaysInside(link: string, root: string): boolean {
  try {
    return inside(realpath(link), root);
  } catch {
    // Dangling, a loop, or unreadable: judge the link's own text, as Argo CD does.
    try {
      const target = readlinkSync(link);
      return inside(path.resolve(path.dirname(link), target), root);
    } catch {
      return false;
    }
  }
}

/** RENDER_CHECKOUT when the checkout holds a symlink out of it. */
export function checkCheckout(root: string): VaultfillError[] {
  let links: string[];
  try {
    if (!lstatSync(root).isDirectory()) return [];
    links = escapingSymlinks(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return [new VaultfillError('RENDER_CHECKOUT', `cannot scan the repository checkout for symbolic links (${code})`)];
  }
  return links.map(
    (link) =>
      new VaultfillError(
        'RENDER_CHECKOUT',
        `${quote(link)} is a symbolic link that leads outside the repository checkout; replace it with the file itself or a link inside the repository`,
      ),
  );
}
