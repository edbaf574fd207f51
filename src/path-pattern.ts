/**
 * AVP_PATH_VALIDATION in Go's regular-expression syntax (RE2), as argocd-vault-plugin compiles
 * it with Go's regexp: `(?i)`, `\A`, `\z`, `\pL`, `(?P<name>…)` mean what they mean there, and
 * what RE2 lacks (look-around, back-references) is refused with RE2's own message naming the
 * construct. re2js is a port of RE2; it loads only when the setting is used (~7 ms).
 * As with Go's MatchString, a path passes when the expression matches anywhere in it.
 */
import { createRequire } from 'node:module';
import type * as Re2js from 're2js';

const require = createRequire(import.meta.url);

export interface PathPattern {
  test(path: string): boolean;
}

/** Compiles `pattern`; throws the engine's message (which names the unsupported construct). */
export function compilePathPattern(pattern: string): PathPattern {
  const { RE2JS } = require('re2js') as typeof Re2js;
  const compiled = RE2JS.compile(pattern);
  return { test: (path) => compiled.matcher(path).find() };
}
