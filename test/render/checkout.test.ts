import test from 'ava';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkCheckout, checkFiles, checkoutRoot, escapingSymlinks, fileProblem } from '../../src/render/checkout.js';

/** A checkout (repo/ with apps/web as the Application's directory) and a sidecar directory beside it. */
function layout(t: import('ava').ExecutionContext) {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'vaultfill-checkout-')));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'repo');
  const app = path.join(root, 'apps', 'web');
  const sidecar = path.join(base, 'sidecar');
  mkdirSync(app, { recursive: true });
  mkdirSync(sidecar);
  writeFileSync(path.join(sidecar, 'token'), 'sidecar-token');
  writeFileSync(path.join(app, 'values.yaml'), 'a: 1\n');
  writeFileSync(path.join(root, 'common.yaml'), 'b: 2\n');
  mkdirSync(path.join(app, 'dir'));
  return { base, root, app, sidecar };
}

test('the checkout root is the working directory without ARGOCD_APP_SOURCE_PATH', (t) => {
  t.is(checkoutRoot('/tmp/_cmp_server/abc/apps/web', 'apps/web'), '/tmp/_cmp_server/abc');
  t.is(checkoutRoot('/tmp/_cmp_server/abc/apps/web', './apps//web/'), '/tmp/_cmp_server/abc');
  t.is(checkoutRoot('/tmp/_cmp_server/abc', '.'), '/tmp/_cmp_server/abc');
  t.is(checkoutRoot('/tmp/_cmp_server/abc', ''), '/tmp/_cmp_server/abc');
  t.is(checkoutRoot('/tmp/_cmp_server/abc', undefined), '/tmp/_cmp_server/abc');
});

test('outside Argo CD (a path that is not the end of the working directory) the root is the working directory', (t) => {
  t.is(checkoutRoot('/home/me/charts/web', 'apps/web'), '/home/me/charts/web');
  t.is(checkoutRoot('/home/me/xapps/web', 'apps/web'), '/home/me/xapps/web', 'whole segments only');
  t.is(checkoutRoot('/home/me/web', '/home/me/web'), '/home/me/web', 'an absolute path never widens the root');
  t.is(checkoutRoot('/home/me/web', '../../web'), '/home/me/web');
  t.is(checkoutRoot('/apps/web', 'apps/web'), '/apps/web', 'never the filesystem root');
});

test('files inside the checkout are allowed, also above the Application directory', (t) => {
  const { root, app } = layout(t);
  t.is(fileProblem('values.yaml', app, root), undefined);
  t.is(fileProblem('./values.yaml', app, root), undefined);
  t.is(fileProblem('../../common.yaml', app, root), undefined);
  symlinkSync('../../common.yaml', path.join(app, 'link.yaml'));
  t.is(fileProblem('link.yaml', app, root), undefined, 'a symlink that stays inside');
});

test('absolute paths, .. out of the checkout, URLs, stdin and missing files are refused', (t) => {
  const { root, app, sidecar } = layout(t);
  t.regex(fileProblem('/etc/passwd', app, root) ?? '', /must be relative/);
  t.regex(fileProblem(path.join(root, 'common.yaml'), app, root) ?? '', /must be relative/);
  t.regex(fileProblem('../../../sidecar/token', app, root) ?? '', /resolves outside the repository checkout/);
  t.regex(fileProblem(path.relative(app, path.join(sidecar, 'token')), app, root) ?? '', /outside/);
  t.regex(fileProblem('https://example.com/values.yaml', app, root) ?? '', /is a URL/);
  t.regex(fileProblem('oci://registry/values', app, root) ?? '', /is a URL/);
  t.regex(fileProblem('file:values.yaml', app, root) ?? '', /is a URL/);
  t.regex(fileProblem('-', app, root) ?? '', /standard input/);
  t.regex(fileProblem(' - ', app, root) ?? '', /standard input/);
  t.regex(fileProblem('', app, root) ?? '', /names no file/);
  t.regex(fileProblem('nope.yaml', app, root) ?? '', /does not exist/);
  t.regex(fileProblem('values.yaml/x', app, root) ?? '', /does not exist/);
  t.regex(fileProblem('dir', app, root) ?? '', /is not a file/);
  t.regex(fileProblem('values\n.yaml', app, root) ?? '', /control characters/);
});

test('symlinks out of the checkout, and loops, are refused', (t) => {
  const { root, app, sidecar } = layout(t);
  symlinkSync(path.join(sidecar, 'token'), path.join(app, 'abs.yaml'));
  symlinkSync('../../../sidecar/token', path.join(app, 'rel.yaml'));
  symlinkSync(sidecar, path.join(app, 'outdir'));
  symlinkSync('loop-b', path.join(app, 'loop-a'));
  symlinkSync('loop-a', path.join(app, 'loop-b'));
  t.regex(fileProblem('abs.yaml', app, root) ?? '', /resolves outside/);
  t.regex(fileProblem('rel.yaml', app, root) ?? '', /resolves outside/);
  t.regex(fileProblem('outdir/token', app, root) ?? '', /resolves outside/);
  t.regex(fileProblem('loop-a', app, root) ?? '', /symbolic link loop/);
});

test('.. after a symlink means what the kernel makes of it, not the text', (t) => {
  const { root, app, sidecar } = layout(t);
  // deep -> the sidecar directory's subdirectory: deep/../token is the sidecar's token, although
  // the text "deep/../token" looks like a file next to deep.
  mkdirSync(path.join(sidecar, 'sub'));
  symlinkSync(path.join(sidecar, 'sub'), path.join(app, 'deep'));
  writeFileSync(path.join(app, 'token'), 'harmless');
  t.regex(fileProblem('deep/../token', app, root) ?? '', /resolves outside/);
});

test('checkFiles names the argument and the flag', (t) => {
  const { root, app } = layout(t);
  const errors = checkFiles(
    [
      { path: 'values.yaml', where: 'values-files[0]', flag: 'values' },
      { path: '/etc/hostname', where: 'helm-args[3]', flag: 'set-file' },
    ],
    app,
    root,
  );
  t.deepEqual(
    errors.map((e) => [e.code, e.message]),
    [['RENDER_ARGUMENT', 'helm-args[3] "/etc/hostname" is not allowed: the --set-file file must be relative to the chart directory, inside the repository']],
  );
});

test('the symlink scan finds links out of the checkout, wherever they are, and nothing else', (t) => {
  const { root, app, sidecar } = layout(t);
  t.deepEqual(escapingSymlinks(root), []);
  mkdirSync(path.join(app, 'templates'));
  symlinkSync('../values.yaml', path.join(app, 'templates', 'in.yaml'));
  symlinkSync('missing-inside.yaml', path.join(app, 'dangling-in'));
  symlinkSync('loop-b', path.join(app, 'loop-a'));
  symlinkSync('loop-a', path.join(app, 'loop-b'));
  mkdirSync(path.join(root, '.git'));
  symlinkSync('/etc/passwd', path.join(root, '.git', 'ignored'));
  t.deepEqual(escapingSymlinks(root), [], 'inside, dangling inside, loops inside, .git');

  symlinkSync(path.join(sidecar, 'token'), path.join(app, 'templates', 'x.yaml'));
  symlinkSync('../../../sidecar', path.join(app, 'files'));
  symlinkSync('/tmp/.cache/vaultfill/not-yet-there', path.join(root, 'dangling-out'));
  t.deepEqual(escapingSymlinks(root), ['apps/web/files', 'apps/web/templates/x.yaml', 'dangling-out']);
  const errors = checkCheckout(root);
  t.is(errors.length, 3);
  t.is(errors[0]?.code, 'RENDER_CHECKOUT');
  t.is(errors[0]?.exitCode, 3);
  t.regex(errors[0]?.message ?? '', /^"apps\/web\/files" is a symbolic link that leads outside the repository checkout/);
  t.false(errors.some((e) => e.message.includes('sidecar-token')));
});
