/**
 * The only place that knows the placeholder syntax (argocd-vault-plugin's):
 *   <path:PATH#KEY>  <path:PATH#KEY#VERSION>  <KEY> (inside an avp.kubernetes.io/path resource)
 * each optionally followed by `| modifier args` segments.
 */
import { VaultfillError } from '../errors.js';
import { compileModifier, type ModifierCall } from './modifiers.js';

/** `path-only` finds `<path:…>` placeholders; `generic` (annotated resources) finds any `<…>`. */
export type Mode = 'path-only' | 'generic';

export interface Placeholder {
  /** The placeholder exactly as written, `<…>` included. */
  readonly raw: string;
  readonly start: number;
  readonly end: number;
  /** Inline path, or undefined for a generic `<key>` that reads the annotation's path. */
  readonly path: string | undefined;
  readonly key: string;
  /** Inline `#version`, as written. */
  readonly version: string | undefined;
  readonly modifiers: readonly ModifierCall[];
}

export type Found = { readonly raw: string; readonly start: number } & (
  { readonly placeholder: Placeholder } | { readonly error: VaultfillError }
);

// A placeholder never spans a newline (AVP's `.` does not match one); YAML folding turns the
// line breaks of a folded scalar into spaces before we look.
const GENERIC = /<([^>\n]*)>/g;
const PATH_ONLY = /<path:([^>\n]*)>/g;
const PATH_PREFIX = 'path:';

/** Cheap pre-check used before any parsing: can `text` hold a placeholder in `mode`? */
export function mayContain(text: string, mode: Mode): boolean {
  return mode === 'generic' ? text.includes('<') : text.includes('<path:');
}

// Rendered manifests repeat the same strings (one placeholder in every replica of a template):
// each distinct text is parsed once per run.
const cache = new Map<string, readonly Found[]>();

export function findPlaceholders(text: string, mode: Mode): readonly Found[] {
  const key = `${mode}\0${text}`;
  let found = cache.get(key);
  if (!found) {
    found = scan(text, mode);
    cache.set(key, found);
  }
  return found;
}

function scan(text: string, mode: Mode): Found[] {
  const found: Found[] = [];
  const pattern = mode === 'generic' ? GENERIC : PATH_ONLY;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    const raw = m[0];
    const inner = mode === 'generic' ? (m[1] ?? '') : PATH_PREFIX + (m[1] ?? '');
    try {
      found.push({ raw, start: m.index, placeholder: parseInner(inner, raw, m.index) });
    } catch (error) {
      if (!(error instanceof VaultfillError)) throw error;
      found.push({ error, raw, start: m.index });
    }
  }
  return found;
}

function parseInner(inner: string, raw: string, start: number): Placeholder {
  const [head = '', ...segments] = inner.split('|');
  const reference = head.trim();
  const modifiers = segments.map((segment) => compileModifier(segment));
  // Plain literals, not spreads: a spread gives every object its own hidden class (~300 bytes).
  const end = start + raw.length;
  if (!reference.startsWith(PATH_PREFIX)) {
    if (!reference) throw new VaultfillError('PLACEHOLDER_SYNTAX', 'the placeholder names no key');
    return { raw, start, end, modifiers, path: undefined, key: reference, version: undefined };
  }
  const parts = reference.slice(PATH_PREFIX.length).split('#').map((p) => p.trim());
  const [path = '', key = '', version] = parts;
  if (parts.length < 2 || parts.length > 3 || !path || !key || version === '') {
    throw new VaultfillError(
      'PLACEHOLDER_SYNTAX',
      'expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>, optionally followed by | modifiers',
    );
  }
  return { raw, start, end, modifiers, path, key, version };
}
